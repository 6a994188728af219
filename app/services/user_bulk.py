"""One change to many users at once (3CX's bulk edit): by ids or a filter, within the caller's scope, all or
nothing. Every user is checked before anything is written; refusals are reported per user
(``loc``: ``["users", "<id>", ...]``). The writes are set-based — one UPDATE for the profile fields, bulk rows for
forwarding, options and destination references — so a thousand users cost a handful of statements."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update

from app.core.context import Context
from app.core.errors import FieldError, FieldErrors, Forbidden, ValidationProblem
from app.core.permissions import SCOPE_ORDER
from app.models import DestinationReference, GroupMember, Role, SipAccount, User
from app.models.forwarding import ForwardingDocument, UserForwarding
from app.models.options import UserOptions
from app.models.users import UserBulkUpdate
from app.services import ami, audit, destinations, forwarding, options
from app.services.scoping import restrict_to_own

# Profile fields a principal may change in bulk, by its scope (as for PATCH /users/{id}).
_SELF_SERVICE = {"language", "status", "directory_visible", "multiple_calls"}
_BY_SCOPE = {"own": _SELF_SERVICE,
             "groups": _SELF_SERVICE | {"caller_id", "login_required", "voicemail_enabled"}}
_NOT_NULL = {"language", "status", "directory_visible", "multiple_calls", "login_required", "voicemail_enabled"}


async def _targets(ctx: Context, payload: UserBulkUpdate, errors: FieldErrors) -> list[User]:
    query = select(User).where(User.organization_id == ctx.principal.organization_id)
    clause = restrict_to_own(ctx.principal, User.id)
    if clause is not None:
        query = query.where(clause)
    if payload.user_ids is not None:
        wanted = list(dict.fromkeys(payload.user_ids))
        found = {u.id: u for u in (await ctx.session.execute(query.where(User.id.in_(wanted)))).scalars()}
        for index, user_id in enumerate(wanted):
            if user_id not in found:
                errors.add(["body", "user_ids", index], f"No user {user_id} within your scope", "not_found")
        return [found[i] for i in wanted if i in found]
    condition = payload.filter
    assert condition is not None
    if condition.status is not None:
        query = query.where(User.status == condition.status)
    if condition.language is not None:
        query = query.where(User.language == condition.language)
    if condition.group_id is not None:
        query = query.where(User.id.in_(select(GroupMember.user_id).where(GroupMember.group_id == condition.group_id)))
    if condition.has_extension is not None:
        has = User.id.in_(select(SipAccount.user_id).where(SipAccount.user_id.is_not(None)))
        query = query.where(has if condition.has_extension else ~has)
    return list((await ctx.session.execute(query.order_by(User.id))).scalars())


async def _refuse_stronger(ctx: Context, targets: list[User]) -> None:
    """403 listing the users who hold rights the principal lacks (the rule of every change to another user)."""
    principal = ctx.principal
    if principal.platform_admin:
        return
    role_ids = {u.role_id for u in targets if u.role_id is not None and u.id != principal.user_id}
    roles = dict((await ctx.session.execute(select(Role.id, Role.permissions).where(Role.id.in_(role_ids)))).all())
    refused = []
    for user in targets:
        if user.id == principal.user_id or user.username is None:
            continue
        beyond = set(roles.get(user.role_id, ())) - principal.permissions
        if user.is_platform_admin or beyond or SCOPE_ORDER.get(user.scope or "own", 0) > SCOPE_ORDER[principal.scope]:
            refused.append(FieldError(loc=["users", str(user.id)], msg="holds rights you do not have", type="forbidden"))
    if refused:
        raise Forbidden(f"{len(refused)} of the users hold rights you do not have: nothing was changed",
                        errors=refused)


async def bulk_update(ctx: Context, payload: UserBulkUpdate) -> list[uuid.UUID]:
    """Apply ``payload.changes`` to every target user, or to none (see the module docstring)."""
    errors = FieldErrors()
    if (payload.user_ids is None) == (payload.filter is None):
        raise ValidationProblem.field(["body"], "Give either user_ids or filter", "one_of")
    changes = payload.changes
    profile = changes.model_dump(exclude_unset=True, exclude={"forwarding", "options"})
    for name, value in profile.items():
        if value is None and name in _NOT_NULL:
            errors.add(["body", "changes", name], "must not be null", "null")
    if not profile and changes.forwarding is None and changes.options is None:
        errors.add(["body", "changes"], "Nothing to change", "empty")
    scope = ctx.principal.scope
    if scope in _BY_SCOPE:
        forbidden = set(profile) - _BY_SCOPE[scope]
        if forbidden:
            raise Forbidden(f"With scope '{scope}' you cannot change: {', '.join(sorted(forbidden))}")
        if changes.options is not None and scope == "own":
            raise Forbidden("Options and restrictions are set by whoever manages the user (scope 'groups' or 'all')")
    targets = await _targets(ctx, payload, errors)
    errors.raise_if_any()
    await _refuse_stronger(ctx, targets)
    ids = [u.id for u in targets]
    if not ids:
        return []
    rules = await _new_rules(ctx, targets, changes, profile)
    now = datetime.now(UTC)
    befores = {u.id: audit.snapshot(u) for u in targets}
    if profile:
        await ctx.session.execute(update(User).where(User.id.in_(ids))
                                  .values(**profile, version=User.version + 1, updated_at=now)
                                  .execution_options(synchronize_session=False))
    if rules is not None:
        await _write_rules(ctx, rules, now)
    if changes.options is not None:
        await _write_options(ctx, ids, changes.options.model_dump(exclude_unset=True), now)
    config_change = bool(set(profile) - {"status"}) or rules is not None or changes.options is not None
    after = {**profile, **({"forwarding": list(changes.forwarding.model_fields_set)} if changes.forwarding else {}),
             **({"options": changes.options.model_dump(exclude_unset=True)} if changes.options else {})}
    await audit.record_many(ctx, [audit.entry_values(
        ctx, "user.bulk_update", "user", user.id, before={name: befores[user.id].get(name) for name in profile},
        after=after, config_change=config_change) for user in targets])
    if "status" in profile:
        for user_id in ids:
            await ami.push_status(ctx.settings, user_id, profile["status"])
    for user in targets:  # the identity map still holds the old values
        ctx.session.expire(user)
    return ids


async def _new_rules(ctx: Context, targets: list[User], changes: Any, profile: dict) -> dict | None:
    """Each user's merged forwarding document, checked as PUT /forwarding checks it; None without a change."""
    patch = changes.forwarding
    if patch is None:
        return None
    blocks = patch.model_dump(mode="json", exclude_unset=True)
    stored = dict((await ctx.session.execute(select(UserForwarding.user_id, UserForwarding.document).where(
        UserForwarding.user_id.in_([u.id for u in targets])))).all())
    accounts = dict((await ctx.session.execute(select(SipAccount.user_id, SipAccount.id).where(
        SipAccount.user_id.in_([u.id for u in targets])))).all())
    errors = FieldErrors()
    # The targets the patch names are the same for every user: checked once.
    sample = ForwardingDocument.model_validate({**forwarding.default_document(False), **blocks})
    shared = FieldErrors()
    for path, action in forwarding.actions_of(sample).items():
        if action.type not in ("voicemail", "mobile") and path.split(".")[0] in blocks:
            await destinations.check(ctx, action, ["body", "changes", "forwarding", *path.split(".")], shared)
    shared.raise_if_any()
    # Merging and checking every user's document is CPU work (900 validations): off the event loop.
    merged = await asyncio.to_thread(_merge_all, targets, blocks, stored, accounts, profile, errors)
    errors.raise_if_any()
    return {"documents": merged, "stored": stored, "organization_id": ctx.principal.organization_id}


