"""Inbound rules: one per DID; a destination, and with an office-hours schedule the out-of-hours and holiday ones.

Only principals with management scope ``all`` manage them (3CX's manager rights): a rule
decides who gets the company's calls. Every destination and the schedule are recorded as
references, so the users, groups and schedules a rule needs cannot be deleted under it.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import or_, select

from app.core.context import Context
from app.core.errors import Conflict, FieldErrors, NotFound
from app.core.pagination import ListParams, apply_sort, contains, paginate
from app.models import Did, InboundRule, OfficeHours
from app.models.inbound_rules import InboundRuleCreate, InboundRuleUpdate
from app.services import audit, destinations
from app.services.changes import delete_row, update_row

RESOURCE = "inbound_rule"
DESTINATION_FIELDS = ("destination", "out_of_hours_destination", "holiday_destination")

destinations.register_referrer(RESOURCE, InboundRule, InboundRule.name)


def _query(ctx: Context):
    return (select(InboundRule, Did.number).join(Did, Did.id == InboundRule.did_id)
            .where(InboundRule.organization_id == ctx.principal.organization_id))


async def get(ctx: Context, rule_id: uuid.UUID) -> tuple[InboundRule, str]:
    """A rule with its DID's number (404 when not in the organization)."""
    row = (await ctx.session.execute(ctx.locked(_query(ctx).where(InboundRule.id == rule_id), InboundRule))).first()
    if row is None:
        raise NotFound("Inbound rule not found")
    return row[0], row[1]


async def rule_of_did(ctx: Context, did_id: uuid.UUID) -> InboundRule | None:
    return (await ctx.session.execute(ctx.locked(
        select(InboundRule).where(InboundRule.did_id == did_id), InboundRule))).scalar_one_or_none()


async def list_rules(ctx: Context, params: ListParams, *, did_id: uuid.UUID | None,
                     office_hours_id: uuid.UUID | None) -> tuple[list[tuple[InboundRule, str]], int]:
    """The organization's rules with their numbers; ``q`` searches the name and the number."""
    query = _query(ctx)
    if did_id is not None:
        query = query.where(InboundRule.did_id == did_id)
    if office_hours_id is not None:
        query = query.where(InboundRule.office_hours_id == office_hours_id)
    if params.q:
        query = query.where(or_(contains(InboundRule.name, params.q), contains(Did.number, params.q)))
    query = apply_sort(query, params, {"name": InboundRule.name, "number": Did.number,
                                       "created_at": InboundRule.created_at}, "name", InboundRule.id)
    rows, total = await paginate(ctx.session, query, params, scalars=False)
    return [(rule, number) for rule, number in rows], total


async def _check(ctx: Context, values: dict[str, Any], errors: FieldErrors, rule_id: uuid.UUID | None) -> str:
    """Validate a rule's complete new state; returns its DID's number."""
    org_id = ctx.principal.organization_id
    did = (await ctx.session.execute(select(Did.number).where(
        Did.id == values["did_id"], Did.organization_id == org_id))).first()
    if did is None:
        errors.add(["body", "did_id"], "No such DID in this organization", "not_found")
    for field in DESTINATION_FIELDS:
        if values[field] is not None:
            await destinations.check(ctx, values[field], ["body", field], errors)
    if values["office_hours_id"] is None:
        for field in ("out_of_hours_destination", "holiday_destination"):
            if values[field] is not None:
                errors.add(["body", field], "Needs office_hours_id: without a schedule every call takes "
                                            "`destination`", "needs_schedule")
    else:
        schedule = (await ctx.session.execute(select(OfficeHours.id).where(
            OfficeHours.id == values["office_hours_id"], OfficeHours.organization_id == org_id))).first()
        if schedule is None:
            errors.add(["body", "office_hours_id"], "No such office-hours schedule in this organization", "not_found")
        if values["out_of_hours_destination"] is None:
            errors.add(["body", "out_of_hours_destination"],
                       "A rule with a schedule needs a destination for calls outside its hours", "missing")
    errors.raise_if_any()
    taken = select(InboundRule.id).where(InboundRule.did_id == values["did_id"])
    if rule_id is not None:
        taken = taken.where(InboundRule.id != rule_id)
    if (await ctx.session.execute(taken)).first() is not None:
        raise Conflict.field(["body", "did_id"], f"{did.number} already has an inbound rule: change that one",
                             "did-has-rule")
    return did.number


async def _record_references(ctx: Context, rule: InboundRule, values: dict[str, Any]) -> None:
    schedule = values["office_hours_id"]
    await destinations.record(ctx, RESOURCE, rule.id, {field: values[field] for field in DESTINATION_FIELDS},
                              references={"office_hours_id": ("office_hours", schedule) if schedule else None})


def _stored(value: Any) -> dict[str, Any] | None:
    return destinations.stored(value) if value is not None else None


async def create(ctx: Context, payload: InboundRuleCreate) -> tuple[InboundRule, str]:
    """A new rule for a DID that has none (409 otherwise)."""
    values = payload.model_dump(include={"did_id", "office_hours_id"}) | {
        field: getattr(payload, field) for field in DESTINATION_FIELDS}
    number = await _check(ctx, values, FieldErrors(), None)
    rule = InboundRule(organization_id=ctx.principal.organization_id, name=payload.name, did_id=payload.did_id,
                       office_hours_id=payload.office_hours_id,
                       **{field: _stored(values[field]) for field in DESTINATION_FIELDS})
    ctx.session.add(rule)
    await ctx.session.flush()
    await _record_references(ctx, rule, values)
    await audit.record(ctx, "inbound_rule.create", RESOURCE, rule.id, after=audit.snapshot(rule), config_change=True)
    return rule, number


async def update(ctx: Context, rule: InboundRule, payload: InboundRuleUpdate) -> str:
    """JSON merge patch; the resulting rule is validated whole (dropping the schedule drops its destinations)."""
    changes = payload.model_dump(exclude_unset=True)
    errors = FieldErrors()
    for required in ("name", "did_id", "destination"):
        if required in changes and changes[required] is None:
            errors.add(["body", required], "must not be null", "null")
    errors.raise_if_any()
    values: dict[str, Any] = {"did_id": rule.did_id, "office_hours_id": rule.office_hours_id}
    values |= {field: destinations.loaded(getattr(rule, field)) if getattr(rule, field) else None
               for field in DESTINATION_FIELDS}
    if "office_hours_id" in changes and changes["office_hours_id"] is None:
        values |= {"out_of_hours_destination": None, "holiday_destination": None}
    values |= {field: getattr(payload, field) for field in changes if field in values}
    number = await _check(ctx, values, errors, rule.id)
    stored = {"did_id": values["did_id"], "office_hours_id": values["office_hours_id"],
              **{field: _stored(values[field]) for field in DESTINATION_FIELDS}}
    if "name" in changes:
        stored["name"] = changes["name"]
    await _record_references(ctx, rule, values)
    await update_row(ctx, rule, stored, action="inbound_rule.update", resource=RESOURCE, config_change=True)
    return number


async def delete(ctx: Context, rule: InboundRule) -> None:
    """Delete a rule: its DID returns to the free pool (calls to it are then "not in service")."""
    await destinations.forget(ctx, RESOURCE, rule.id)
    await delete_row(ctx, rule, action="inbound_rule.delete", resource=RESOURCE, config_change=True)
