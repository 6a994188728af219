"""groups with memberships and rights, every organization's DEFAULT group, destination references,
the parking lot, the expanded permission catalogue in the built-in roles

Revision ID: 16458365754b
Revises: 76f67c3dbd8c
Create Date: 2026-11-23 18:43:16.101262
"""
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
import sqlmodel
from alembic import op

import app.models.base

revision: str = '16458365754b'
down_revision: str | None = '76f67c3dbd8c'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('destination_references',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('organization_id', sa.Uuid(), nullable=False),
    sa.Column('referrer_type', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
    sa.Column('referrer_id', sa.Uuid(), nullable=False),
    sa.Column('field', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('target_type', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
    sa.Column('target_id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_destination_references_organization_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_destination_references'))
    )
    with op.batch_alter_table('destination_references', schema=None) as batch_op:
        batch_op.create_index('ix_destination_references_referrer', ['referrer_type', 'referrer_id'], unique=False)
        batch_op.create_index('ix_destination_references_target', ['target_type', 'target_id'], unique=False)

    op.create_table('groups',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('organization_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('extension', sa.Integer(), nullable=True),
    sa.Column('ring_strategy', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('ring_timeout', sa.Integer(), nullable=False),
    sa.Column('no_answer_destination', sa.JSON(), nullable=False),
    sa.Column('is_default', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_groups_organization_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_groups')),
    sa.UniqueConstraint('organization_id', 'extension', name=op.f('uq_groups_organization_id_extension')),
    sa.UniqueConstraint('organization_id', 'name', name=op.f('uq_groups_organization_id_name'))
    )
    with op.batch_alter_table('groups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_groups_organization_id'), ['organization_id'], unique=False)

    op.create_table('group_members',
    sa.Column('group_id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('organization_id', sa.Uuid(), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('see_members', sa.Boolean(), nullable=False),
    sa.Column('see_calls', sa.Boolean(), nullable=False),
    sa.Column('show_presence', sa.Boolean(), nullable=False),
    sa.Column('show_calls', sa.Boolean(), nullable=False),
    sa.Column('operate_calls', sa.Boolean(), nullable=False),
    sa.Column('barge', sa.Boolean(), nullable=False),
    sa.Column('intercom', sa.Boolean(), nullable=False),
    sa.Column('park', sa.Boolean(), nullable=False),
    sa.Column('control_ivr', sa.Boolean(), nullable=False),
    sa.Column('manage_phonebook', sa.Boolean(), nullable=False),
    sa.Column('created_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['groups.id'], name=op.f('fk_group_members_group_id_groups'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_group_members_organization_id_organizations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_group_members_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('group_id', 'user_id', name=op.f('pk_group_members'))
    )
    with op.batch_alter_table('group_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_group_members_organization_id'), ['organization_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_group_members_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('organizations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('parking_extension', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('parking_slots', sa.Integer(), nullable=False, server_default='10'))
    with op.batch_alter_table('organizations', schema=None) as batch_op:
        batch_op.alter_column('parking_slots', server_default=None)

    _default_groups()
    _builtin_roles(BUILTIN_ROLES)


# Literal copies: a migration must not change when the application's catalogue does later.
BUILTIN_ROLES = {
    "owner": ("Everything in the organization", [
        "api_keys.read", "api_keys.write", "audit.read", "blocklist.read", "blocklist.write", "call_reports.read",
        "conferences.read", "conferences.write", "config.apply", "config.read", "devices.read", "devices.write",
        "dids.read", "dids.write", "groups.read", "groups.write", "inbound_rules.read", "inbound_rules.write",
        "ivr_menus.read", "ivr_menus.write", "office_hours.read", "office_hours.write", "organization.read",
        "organization.write", "outbound_routes.read", "outbound_routes.write", "phonebook.read", "phonebook.write",
        "prompts.read", "prompts.write", "recordings.read", "registrations.read", "roles.read", "roles.write",
        "sip_accounts.read", "sip_accounts.write", "sip_secrets.read", "trunk_secrets.read", "trunks.read",
        "trunks.write", "users.read", "users.write", "voicemail.read", "voicemail.write", "voicemail_pins.read",
        "webhooks.read", "webhooks.write"]),
    "admin": ("Everything but the organization's own settings", [
        "api_keys.read", "api_keys.write", "audit.read", "blocklist.read", "blocklist.write", "call_reports.read",
        "conferences.read", "conferences.write", "config.apply", "config.read", "devices.read", "devices.write",
        "dids.read", "dids.write", "groups.read", "groups.write", "inbound_rules.read", "inbound_rules.write",
        "ivr_menus.read", "ivr_menus.write", "office_hours.read", "office_hours.write", "organization.read",
        "outbound_routes.read", "outbound_routes.write", "phonebook.read", "phonebook.write", "prompts.read",
        "prompts.write", "recordings.read", "registrations.read", "roles.read", "roles.write", "sip_accounts.read",
        "sip_accounts.write", "sip_secrets.read", "trunk_secrets.read", "trunks.read", "trunks.write", "users.read",
        "users.write", "voicemail.read", "voicemail.write", "voicemail_pins.read", "webhooks.read",
        "webhooks.write"]),
    "manager": ("Manages users, their phones and their groups (within the principal's scope)", [
        "call_reports.read", "conferences.read", "config.read", "devices.read", "devices.write", "dids.read",
        "groups.read", "groups.write", "inbound_rules.read", "ivr_menus.read", "office_hours.read",
        "organization.read", "phonebook.read", "phonebook.write", "prompts.read", "registrations.read", "roles.read",
        "sip_accounts.read", "sip_accounts.write", "sip_secrets.read", "users.read", "users.write", "voicemail.read",
        "voicemail.write"]),
    "user": ("Self-service: one's own profile, SIP account and voicemail", [
        "groups.read", "organization.read", "phonebook.read", "sip_accounts.read", "sip_secrets.read", "users.read",
        "users.write", "voicemail.read", "voicemail.write", "voicemail_pins.read"]),
    "readonly": ("Reads everything except secrets", [
        "api_keys.read", "audit.read", "blocklist.read", "call_reports.read", "conferences.read", "config.read",
        "devices.read", "dids.read", "groups.read", "inbound_rules.read", "ivr_menus.read", "office_hours.read",
        "organization.read", "outbound_routes.read", "phonebook.read", "prompts.read", "recordings.read",
        "registrations.read", "roles.read", "sip_accounts.read", "trunks.read", "users.read", "voicemail.read",
        "webhooks.read"]),
}
PREVIOUS_BUILTIN_ROLES = {
    "owner": ("Everything in the organization", [
        "api_keys.read", "api_keys.write", "audit.read", "config.apply", "config.read", "devices.read",
        "devices.write", "dids.read", "dids.write", "groups.read", "groups.write", "inbound_rules.read",
        "inbound_rules.write", "organization.read", "organization.write", "roles.read", "roles.write",
        "sip_accounts.read", "sip_accounts.write", "sip_secrets.read", "users.read", "users.write"]),
    "admin": ("Everything but the organization's own settings", [
        "api_keys.read", "api_keys.write", "audit.read", "config.apply", "config.read", "devices.read",
        "devices.write", "dids.read", "dids.write", "groups.read", "groups.write", "inbound_rules.read",
        "inbound_rules.write", "organization.read", "roles.read", "roles.write", "sip_accounts.read",
        "sip_accounts.write", "sip_secrets.read", "users.read", "users.write"]),
    "manager": ("Manages users and their phones (within the principal's scope)", [
        "config.read", "devices.read", "devices.write", "dids.read", "groups.read", "inbound_rules.read",
        "organization.read", "roles.read", "sip_accounts.read", "sip_accounts.write", "sip_secrets.read",
        "users.read", "users.write"]),
    "user": ("Self-service: one's own profile and SIP account", [
        "organization.read", "sip_accounts.read", "sip_secrets.read", "users.read", "users.write"]),
    "readonly": ("Reads everything except secrets", [
        "api_keys.read", "audit.read", "config.read", "devices.read", "dids.read", "groups.read",
        "inbound_rules.read", "organization.read", "roles.read", "sip_accounts.read", "users.read"]),
}
MEMBER_RIGHTS = {"see_members": True, "see_calls": False, "show_presence": True, "show_calls": False,
                 "operate_calls": False, "barge": False, "intercom": False, "park": False, "control_ivr": False,
                 "manage_phonebook": False}


def _default_groups() -> None:
    """Every organization gets its DEFAULT group, and every existing user joins it as a member (3CX)."""
    bind = op.get_bind()
    now = datetime.now(UTC)
    organizations = sa.table("organizations", sa.column("id", sa.Uuid()))
    users = sa.table("users", sa.column("id", sa.Uuid()), sa.column("organization_id", sa.Uuid()))
    groups = sa.table(
        "groups", sa.column("id", sa.Uuid()), sa.column("organization_id", sa.Uuid()),
        sa.column("created_at", app.models.base.UTCDateTime(timezone=True)),
        sa.column("updated_at", app.models.base.UTCDateTime(timezone=True)), sa.column("version", sa.Integer()),
        sa.column("name", sa.String()), sa.column("extension", sa.Integer()),
        sa.column("ring_strategy", sa.String()), sa.column("ring_timeout", sa.Integer()),
        sa.column("no_answer_destination", sa.JSON()), sa.column("is_default", sa.Boolean()))
    members = sa.table(
        "group_members", sa.column("group_id", sa.Uuid()), sa.column("user_id", sa.Uuid()),
        sa.column("organization_id", sa.Uuid()), sa.column("role", sa.String()), sa.column("position", sa.Integer()),
        *(sa.column(right, sa.Boolean()) for right in MEMBER_RIGHTS),
        sa.column("created_at", app.models.base.UTCDateTime(timezone=True)),
        sa.column("updated_at", app.models.base.UTCDateTime(timezone=True)), sa.column("version", sa.Integer()))
    default_group_of = {}
    for (organization_id,) in bind.execute(sa.select(organizations.c.id)):
        default_group_of[organization_id] = uuid.uuid4()
    if not default_group_of:
        return
    op.bulk_insert(groups, [
        {"id": group_id, "organization_id": organization_id, "created_at": now, "updated_at": now, "version": 1,
         "name": "DEFAULT", "extension": None, "ring_strategy": "ring_all", "ring_timeout": 20,
         "no_answer_destination": {"type": "hangup"}, "is_default": True}
        for organization_id, group_id in default_group_of.items()])
    rows = [
        {"group_id": default_group_of[organization_id], "user_id": user_id, "organization_id": organization_id,
         "role": "member", "position": 0, **MEMBER_RIGHTS, "created_at": now, "updated_at": now, "version": 1}
        for user_id, organization_id in bind.execute(sa.select(users.c.id, users.c.organization_id))]
    if rows:
        op.bulk_insert(members, rows)


def _builtin_roles(catalogue: dict[str, tuple[str, list[str]]]) -> None:
    """Give the built-in roles the catalogue's permissions (a new version, so cached principals refresh)."""
    roles = sa.table("roles", sa.column("name", sa.String()), sa.column("builtin", sa.Boolean()),
                     sa.column("description", sa.String()), sa.column("permissions", sa.JSON()),
                     sa.column("version", sa.Integer()))
    for name, (description, permissions) in catalogue.items():
        op.execute(roles.update().where(roles.c.builtin.is_(True), roles.c.name == name).values(
            description=description, permissions=permissions, version=roles.c.version + 1))


def downgrade() -> None:
    _builtin_roles(PREVIOUS_BUILTIN_ROLES)
    with op.batch_alter_table('organizations', schema=None) as batch_op:
        batch_op.drop_column('parking_slots')
        batch_op.drop_column('parking_extension')

    with op.batch_alter_table('group_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_group_members_user_id'))
        batch_op.drop_index(batch_op.f('ix_group_members_organization_id'))

    op.drop_table('group_members')
    with op.batch_alter_table('groups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_groups_organization_id'))

    op.drop_table('groups')
    with op.batch_alter_table('destination_references', schema=None) as batch_op:
        batch_op.drop_index('ix_destination_references_target')
        batch_op.drop_index('ix_destination_references_referrer')

    op.drop_table('destination_references')
