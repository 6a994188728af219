"""provisioning credentials

Revision ID: e6f7a8b9c004
Revises: d5e6f7a8b903
Create Date: 2026-12-04 22:09:55
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = 'e6f7a8b9c004'
down_revision: str | None = 'd5e6f7a8b903'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Optional HTTP credentials of the provisioning server, per organization (the password encrypted).


def upgrade() -> None:
    with op.batch_alter_table('organizations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('provisioning_username', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.add_column(sa.Column('provisioning_password_encrypted', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('organizations', schema=None) as batch_op:
        batch_op.drop_column('provisioning_password_encrypted')
        batch_op.drop_column('provisioning_username')
