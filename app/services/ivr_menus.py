"""IVR menus: options, timeout and invalid-input destinations checked against the organization, no cycles
between menus, a dialable number in the shared space, and the uploaded greeting.

A cycle (menu A's option leads to menu B, one of B's leads back to A) is refused, naming
the field that closes it: every generated call path must end. The check walks the
organization's menus under a per-organization lock, so two concurrent edits cannot each
close half of a cycle.
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from typing import Any

from sqlalchemy import String, cast, delete as delete_rows, func, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.config_gen.asterisk_media import IvrMenuInfo
from app.core.context import Context
from app.core.errors import Conflict, FieldErrors, NotFound, ValidationProblem
from app.core.pagination import ListParams, apply_sort, contains, paginate
from app.models.base import utcnow
from app.models.ivr_menus import DIRECTORY_KEY, OPTION_KEYS, IvrGreeting, IvrMenu, IvrMenuCreate, IvrMenuUpdate
from app.services import audio, audit, destinations
from app.services.changes import delete_row, touch, update_row
from app.services.conferences import number
from app.services.scoping import require_scope_all

RESOURCE = "ivr_menu"
_DESTINATION_FIELDS = ("timeout_destination", "invalid_destination")

destinations.register_target(RESOURCE, IvrMenu)
destinations.register_referrer(RESOURCE, IvrMenu, IvrMenu.name)


def _query(ctx: Context):
    return select(IvrMenu).where(IvrMenu.organization_id == ctx.principal.organization_id)


async def get(ctx: Context, menu_id: uuid.UUID) -> IvrMenu:
    """One menu of the caller's organization, or 404."""
    menu = (await ctx.session.execute(ctx.locked(_query(ctx).where(IvrMenu.id == menu_id), IvrMenu))).scalar_one_or_none()
    if menu is None:
        raise NotFound("IVR menu not found")
    return menu


async def list_menus(ctx: Context, params: ListParams) -> tuple[list[IvrMenu], int]:
    """The organization's menus; ``q`` searches names and extensions."""
    query = _query(ctx)
    if params.q:
        query = query.where(or_(contains(IvrMenu.name, params.q), contains(cast(IvrMenu.extension, String), params.q)))
    query = apply_sort(query, params, {"name": IvrMenu.name, "extension": IvrMenu.extension,
                                       "created_at": IvrMenu.created_at}, "name", IvrMenu.id)
    return await paginate(ctx.session, query, params)


async def greetings_of(ctx: Context, menu_ids: list[uuid.UUID]) -> dict[uuid.UUID, Any]:
    """The greetings' descriptions (not their audio) of these menus, by menu id: one query."""
    if not menu_ids:
        return {}
    g = IvrGreeting.__table__.c
    rows = (await ctx.session.execute(
        select(g.ivr_menu_id, g.duration_ms, g.size_bytes, g.sha256, g.uploaded_format, g.created_at)
        .where(g.ivr_menu_id.in_(menu_ids)))).all()
    return {row.ivr_menu_id: row for row in rows}


async def _check_name_free(ctx: Context, name: str, exclude: uuid.UUID | None = None) -> None:
    query = _query(ctx).with_only_columns(IvrMenu.id).where(func.lower(IvrMenu.name) == name.lower())
    if exclude is not None:
        query = query.where(IvrMenu.id != exclude)
    if (await ctx.session.execute(query.limit(1))).first() is not None:
        raise Conflict.field(["body", "name"], f"An IVR menu named '{name}' already exists", "ivr-menu-name-taken")


async def _lock(ctx: Context) -> None:
    """Serialize changes to the organization's menus (the cycle check reads them all)."""
    if ctx.session.bind.dialect.name == "postgresql":
        key = int.from_bytes(hashlib.sha256(b"ivr:" + ctx.principal.organization_id.bytes).digest()[:8], "big",
                             signed=True)
        await ctx.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def _menu_edges(destinations_by_field: dict[str, Any]) -> list[tuple[str, str]]:
    """(field, target menu id) of each destination that leads to a menu."""
    return [(field, str(d.ivr_menu_id)) for field, d in destinations_by_field.items()
            if d is not None and d.type == "ivr"]


async def _check_no_cycle(ctx: Context, menu_id: uuid.UUID, name: str, fields: dict[str, Any],
                          errors: FieldErrors) -> None:
    """Refuse a destination that leads, through other menus' destinations, back to this menu."""
    edges = _menu_edges(fields)
    if not edges:
        return
    rows = (await ctx.session.execute(_query(ctx).with_only_columns(
        IvrMenu.id, IvrMenu.name, IvrMenu.options, IvrMenu.timeout_destination, IvrMenu.invalid_destination))).all()
    names = {str(row.id): row.name for row in rows}
    graph: dict[str, list[str]] = {}
    for row in rows:
        stored = [*row.options.values(), row.timeout_destination, row.invalid_destination]
        graph[str(row.id)] = [d["ivr_menu_id"] for d in stored if d.get("type") == "ivr"]
    me = str(menu_id)
    names[me] = name
    graph[me] = [target for _field, target in edges]
    for field, target in edges:
        path = _path(graph, target, me)
        if path is not None:
            chain = " → ".join(f"'{names.get(m, m)}'" for m in [me, *path])
            loc = ["body", *field.split("."), "ivr_menu_id"]
            errors.add(loc, f"This would make a cycle of IVR menus ({chain}): a call could loop for ever", "cycle")


