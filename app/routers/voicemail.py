"""A user's voicemail: settings, the PIN reveal, and greetings."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Depends, Query, Request, Response

from app.core.context import Context, require
from app.core.http import IfMatch, check_if_match, set_etag
from app.models.users import User
from app.models.voicemail import VoicemailGreetingRead, VoicemailPin, VoicemailRead, VoicemailUpdate
from app.routers.uploads import GREETING_AUDIO, UPLOAD_BODY, read_upload
from app.routers.common import CREATE_ERRORS, DELETE_ERRORS, ITEM_ERRORS, WRITE_ERRORS, api_router, created
from app.services import voicemail

router = api_router("/users", "users")
Readers = Annotated[Context, Depends(require("voicemail.read"))]
Writers = Annotated[Context, Depends(require("voicemail.write"))]
PinReaders = Annotated[Context, Depends(require("voicemail_pins.read"))]


async def _read(ctx: Context, user: User) -> VoicemailRead:
    greetings = [VoicemailGreetingRead.model_validate(row) for row in await voicemail.greetings_of(ctx, user.id)]
    active = next((g.id for g in greetings if g.active), None)
    return VoicemailRead(
        user_id=user.id, enabled=user.voicemail_enabled, pin_set=user.voicemail_pin_encrypted is not None,
        pin_required=user.voicemail_pin_required, play_caller_id=user.voicemail_play_caller_id,
        read_datetime=user.voicemail_read_datetime, email_notification=user.voicemail_email_notification,
        email=user.email, active_greeting_id=active, greetings=greetings)


@router.get("/{user_id}/voicemail", response_model=VoicemailRead, summary="Get a user's voicemail settings",
            responses=ITEM_ERRORS, operation_id="users_voicemail_get")
async def get_voicemail(user_id: uuid.UUID, ctx: Readers, response: Response) -> VoicemailRead:
    """The mailbox's settings (never the PIN: `pin_set` says whether it has one) and its uploaded greetings."""
    user = await voicemail.get(ctx, user_id)
    set_etag(response, user)
    return await _read(ctx, user)


@router.put("/{user_id}/voicemail", response_model=VoicemailRead, summary="Change a user's voicemail settings",
            responses=WRITE_ERRORS, operation_id="users_voicemail_put")
async def put_voicemail(user_id: uuid.UUID, payload: VoicemailUpdate, ctx: Writers, response: Response,
                        if_match: IfMatch = None) -> VoicemailRead:
    """Replace the settings. `pin` is write-only: 4–10 digits, refused (422) when trivial (one digit repeated,
    a run such as 1234 or 9876, the extension); omitted, the PIN is kept, or generated when there is none.
    `email_notification`: `notify` mails that a message was left, `attach` mails it, `attach_and_delete` mails
    it and removes it from the mailbox (Asterisk sends the mail: see the README's voicemail section).
    `active_greeting_id` picks the uploaded greeting callers hear. A user changes its own mailbox; another's
    needs scope `groups` or `all` and authority over it. Takes effect with the next apply."""
    user = await voicemail.get(ctx, user_id)
    check_if_match(if_match, user)
    await voicemail.update_settings(ctx, user, payload)
    set_etag(response, user)
    return await _read(ctx, user)


@router.get("/{user_id}/voicemail/pin", response_model=VoicemailPin, summary="Reveal a user's voicemail PIN",
            responses=ITEM_ERRORS, operation_id="users_voicemail_pin_get")
async def get_pin(user_id: uuid.UUID, ctx: PinReaders) -> VoicemailPin:
    """The PIN in clear, for `voicemail_pins.read` and authority over the user (its own, or a user holding no
    rights beyond the caller's); every reveal is in the audit log."""
    user = await voicemail.get(ctx, user_id)
    return VoicemailPin(pin=await voicemail.reveal_pin(ctx, user))


@router.post("/{user_id}/voicemail/greetings", status_code=201, response_model=VoicemailGreetingRead,
             summary="Upload a voicemail greeting", responses=CREATE_ERRORS, openapi_extra=UPLOAD_BODY,
             operation_id="users_voicemail_greetings_create")
async def upload_greeting(user_id: uuid.UUID, request: Request, ctx: Writers, response: Response,
                          name: Annotated[str | None, Query(max_length=100, description="A name for the greeting")]
                          = None) -> VoicemailGreetingRead:
    """Upload a greeting as an `audio/wav` body or a multipart form field `file`: the same checks and conversion
    as IVR greetings (uncompressed PCM or float WAV, at most 10 MB and 5 minutes; stored as 16-bit PCM, mono,
    8 kHz), a 422 with the reason otherwise. A mailbox keeps up to 10; the first becomes the active one."""
    user = await voicemail.get(ctx, user_id)
    data, loc = await read_upload(request)
    found = await voicemail.upload_greeting(ctx, user, data, loc, name)
    created(response, ctx.settings, f"/api/v1/users/{user.id}/voicemail/greetings/{found.id}")
    return VoicemailGreetingRead.model_validate(found)


@router.get("/{user_id}/voicemail/greetings/{greeting_id}", response_class=Response,
            summary="Download a voicemail greeting", responses={**ITEM_ERRORS, **GREETING_AUDIO},
            operation_id="users_voicemail_greetings_get")
async def download_greeting(user_id: uuid.UUID, greeting_id: uuid.UUID, ctx: Readers) -> Response:
    """The greeting as stored and played (16-bit PCM, mono, 8 kHz WAV)."""
    user = await voicemail.get(ctx, user_id)
    found = await voicemail.greeting(ctx, user, greeting_id)
    headers: dict[str, Any] = {"ETag": f'"{found.sha256[:20]}"',
                               "Content-Disposition": 'inline; filename="greeting.wav"'}
    return Response(content=found.wav, media_type="application/octet-stream", headers=headers)


@router.delete("/{user_id}/voicemail/greetings/{greeting_id}", status_code=204,
               summary="Delete a voicemail greeting", responses=DELETE_ERRORS,
               operation_id="users_voicemail_greetings_delete")
async def delete_greeting(user_id: uuid.UUID, greeting_id: uuid.UUID, ctx: Writers,
                          if_match: IfMatch = None) -> Response:
    """Delete a greeting (`If-Match`: the voicemail settings' ETag). When it was the active one, callers hear the
    greeting recorded on the phone, or the standard one."""
    user = await voicemail.get(ctx, user_id)
    check_if_match(if_match, user)
    await voicemail.delete_greeting(ctx, user, greeting_id)
    return Response(status_code=204)
