"""DIDs: the organization's numbers, the free pool, and a user's numbers.

A number is unique across the platform (a carrier delivers it to one place). Assigning a
DID to a user writes its inbound rule to that user (keeping a schedule the rule has);
unassigning removes the rule, and the number returns to the free pool.
"""

from __future__ import annotations

import uuid

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from app.core.context import Context
from app.core.errors import Conflict, FieldErrors, NotFound
from app.core.pagination import ListParams, apply_sort, contains, paginate
from app.models import Did, InboundRule, User
from app.models.destinations import UserDestination
from app.models.dids import DidCreate, DidUpdate
from app.models.inbound_rules import InboundRuleCreate, InboundRuleUpdate
from app.services import audit, destinations, inbound_rules
from app.services.changes import delete_row, update_row

RESOURCE = "did"


def routed_user(rule: InboundRule | None) -> uuid.UUID | None:
    """The user a rule rings directly (the DID is that user's), if any."""
    if rule is None or rule.destination.get("type") != "user":
        return None
    return uuid.UUID(rule.destination["user_id"])


def _query(ctx: Context):
    return (select(Did, InboundRule).outerjoin(InboundRule, InboundRule.did_id == Did.id)
            .where(Did.organization_id == ctx.principal.organization_id))


async def get(ctx: Context, did_id: uuid.UUID) -> tuple[Did, InboundRule | None]:
    """A DID with its inbound rule (404 when not in the organization)."""
    row = (await ctx.session.execute(ctx.locked(_query(ctx).where(Did.id == did_id), Did))).first()
    if row is None:
        raise NotFound("DID not found")
    return row[0], row[1]


async def list_dids(ctx: Context, params: ListParams, *, assigned: bool | None = None,
                    user_id: uuid.UUID | None = None) -> tuple[list[tuple[Did, InboundRule | None]], int]:
    """DIDs with their rules; ``assigned=false`` is the free pool; ``user_id`` the numbers ringing that user."""
    query = _query(ctx)
    if assigned is not None:
        query = query.where(InboundRule.id.is_not(None) if assigned else InboundRule.id.is_(None))
    if user_id is not None:  # the rule's destination is that user (JSON fields compared as text)
        query = query.where(InboundRule.destination["type"].as_string() == "user",
                            InboundRule.destination["user_id"].as_string() == str(user_id))
    if params.q:
        query = query.where(or_(contains(Did.number, params.q), contains(Did.description, params.q)))
    query = apply_sort(query, params, {"number": Did.number, "created_at": Did.created_at}, "number", Did.id)
    rows, total = await paginate(ctx.session, query, params, scalars=False)
    return [(did, rule) for did, rule in rows], total


async def _check_number_free(ctx: Context, number: str) -> None:
    if (await ctx.session.execute(select(Did.id).where(Did.number == number))).first() is not None:
        # Platform-wide: the message does not say which organization holds it.
        raise Conflict.field(["body", "number"], f"{number} is already in use", "number-in-use")


async def _check_trunk(ctx: Context, trunk_id: uuid.UUID | None, errors: FieldErrors) -> None:
    if trunk_id is None:
        return
    from app.models import Trunk  # noqa: PLC0415 (trunks and DIDs refer to each other's services)

    if (await ctx.session.execute(select(Trunk.id).where(
            Trunk.id == trunk_id, Trunk.organization_id == ctx.principal.organization_id))).first() is None:
        errors.add(["body", "trunk_id"], "No such trunk in this organization", "not_found")


async def create(ctx: Context, payload: DidCreate) -> Did:
    """Add a number to the free pool (409 when any organization has it)."""
    errors = FieldErrors()
    await _check_trunk(ctx, payload.trunk_id, errors)
    errors.raise_if_any()
    await _check_number_free(ctx, payload.number)
    did = Did(organization_id=ctx.principal.organization_id, **payload.model_dump())
    try:
        async with ctx.session.begin_nested():
            ctx.session.add(did)
            await ctx.session.flush()
    except IntegrityError:  # another organization added it a moment ago
        raise Conflict.field(["body", "number"], f"{payload.number} is already in use", "number-in-use") from None
    await audit.record(ctx, "did.create", RESOURCE, did.id, after=audit.snapshot(did), config_change=True)
    return did


async def update(ctx: Context, did: Did, payload: DidUpdate) -> None:
    """JSON merge patch (description, SMS, trunk)."""
    changes = payload.model_dump(exclude_unset=True)
    errors = FieldErrors()
    if "sms_enabled" in changes and changes["sms_enabled"] is None:
        errors.add(["body", "sms_enabled"], "must not be null", "null")
    await _check_trunk(ctx, changes.get("trunk_id"), errors)
    errors.raise_if_any()
    await update_row(ctx, did, changes, action="did.update", resource=RESOURCE, config_change=True)


async def delete(ctx: Context, did: Did, rule: InboundRule | None) -> None:
    """Delete a number and its inbound rule."""
    if rule is not None:
        await inbound_rules.delete(ctx, rule)
    await delete_row(ctx, did, action="did.delete", resource=RESOURCE, config_change=True)


async def assign(ctx: Context, did: Did, rule: InboundRule | None, user: User) -> InboundRule:
    """Route the DID to the user: a new rule, or the existing one re-pointed (its schedule kept)."""
    destination = UserDestination(user_id=user.id)
    errors = FieldErrors()
    await destinations.check(ctx, destination, ["path", "user_id"], errors)
    errors.raise_if_any()
    if rule is None:
        name = f"{did.number} → {user.first_name} {user.last_name}".strip()[:100]
        rule, _number = await inbound_rules.create(ctx, InboundRuleCreate(name=name, did_id=did.id,
                                                                         destination=destination))
        return rule
    await inbound_rules.update(ctx, rule, InboundRuleUpdate(destination=destination))
    return rule


async def unassign(ctx: Context, did: Did, rule: InboundRule | None, user: User) -> None:
    """Take the DID from the user: its rule goes and the number returns to the free pool."""
    if routed_user(rule) != user.id:
        raise NotFound(f"{did.number} is not assigned to this user")
    await inbound_rules.delete(ctx, rule)
