"""users' option missed_call_email

Revision ID: b3c4d5e6f701
Revises: a7f0c0de9f01
Create Date: 2026-12-04 21:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'b3c4d5e6f701'
down_revision: str | None = 'a7f0c0de9f01'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('user_options', schema=None) as batch_op:
        batch_op.add_column(sa.Column('missed_call_email', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('user_options', schema=None) as batch_op:
        batch_op.drop_column('missed_call_email')
