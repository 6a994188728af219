"""Audit entries for every write, with secrets masked."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select

from app.core.context import Context
from app.core.pagination import ListParams, apply_sort, paginate
from app.models import AuditEntry
from app.services import config_state, outbox

_SECRET_MARKERS = ("password", "pin", "secret", "key_hash", "token", "encrypted")
MASK = "***"


def mask_secrets(values: dict[str, Any] | None) -> dict[str, Any] | None:
    """A JSON-safe copy of ``values`` with every secret-looking field masked."""
    if values is None:
        return None
    masked: dict[str, Any] = {}
    for key, value in values.items():
        if any(marker in key.lower() for marker in _SECRET_MARKERS):
            masked[key] = MASK if value is not None else None
        elif isinstance(value, dict):
            masked[key] = mask_secrets(value)
        elif isinstance(value, uuid.UUID):
            masked[key] = str(value)
        elif isinstance(value, datetime):
            masked[key] = value.isoformat()
        else:
            masked[key] = value
    return masked


def snapshot(row: Any, exclude: tuple[str, ...] = ("created_at", "updated_at", "version", "organization_id")) -> dict[str, Any]:
    """The audit view of a table row: its columns, minus bookkeeping."""
    return {name: getattr(row, name) for name in row.__table__.columns.keys() if name not in exclude}


async def record(ctx: Context, action: str, resource_type: str, resource_id: Any, *,
                 before: dict[str, Any] | None = None, after: dict[str, Any] | None = None,
                 config_change: bool = False, organization_id: uuid.UUID | None = None) -> None:
    """Add an audit entry to the current transaction (so it exists only if the change commits), and the change's
    webhook event to the outbox."""
    principal = ctx.principal
    organization_id = organization_id or principal.organization_id
    if config_change:
        config_state.note_change(ctx.session, organization_id)
    masked_after = mask_secrets(after)
    ctx.session.add(AuditEntry(
        organization_id=organization_id,
        actor_type=principal.kind, actor_id=principal.id, actor_name=principal.name,
        action=action, resource_type=resource_type,
        resource_id=str(resource_id) if resource_id is not None else None,
        before=mask_secrets(before), after=masked_after,
        request_id=ctx.request_id, config_change=config_change,
    ))
    outbox.note(ctx.session, organization_id, action, resource_type, resource_id, masked_after, _actor(ctx))


def _actor(ctx: Context) -> dict[str, Any]:
    principal = ctx.principal
    return {"type": principal.kind, "id": str(principal.id), "name": principal.name}


async def list_entries(ctx: Context, params: ListParams, *, resource_type: str | None, resource_id: str | None,
                       actor_id: uuid.UUID | None, action: str | None, since: datetime | None,
                       until: datetime | None) -> tuple[list[AuditEntry], int]:
    """The organization's audit entries, newest first unless sorted otherwise."""
    query = select(AuditEntry).where(AuditEntry.organization_id == ctx.principal.organization_id)
    for column, value in ((AuditEntry.resource_type, resource_type), (AuditEntry.resource_id, resource_id),
                          (AuditEntry.actor_id, actor_id), (AuditEntry.action, action)):
        if value is not None:
            query = query.where(column == value)
    if since is not None:
        query = query.where(AuditEntry.created_at >= since)
    if until is not None:
        query = query.where(AuditEntry.created_at < until)
    query = apply_sort(query, params, {"created_at": AuditEntry.id, "id": AuditEntry.id, "action": AuditEntry.action},
                       "-id", AuditEntry.id.desc())
    return await paginate(ctx.session, query, params)


def entry_values(ctx: Context, action: str, resource_type: str, resource_id: Any, *,
                 before: dict[str, Any] | None = None, after: dict[str, Any] | None = None,
                 config_change: bool = False) -> dict[str, Any]:
    """One audit entry as a row, for ``record_many``."""
    principal = ctx.principal
    return {"organization_id": principal.organization_id, "created_at": datetime.now(UTC),
            "actor_type": principal.kind, "actor_id": principal.id, "actor_name": principal.name, "action": action,
            "resource_type": resource_type, "resource_id": str(resource_id) if resource_id is not None else None,
            "before": mask_secrets(before), "after": mask_secrets(after), "request_id": ctx.request_id,
            "config_change": config_change}


async def record_many(ctx: Context, entries: list[dict[str, Any]]) -> None:
    """Add many audit entries (from ``entry_values``) in one statement: bulk changes stay a handful of statements
    however many users they touch. Marks the configuration pending when one of them changed it."""
    if not entries:
        return
    if any(e["config_change"] for e in entries):
        config_state.note_change(ctx.session, ctx.principal.organization_id)
    await ctx.session.execute(insert(AuditEntry), entries)
    actor = _actor(ctx)
    for entry in entries:
        outbox.note(ctx.session, entry["organization_id"], entry["action"], entry["resource_type"],
                    entry["resource_id"], entry["after"], actor)
