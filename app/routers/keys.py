"""A user's programmable phone keys."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Response

from app.core.context import Context, require
from app.core.http import IfMatch, check_if_match, set_etag
from app.models.keys import KeysDocument, KeysRead
from app.routers.common import ITEM_ERRORS, WRITE_ERRORS, api_router
from app.services import keys

router = api_router("/users", "users")
Readers = Annotated[Context, Depends(require("users.read"))]
Writers = Annotated[Context, Depends(require("users.write"))]


def _read(found: keys.Keys) -> KeysRead:
    return KeysRead.model_validate({**found.document, "user_id": found.user.id})


@router.get("/{user_id}/keys", response_model=KeysRead, summary="Get a user's phone keys", responses=ITEM_ERRORS,
            operation_id="users_keys_get")
async def get_keys(user_id: uuid.UUID, ctx: Readers, response: Response) -> KeysRead:
    """The user's programmable keys: `count` positions and the configured ones (a user without any: count 0)."""
    found = await keys.get(ctx, user_id)
    set_etag(response, found.versioned)
    return _read(found)


@router.put("/{user_id}/keys", response_model=KeysRead, summary="Replace a user's phone keys",
            responses=WRITE_ERRORS, operation_id="users_keys_put",
            openapi_extra={"requestBody": {"content": {"application/json": {"example": {
                "count": 10, "keys": [{"index": 1, "type": "line"},
                                      {"index": 2, "type": "blf", "user_id": "0b6c8d6e-1f1a-4a43-9d1e-2f4a4f0c1b2a",
                                       "label": "Bruno"},
                                      {"index": 3, "type": "speed_dial", "number": "+390612345678",
                                       "label": "Office Rome"},
                                      {"index": 4, "type": "pickup"}]}}}}})
async def put_keys(user_id: uuid.UUID, payload: KeysDocument, ctx: Writers, response: Response,
                   if_match: IfMatch = None) -> KeysRead:
    """Replace the keys: `none`, `blf` (a colleague whose presence the user may see: a group where it has
    `see_members` and the colleague `show_presence`; otherwise 422 naming the key), `speed_dial`, `line`, `pickup`
    (`*8`) and `park` (needs the organization's parking lot). With the next apply every phone of the user gets
    them in its vendor's syntax (Yealink line keys, Grandstream multi-purpose keys, Polycom BLF list and soft
    keys, Snom function keys). A user changes its own keys; another's needs scope `groups` or `all` and
    authority over it."""
    found = await keys.get(ctx, user_id)
    check_if_match(if_match, found.versioned)
    found = await keys.replace(ctx, found, payload)
    set_etag(response, found.versioned)
    return _read(found)
