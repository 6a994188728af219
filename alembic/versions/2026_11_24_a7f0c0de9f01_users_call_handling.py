"""users' forwarding rules, options, phone keys, voicemail settings and greetings

Revision ID: a7f0c0de9f01
Revises: c0f1e2d3a404
Create Date: 2026-11-24 08:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import app.models.base

revision: str = 'a7f0c0de9f01'
down_revision: str | None = 'c0f1e2d3a404'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Voicemail settings are columns of users (their ETag is the user's); greetings are the converted WAV files,
# at most one active per user. One forwarding document per user (JSON, validated by the API when saved); a user without a row has the
# documented defaults. Its destinations are also rows of destination_references (referrer "user_forwarding").


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('voicemail_pin_required', sa.Boolean(), nullable=False, server_default=sa.true()))
        batch_op.add_column(sa.Column('voicemail_play_caller_id', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('voicemail_read_datetime', sa.Boolean(), nullable=False, server_default=sa.true()))
        batch_op.add_column(sa.Column('voicemail_email_notification', sqlmodel.sql.sqltypes.AutoString(length=20),
                                      nullable=False, server_default='none'))
    with op.batch_alter_table('users', schema=None) as batch_op:
        for column in ('voicemail_pin_required', 'voicemail_play_caller_id', 'voicemail_read_datetime',
                       'voicemail_email_notification'):
            batch_op.alter_column(column, server_default=None)
    op.create_table('user_options',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('organization_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('disabled', sa.Boolean(), nullable=False),
    sa.Column('external_calls_disabled', sa.Boolean(), nullable=False),
    sa.Column('outbound_pin_encrypted', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('lan_only', sa.Boolean(), nullable=False),
    sa.Column('block_outbound_outside_office_hours', sa.Boolean(), nullable=False),
    sa.Column('record_calls', sa.Boolean(), nullable=False),
    sa.Column('call_screening', sa.Boolean(), nullable=False),
    sa.Column('allow_conferences', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_user_options_organization_id_organizations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_options_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_options')),
    sa.UniqueConstraint('user_id', name=op.f('uq_user_options_user_id'))
    )
    with op.batch_alter_table('user_options', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_options_organization_id'), ['organization_id'], unique=False)
    op.create_table('user_keys',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('organization_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('keys', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_user_keys_organization_id_organizations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_keys_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_keys')),
    sa.UniqueConstraint('user_id', name=op.f('uq_user_keys_user_id'))
    )
    with op.batch_alter_table('user_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_keys_organization_id'), ['organization_id'], unique=False)
    op.create_table('voicemail_greetings',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('organization_id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('wav', sa.LargeBinary(), nullable=False),
    sa.Column('duration_ms', sa.Integer(), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('uploaded_format', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('created_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_voicemail_greetings_organization_id_organizations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_voicemail_greetings_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_voicemail_greetings'))
    )
    with op.batch_alter_table('voicemail_greetings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_voicemail_greetings_organization_id'), ['organization_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_voicemail_greetings_user_id'), ['user_id'], unique=False)
    op.create_table('user_forwarding',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('organization_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('document', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_user_forwarding_organization_id_organizations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_forwarding_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_forwarding')),
    sa.UniqueConstraint('user_id', name=op.f('uq_user_forwarding_user_id'))
    )
    with op.batch_alter_table('user_forwarding', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_forwarding_organization_id'), ['organization_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('user_forwarding', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_forwarding_organization_id'))
    op.drop_table('user_forwarding')
    with op.batch_alter_table('user_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_keys_organization_id'))
    op.drop_table('user_keys')
    with op.batch_alter_table('user_options', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_options_organization_id'))
    op.drop_table('user_options')
    with op.batch_alter_table('voicemail_greetings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_voicemail_greetings_user_id'))
        batch_op.drop_index(batch_op.f('ix_voicemail_greetings_organization_id'))
    op.drop_table('voicemail_greetings')
    with op.batch_alter_table('users', schema=None) as batch_op:
        for column in ('voicemail_email_notification', 'voicemail_read_datetime', 'voicemail_play_caller_id',
                       'voicemail_pin_required'):
            batch_op.drop_column(column)