def _path(graph: dict[str, list[str]], start: str, goal: str) -> list[str] | None:
    """A path of menus from ``start`` to ``goal`` (both included), or None."""
    parents: dict[str, str | None] = {start: None}
    queue = [start]
    while queue:
        current = queue.pop(0)
        if current == goal:
            path = [current]
            while parents[path[-1]] is not None:
                path.append(parents[path[-1]])
            return list(reversed(path))
        for following in graph.get(current, []):
            if following not in parents:
                parents[following] = current
                queue.append(following)
    return None


def _fields(values: dict[str, Any]) -> dict[str, Any]:
    """Every destination of a menu by its field name (``options.1``, ``timeout_destination``...)."""
    found = {f"options.{key}": destination for key, destination in values["options"].items()}
    found.update({field: values[field] for field in _DESTINATION_FIELDS})
    return found


async def _check(ctx: Context, menu_id: uuid.UUID, name: str, values: dict[str, Any], given: set[str],
                 errors: FieldErrors) -> None:
    """Check the destinations given in this request, the directory key and cycles."""
    itself = (RESOURCE, menu_id)
    for field, destination in _fields(values).items():
        if field.split(".")[0] in given:
            await destinations.check(ctx, destination, ["body", *field.split(".")], errors, itself=itself)
    if values["directory"] and DIRECTORY_KEY in values["options"]:
        errors.add(["body", "options", DIRECTORY_KEY],
                   f'With "directory" the {DIRECTORY_KEY} key opens the directory: it cannot be an option too',
                   "directory_key")
    if not errors.items:
        await _check_no_cycle(ctx, menu_id, name, _fields(values), errors)


def _stored_options(options: dict[str, Any]) -> dict[str, Any]:
    return {key: destinations.stored(options[key]) for key in OPTION_KEYS if key in options}


async def create(ctx: Context, payload: IvrMenuCreate) -> IvrMenu:
    """A new menu (without a greeting until one is uploaded)."""
    require_scope_all(ctx.principal, "Creating IVR menus")
    menu_id = uuid.uuid4()
    values = payload.model_dump(exclude={"options", *_DESTINATION_FIELDS})
    values.update(options=dict(payload.options), timeout_destination=payload.timeout_destination,
                  invalid_destination=payload.invalid_destination)
    await _lock(ctx)
    errors = FieldErrors()
    await _check(ctx, menu_id, payload.name, values, {"options", *_DESTINATION_FIELDS}, errors)
    errors.raise_if_any()
    await _check_name_free(ctx, payload.name)
    extension = await number(ctx, payload.extension) if payload.extension is not None else None
    menu = IvrMenu(id=menu_id, organization_id=ctx.principal.organization_id, name=payload.name, extension=extension,
                   options=_stored_options(payload.options), timeout_seconds=payload.timeout_seconds,
                   timeout_destination=destinations.stored(payload.timeout_destination),
                   invalid_destination=destinations.stored(payload.invalid_destination),
                   dial_by_extension=payload.dial_by_extension, directory=payload.directory)
    ctx.session.add(menu)
    await ctx.session.flush()
    await destinations.record(ctx, RESOURCE, menu.id, _fields(values))
    await audit.record(ctx, "ivr_menu.create", RESOURCE, menu.id, after=audit.snapshot(menu), config_change=True)
    return menu


async def update(ctx: Context, menu: IvrMenu, payload: IvrMenuUpdate) -> IvrMenu:
    """JSON merge patch; ``options`` given replaces them all."""
    require_scope_all(ctx.principal, "Changing IVR menus")
    changes: dict[str, Any] = payload.model_dump(exclude_unset=True)
    errors = FieldErrors()
    for required in ("name", "options", "timeout_seconds", "dial_by_extension", "directory", *_DESTINATION_FIELDS):
        if required in changes and changes[required] is None:
            errors.add(["body", required], "must not be null", "null")
    errors.raise_if_any()
    values = {
        "options": dict(payload.options) if payload.options is not None else
        {key: destinations.loaded(d) for key, d in menu.options.items()},
        "directory": changes.get("directory", menu.directory),
        **{field: getattr(payload, field) if getattr(payload, field) is not None else
           destinations.loaded(getattr(menu, field)) for field in _DESTINATION_FIELDS},
    }
    await _lock(ctx)
    await _check(ctx, menu.id, changes.get("name") or menu.name, values, set(changes), errors)
    errors.raise_if_any()
    if changes.get("name") not in (None, menu.name):
        await _check_name_free(ctx, changes["name"], exclude=menu.id)
    if changes.get("extension") is not None and changes["extension"] != menu.extension:
        changes["extension"] = await number(ctx, changes["extension"])
    if payload.options is not None:
        changes["options"] = _stored_options(payload.options)
    for field in _DESTINATION_FIELDS:
        if getattr(payload, field) is not None:
            changes[field] = destinations.stored(getattr(payload, field))
    if {"options", *_DESTINATION_FIELDS} & changes.keys():
        await destinations.record(ctx, RESOURCE, menu.id, _fields(values))
    await update_row(ctx, menu, changes, action="ivr_menu.update", resource=RESOURCE, config_change=True)
    return menu


