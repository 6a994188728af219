"""Inbound rules: where calls to a DID go, in and out of office hours (3CX's inbound rules, Axivox's numbers)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import Field as PydanticField
from sqlmodel import Field

from app.core.validation import Name
from app.models.base import ApiModel, Page, RequestBody, TenantRow, json_field
from app.models.destinations import Destination


class InboundRule(TenantRow, table=True):
    __tablename__ = "inbound_rules"

    name: str = Field(max_length=100)
    did_id: uuid.UUID = Field(foreign_key="dids.id", unique=True, ondelete="CASCADE")  # one rule per DID
    destination: dict[str, Any] = json_field()
    office_hours_id: uuid.UUID | None = Field(default=None, foreign_key="office_hours.id")
    out_of_hours_destination: dict[str, Any] | None = json_field(default=None, nullable=True)
    holiday_destination: dict[str, Any] | None = json_field(default=None, nullable=True)


_SCHEDULE_HELP = "Needs office_hours_id; calls outside the schedule's hours (and in its breaks) go here"


class InboundRuleCreate(RequestBody):
    """Route a DID: to `destination`, or with an office-hours schedule to the out-of-hours and holiday ones."""

    name: Name = PydanticField(examples=["Main number"])
    did_id: uuid.UUID
    destination: Destination
    office_hours_id: uuid.UUID | None = None
    out_of_hours_destination: Destination | None = PydanticField(default=None, description=_SCHEDULE_HELP)
    holiday_destination: Destination | None = PydanticField(
        default=None, description="On the schedule's holidays (default: the out-of-hours destination)")


class InboundRuleUpdate(RequestBody):
    """JSON merge patch of an inbound rule (`office_hours_id: null` drops the schedule and its destinations)."""

    name: Name | None = None
    did_id: uuid.UUID | None = None
    destination: Destination | None = None
    office_hours_id: uuid.UUID | None = None
    out_of_hours_destination: Destination | None = None
    holiday_destination: Destination | None = None


class InboundRuleRead(ApiModel):
    """An inbound rule."""

    id: uuid.UUID
    name: str
    did_id: uuid.UUID
    number: str = PydanticField(description="The DID's number (E.164)")
    destination: Destination
    office_hours_id: uuid.UUID | None
    out_of_hours_destination: Destination | None
    holiday_destination: Destination | None
    created_at: datetime
    updated_at: datetime


class InboundRulePage(Page[InboundRuleRead]):
    """A page of inbound rules."""
