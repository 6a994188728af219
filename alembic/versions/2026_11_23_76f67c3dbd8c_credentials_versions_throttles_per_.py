"""credentials versions, active users, login throttles per client, unique SIP domains, reloads run after
commit, an index for the users list's default order

Revision ID: 76f67c3dbd8c
Revises: 07642e61f73d
Create Date: 2026-11-23 16:10:07.092079
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '76f67c3dbd8c'
down_revision: str | None = '07642e61f73d'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _refuse_shared_sip_domains() -> None:
    """A SIP domain is a digest realm phones register to: it cannot be unique-constrained while shared."""
    shared = op.get_bind().execute(sa.text(
        "SELECT sip_domain, COUNT(*) FROM organizations GROUP BY sip_domain HAVING COUNT(*) > 1")).all()
    if shared:
        listing = ", ".join(f"{domain} ({count} organizations)" for domain, count in shared)
        raise RuntimeError(f"these SIP domains are used by more than one organization: {listing}. Give each "
                           "organization its own sip_domain (PATCH /api/v1/organizations/{id}) before upgrading.")


def upgrade() -> None:
    # Reload results are now recorded after the commit: null means "not run yet".
    with op.batch_alter_table('config_revisions', schema=None) as batch_op:
        batch_op.alter_column('reloads', existing_type=sa.JSON(), nullable=True)

    # Login throttling moves from one row per username to windows per (username, client address);
    # the old counters are short-lived and simply start afresh.
    op.drop_table('login_throttles')
    op.create_table('login_throttles',
    sa.Column('username', sqlmodel.sql.sqltypes.AutoString(length=150), nullable=False),
    sa.Column('client', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('window_started', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('username', 'client', name=op.f('pk_login_throttles'))
    )
    with op.batch_alter_table('login_throttles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_throttles_window_started'), ['window_started'], unique=False)

    _refuse_shared_sip_domains()
    with op.batch_alter_table('organizations', schema=None) as batch_op:
        batch_op.create_unique_constraint(batch_op.f('uq_organizations_sip_domain'), ['sip_domain'])

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index('ix_users_organization_id_last_name', ['organization_id', 'last_name', 'id'], unique=False)
        batch_op.add_column(sa.Column('active', sa.Boolean(), nullable=False, server_default=sa.true()))
        batch_op.add_column(sa.Column('auth_version', sa.Integer(), nullable=False, server_default='1'))
    # The defaults filled existing rows; new rows get theirs from the application, as every column does.
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('active', server_default=None)
        batch_op.alter_column('auth_version', server_default=None)


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index('ix_users_organization_id_last_name')
        batch_op.drop_column('auth_version')
        batch_op.drop_column('active')

    with op.batch_alter_table('organizations', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_organizations_sip_domain'), type_='unique')

    op.drop_table('login_throttles')
    op.create_table('login_throttles',
    sa.Column('username', sqlmodel.sql.sqltypes.AutoString(length=150), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('last_failure_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('username', name=op.f('pk_login_throttles'))
    )

    op.execute("UPDATE config_revisions SET reloads = '[]' WHERE reloads IS NULL")
    with op.batch_alter_table('config_revisions', schema=None) as batch_op:
        batch_op.alter_column('reloads', existing_type=sa.JSON(), nullable=False)
