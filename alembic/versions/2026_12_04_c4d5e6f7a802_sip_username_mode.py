"""organizations' sip_username_mode

Revision ID: c4d5e6f7a802
Revises: b3c4d5e6f701
Create Date: 2026-12-04 21:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = 'c4d5e6f7a802'
down_revision: str | None = 'b3c4d5e6f701'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Organizations that exist keep authenticating with Auth IDs: their phones are provisioned so. New ones
    # default to the extension (the application sets it; the column's default follows).
    with op.batch_alter_table('organizations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sip_username_mode', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False,
                                      server_default='auth_id'))
    with op.batch_alter_table('organizations', schema=None) as batch_op:
        batch_op.alter_column('sip_username_mode', server_default='extension')


def downgrade() -> None:
    with op.batch_alter_table('organizations', schema=None) as batch_op:
        batch_op.drop_column('sip_username_mode')