def _merge_all(targets: list[User], blocks: dict, stored: dict, accounts: dict, profile: dict,
               errors: FieldErrors) -> dict[uuid.UUID, ForwardingDocument]:
    """Each user's document with the patch's blocks, and the per-user problems of those blocks."""
    merged: dict[uuid.UUID, dict] = {}
    for user in targets:
        voicemail = profile.get("voicemail_enabled", user.voicemail_enabled)
        document = ForwardingDocument.model_validate(
            {**(stored.get(user.id) or forwarding.default_document(voicemail)), **blocks})
        for path, action in forwarding.actions_of(document).items():
            if path.split(".")[0] not in blocks:
                continue
            loc = ["users", str(user.id), *path.split(".")]
            if action.type == "voicemail" and action.user_id in (None, user.id):
                action.user_id = None
                if not voicemail:
                    errors.add(loc, "The user has no voicemail", "no_voicemail")
            elif action.type == "mobile" and not user.mobile:
                errors.add(loc, "The user has no mobile number", "no_mobile")
            elif action.type == "user" and action.user_id == user.id:
                errors.add(loc, "A forwarding cannot point at the user itself", "loop")
            elif action.type == "extension" and action.sip_account_id == accounts.get(user.id):
                errors.add(loc, "A forwarding cannot point at the user's own phone", "loop")
        merged[user.id] = document
    return merged


