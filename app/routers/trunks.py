"""SIP trunks."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Response

from app.core.context import Context, require
from app.core.db import WRITE
from app.core.http import IfMatch, check_if_match, set_etag
from app.core.pagination import ListParamsDep
from app.models.trunks import Codec, Trunk, TrunkCreate, TrunkPage, TrunkRead, TrunkSecret, TrunkTransport, TrunkUpdate
from app.routers.common import (CREATE_ERRORS, DELETE_ERRORS, ITEM_ERRORS, READ_ERRORS, WRITE_ERRORS, api_router,
                                created, responses)
from app.services import trunks
from app.services.idempotency import IdempotencyDep

router = api_router("/trunks", "trunks")
Readers = Annotated[Context, Depends(require("trunks.read"))]
Writers = Annotated[Context, Depends(require("trunks.write", scope_all=True))]


def _read(trunk: Trunk) -> TrunkRead:
    """The representation of a stored trunk (built from the row, not validated again; never the password)."""
    return TrunkRead.model_construct(
        id=trunk.id, name=trunk.name, host=trunk.host, port=trunk.port, transport=TrunkTransport(trunk.transport),
        username=trunk.username, has_password=trunk.password_encrypted is not None, registers=trunk.registers,
        from_domain=trunk.from_domain, codecs=[Codec(c) for c in trunk.codecs], max_channels=trunk.max_channels,
        match=list(trunk.match), caller_id=trunk.caller_id, created_at=trunk.created_at,
        updated_at=trunk.updated_at)


@router.post("", status_code=201, response_model=TrunkRead, summary="Create a trunk", responses=CREATE_ERRORS,
             operation_id="trunks_create")
async def create_trunk(payload: TrunkCreate, ctx: Writers, idem: IdempotencyDep, response: Response) -> TrunkRead:
    """Create a SIP trunk to a carrier. The password is write-only: it is encrypted at rest and never returned
    (reveal it with `GET /trunks/{id}/secret`). A trunk that registers needs a username and a password."""
    async def create():
        trunk = await trunks.create(ctx, payload)
        created(response, ctx.settings, f"/api/v1/trunks/{trunk.id}", trunk)
        return _read(trunk)

    return await idem.run(ctx, 201, create, response)


@router.get("", response_model=TrunkPage, summary="List trunks", responses=READ_ERRORS, operation_id="trunks_list")
async def list_trunks(ctx: Readers, params: ListParamsDep) -> TrunkPage:
    """The organization's trunks (never their passwords); `q` searches name and host. Sort by `name`, `host`,
    `created_at`."""
    rows, total = await trunks.list_trunks(ctx, params)
    return TrunkPage.model_construct(items=[_read(t) for t in rows], total=total, limit=params.limit,
                                     offset=params.offset)


@router.get("/{trunk_id}", response_model=TrunkRead, summary="Get a trunk", responses=ITEM_ERRORS,
            operation_id="trunks_get")
async def get_trunk(trunk_id: uuid.UUID, ctx: Readers, response: Response) -> TrunkRead:
    """One trunk (without its password), with its ETag."""
    trunk = await trunks.get(ctx, trunk_id)
    set_etag(response, trunk)
    return _read(trunk)


@router.patch("/{trunk_id}", response_model=TrunkRead, summary="Change a trunk", responses=WRITE_ERRORS,
              operation_id="trunks_update")
async def update_trunk(trunk_id: uuid.UUID, payload: TrunkUpdate, ctx: Writers, response: Response,
                       if_match: IfMatch = None) -> TrunkRead:
    """JSON merge patch. A `password` replaces the stored one; `password: null` removes it."""
    trunk = await trunks.get(ctx, trunk_id)
    check_if_match(if_match, trunk)
    trunk = await trunks.update(ctx, trunk, payload)
    set_etag(response, trunk)
    return _read(trunk)


@router.delete("/{trunk_id}", status_code=204, summary="Delete a trunk", responses=DELETE_ERRORS,
               operation_id="trunks_delete")
async def delete_trunk(trunk_id: uuid.UUID, ctx: Writers, if_match: IfMatch = None) -> Response:
    """Delete a trunk. A trunk that an outbound route uses cannot be deleted (409; the problem lists the
    routes in `referrers`)."""
    trunk = await trunks.get(ctx, trunk_id)
    check_if_match(if_match, trunk)
    await trunks.delete(ctx, trunk)
    return Response(status_code=204)


@router.get("/{trunk_id}/secret", response_model=TrunkSecret, summary="Reveal the trunk's password",
            responses=responses(401, 403, 404, 422), operation_id="trunks_reveal_secret")
async def reveal_trunk_secret(trunk_id: uuid.UUID,
                              ctx: Annotated[Context, Depends(require("trunks.read", "trunk_secrets.read",
                                                                      scope_all=True, transaction=WRITE))],
                              ) -> TrunkSecret:
    """The trunk's credentials in clear (`password` is null when none is stored); like changing trunks, it needs
    management scope `all`. Every call is recorded in the audit log."""
    trunk = await trunks.get(ctx, trunk_id)
    password = await trunks.reveal(ctx, trunk)
    return TrunkSecret(id=trunk.id, name=trunk.name, username=trunk.username, password=password)
