"""Inbound rules: where each DID's calls go (scope 'all' only: 3CX's manager rights)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Query, Response

from app.core.context import Context, require
from app.core.http import IfMatch, check_if_match, set_etag
from app.core.pagination import ListParamsDep
from app.models.inbound_rules import (InboundRule, InboundRuleCreate, InboundRulePage, InboundRuleRead,
                                      InboundRuleUpdate)
from app.routers.common import (CREATE_ERRORS, DELETE_ERRORS, ITEM_ERRORS, READ_ERRORS, WRITE_ERRORS, api_router,
                                created)
from app.services import destinations, inbound_rules
from app.services.idempotency import IdempotencyDep

router = api_router("/inbound-rules", "inbound-rules")
Readers = Annotated[Context, Depends(require("inbound_rules.read", scope_all=True))]
Writers = Annotated[Context, Depends(require("inbound_rules.write", scope_all=True))]


def _destination(stored: dict | None):
    return destinations.loaded(stored) if stored is not None else None


def _read(rule: InboundRule, number: str) -> InboundRuleRead:
    """The representation of a stored rule (its destinations were validated when saved)."""
    return InboundRuleRead.model_construct(
        id=rule.id, name=rule.name, did_id=rule.did_id, number=number, destination=_destination(rule.destination),
        office_hours_id=rule.office_hours_id, out_of_hours_destination=_destination(rule.out_of_hours_destination),
        holiday_destination=_destination(rule.holiday_destination), created_at=rule.created_at,
        updated_at=rule.updated_at)


@router.post("", status_code=201, response_model=InboundRuleRead, summary="Create an inbound rule",
             responses=CREATE_ERRORS, operation_id="inbound_rules_create")
async def create_rule(payload: InboundRuleCreate, ctx: Writers, response: Response,
                      idem: IdempotencyDep) -> InboundRuleRead:
    """Route a DID that has no rule yet (409 otherwise). With `office_hours_id`, calls outside the schedule's
    hours go to `out_of_hours_destination` (required then) and on its holidays to `holiday_destination`
    (default: the out-of-hours one)."""
    async def create():
        rule, number = await inbound_rules.create(ctx, payload)
        created(response, ctx.settings, f"/api/v1/inbound-rules/{rule.id}", rule)
        return _read(rule, number)

    return await idem.run(ctx, 201, create, response)


@router.get("", response_model=InboundRulePage, summary="List inbound rules", responses=READ_ERRORS,
            operation_id="inbound_rules_list")
async def list_rules(ctx: Readers, params: ListParamsDep, did_id: uuid.UUID | None = None,
                     office_hours_id: Annotated[uuid.UUID | None, Query(
                         description="Rules that follow this schedule")] = None) -> InboundRulePage:
    """The organization's rules with their numbers; `q` searches name and number. Sort by `name`, `number`,
    `created_at`."""
    rows, total = await inbound_rules.list_rules(ctx, params, did_id=did_id, office_hours_id=office_hours_id)
    return InboundRulePage.model_construct(items=[_read(r, n) for r, n in rows], total=total, limit=params.limit,
                                           offset=params.offset)


@router.get("/{rule_id}", response_model=InboundRuleRead, summary="Get an inbound rule", responses=ITEM_ERRORS,
            operation_id="inbound_rules_get")
async def get_rule(rule_id: uuid.UUID, ctx: Readers, response: Response) -> InboundRuleRead:
    """One rule, with its ETag."""
    rule, number = await inbound_rules.get(ctx, rule_id)
    set_etag(response, rule)
    return _read(rule, number)


@router.patch("/{rule_id}", response_model=InboundRuleRead, summary="Change an inbound rule",
              responses=WRITE_ERRORS, operation_id="inbound_rules_update")
async def update_rule(rule_id: uuid.UUID, payload: InboundRuleUpdate, ctx: Writers, response: Response,
                      if_match: IfMatch = None) -> InboundRuleRead:
    """JSON merge patch; the resulting rule is validated whole. `office_hours_id: null` drops the schedule and
    its out-of-hours and holiday destinations."""
    rule, _number = await inbound_rules.get(ctx, rule_id)
    check_if_match(if_match, rule)
    number = await inbound_rules.update(ctx, rule, payload)
    set_etag(response, rule)
    return _read(rule, number)


@router.delete("/{rule_id}", status_code=204, summary="Delete an inbound rule", responses=DELETE_ERRORS,
               operation_id="inbound_rules_delete")
async def delete_rule(rule_id: uuid.UUID, ctx: Writers, if_match: IfMatch = None) -> Response:
    """Delete a rule: its DID returns to the free pool, and its calls hear "not in service"."""
    rule, _number = await inbound_rules.get(ctx, rule_id)
    check_if_match(if_match, rule)
    await inbound_rules.delete(ctx, rule)
    return Response(status_code=204)
