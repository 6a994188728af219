"""Pending configuration changes: counted per transaction, recorded just before commit."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db import on_commit
from app.models import ConfigState


def upsert(session: AsyncSession):
    return pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert


def note_change(session: AsyncSession, organization_id: uuid.UUID) -> None:
    """Count one configuration change of the organization in this transaction."""
    counts: dict[uuid.UUID, int] = session.info.setdefault("config_changes", {})
    counts[organization_id] = counts.get(organization_id, 0) + 1
    on_commit(session, "config_changes", _record_changes)


async def _record_changes(session: AsyncSession) -> None:
    now = datetime.now(UTC)
    for organization_id, count in sorted(session.info.pop("config_changes", {}).items()):
        statement = upsert(session)(ConfigState).values(
            organization_id=organization_id, pending_changes=count, last_change_at=now)
        statement = statement.on_conflict_do_update(
            index_elements=[ConfigState.organization_id],
            set_={"pending_changes": ConfigState.pending_changes + count, "last_change_at": now},
        )
        await session.execute(statement)
