"""Users' programmable phone keys: checked against what the registrar allows (a BLF key only for a colleague whose
presence the user may see), taken to the phones by the next apply."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.orm import aliased

from app.core.context import Context
from app.core.http import versioned_or_default
from app.core.errors import FieldErrors
from app.models import GroupMember, SipAccount, User
from app.models.keys import KeysDocument, UserKeys
from app.services import audit, forwarding, users
from app.services.changes import touch


@dataclass(slots=True)
class Keys:
    """A user's keys: the stored row, or None while it has none."""

    user: User
    row: UserKeys | None

    @property
    def document(self) -> dict[str, Any]:
        return {"count": self.row.count, "keys": self.row.keys} if self.row is not None else {"count": 0, "keys": []}

    @property
    def versioned(self) -> Any:
        return versioned_or_default(self.row, self.user.id, "keys")


async def get(ctx: Context, user_id: uuid.UUID) -> Keys:
    """A user's keys (404 outside the caller's scope)."""
    view = await users.get(ctx, user_id)
    row = (await ctx.session.execute(ctx.locked(
        select(UserKeys).where(UserKeys.user_id == user_id), UserKeys))).scalar_one_or_none()
    return Keys(view.user, row)


async def _visible_presence(ctx: Context, watcher: uuid.UUID, targets: set[uuid.UUID]) -> set[uuid.UUID]:
    """The targets whose presence the watcher sees: a group where it has see_members and they show_presence."""
    if not targets:
        return set()
    seer, shown = aliased(GroupMember), aliased(GroupMember)
    rows = await ctx.session.execute(
        select(shown.user_id).join(seer, and_(seer.group_id == shown.group_id, seer.user_id == watcher,
                                              seer.see_members.is_(True)))
        .where(shown.user_id.in_(targets), shown.show_presence.is_(True)))
    return set(rows.scalars())


async def replace(ctx: Context, keys: Keys, document: KeysDocument) -> Keys:
    """Save the user's keys (the whole document); a config change."""
    user = keys.user
    await forwarding.check_may_change(ctx, user)
    errors = FieldErrors()
    watched = {key.user_id for key in document.keys if key.type == "blf"}
    accounts = dict((await ctx.session.execute(select(User.id, SipAccount.active).outerjoin(
        SipAccount, SipAccount.user_id == User.id).where(User.id.in_(watched),
                                                         User.organization_id == user.organization_id))).all())
    visible = await _visible_presence(ctx, user.id, watched)
    for position, key in enumerate(document.keys):
        loc = ["body", "keys", position]
        if key.type == "blf":
            if key.user_id == user.id:
                errors.add([*loc, "user_id"], "A BLF key watches a colleague, not the user itself", "loop")
            elif key.user_id not in accounts:
                errors.add([*loc, "user_id"], "No such user in this organization", "not_found")
            elif not accounts[key.user_id]:
                errors.add([*loc, "user_id"], "The user has no active SIP account to watch", "no_extension")
            elif key.user_id not in visible:
                errors.add([*loc, "user_id"], "The user cannot see this colleague's presence: it needs a group "
                           "where it has see_members and the colleague show_presence", "presence_hidden")
        elif key.type == "park" and ctx.organization.parking_extension is None:
            errors.add([*loc, "type"], "The organization has no parking lot (parking_extension)", "no_parking_lot")
        elif key.type == "change_status" and not ctx.settings.asterisk_ami_url:
            errors.add([*loc, "type"], "A key that changes the status from the phone needs Asterisk's manager "
                       "interface (CENTRALINO_ASTERISK_AMI_URL), so that the service sees the change", "no_ami")
    errors.raise_if_any()
    stored = document.model_dump(mode="json", exclude_none=True)
    before = keys.document
    row = keys.row
    if row is None:
        row = UserKeys(organization_id=user.organization_id, user_id=user.id)
        ctx.session.add(row)
    else:
        touch(row)
    row.count, row.keys = stored["count"], stored["keys"]
    await ctx.session.flush()
    await audit.record(ctx, "user.keys.replace", "user", user.id, before=before, after=stored, config_change=True)
    return Keys(user, row)
