"""office-hours schedules, every organization's default one

Revision ID: 0ff1ce5c4ed1
Revises: 16458365754b
Create Date: 2026-11-23 19:40:00
"""
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
import sqlmodel
from alembic import op

import app.models.base

revision: str = '0ff1ce5c4ed1'
down_revision: str | None = '16458365754b'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A literal copy: a migration must not change when the application's default does later.
DEFAULT_WEEKLY = [{"day": day, "start": "09:00", "end": "17:00"}
                  for day in ("monday", "tuesday", "wednesday", "thursday", "friday")]


def upgrade() -> None:
    op.create_table('office_hours',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('organization_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('timezone', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('weekly', sa.JSON(), nullable=False),
    sa.Column('breaks', sa.JSON(), nullable=False),
    sa.Column('holidays', sa.JSON(), nullable=False),
    sa.Column('is_default', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_office_hours_organization_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_office_hours')),
    sa.UniqueConstraint('organization_id', 'name', name=op.f('uq_office_hours_organization_id_name'))
    )
    with op.batch_alter_table('office_hours', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_office_hours_organization_id'), ['organization_id'], unique=False)

    _default_schedules()


def _default_schedules() -> None:
    """Every organization gets its `default` schedule: Monday to Friday, 09:00–17:00, in its own time zone."""
    bind = op.get_bind()
    now = datetime.now(UTC)
    organizations = sa.table("organizations", sa.column("id", sa.Uuid()), sa.column("timezone", sa.String()))
    schedules = sa.table(
        "office_hours", sa.column("id", sa.Uuid()), sa.column("organization_id", sa.Uuid()),
        sa.column("created_at", app.models.base.UTCDateTime(timezone=True)),
        sa.column("updated_at", app.models.base.UTCDateTime(timezone=True)), sa.column("version", sa.Integer()),
        sa.column("name", sa.String()), sa.column("timezone", sa.String()), sa.column("weekly", sa.JSON()),
        sa.column("breaks", sa.JSON()), sa.column("holidays", sa.JSON()), sa.column("is_default", sa.Boolean()))
    rows = [
        {"id": uuid.uuid4(), "organization_id": organization_id, "created_at": now, "updated_at": now, "version": 1,
         "name": "default", "timezone": timezone or "UTC", "weekly": DEFAULT_WEEKLY, "breaks": [], "holidays": [],
         "is_default": True}
        for organization_id, timezone in bind.execute(sa.select(organizations.c.id, organizations.c.timezone))]
    if rows:
        op.bulk_insert(schedules, rows)


def downgrade() -> None:
    with op.batch_alter_table('office_hours', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_office_hours_organization_id'))

    op.drop_table('office_hours')
