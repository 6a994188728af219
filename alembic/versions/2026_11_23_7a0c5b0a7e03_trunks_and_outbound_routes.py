"""SIP trunks and outbound routes

Revision ID: 7a0c5b0a7e03
Revises: d1d5a11a9e02
Create Date: 2026-11-23 19:40:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import app.models.base

revision: str = '7a0c5b0a7e03'
down_revision: str | None = 'd1d5a11a9e02'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# A route's trunks are an ordered JSON list of trunk ids on the route (read and written whole, in failover
# order, loaded with the route in one query); each is also a row of destination_references (field
# "trunks.<index>"), which is what refuses deleting a trunk in use and lists the routes.


def upgrade() -> None:
    op.create_table('trunks',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('organization_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('host', sqlmodel.sql.sqltypes.AutoString(length=253), nullable=False),
    sa.Column('port', sa.Integer(), nullable=False),
    sa.Column('transport', sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
    sa.Column('username', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('password_encrypted', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('registers', sa.Boolean(), nullable=False),
    sa.Column('from_domain', sqlmodel.sql.sqltypes.AutoString(length=253), nullable=True),
    sa.Column('codecs', sa.JSON(), nullable=False),
    sa.Column('max_channels', sa.Integer(), nullable=True),
    sa.Column('match', sa.JSON(), nullable=False),
    sa.Column('caller_id', sqlmodel.sql.sqltypes.AutoString(length=21), nullable=True),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_trunks_organization_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_trunks')),
    sa.UniqueConstraint('organization_id', 'name', name=op.f('uq_trunks_organization_id_name'))
    )
    with op.batch_alter_table('trunks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_trunks_organization_id'), ['organization_id'], unique=False)

    op.create_table('outbound_routes',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('organization_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('patterns', sa.JSON(), nullable=False),
    sa.Column('strip', sa.Integer(), nullable=False),
    sa.Column('prepend', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('trunk_ids', sa.JSON(), nullable=False),
    sa.Column('caller_id_mode', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('min_permission_level', sa.Integer(), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('emergency', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_outbound_routes_organization_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbound_routes')),
    sa.UniqueConstraint('organization_id', 'name', name=op.f('uq_outbound_routes_organization_id_name'))
    )
    with op.batch_alter_table('outbound_routes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbound_routes_organization_id'), ['organization_id'], unique=False)


def downgrade() -> None:
    # The references routes hold on trunks go with them.
    op.execute("DELETE FROM destination_references WHERE referrer_type = 'outbound_route'")
    with op.batch_alter_table('outbound_routes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbound_routes_organization_id'))
    op.drop_table('outbound_routes')
    with op.batch_alter_table('trunks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_trunks_organization_id'))
    op.drop_table('trunks')