async def delete(ctx: Context, menu: IvrMenu) -> None:
    """Delete a menu and its greeting, unless a destination points at it (409 listing the referrers)."""
    require_scope_all(ctx.principal, "Deleting IVR menus")
    await destinations.refuse_if_referenced(ctx, RESOURCE, menu.id, f"IVR menu '{menu.name}'")
    await destinations.forget(ctx, RESOURCE, menu.id)
    await ctx.session.execute(delete_rows(IvrGreeting).where(IvrGreeting.ivr_menu_id == menu.id))
    await delete_row(ctx, menu, action="ivr_menu.delete", resource=RESOURCE, config_change=True)


# --- the greeting ------------------------------------------------------------------------------------------

async def greeting(ctx: Context, menu: IvrMenu) -> IvrGreeting:
    """The menu's greeting with its audio, or 404."""
    found = (await ctx.session.execute(select(IvrGreeting).where(IvrGreeting.ivr_menu_id == menu.id))).scalar_one_or_none()
    if found is None:
        raise NotFound("The IVR menu has no greeting")
    return found


async def put_greeting(ctx: Context, menu: IvrMenu, data: bytes, loc: list[str | int]) -> tuple[IvrGreeting, bool]:
    """Check and convert an uploaded WAV file and make it the menu's greeting (422 naming ``loc`` with the reason
    when refused); returns it and whether the menu had none before."""
    require_scope_all(ctx.principal, "Changing IVR greetings")
    try:
        converted = await asyncio.to_thread(audio.convert, data)
    except audio.AudioProblem as problem:
        raise ValidationProblem.field(loc, str(problem), "invalid_audio") from None
    existing = (await ctx.session.execute(
        select(IvrGreeting).where(IvrGreeting.ivr_menu_id == menu.id))).scalar_one_or_none()
    values = {"wav": converted.wav, "duration_ms": converted.duration_ms, "size_bytes": len(converted.wav),
              "sha256": converted.sha256, "uploaded_format": converted.uploaded_format}
    described = {key: value for key, value in values.items() if key != "wav"}
    created = existing is None
    if existing is None:
        existing = IvrGreeting(ivr_menu_id=menu.id, organization_id=menu.organization_id, **values)
        ctx.session.add(existing)
    else:
        for key, value in values.items():
            setattr(existing, key, value)
        existing.created_at = utcnow()
    touch(menu)  # the menu's representation (and ETag) includes its greeting
    await ctx.session.flush()
    await audit.record(ctx, "ivr_menu.greeting_put", RESOURCE, menu.id, after=described, config_change=True)
    return existing, created


async def delete_greeting(ctx: Context, menu: IvrMenu) -> None:
    """Remove the menu's greeting (the menu then waits for a key in silence)."""
    require_scope_all(ctx.principal, "Changing IVR greetings")
    found = await greeting(ctx, menu)
    before = {"duration_ms": found.duration_ms, "sha256": found.sha256}
    await ctx.session.delete(found)
    touch(menu)
    await ctx.session.flush()
    await audit.record(ctx, "ivr_menu.greeting_delete", RESOURCE, menu.id, before=before, config_change=True)


async def load_infos(session: AsyncSession, organization_id: uuid.UUID) -> tuple[IvrMenuInfo, ...]:
    """The organization's menus for the renderer (``asterisk_media.IvrMenuInfo``, greetings' audio included),
    sorted by name: two queries."""
    m, g = IvrMenu.__table__.c, IvrGreeting.__table__.c
    rows = (await session.execute(
        select(m.id, m.name, m.extension, m.options, m.timeout_seconds, m.timeout_destination, m.invalid_destination,
               m.dial_by_extension, m.directory)
        .where(m.organization_id == organization_id).order_by(m.name))).all()
    audio_rows = dict((await session.execute(
        select(g.ivr_menu_id, g.wav).where(g.organization_id == organization_id))).all())
    return tuple(IvrMenuInfo(id=str(row.id), name=row.name, extension=row.extension,
                             options=tuple((key, row.options[key]) for key in OPTION_KEYS if key in row.options),
                             timeout_seconds=row.timeout_seconds, timeout_destination=row.timeout_destination,
                             invalid_destination=row.invalid_destination, dial_by_extension=row.dial_by_extension,
                             directory=row.directory, greeting=audio_rows.get(row.id))
                 for row in rows)
