"""One number space per organization: SIP accounts, dialable groups and the parking lot never share a number.

Every writer that takes or changes a number first takes the organization's numbering
lock (an advisory lock on PostgreSQL; SQLite's write lock serializes writers anyway),
then checks the whole space: so an account and a group racing for 105 from two
processes cannot both get it. Unique constraints per table stay the last line of defence.
"""

from __future__ import annotations

import hashlib
import uuid

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import Conflict, FieldErrors
from app.models import Conference, Group, IvrMenu, SipAccount


def range_text(org) -> str:
    return f"{org.extension_min}–{org.extension_max}"


def check_range(org, number: int, errors: FieldErrors, loc: list[str | int]) -> None:
    if not org.extension_min <= number <= org.extension_max:
        errors.add(loc, f"Extension must be between {org.extension_min} and {org.extension_max}", "extension_range")


def parking_numbers(org) -> range:
    """The parking lot's numbers: its extension, then one per slot."""
    if org.parking_extension is None:
        return range(0)
    return range(org.parking_extension, org.parking_extension + org.parking_slots + 1)


async def lock(session: AsyncSession, org) -> None:
    """Serialize number allocation per organization, across every API process."""
    if session.bind.dialect.name == "postgresql":
        key = int.from_bytes(hashlib.sha256(b"numbering:" + org.id.bytes).digest()[:8], "big", signed=True)
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


async def taken(session: AsyncSession, org, *, exclude_account: uuid.UUID | None = None,
                exclude_group: uuid.UUID | None = None) -> dict[int, str]:
    """Every number in use, with what uses it (for messages)."""
    used: dict[int, str] = dict.fromkeys(parking_numbers(org), "the parking lot")
    accounts = select(SipAccount.extension).where(SipAccount.organization_id == org.id)
    if exclude_account is not None:
        accounts = accounts.where(SipAccount.id != exclude_account)
    used.update(dict.fromkeys((await session.execute(accounts)).scalars(), "a SIP account"))
    groups = select(Group.extension, Group.name).where(Group.organization_id == org.id, Group.extension.is_not(None))
    if exclude_group is not None:
        groups = groups.where(Group.id != exclude_group)
    used.update({number: f"group '{name}'" for number, name in (await session.execute(groups)).all()})
    for model, what in ((Conference, "conference"), (IvrMenu, "IVR menu")):  # no exclusion: their services
        rows = select(model.extension, model.name).where(  # check a number only when it is a new one
            model.organization_id == org.id, model.extension.is_not(None))
        used.update({number: f"{what} '{name}'" for number, name in (await session.execute(rows)).all()})
    return used


async def lowest_free(session: AsyncSession, org) -> int:
    """The lowest number of the organization's range that nothing uses (409 when full)."""
    used = await taken(session, org)
    for candidate in range(org.extension_min, org.extension_max + 1):
        if candidate not in used:
            return candidate
    raise Conflict(f"No free extension in range {range_text(org)}", slug="extension-range-full")


async def check_free(session: AsyncSession, org, number: int, loc: list[str | int], *,
                     exclude_account: uuid.UUID | None = None, exclude_group: uuid.UUID | None = None) -> None:
    """409 naming the field (and what uses the number) when ``number`` is taken."""
    used = await taken(session, org, exclude_account=exclude_account, exclude_group=exclude_group)
    if number in used:
        raise Conflict.field(loc, f"Extension {number} is already in use by {used[number]}", "extension-in-use")
