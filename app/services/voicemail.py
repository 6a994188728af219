"""Users' voicemail: settings, the PIN (write-only, encrypted, revealed only with a permission and audited), and
greetings uploaded as WAV files (checked and converted by the same code as IVR greetings)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from sqlalchemy import func, select, update

from app.core.context import Context
from app.core.errors import Conflict, FieldErrors, NotFound, ValidationProblem
from app.core.security import generate_pin, weak_pin_reason
from app.models import SipAccount, User
from app.models.voicemail import VoicemailGreeting, VoicemailUpdate
from app.services import audio, audit, forwarding, roles, users
from app.services.changes import touch

RESOURCE = "user"
MAX_GREETINGS = 10  # per user: a few for the seasons, not an archive

# The settings columns of a user and their names in the API.
_FIELDS = {"enabled": "voicemail_enabled", "pin_required": "voicemail_pin_required",
           "play_caller_id": "voicemail_play_caller_id", "read_datetime": "voicemail_read_datetime",
           "email_notification": "voicemail_email_notification"}
_DESCRIBED = (VoicemailGreeting.id, VoicemailGreeting.name, VoicemailGreeting.active, VoicemailGreeting.duration_ms,
              VoicemailGreeting.size_bytes, VoicemailGreeting.sha256, VoicemailGreeting.uploaded_format,
              VoicemailGreeting.created_at)


async def get(ctx: Context, user_id: uuid.UUID) -> User:
    """The user whose mailbox is acted on (404 outside the caller's scope)."""
    return (await users.get(ctx, user_id)).user


async def greetings_of(ctx: Context, user_id: uuid.UUID) -> list[Any]:
    """The user's greetings, described (not their audio), oldest first."""
    return list((await ctx.session.execute(select(*_DESCRIBED).where(VoicemailGreeting.user_id == user_id)
                                           .order_by(VoicemailGreeting.created_at, VoicemailGreeting.id))).all())


async def _extension(ctx: Context, user: User) -> int | None:
    return (await ctx.session.execute(select(SipAccount.extension).where(SipAccount.user_id == user.id))).scalar()


async def update_settings(ctx: Context, user: User, payload: VoicemailUpdate) -> None:
    """Replace the settings; a new PIN is checked (422 when trivial) and stored encrypted; with no PIN yet, one is
    generated. A config change (an apply takes it to the mailbox)."""
    await forwarding.check_may_change(ctx, user)
    errors = FieldErrors()
    if payload.pin is not None:
        reason = weak_pin_reason(payload.pin, await _extension(ctx, user))
        if reason:
            errors.add(["body", "pin"], f"The PIN is too easy to guess: {reason}", "weak_pin")
    greeting_id = payload.active_greeting_id
    if greeting_id is not None and (await ctx.session.execute(select(VoicemailGreeting.id).where(
            VoicemailGreeting.id == greeting_id, VoicemailGreeting.user_id == user.id))).first() is None:
        errors.add(["body", "active_greeting_id"], "No such greeting of this user", "not_found")
    errors.raise_if_any()
    before = audit.snapshot(user)
    for name, column in _FIELDS.items():
        setattr(user, column, getattr(payload, name))
    if payload.pin is not None:
        user.voicemail_pin_encrypted = ctx.secret_box.encrypt(payload.pin)
    elif user.voicemail_pin_encrypted is None:
        user.voicemail_pin_encrypted = ctx.secret_box.encrypt(generate_pin())
    await _activate(ctx, user, greeting_id)
    touch(user)
    await ctx.session.flush()
    await audit.record(ctx, "user.voicemail.update", RESOURCE, user.id, before=before, after=audit.snapshot(user),
                       config_change=True)


async def _activate(ctx: Context, user: User, greeting_id: uuid.UUID | None) -> None:
    await ctx.session.execute(update(VoicemailGreeting).where(VoicemailGreeting.user_id == user.id)
                              .values(active=VoicemailGreeting.id == greeting_id if greeting_id else False))


async def reveal_pin(ctx: Context, user: User) -> str:
    """The plaintext PIN, for a principal holding ``voicemail_pins.read`` with authority over the user; audited."""
    if user.id != ctx.principal.user_id:
        await roles.check_authority_over(ctx.session, ctx.principal, user, "reveal the voicemail PIN of")
    if user.voicemail_pin_encrypted is None:
        raise NotFound("The mailbox has no PIN")
    await audit.record(ctx, "user.voicemail_pin_reveal", RESOURCE, user.id)
    return ctx.secret_box.decrypt(user.voicemail_pin_encrypted)


async def upload_greeting(ctx: Context, user: User, data: bytes, loc: list[str | int], name: str | None) -> Any:
    """Check and convert an uploaded WAV file and add it to the user's greetings (422 naming ``loc`` with the
    reason when refused). The first greeting becomes the active one."""
    await forwarding.check_may_change(ctx, user)
    count = (await ctx.session.execute(select(func.count()).where(VoicemailGreeting.user_id == user.id))).scalar_one()
    if count >= MAX_GREETINGS:
        raise Conflict(f"A mailbox keeps at most {MAX_GREETINGS} greetings: delete one first",
                       slug="too-many-greetings")
    try:
        converted = await asyncio.to_thread(audio.convert, data)
    except audio.AudioProblem as problem:
        raise ValidationProblem.field(loc, str(problem), "invalid_audio") from None
    greeting = VoicemailGreeting(
        organization_id=user.organization_id, user_id=user.id, name=name or f"Greeting {count + 1}",
        active=count == 0 and not await _has_active(ctx, user), wav=converted.wav,
        duration_ms=converted.duration_ms, size_bytes=len(converted.wav), sha256=converted.sha256,
        uploaded_format=converted.uploaded_format)
    ctx.session.add(greeting)
    touch(user)
    await ctx.session.flush()
    await audit.record(ctx, "user.voicemail_greeting.create", RESOURCE, user.id,
                       after={"greeting_id": str(greeting.id), "name": greeting.name, "sha256": greeting.sha256},
                       config_change=True)
    return greeting


async def _has_active(ctx: Context, user: User) -> bool:
    return (await ctx.session.execute(select(VoicemailGreeting.id).where(
        VoicemailGreeting.user_id == user.id, VoicemailGreeting.active.is_(True)))).first() is not None


async def greeting(ctx: Context, user: User, greeting_id: uuid.UUID) -> VoicemailGreeting:
    """One of the user's greetings with its audio, or 404."""
    found = (await ctx.session.execute(select(VoicemailGreeting).where(
        VoicemailGreeting.id == greeting_id, VoicemailGreeting.user_id == user.id))).scalar_one_or_none()
    if found is None:
        raise NotFound("No such greeting of this user")
    return found


async def delete_greeting(ctx: Context, user: User, greeting_id: uuid.UUID) -> None:
    """Delete a greeting; when it was the active one, callers hear the phone-recorded or standard greeting."""
    await forwarding.check_may_change(ctx, user)
    found = await greeting(ctx, user, greeting_id)
    await ctx.session.delete(found)
    touch(user)
    await ctx.session.flush()
    await audit.record(ctx, "user.voicemail_greeting.delete", RESOURCE, user.id,
                       before={"greeting_id": str(found.id), "name": found.name, "active": found.active},
                       config_change=True)