async def _write_rules(ctx: Context, rules: dict, now: datetime) -> None:
    documents: dict[uuid.UUID, ForwardingDocument] = rules["documents"]
    ids = list(documents)
    existing = set(rules["stored"])
    stored = {user_id: document.model_dump(mode="json") for user_id, document in documents.items()}
    table = UserForwarding.__table__
    changed = [{"b_user": user_id, "b_document": stored[user_id]} for user_id in ids if user_id in existing]
    if changed:  # one statement, executed for many rows
        await ctx.session.execute(table.update().where(table.c.user_id == bindparam("b_user")).values(
            document=bindparam("b_document"), version=table.c.version + 1, updated_at=now), changed)
    new = [{"id": uuid.uuid4(), "organization_id": rules["organization_id"], "user_id": user_id,
            "document": stored[user_id], "created_at": now, "updated_at": now, "version": 1}
           for user_id in ids if user_id not in existing]
    if new:
        await ctx.session.execute(insert(UserForwarding), new)
    await ctx.session.execute(delete(DestinationReference).where(
        DestinationReference.referrer_type == forwarding.RESOURCE, DestinationReference.referrer_id.in_(ids)))
    references = []
    for user_id, document in documents.items():
        for field, action in forwarding.actions_of(document).items():
            target = destinations.target_of(action)
            if target is not None:
                references.append({"id": uuid.uuid4(), "organization_id": rules["organization_id"],
                                   "referrer_type": forwarding.RESOURCE, "referrer_id": user_id, "field": field,
                                   "target_type": target[0], "target_id": target[1]})
        schedule = document.auto_status.office_hours_id
        if schedule is not None:
            references.append({"id": uuid.uuid4(), "organization_id": rules["organization_id"],
                               "referrer_type": forwarding.RESOURCE, "referrer_id": user_id,
                               "field": "auto_status.office_hours_id", "target_type": "office_hours",
                               "target_id": schedule})
    if references:
        await ctx.session.execute(insert(DestinationReference), references)


async def _write_options(ctx: Context, ids: list[uuid.UUID], values: dict[str, Any], now: datetime) -> None:
    existing = set((await ctx.session.execute(select(UserOptions.user_id).where(UserOptions.user_id.in_(ids))))
                   .scalars())
    if existing:
        await ctx.session.execute(update(UserOptions).where(UserOptions.user_id.in_(existing)).values(
            **values, version=UserOptions.version + 1, updated_at=now).execution_options(synchronize_session=False))
    defaults = {name: UserOptions.model_fields[name].default for name in options.FIELDS}
    new = [{"id": uuid.uuid4(), "organization_id": ctx.principal.organization_id, "user_id": user_id,
            **defaults, **values, "outbound_pin_encrypted": None, "created_at": now, "updated_at": now,
            "version": 1} for user_id in ids if user_id not in existing]
    if new:
        await ctx.session.execute(insert(UserOptions), new)
