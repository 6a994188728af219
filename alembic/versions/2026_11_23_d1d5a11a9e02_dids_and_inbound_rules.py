"""DIDs and inbound rules

Revision ID: d1d5a11a9e02
Revises: 0ff1ce5c4ed1
Create Date: 2026-11-23 19:40:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import app.models.base

revision: str = 'd1d5a11a9e02'
down_revision: str | None = '0ff1ce5c4ed1'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('dids',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('organization_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('number', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('sms_enabled', sa.Boolean(), nullable=False),
    sa.Column('trunk_id', sa.Uuid(), nullable=True),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_dids_organization_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dids')),
    sa.UniqueConstraint('number', name=op.f('uq_dids_number'))
    )
    with op.batch_alter_table('dids', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dids_organization_id'), ['organization_id'], unique=False)

    op.create_table('inbound_rules',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('organization_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('did_id', sa.Uuid(), nullable=False),
    sa.Column('destination', sa.JSON(), nullable=False),
    sa.Column('office_hours_id', sa.Uuid(), nullable=True),
    sa.Column('out_of_hours_destination', sa.JSON(), nullable=True),
    sa.Column('holiday_destination', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['did_id'], ['dids.id'], name=op.f('fk_inbound_rules_did_id_dids'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['office_hours_id'], ['office_hours.id'], name=op.f('fk_inbound_rules_office_hours_id_office_hours')),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_inbound_rules_organization_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inbound_rules')),
    sa.UniqueConstraint('did_id', name=op.f('uq_inbound_rules_did_id'))
    )
    with op.batch_alter_table('inbound_rules', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inbound_rules_organization_id'), ['organization_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('inbound_rules', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inbound_rules_organization_id'))
    op.drop_table('inbound_rules')
    with op.batch_alter_table('dids', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dids_organization_id'))
    op.drop_table('dids')
