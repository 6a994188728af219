"""Outbound routes."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Response

from app.core.context import Context, require
from app.core.http import IfMatch, check_if_match, set_etag
from app.core.pagination import ListParamsDep
from app.models.trunks import (CallerIdMode, OutboundRoute, OutboundRouteCreate, OutboundRoutePage,
                               OutboundRouteRead, OutboundRouteUpdate)
from app.routers.common import CREATE_ERRORS, DELETE_ERRORS, ITEM_ERRORS, READ_ERRORS, WRITE_ERRORS, api_router, created
from app.services import outbound_routes
from app.services.idempotency import IdempotencyDep

router = api_router("/outbound-routes", "outbound-routes")
Readers = Annotated[Context, Depends(require("outbound_routes.read"))]
Writers = Annotated[Context, Depends(require("outbound_routes.write", scope_all=True))]


def _read(route: OutboundRoute) -> OutboundRouteRead:
    """The representation of a stored route (built from the row, not validated again)."""
    return OutboundRouteRead.model_construct(
        id=route.id, name=route.name, patterns=list(route.patterns), strip=route.strip, prepend=route.prepend,
        trunks=[uuid.UUID(t) for t in route.trunk_ids], caller_id_mode=CallerIdMode(route.caller_id_mode),
        min_permission_level=route.min_permission_level, priority=route.priority, emergency=route.emergency,
        created_at=route.created_at, updated_at=route.updated_at)


@router.post("", status_code=201, response_model=OutboundRouteRead, summary="Create an outbound route",
             responses=CREATE_ERRORS, operation_id="outbound_routes_create")
async def create_route(payload: OutboundRouteCreate, ctx: Writers, idem: IdempotencyDep,
                       response: Response) -> OutboundRouteRead:
    """Create an outbound route. A number matching one of `patterns` has `strip` digits removed and `prepend`
    put in front, then goes out through `trunks` in order (the next when one is unavailable, full or refuses
    the call). Accounts of at least `min_permission_level` may use it (`emergency`: every account); when several
    routes match a number, lower `priority` is tried first. A pattern Asterisk would misread, a strip longer
    than a pattern fixes, or a trunk of another organization is a 422 naming the field and index."""
    async def create():
        route = await outbound_routes.create(ctx, payload)
        created(response, ctx.settings, f"/api/v1/outbound-routes/{route.id}", route)
        return _read(route)

    return await idem.run(ctx, 201, create, response)


@router.get("", response_model=OutboundRoutePage, summary="List outbound routes", responses=READ_ERRORS,
            operation_id="outbound_routes_list")
async def list_routes(ctx: Readers, params: ListParamsDep) -> OutboundRoutePage:
    """The organization's routes in the order calls try them (`priority`, then name); `q` searches names. Sort
    by `priority`, `name`, `min_permission_level`, `created_at`."""
    rows, total = await outbound_routes.list_routes(ctx, params)
    return OutboundRoutePage.model_construct(items=[_read(r) for r in rows], total=total, limit=params.limit,
                                             offset=params.offset)


@router.get("/{route_id}", response_model=OutboundRouteRead, summary="Get an outbound route",
            responses=ITEM_ERRORS, operation_id="outbound_routes_get")
async def get_route(route_id: uuid.UUID, ctx: Readers, response: Response) -> OutboundRouteRead:
    """One route, with its ETag."""
    route = await outbound_routes.get(ctx, route_id)
    set_etag(response, route)
    return _read(route)


@router.patch("/{route_id}", response_model=OutboundRouteRead, summary="Change an outbound route",
              responses=WRITE_ERRORS, operation_id="outbound_routes_update")
async def update_route(route_id: uuid.UUID, payload: OutboundRouteUpdate, ctx: Writers, response: Response,
                       if_match: IfMatch = None) -> OutboundRouteRead:
    """JSON merge patch; `patterns`, `strip` and `trunks` are checked together as they will be saved."""
    route = await outbound_routes.get(ctx, route_id)
    check_if_match(if_match, route)
    route = await outbound_routes.update(ctx, route, payload)
    set_etag(response, route)
    return _read(route)


@router.delete("/{route_id}", status_code=204, summary="Delete an outbound route", responses=DELETE_ERRORS,
               operation_id="outbound_routes_delete")
async def delete_route(route_id: uuid.UUID, ctx: Writers, if_match: IfMatch = None) -> Response:
    """Delete a route; its trunks stay."""
    route = await outbound_routes.get(ctx, route_id)
    check_if_match(if_match, route)
    await outbound_routes.delete(ctx, route)
    return Response(status_code=204)
