"""The shared shape of every write to an existing row: change it, bump its version, flush, audit."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from app.core.context import Context
from app.services import audit


def touch(row: Any) -> None:
    """Mark a row changed: a new version (hence a new ETag) and updated_at."""
    row.version += 1
    row.updated_at = datetime.now(UTC)


async def update_row(ctx: Context, row: Any, changes: dict[str, Any], *, action: str, resource: str,
                     config_change: bool, organization_id: uuid.UUID | None = None) -> None:
    """Apply ``changes`` to ``row`` and record before/after in the audit log."""
    before = audit.snapshot(row)
    for name, value in changes.items():
        setattr(row, name, value)
    touch(row)
    await ctx.session.flush()
    await audit.record(ctx, action, resource, row.id, before=before, after=audit.snapshot(row),
                       config_change=config_change, organization_id=organization_id)


async def delete_row(ctx: Context, row: Any, *, action: str, resource: str, config_change: bool,
                     organization_id: uuid.UUID | None = None) -> None:
    """Delete ``row`` and record what it was."""
    before = audit.snapshot(row)
    await ctx.session.delete(row)
    await ctx.session.flush()
    await audit.record(ctx, action, resource, row.id, before=before, config_change=config_change,
                       organization_id=organization_id)
