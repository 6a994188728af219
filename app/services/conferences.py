"""Conference rooms: unique names, dialable numbers in the shared number space, write-only encrypted PINs.

A room that a destination points at (an inbound rule, an IVR option, a group's no-answer)
cannot be deleted: the 409 lists those referrers.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import String, cast, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.config_gen.asterisk_media import ConferenceInfo
from app.core.context import Context
from app.core.errors import Conflict, FieldErrors, NotFound
from app.core.pagination import ListParams, apply_sort, contains, paginate
from app.core.security import SecretBox
from app.models.conferences import Conference, ConferenceCreate, ConferenceUpdate
from app.services import audit, destinations, numbering
from app.services.changes import delete_row, update_row
from app.services.scoping import require_scope_all

RESOURCE = "conference"

destinations.register_target(RESOURCE, Conference)


def _query(ctx: Context):
    return select(Conference).where(Conference.organization_id == ctx.principal.organization_id)


async def get(ctx: Context, conference_id: uuid.UUID) -> Conference:
    """One room of the caller's organization, or 404."""
    query = _query(ctx).where(Conference.id == conference_id)
    conference = (await ctx.session.execute(ctx.locked(query, Conference))).scalar_one_or_none()
    if conference is None:
        raise NotFound("Conference not found")
    return conference


async def list_conferences(ctx: Context, params: ListParams) -> tuple[list[Conference], int]:
    """The organization's rooms; ``q`` searches names and extensions."""
    query = _query(ctx)
    if params.q:
        query = query.where(or_(contains(Conference.name, params.q),
                                contains(cast(Conference.extension, String), params.q)))
    query = apply_sort(query, params, {"name": Conference.name, "extension": Conference.extension,
                                       "created_at": Conference.created_at}, "name", Conference.id)
    return await paginate(ctx.session, query, params)


async def _check_name_free(ctx: Context, name: str, exclude: uuid.UUID | None = None) -> None:
    query = _query(ctx).with_only_columns(Conference.id).where(func.lower(Conference.name) == name.lower())
    if exclude is not None:
        query = query.where(Conference.id != exclude)
    if (await ctx.session.execute(query.limit(1))).first() is not None:
        raise Conflict.field(["body", "name"], f"A conference named '{name}' already exists", "conference-name-taken")


async def number(ctx: Context, wanted: int | str) -> int:
    """A dialable number for a room or menu: a free one of the range (409 naming what uses it), or the lowest
    free one for ``"next"``. Called only when the number is new to the resource (so it need not exclude itself)."""
    org = ctx.organization
    errors = FieldErrors()
    if wanted != "next":
        numbering.check_range(org, wanted, errors, ["body", "extension"])
        errors.raise_if_any()
    await numbering.lock(ctx.session, org)
    if wanted == "next":
        return await numbering.lowest_free(ctx.session, org)
    await numbering.check_free(ctx.session, org, wanted, ["body", "extension"])
    return wanted


def _check_pins(pin: str | None, admin_pin: str | None, errors: FieldErrors) -> None:
    if pin is not None and pin == admin_pin:
        errors.add(["body", "admin_pin"], "The administrator PIN must differ from the PIN", "same_pin")


def _encrypt(ctx: Context, pin: str | None) -> str | None:
    return ctx.secret_box.encrypt(pin) if pin is not None else None


async def create(ctx: Context, payload: ConferenceCreate) -> Conference:
    """A new room; its PINs are encrypted at rest and never shown again."""
    require_scope_all(ctx.principal, "Creating conference rooms")
    errors = FieldErrors()
    _check_pins(payload.pin, payload.admin_pin, errors)
    errors.raise_if_any()
    await _check_name_free(ctx, payload.name)
    extension = await number(ctx, payload.extension) if payload.extension is not None else None
    conference = Conference(organization_id=ctx.principal.organization_id, name=payload.name, extension=extension,
                            pin_encrypted=_encrypt(ctx, payload.pin), admin_pin_encrypted=_encrypt(ctx, payload.admin_pin),
                            max_members=payload.max_members, record=payload.record)
    ctx.session.add(conference)
    await ctx.session.flush()
    await audit.record(ctx, "conference.create", RESOURCE, conference.id, after=audit.snapshot(conference),
                       config_change=True)
    return conference


async def update(ctx: Context, conference: Conference, payload: ConferenceUpdate) -> Conference:
    """JSON merge patch: a new PIN replaces the stored one, ``null`` removes it."""
    require_scope_all(ctx.principal, "Changing conference rooms")
    changes: dict[str, Any] = payload.model_dump(exclude_unset=True)
    errors = FieldErrors()
    for required in ("name", "max_members", "record"):
        if required in changes and changes[required] is None:
            errors.add(["body", required], "must not be null", "null")
    pins = {name: changes.pop(name) for name in ("pin", "admin_pin") if name in changes}
    if pins:
        box = ctx.secret_box
        current = {name: box.decrypt(value) if value else None for name, value in (
            ("pin", conference.pin_encrypted), ("admin_pin", conference.admin_pin_encrypted))}
        merged = {**current, **pins}
        _check_pins(merged["pin"], merged["admin_pin"], errors)
    errors.raise_if_any()
    if changes.get("name") not in (None, conference.name):
        await _check_name_free(ctx, changes["name"], exclude=conference.id)
    if changes.get("extension") is not None and changes["extension"] != conference.extension:
        changes["extension"] = await number(ctx, changes["extension"])
    for name, value in pins.items():
        changes[f"{name}_encrypted"] = _encrypt(ctx, value)
    await update_row(ctx, conference, changes, action="conference.update", resource=RESOURCE, config_change=True)
    return conference


async def delete(ctx: Context, conference: Conference) -> None:
    """Delete a room, unless a destination points at it (409 listing the referrers)."""
    require_scope_all(ctx.principal, "Deleting conference rooms")
    await destinations.refuse_if_referenced(ctx, RESOURCE, conference.id, f"Conference '{conference.name}'")
    await delete_row(ctx, conference, action="conference.delete", resource=RESOURCE, config_change=True)


async def load_rows(session: AsyncSession, organization_id: uuid.UUID) -> list[tuple]:
    """The organization's rooms as the renderer needs them, PINs still encrypted, sorted by name: one query."""
    table = Conference.__table__.c
    return list((await session.execute(
        select(table.id, table.name, table.extension, table.pin_encrypted, table.admin_pin_encrypted,
               table.max_members, table.record)
        .where(table.organization_id == organization_id).order_by(table.name))).all())


def infos(rows: list[tuple], box: SecretBox) -> tuple[ConferenceInfo, ...]:
    """``load_rows`` as ``asterisk_media.ConferenceInfo`` with the PINs decrypted (CPU work: call it in a thread)."""
    return tuple(ConferenceInfo(id=str(c_id), name=name, extension=extension,
                                pin=box.decrypt(pin) if pin else None, admin_pin=box.decrypt(admin) if admin else None,
                                max_members=members, record=record)
                 for c_id, name, extension, pin, admin, members, record in rows)
