"""Destinations: validated against the organization when saved, indexed so that their targets cannot vanish.

A destination must point at something in the same organization that can take the call
now (a user with an extension, an active account, a dialable group, a mailbox that
exists): otherwise the API refuses it, naming the field, rather than the dialplan
failing later. Each saved destination is recorded in ``destination_references``;
deleting a target that something points at is a 409 listing the referrers.
"""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import delete, select

from app.core.context import Context
from app.core.errors import Conflict, FieldErrors
from app.models import DestinationReference, Group, SipAccount, User
from app.models.destinations import TARGETS, Destination

_ADAPTER: TypeAdapter[Any] = TypeAdapter(Destination)
# What a referrer is called in a conflict, by its type; each resource that refers to others registers itself.
_REFERRER_NAMES: dict[str, tuple[Any, Any]] = {"group": (Group, Group.name)}


# Targets other than users, accounts and groups: their model, checked for existence in the organization.
_TARGET_MODELS: dict[str, Any] = {}


def register_target(target_type: str, model: Any) -> None:
    """Let destinations point at ``model`` rows (e.g. conference rooms, IVR menus) of the same organization."""
    _TARGET_MODELS[target_type] = model


def register_referrer(referrer_type: str, model: Any, name_column: Any) -> None:
    """Let conflicts name referrers of this type (``model.id`` is the referrer id, ``name_column`` its name)."""
    _REFERRER_NAMES[referrer_type] = (model, name_column)


def stored(destination: Any) -> dict[str, Any]:
    """The JSON form a destination is stored in."""
    return _ADAPTER.dump_python(destination, mode="json")


def loaded(data: dict[str, Any]) -> Any:
    """A stored destination as its model (stored data was validated when saved)."""
    return _ADAPTER.validate_python(data)


def target_of(destination: Any) -> tuple[str, uuid.UUID] | None:
    """The (target type, id) a destination points at, if it points at a resource."""
    kind_and_field = TARGETS.get(destination.type)
    if kind_and_field is None:
        return None
    kind, field = kind_and_field
    target_id = getattr(destination, field)
    return (kind, target_id) if target_id is not None else None  # e.g. a user's own mailbox in its own rules


async def check(ctx: Context, destination: Any, loc: list[str | int], errors: FieldErrors, *,
                itself: tuple[str, uuid.UUID] | None = None) -> None:
    """Add a field error when the destination's target is not in the organization or cannot take a call."""
    target = target_of(destination)
    if target is None:
        return
    kind, target_id = target
    org_id = ctx.principal.organization_id
    field = TARGETS[destination.type][1]
    if target == itself:
        errors.add([*loc, field], "A destination cannot point at the resource itself (the call would loop)", "loop")
        return
    if kind == "sip_account":
        account = (await ctx.session.execute(select(SipAccount.active).where(
            SipAccount.id == target_id, SipAccount.organization_id == org_id))).first()
        if account is None:
            errors.add([*loc, field], "No such SIP account in this organization", "not_found")
        elif not account.active:
            errors.add([*loc, field], "The SIP account is inactive: it cannot take calls", "inactive")
    elif kind in _TARGET_MODELS:
        model = _TARGET_MODELS[kind]
        if (await ctx.session.execute(select(model.id).where(
                model.id == target_id, model.organization_id == org_id))).first() is None:
            errors.add([*loc, field], f"No such {kind.replace('_', ' ')} in this organization", "not_found")
    elif kind == "group":
        group = (await ctx.session.execute(select(Group.extension).where(
            Group.id == target_id, Group.organization_id == org_id))).first()
        if group is None:
            errors.add([*loc, field], "No such group in this organization", "not_found")
        elif group.extension is None:
            errors.add([*loc, field], "The group is not dialable: give it an extension first", "not_dialable")
    elif kind != "user":  # a target type whose resource is not available in this deployment
        errors.add([*loc, field], f"Destinations of type '{destination.type}' are not available", "unavailable")
    else:  # a user: it must have an extension, and for voicemail a mailbox
        row = (await ctx.session.execute(
            select(User.voicemail_enabled, SipAccount.active).outerjoin(SipAccount, SipAccount.user_id == User.id)
            .where(User.id == target_id, User.organization_id == org_id))).first()
        if row is None:
            errors.add([*loc, field], "No such user in this organization", "not_found")
        elif row.active is None or not row.active:
            errors.add([*loc, field], "The user has no active SIP account to ring", "no_extension")
        elif destination.type == "voicemail" and not row.voicemail_enabled:
            errors.add([*loc, field], "The user has no voicemail (voicemail_enabled is false)", "no_voicemail")


async def record(ctx: Context, referrer_type: str, referrer_id: uuid.UUID, destinations: dict[str, Any],
                 references: dict[str, tuple[str, uuid.UUID] | None] | None = None) -> None:
    """Replace what ``referrer`` points at with the targets of ``destinations`` (field name → destination) and
    the plain ``references`` (field name → (target type, id)), e.g. an inbound rule's schedule or a route's
    trunks (``"trunks.0"``), so that deleting any of them is refused while it is in use."""
    await forget(ctx, referrer_type, referrer_id)
    targets = {field: target_of(destination) if destination is not None else None
               for field, destination in destinations.items()}
    for field, target in {**targets, **(references or {})}.items():
        if target is not None:
            ctx.session.add(DestinationReference(
                organization_id=ctx.principal.organization_id, referrer_type=referrer_type, referrer_id=referrer_id,
                field=field, target_type=target[0], target_id=target[1]))


async def forget(ctx: Context, referrer_type: str, referrer_id: uuid.UUID) -> None:
    """Drop every reference a referrer holds (it is deleted, or its destinations are replaced)."""
    await ctx.session.execute(delete(DestinationReference).where(
        DestinationReference.referrer_type == referrer_type, DestinationReference.referrer_id == referrer_id))


async def refuse_if_referenced(ctx: Context, target_type: str, target_id: uuid.UUID, what: str) -> None:
    """409 listing the referrers when a destination or reference points at the target (it must change first)."""
    references = (await ctx.session.execute(select(DestinationReference).where(
        DestinationReference.target_type == target_type, DestinationReference.target_id == target_id))).scalars().all()
    if not references:
        return
    referrers = []
    for reference in references:
        known = _REFERRER_NAMES.get(reference.referrer_type)
        name = str(reference.referrer_id) if known is None else (await ctx.session.execute(
            select(known[1]).where(known[0].id == reference.referrer_id))).scalar_one()
        referrers.append({"type": reference.referrer_type, "id": str(reference.referrer_id), "name": name,
                          "field": reference.field})
    listing = ", ".join(f"{r['type']} '{r['name']}' ({r['field']})" for r in referrers)
    raise Conflict(f"{what} is still a destination of: {listing}; change those first", slug="in-use",
                   extra={"referrers": referrers})
