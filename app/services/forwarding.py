"""Users' forwarding rules and presence status.

The rules are configuration (an apply takes them to the registrar); the status is live state:
it is written to the database and, when ``CENTRALINO_ASTERISK_AMI_URL`` is set, to Asterisk's
AstDB at once, where the dialplan reads it at call time (``asterisk_forwarding``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from app.core.context import Context
from app.core.http import versioned_or_default
from app.core.errors import FieldErrors, Forbidden
from app.models import OfficeHours, SipAccount, User
from app.models.forwarding import (RINGING_STATUSES, STATUSES, ForwardingDocument, UserForwarding,
                                   default_document)
from app.services import ami, audit, destinations, office_hours, roles, users
from app.services.changes import touch

RESOURCE = users.FORWARDING_REFERRER
destinations.register_referrer(RESOURCE, User, User.first_name + " " + User.last_name)


@dataclass(slots=True)
class Forwarding:
    """A user's rules: the stored row, or None while the user has the defaults."""

    user: User
    row: UserForwarding | None

    @property
    def document(self) -> dict[str, Any]:
        return self.row.document if self.row is not None else default_document(self.user.voicemail_enabled)

    @property
    def versioned(self) -> Any:
        """What the ETag is computed from; the defaults have their own, stable one."""
        return versioned_or_default(self.row, self.user.id, "forwarding")


async def check_may_change(ctx: Context, user: User) -> None:
    """A user changes its own call handling; changing another's needs authority over it (scope and rights)."""
    if ctx.principal.user_id == user.id:
        return
    if ctx.principal.scope == "own":
        raise Forbidden("With scope 'own' you can change only your own call handling")
    await roles.check_authority_over(ctx.session, ctx.principal, user, "change the call handling of")


async def get(ctx: Context, user_id: uuid.UUID) -> Forwarding:
    """A user's forwarding rules (404 outside the caller's scope)."""
    view = await users.get(ctx, user_id)
    row = (await ctx.session.execute(ctx.locked(
        select(UserForwarding).where(UserForwarding.user_id == user_id), UserForwarding))).scalar_one_or_none()
    return Forwarding(view.user, row)


def actions_of(document: ForwardingDocument) -> dict[str, Any]:
    """Every action of the document by its field path (``available.internal.busy``, ``exceptions.0.destination``)."""
    found: dict[str, Any] = {}
    for status in STATUSES:
        rules = getattr(document, status)
        for origin in ("internal", "external"):
            branch = getattr(rules, origin)
            names = ("no_answer", "busy", "not_registered") if status in RINGING_STATUSES else ("action",)
            for name in names:
                found[f"{status}.{origin}.{name}"] = getattr(branch, name)
    for index, step in enumerate(document.follow_me.steps):
        found[f"follow_me.steps.{index}.destination"] = step.destination
    found["follow_me.then"] = document.follow_me.then
    for index, exception in enumerate(document.exceptions):
        found[f"exceptions.{index}.destination"] = exception.destination
    return found


async def _check(ctx: Context, user: User, document: ForwardingDocument) -> dict[str, Any]:
    """Field errors for actions that cannot work (422 naming each); returns the actions by path."""
    errors = FieldErrors()
    account = (await ctx.session.execute(select(SipAccount.id).where(SipAccount.user_id == user.id))).scalar()
    actions = actions_of(document)
    for path, action in actions.items():
        loc = ["body", *(int(part) if part.isdigit() else part for part in path.split("."))]
        if action.type == "voicemail" and action.user_id in (None, user.id):
            action.user_id = None  # the user's own mailbox, however it was written
            if not user.voicemail_enabled:
                errors.add([*loc, "type"], "The user has no voicemail: enable it first (voicemail_enabled)",
                           "no_voicemail")
        elif action.type == "mobile":
            if not user.mobile:
                errors.add([*loc, "type"], "The user has no mobile number: set `mobile` first", "no_mobile")
        elif action.type == "extension" and account is not None and action.sip_account_id == account:
            errors.add([*loc, "sip_account_id"], "A forwarding cannot point at the user's own phone", "loop")
        else:
            await destinations.check(ctx, action, loc, errors, itself=("user", user.id))
    schedule_id = document.auto_status.office_hours_id
    if schedule_id is not None and (await ctx.session.execute(select(OfficeHours.id).where(
            OfficeHours.id == schedule_id, OfficeHours.organization_id == user.organization_id))).first() is None:
        errors.add(["body", "auto_status", "office_hours_id"], "No such office-hours schedule in this organization",
                   "not_found")
    errors.raise_if_any()
    return actions


async def replace(ctx: Context, forwarding: Forwarding, document: ForwardingDocument) -> Forwarding:
    """Save a user's whole forwarding document (validated against the organization); a config change."""
    user = forwarding.user
    await check_may_change(ctx, user)
    actions = await _check(ctx, user, document)
    stored = document.model_dump(mode="json")
    before = {"document": forwarding.document}
    row = forwarding.row
    if row is None:
        row = UserForwarding(organization_id=user.organization_id, user_id=user.id, document=stored)
        ctx.session.add(row)
    else:
        row.document = stored
        touch(row)
    schedule_id = document.auto_status.office_hours_id
    await destinations.record(ctx, RESOURCE, user.id, actions, references={
        "auto_status.office_hours_id": ("office_hours", schedule_id) if schedule_id else None})
    await ctx.session.flush()
    await audit.record(ctx, "user.forwarding.replace", "user", user.id, before=before, after={"document": stored},
                       config_change=True)
    return Forwarding(user, row)


async def forget_user(ctx: Context, user_id: uuid.UUID) -> None:
    """A user is being deleted: its own rules stop pointing at anything."""
    await destinations.forget(ctx, RESOURCE, user_id)


# --- presence status (live state) ---------------------------------------------------------------------------


async def current_status(ctx: Context, user: User) -> str:
    """The user's status now: what Asterisk holds when it can be asked over AMI (a phone may have changed it with
    its status key), else the stored one."""
    return await ami.live_status(ctx.settings, user.id) or user.status


async def effective_status(ctx: Context, user: User, document: dict[str, Any], when: datetime | None = None,
                           status: str | None = None) -> str:
    """The status calls follow at ``when`` (now): ``status`` (the user's), or with auto_status outside the
    schedule's hours ``dnd`` and in its breaks ``away`` — the same rule the dialplan applies."""
    status = status or user.status
    auto = document.get("auto_status") or {}
    if status != "available" or not auto.get("enabled") or not auto.get("office_hours_id"):
        return status
    schedule = await ctx.session.get(OfficeHours, uuid.UUID(str(auto["office_hours_id"])))
    if schedule is None:
        return status
    state = office_hours.state_at(schedule, when or datetime.now(UTC)).value
    return {"closed": "dnd", "holiday": "dnd", "break": "away"}.get(state, status)


async def set_status(ctx: Context, user: User, status: str) -> bool:
    """Change a user's presence status: live state, not configuration (nothing becomes pending). Returns whether
    Asterisk took it at once over AMI."""
    await check_may_change(ctx, user)
    before = {"status": user.status}
    if user.status != status:
        user.status = status
        touch(user)
        await ctx.session.flush()
    await audit.record(ctx, "user.status.set", "user", user.id, before=before, after={"status": status})
    return await ami.push_status(ctx.settings, user.id, status)
