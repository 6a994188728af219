"""DIDs (the organization's phone numbers) and the numbers of a user."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Query, Response

from app.core.context import Context, require
from app.core.http import IfMatch, check_if_match, set_etag
from app.core.pagination import ListParamsDep
from app.models.dids import Did, DidCreate, DidPage, DidRead, DidUpdate
from app.models.inbound_rules import InboundRule
from app.routers.common import (CREATE_ERRORS, DELETE_ERRORS, ITEM_ERRORS, WRITE_ERRORS, api_router,
                                created, responses)
from app.services import dids, users
from app.services.idempotency import IdempotencyDep

router = api_router("/dids", "dids")
user_router = api_router("/users", "dids")
Readers = Annotated[Context, Depends(require("dids.read"))]
# Numbers decide where the company's calls arrive: changing them needs scope 'all' (3CX's manager rights).
Writers = Annotated[Context, Depends(require("dids.write", scope_all=True))]
# Assigning a number to a user writes its inbound rule.
Routers = Annotated[Context, Depends(require("dids.write", "inbound_rules.write", scope_all=True))]


def _read(did: Did, rule: InboundRule | None) -> DidRead:
    """The representation of a stored DID (built from the rows, not validated again)."""
    return DidRead.model_construct(
        id=did.id, number=did.number, description=did.description, sms_enabled=did.sms_enabled,
        trunk_id=did.trunk_id, assigned=rule is not None, inbound_rule_id=rule.id if rule else None,
        user_id=dids.routed_user(rule), created_at=did.created_at, updated_at=did.updated_at)


@router.post("", status_code=201, response_model=DidRead, summary="Add a DID", responses=CREATE_ERRORS,
             operation_id="dids_create")
async def create_did(payload: DidCreate, ctx: Writers, response: Response, idem: IdempotencyDep) -> DidRead:
    """Add a number to the organization's free pool. It is parsed with the phone-number rules of its country and
    stored in E.164; a number any organization already has is a 409."""
    async def create():
        did = await dids.create(ctx, payload)
        created(response, ctx.settings, f"/api/v1/dids/{did.id}", did)
        return _read(did, None)

    return await idem.run(ctx, 201, create, response)


@router.get("", response_model=DidPage, summary="List DIDs", responses=responses(401, 403, 404, 422),
            operation_id="dids_list")
async def list_dids(ctx: Readers, params: ListParamsDep,
                    assigned: Annotated[bool | None, Query(description="false: the free pool (no inbound rule); "
                                                                        "true: the routed numbers")] = None,
                    user_id: Annotated[uuid.UUID | None, Query(description="Numbers ringing this user")] = None,
                    ) -> DidPage:
    """The organization's numbers with where they are routed; `q` searches number and description. Sort by
    `number`, `created_at`. With `user_id`, the user must be in the caller's scope (404 otherwise)."""
    if user_id is not None:  # the same rule as /users/{id}/dids: the user must be in the caller's scope
        await users.get(ctx, user_id)
    rows, total = await dids.list_dids(ctx, params, assigned=assigned, user_id=user_id)
    return DidPage.model_construct(items=[_read(d, r) for d, r in rows], total=total, limit=params.limit,
                                   offset=params.offset)


@router.get("/{did_id}", response_model=DidRead, summary="Get a DID", responses=ITEM_ERRORS, operation_id="dids_get")
async def get_did(did_id: uuid.UUID, ctx: Readers, response: Response) -> DidRead:
    """One number, with its ETag."""
    did, rule = await dids.get(ctx, did_id)
    set_etag(response, did)
    return _read(did, rule)


@router.patch("/{did_id}", response_model=DidRead, summary="Change a DID", responses=WRITE_ERRORS,
              operation_id="dids_update")
async def update_did(did_id: uuid.UUID, payload: DidUpdate, ctx: Writers, response: Response,
                     if_match: IfMatch = None) -> DidRead:
    """JSON merge patch of the description, SMS flag and trunk (a number never changes)."""
    did, rule = await dids.get(ctx, did_id)
    check_if_match(if_match, did)
    await dids.update(ctx, did, payload)
    set_etag(response, did)
    return _read(did, rule)


@router.delete("/{did_id}", status_code=204, summary="Delete a DID", responses=DELETE_ERRORS,
               operation_id="dids_delete")
async def delete_did(did_id: uuid.UUID, ctx: Routers, if_match: IfMatch = None) -> Response:
    """Remove a number from the organization, with its inbound rule."""
    did, rule = await dids.get(ctx, did_id)
    check_if_match(if_match, did)
    await dids.delete(ctx, did, rule)
    return Response(status_code=204)


@user_router.get("/{user_id}/dids", response_model=DidPage, summary="List a user's DIDs",
                 responses=responses(401, 403, 404, 422), operation_id="users_dids_list")
async def list_user_dids(user_id: uuid.UUID, ctx: Readers, params: ListParamsDep) -> DidPage:
    """The numbers whose inbound rule rings the user (404 when the user is not in the caller's scope)."""
    await users.get(ctx, user_id)
    rows, total = await dids.list_dids(ctx, params, user_id=user_id)
    return DidPage.model_construct(items=[_read(d, r) for d, r in rows], total=total, limit=params.limit,
                                   offset=params.offset)


@user_router.put("/{user_id}/dids/{did_id}", response_model=DidRead, summary="Assign a DID to a user",
                 responses=WRITE_ERRORS, operation_id="users_dids_assign")
async def assign_did(user_id: uuid.UUID, did_id: uuid.UUID, ctx: Routers, response: Response) -> DidRead:
    """Route the number to the user: its inbound rule is created, or re-pointed at the user (a schedule it has
    stays). The user needs an active SIP account (422 otherwise)."""
    user = (await users.get(ctx, user_id)).user
    did, rule = await dids.get(ctx, did_id)
    rule = await dids.assign(ctx, did, rule, user)
    set_etag(response, did)
    return _read(did, rule)


@user_router.delete("/{user_id}/dids/{did_id}", status_code=204, summary="Take a DID from a user",
                    responses=DELETE_ERRORS, operation_id="users_dids_unassign")
async def unassign_did(user_id: uuid.UUID, did_id: uuid.UUID, ctx: Routers) -> Response:
    """The number's inbound rule goes and it returns to the free pool (404 when it does not ring this user)."""
    user = (await users.get(ctx, user_id)).user
    did, rule = await dids.get(ctx, did_id)
    await dids.unassign(ctx, did, rule, user)
    return Response(status_code=204)
