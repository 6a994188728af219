"""users' forwarding rules

Revision ID: a7f0c0de9f01
Revises: c0f1e2d3a404
Create Date: 2026-11-24 08:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.models.base

revision: str = 'a7f0c0de9f01'
down_revision: str | None = 'c0f1e2d3a404'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# One forwarding document per user (JSON, validated by the API when saved); a user without a row has the
# documented defaults. Its destinations are also rows of destination_references (referrer "user_forwarding").


def upgrade() -> None:
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
