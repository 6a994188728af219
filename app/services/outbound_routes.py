"""Outbound routes: validated dial patterns, strip within what the patterns fix, trunks of the same organization
in failover order (each indexed so that a trunk in use cannot be deleted)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select

from app.config_gen.asterisk_trunks import dial_pattern_length
from app.core.context import Context
from app.core.errors import Conflict, FieldErrors, NotFound
from app.core.pagination import ListParams, apply_sort, contains, paginate
from app.models.trunks import OutboundRoute, OutboundRouteCreate, OutboundRouteUpdate
from app.services import audit, destinations, trunks
from app.services.changes import delete_row, update_row

RESOURCE = "outbound_route"

destinations.register_referrer(RESOURCE, OutboundRoute, OutboundRoute.name)


def _query(ctx: Context):
    return select(OutboundRoute).where(OutboundRoute.organization_id == ctx.principal.organization_id)


async def get(ctx: Context, route_id: uuid.UUID) -> OutboundRoute:
    """One route of the caller's organization, or 404."""
    route = (await ctx.session.execute(ctx.locked(_query(ctx).where(OutboundRoute.id == route_id),
                                                  OutboundRoute))).scalar_one_or_none()
    if route is None:
        raise NotFound("Outbound route not found")
    return route


async def list_routes(ctx: Context, params: ListParams) -> tuple[list[OutboundRoute], int]:
    """The organization's routes, in the order calls try them (priority, then name) unless sorted otherwise."""
    query = _query(ctx)
    if params.q:
        query = query.where(contains(OutboundRoute.name, params.q))
    if params.sort in (None, "priority"):
        query = query.order_by(OutboundRoute.priority, OutboundRoute.name, OutboundRoute.id)
        return await paginate(ctx.session, query, params)
    query = apply_sort(query, params, {"priority": OutboundRoute.priority, "name": OutboundRoute.name,
                                       "min_permission_level": OutboundRoute.min_permission_level,
                                       "created_at": OutboundRoute.created_at}, "priority", OutboundRoute.id)
    return await paginate(ctx.session, query, params)


async def _check_name_free(ctx: Context, name: str, exclude: uuid.UUID | None = None) -> None:
    query = _query(ctx).with_only_columns(OutboundRoute.id).where(func.lower(OutboundRoute.name) == name.lower())
    if exclude is not None:
        query = query.where(OutboundRoute.id != exclude)
    if (await ctx.session.execute(query.limit(1))).first() is not None:
        raise Conflict.field(["body", "name"], f"An outbound route named '{name}' already exists",
                             "outbound-route-name-taken")


def _check_patterns(patterns: list[str], strip: int, strip_given: bool, errors: FieldErrors) -> None:
    """Patterns are unique, and each fixes at least ``strip`` characters (else the strip would eat into . or !)."""
    seen: set[str] = set()
    for index, pattern in enumerate(patterns):
        if pattern in seen:
            errors.add(["body", "patterns", index], f"'{pattern}' is listed twice", "duplicate")
        seen.add(pattern)
        fixed = dial_pattern_length(pattern)
        if strip > fixed:
            message = (f"strip {strip} is more than the {fixed} leading characters pattern {index} ('{pattern}') "
                       "fixes")
            errors.add(["body", "strip"] if strip_given else ["body", "patterns", index], message, "strip_too_long")


async def _check_trunks(ctx: Context, trunk_ids: list[uuid.UUID], errors: FieldErrors) -> None:
    """Each trunk exists in the organization and is listed once (422 naming the index)."""
    found = await trunks.existing_ids(ctx, trunk_ids)
    seen: set[uuid.UUID] = set()
    for index, trunk_id in enumerate(trunk_ids):
        if trunk_id not in found:
            errors.add(["body", "trunks", index], "No such trunk in this organization", "not_found")
        elif trunk_id in seen:
            errors.add(["body", "trunks", index], "The trunk is listed twice", "duplicate")
        seen.add(trunk_id)


async def _record_trunks(ctx: Context, route: OutboundRoute) -> None:
    await destinations.record(ctx, RESOURCE, route.id, {}, references={
        f"trunks.{index}": (trunks.RESOURCE, uuid.UUID(trunk_id)) for index, trunk_id in enumerate(route.trunk_ids)})


async def create(ctx: Context, payload: OutboundRouteCreate) -> OutboundRoute:
    """A new route; every rule is checked (all field errors at once) before anything is saved."""
    errors = FieldErrors()
    _check_patterns(payload.patterns, payload.strip, True, errors)
    await _check_trunks(ctx, payload.trunks, errors)
    errors.raise_if_any()
    await _check_name_free(ctx, payload.name)
    values: dict[str, Any] = payload.model_dump(exclude={"trunks"}, mode="json")
    route = OutboundRoute(organization_id=ctx.principal.organization_id, **values,
                          trunk_ids=[str(t) for t in payload.trunks])
    ctx.session.add(route)
    await ctx.session.flush()
    await _record_trunks(ctx, route)
    await audit.record(ctx, "outbound_route.create", RESOURCE, route.id, after=audit.snapshot(route),
                       config_change=True)
    return route


async def update(ctx: Context, route: OutboundRoute, payload: OutboundRouteUpdate) -> OutboundRoute:
    """JSON merge patch; the patterns, strip and trunks are checked as merged."""
    changes = payload.model_dump(exclude_unset=True, mode="json")
    errors = FieldErrors()
    for required in changes.keys() & {"name", "patterns", "strip", "prepend", "trunks", "caller_id_mode",
                                      "min_permission_level", "priority", "emergency"}:
        if changes[required] is None:
            errors.add(["body", required], "must not be null", "null")
    errors.raise_if_any()
    if "patterns" in changes or "strip" in changes:
        _check_patterns(changes.get("patterns", route.patterns), changes.get("strip", route.strip),
                        "strip" in changes, errors)
    if "trunks" in changes:
        await _check_trunks(ctx, payload.trunks or [], errors)
        changes["trunk_ids"] = [str(t) for t in payload.trunks or []]
        del changes["trunks"]
    errors.raise_if_any()
    if changes.get("name") not in (None, route.name):
        await _check_name_free(ctx, changes["name"], exclude=route.id)
    await update_row(ctx, route, changes, action="outbound_route.update", resource=RESOURCE, config_change=True)
    if "trunk_ids" in changes:
        await _record_trunks(ctx, route)
    return route


async def delete(ctx: Context, route: OutboundRoute) -> None:
    """Delete a route (its trunks stay)."""
    await destinations.forget(ctx, RESOURCE, route.id)
    await delete_row(ctx, route, action="outbound_route.delete", resource=RESOURCE, config_change=True)
