"""The audit log."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Query

from app.core.context import Context, require
from app.core.pagination import ListParamsDep
from app.models.audit import AuditEntryPage, AuditEntryRead
from app.routers.common import READ_ERRORS, api_router
from app.services import audit

router = api_router("/audit-log", "audit")


def _utc(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


@router.get("", response_model=AuditEntryPage, summary="Read the audit log", responses=READ_ERRORS,
            operation_id="audit_log_list")
async def list_audit_entries(
    ctx: Annotated[Context, Depends(require("audit.read", scope_all=True))], params: ListParamsDep,
    resource_type: Annotated[str | None, Query(max_length=50, examples=["sip_account"])] = None,
    resource_id: Annotated[str | None, Query(max_length=64)] = None,
    actor_id: uuid.UUID | None = None,
    action: Annotated[str | None, Query(max_length=50, examples=["user.create"])] = None,
    since: Annotated[datetime | None, Query(description="From this time (inclusive; UTC when no offset is given)")] = None,
    until: Annotated[datetime | None, Query(description="Before this time (UTC when no offset is given)")] = None,
) -> AuditEntryPage:
    """Who changed what and when, newest first, with before/after values (secrets masked)."""
    rows, total = await audit.list_entries(ctx, params, resource_type=resource_type, resource_id=resource_id,
                                           actor_id=actor_id, action=action, since=_utc(since), until=_utc(until))
    return AuditEntryPage.model_construct(
        items=[AuditEntryRead.model_construct(
            id=r.id, created_at=r.created_at, actor_type=r.actor_type, actor_id=r.actor_id, actor_name=r.actor_name,
            action=r.action, resource_type=r.resource_type, resource_id=r.resource_id, before=r.before,
            after=r.after, request_id=r.request_id) for r in rows],
        total=total, limit=params.limit, offset=params.offset)
