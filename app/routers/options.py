"""A user's options and restrictions."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Response

from app.core.context import Context, require
from app.core.http import IfMatch, check_if_match, set_etag
from app.models.options import OptionsRead, OptionsUpdate
from app.routers.common import ITEM_ERRORS, WRITE_ERRORS, api_router
from app.services import options

router = api_router("/users", "users")
Readers = Annotated[Context, Depends(require("users.read"))]
Writers = Annotated[Context, Depends(require("users.write"))]


def _read(found: options.Options) -> OptionsRead:
    return OptionsRead.model_validate({**found.values, "user_id": found.user.id})


@router.get("/{user_id}/options", response_model=OptionsRead, summary="Get a user's options and restrictions",
            responses=ITEM_ERRORS, operation_id="users_options_get")
async def get_options(user_id: uuid.UUID, ctx: Readers, response: Response) -> OptionsRead:
    """What the user's phone may do (never the outbound PIN: `outbound_pin_set` says whether there is one)."""
    found = await options.get(ctx, user_id)
    set_etag(response, found.versioned)
    return _read(found)


@router.put("/{user_id}/options", response_model=OptionsRead, summary="Replace a user's options and restrictions",
            responses=WRITE_ERRORS, operation_id="users_options_put")
async def put_options(user_id: uuid.UUID, payload: OptionsUpdate, ctx: Writers, response: Response,
                      if_match: IfMatch = None) -> OptionsRead:
    """Replace the whole document. They take effect in the dialplan with the next apply: `disabled` (the extension
    neither calls nor rings), `external_calls_disabled` (internal and emergency calls only), `outbound_pin`
    (write-only: asked before each external call; `null` removes it; a trivial PIN is a 422),
    `block_outbound_outside_office_hours` (by the `default` office hours), `record_calls`, `call_screening`,
    `lan_only` (phones only from private networks) and `allow_conferences`. Emergency routes stay open whatever
    the options. They restrict the user, so a user cannot change its own with scope `own`."""
    found = await options.get(ctx, user_id)
    check_if_match(if_match, found.versioned)
    found = await options.replace(ctx, found, payload)
    set_etag(response, found.versioned)
    return _read(found)
