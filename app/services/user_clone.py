"""Cloning a user, as 3CX does: a new person with the original's call handling — voicemail settings with a new PIN,
forwarding rules and exceptions, phone keys, options, groups and rights — and never its DIDs, secrets, login,
greetings (its voice) or extension. One transaction: anything refused leaves nothing behind."""

from __future__ import annotations

from sqlalchemy import select

from app.core.context import Context
from app.core.errors import Forbidden, ValidationProblem
from app.core.security import generate_pin
from app.models import GroupMember
from app.models.forwarding import ForwardingDocument
from app.models.groups import RIGHTS
from app.models.keys import KeysDocument
from app.models.options import UserOptions
from app.models.users import UserClone, UserCreate
from app.services import audit, forwarding, keys, options, users
from app.services.scoping import managed_group_ids

# What a clone copies of the user row itself (its profile is its own).
_COPIED = ("language", "directory_visible", "multiple_calls", "login_required", "voicemail_enabled",
           "voicemail_pin_required", "voicemail_play_caller_id", "voicemail_read_datetime",
           "voicemail_email_notification")


async def clone(ctx: Context, source: users.UserView, payload: UserClone) -> tuple[users.UserView, str | None]:
    """Create the clone; returns it and its new outbound PIN (when the original had one)."""
    original = source.user
    memberships = (await ctx.session.execute(
        select(GroupMember).where(GroupMember.user_id == original.id))).scalars().all()
    if ctx.principal.scope == "groups":
        managed = set((await ctx.session.execute(managed_group_ids(ctx.principal.user_id))).scalars())
        if any(m.group_id not in managed for m in memberships):
            raise Forbidden("The original belongs to groups you do not manage: the clone could not join them")
    rules = await forwarding.get(ctx, original.id)
    document = rules.document
    if rules.row is not None and _uses_mobile(document) and payload.mobile is None:
        raise ValidationProblem.field(["body", "mobile"], "The copied forwarding rules send calls to the mobile: "
                                      "give the clone a mobile number", "missing")
    view = await users.create(ctx, UserCreate(
        first_name=payload.first_name, last_name=payload.last_name, email=payload.email, mobile=payload.mobile,
        extension=payload.extension, groups=[str(m.group_id) for m in memberships],
        voicemail_enabled=original.voicemail_enabled, language=original.language))
    copy = view.user
    for name in _COPIED:
        setattr(copy, name, getattr(original, name))
    copy.voicemail_pin_encrypted = ctx.secret_box.encrypt(generate_pin())  # a new PIN, never the original's
    joined = {m.group_id: m for m in (await ctx.session.execute(
        select(GroupMember).where(GroupMember.user_id == copy.id))).scalars()}
    for member in memberships:  # it joined them as a plain member: now the original's role and rights
        mine = joined[member.group_id]
        mine.role, mine.position = member.role, member.position
        for right in RIGHTS:
            setattr(mine, right, getattr(member, right))
    await ctx.session.flush()
    if rules.row is not None:
        await forwarding.replace(ctx, forwarding.Forwarding(copy, None), ForwardingDocument.model_validate(document))
    found_keys = await keys.get(ctx, original.id)
    if found_keys.row is not None:
        await keys.replace(ctx, keys.Keys(copy, None), KeysDocument.model_validate(found_keys.document))
    outbound_pin = await _copy_options(ctx, original.id, copy)
    await audit.record(ctx, "user.clone", users.RESOURCE, copy.id, after={"cloned_from": str(original.id)},
                       config_change=True)
    view.groups = None
    return view, outbound_pin


def _uses_mobile(document: dict) -> bool:
    actions = forwarding.actions_of(ForwardingDocument.model_validate(document)).values()
    return any(action.type == "mobile" for action in actions)


async def _copy_options(ctx: Context, original_id, copy) -> str | None:
    row = (await ctx.session.execute(select(UserOptions).where(UserOptions.user_id == original_id))).scalar()
    if row is None:
        return None
    pin = generate_pin() if row.outbound_pin_encrypted else None
    ctx.session.add(UserOptions(organization_id=copy.organization_id, user_id=copy.id,
                                outbound_pin_encrypted=ctx.secret_box.encrypt(pin) if pin else None,
                                **{name: getattr(row, name) for name in options.FIELDS}))
    await ctx.session.flush()
    return pin
