"""Users' options and restrictions: set by whoever manages the user (never by the user itself with scope 'own',
since they restrict it), taken to the registrar by the next apply."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from app.core.context import Context
from app.core.http import versioned_or_default
from app.core.errors import Forbidden, ValidationProblem
from app.core.security import weak_pin_reason
from app.models import SipAccount, User
from app.models.options import OptionsUpdate, UserOptions
from app.services import audit, roles, users
from app.services.changes import touch

FIELDS = ("disabled", "external_calls_disabled", "lan_only", "block_outbound_outside_office_hours", "record_calls",
          "call_screening", "allow_conferences", "missed_call_email")


@dataclass(slots=True)
class Options:
    """A user's options: the stored row, or None while it has every default."""

    user: User
    row: UserOptions | None

    @property
    def values(self) -> dict[str, Any]:
        row = self.row or UserOptions(organization_id=self.user.organization_id, user_id=self.user.id)
        return {name: getattr(row, name) for name in FIELDS} | {
            "outbound_pin_set": row.outbound_pin_encrypted is not None}

    @property
    def versioned(self) -> Any:
        return versioned_or_default(self.row, self.user.id, "options")


async def get(ctx: Context, user_id: uuid.UUID) -> Options:
    """A user's options (404 outside the caller's scope)."""
    view = await users.get(ctx, user_id)
    row = (await ctx.session.execute(ctx.locked(
        select(UserOptions).where(UserOptions.user_id == user_id), UserOptions))).scalar_one_or_none()
    return Options(view.user, row)


async def replace(ctx: Context, options: Options, payload: OptionsUpdate) -> Options:
    """Save the whole options document; a config change."""
    user = options.user
    if ctx.principal.scope == "own":
        raise Forbidden("Options and restrictions are set by whoever manages the user (scope 'groups' or 'all')")
    if ctx.principal.user_id != user.id:
        await roles.check_authority_over(ctx.session, ctx.principal, user, "change the options of")
    sent = payload.model_fields_set
    if payload.missed_call_email and not user.email:
        raise ValidationProblem.field(["body", "missed_call_email"], "The user has no e-mail address to send "
                                      "missed-call e-mails to", "no_email")
    if payload.outbound_pin is not None:
        extension = (await ctx.session.execute(
            select(SipAccount.extension).where(SipAccount.user_id == user.id))).scalar()
        reason = weak_pin_reason(payload.outbound_pin, extension)
        if reason:
            raise ValidationProblem.field(["body", "outbound_pin"], f"The PIN is too easy to guess: {reason}",
                                          "weak_pin")
    row = options.row
    before = audit.snapshot(row) if row is not None else None
    if row is None:
        row = UserOptions(organization_id=user.organization_id, user_id=user.id)
        ctx.session.add(row)
    else:
        touch(row)
    for name in FIELDS:
        setattr(row, name, getattr(payload, name))
    if "outbound_pin" in sent:
        row.outbound_pin_encrypted = (ctx.secret_box.encrypt(payload.outbound_pin)
                                      if payload.outbound_pin is not None else None)
    await ctx.session.flush()
    await audit.record(ctx, "user.options.replace", "user", user.id, before=before, after=audit.snapshot(row),
                       config_change=True)
    return Options(user, row)
