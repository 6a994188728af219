"""A user's call handling: forwarding rules (configuration) and presence status (live state)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Response

from app.core.context import Context, require
from app.core.http import IfMatch, check_if_match, set_etag
from app.models.forwarding import ForwardingDocument, ForwardingRead, StatusRead, StatusUpdate
from app.routers.common import ITEM_ERRORS, WRITE_ERRORS, api_router
from app.services import forwarding

router = api_router("/users", "users")
Readers = Annotated[Context, Depends(require("users.read"))]
Writers = Annotated[Context, Depends(require("users.write"))]

_EXAMPLE_ACTION = {"type": "voicemail"}
_EXAMPLE = {
    "available": {"ring_mobile_simultaneously": False, "accept_multiple_calls": True, "logout_from_queues": False,
                  "accept_ring_group_calls": True,
                  "internal": {"no_answer_seconds": 20, "no_answer": _EXAMPLE_ACTION, "busy": _EXAMPLE_ACTION,
                               "not_registered": _EXAMPLE_ACTION},
                  "external": {"no_answer_seconds": 25, "no_answer": {"type": "mobile"},
                               "busy": {"type": "user", "user_id": "0b6c8d6e-1f1a-4a43-9d1e-2f4a4f0c1b2a"},
                               "not_registered": {"type": "mobile"}}},
    "lunch": {"internal": {"no_answer_seconds": 20, "no_answer": _EXAMPLE_ACTION, "busy": _EXAMPLE_ACTION,
                           "not_registered": _EXAMPLE_ACTION},
              "external": {"no_answer_seconds": 20, "no_answer": _EXAMPLE_ACTION, "busy": _EXAMPLE_ACTION,
                           "not_registered": _EXAMPLE_ACTION}},
    **{status: {"internal": {"action": _EXAMPLE_ACTION}, "external": {"action": {"type": "hangup"}}}
       for status in ("away", "dnd", "business_trip")},
    "follow_me": {"enabled": False, "steps": [], "then": {"type": "hangup"}},
    "exceptions": [{"caller_id": "+390612345678", "destination": {"type": "mobile"},
                    "window": {"days": ["monday", "friday"], "start": "09:00", "end": "17:00"}}],
    "auto_status": {"enabled": False, "office_hours_id": None},
}


def _read(rules: forwarding.Forwarding) -> ForwardingRead:
    return ForwardingRead.model_validate({**rules.document, "user_id": rules.user.id, "is_default": rules.row is None})


@router.get("/{user_id}/forwarding", response_model=ForwardingRead, summary="Get a user's forwarding rules",
            responses=ITEM_ERRORS, operation_id="users_forwarding_get")
async def get_forwarding(user_id: uuid.UUID, ctx: Readers, response: Response) -> ForwardingRead:
    """The user's forwarding rules for each status and call origin, follow-me, caller-ID exceptions and
    auto status. A user who saved none has the defaults (`is_default`): the phone rings for the
    organization's `ring_timeout`, then, and when busy, unregistered or in any other status, the call goes
    to the user's voicemail (or ends when the user has none); ring groups reach the user only while
    `available` or at `lunch`."""
    rules = await forwarding.get(ctx, user_id)
    set_etag(response, rules.versioned)
    return _read(rules)


@router.put("/{user_id}/forwarding", response_model=ForwardingRead, summary="Replace a user's forwarding rules",
            responses=WRITE_ERRORS, operation_id="users_forwarding_put",
            openapi_extra={"requestBody": {"content": {"application/json": {"example": _EXAMPLE}}}})
async def put_forwarding(user_id: uuid.UUID, payload: ForwardingDocument, ctx: Writers, response: Response,
                         if_match: IfMatch = None) -> ForwardingRead:
    """Replace the whole document (GET it, change it, PUT it back with `If-Match`). Every action is a
    Destination, plus `mobile` (the user's mobile number, through the outbound routes with the user's
    permission level) and `voicemail` without `user_id` (the user's own mailbox). Refused with 422 naming
    the field: a target outside the organization or unable to take calls, `mobile` without a mobile
    number, the own `voicemail` without a mailbox, a forwarding to the user itself. A user changes its own
    rules; changing another's needs scope `groups` or `all` and authority over it. Takes effect with the
    next apply."""
    rules = await forwarding.get(ctx, user_id)
    check_if_match(if_match, rules.versioned)
    rules = await forwarding.replace(ctx, rules, payload)
    set_etag(response, rules.versioned)
    return _read(rules)


@router.get("/{user_id}/status", response_model=StatusRead, summary="Get a user's presence status",
            responses=ITEM_ERRORS, operation_id="users_status_get")
async def get_status(user_id: uuid.UUID, ctx: Readers, response: Response) -> StatusRead:
    """The user's status, and `effective_status`: what calls follow right now (with `auto_status`, an
    `available` user is handled as `dnd` outside the schedule's hours and as `away` in its breaks). With
    `CENTRALINO_ASTERISK_AMI_URL` set the status is read from Asterisk, so a change made on the phone (its
    `change_status` key) shows."""
    rules = await forwarding.get(ctx, user_id)
    set_etag(response, rules.user)
    status = await forwarding.current_status(ctx, rules.user)
    return StatusRead(status=status, effective_status=await forwarding.effective_status(
        ctx, rules.user, rules.document, status=status))


@router.put("/{user_id}/status", response_model=StatusRead, summary="Set a user's presence status",
            responses=WRITE_ERRORS, operation_id="users_status_put")
async def put_status(user_id: uuid.UUID, payload: StatusUpdate, ctx: Writers, response: Response,
                     if_match: IfMatch = None) -> StatusRead:
    """Self-service: set the status (`available`, `away`, `dnd`, `lunch`, `business_trip`). This is live
    state, not configuration: nothing becomes pending and no apply is needed. With
    `CENTRALINO_ASTERISK_AMI_URL` set it is written to Asterisk at once (`pushed: true`) and the next call
    follows the new status's rules; otherwise the next apply carries it."""
    rules = await forwarding.get(ctx, user_id)
    check_if_match(if_match, rules.user)
    pushed = await forwarding.set_status(ctx, rules.user, payload.status)
    set_etag(response, rules.user)
    return StatusRead(status=rules.user.status, pushed=pushed,
                      effective_status=await forwarding.effective_status(ctx, rules.user, rules.document))
