"""conference rooms, IVR menus and their greetings

Revision ID: c0f1e2d3a404
Revises: 7a0c5b0a7e03
Create Date: 2026-11-23 19:50:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import app.models.base

revision: str = 'c0f1e2d3a404'
down_revision: str | None = '7a0c5b0a7e03'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Conference PINs are encrypted like SIP passwords. An IVR menu's options are a JSON object of key ->
# destination, each also a row of destination_references (field "options.<key>"). A menu's greeting is the
# converted WAV file itself (at most a few MB), one row per menu, deleted with it.


def upgrade() -> None:
    op.create_table('conferences',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('organization_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('extension', sa.Integer(), nullable=True),
    sa.Column('pin_encrypted', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('admin_pin_encrypted', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('max_members', sa.Integer(), nullable=False),
    sa.Column('record', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_conferences_organization_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_conferences')),
    sa.UniqueConstraint('organization_id', 'extension', name=op.f('uq_conferences_organization_id_extension')),
    sa.UniqueConstraint('organization_id', 'name', name=op.f('uq_conferences_organization_id_name'))
    )
    with op.batch_alter_table('conferences', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_conferences_organization_id'), ['organization_id'], unique=False)

    op.create_table('ivr_menus',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('organization_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('extension', sa.Integer(), nullable=True),
    sa.Column('options', sa.JSON(), nullable=False),
    sa.Column('timeout_seconds', sa.Integer(), nullable=False),
    sa.Column('timeout_destination', sa.JSON(), nullable=False),
    sa.Column('invalid_destination', sa.JSON(), nullable=False),
    sa.Column('dial_by_extension', sa.Boolean(), nullable=False),
    sa.Column('directory', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_ivr_menus_organization_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ivr_menus')),
    sa.UniqueConstraint('organization_id', 'extension', name=op.f('uq_ivr_menus_organization_id_extension')),
    sa.UniqueConstraint('organization_id', 'name', name=op.f('uq_ivr_menus_organization_id_name'))
    )
    with op.batch_alter_table('ivr_menus', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ivr_menus_organization_id'), ['organization_id'], unique=False)

    op.create_table('ivr_greetings',
    sa.Column('ivr_menu_id', sa.Uuid(), nullable=False),
    sa.Column('organization_id', sa.Uuid(), nullable=False),
    sa.Column('wav', sa.LargeBinary(), nullable=False),
    sa.Column('duration_ms', sa.Integer(), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('uploaded_format', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('created_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['ivr_menu_id'], ['ivr_menus.id'], name=op.f('fk_ivr_greetings_ivr_menu_id_ivr_menus'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_ivr_greetings_organization_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('ivr_menu_id', name=op.f('pk_ivr_greetings'))
    )
    with op.batch_alter_table('ivr_greetings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ivr_greetings_organization_id'), ['organization_id'], unique=False)


def downgrade() -> None:
    # The destinations IVR menus hold, and every destination pointing at a room or a menu, go with them
    # (the referrers' own destination columns are left as they are: downgrading drops the feature).
    op.execute("DELETE FROM destination_references WHERE referrer_type = 'ivr_menu' "
               "OR target_type IN ('conference', 'ivr_menu')")
    with op.batch_alter_table('ivr_greetings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ivr_greetings_organization_id'))
    op.drop_table('ivr_greetings')
    with op.batch_alter_table('ivr_menus', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ivr_menus_organization_id'))
    op.drop_table('ivr_menus')
    with op.batch_alter_table('conferences', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_conferences_organization_id'))
    op.drop_table('conferences')
