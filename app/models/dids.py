"""DIDs: the phone numbers carriers deliver to the organization, stored in E.164 and unique platform-wide.

A DID is *assigned* when an inbound rule routes it; assigning one to a user (3CX's "add a DID
from the free pool") writes that rule, and the user's DIDs are those whose rule rings the user.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, Field as PydanticField, StringConstraints
from sqlmodel import Field

from app.core.validation import PhoneNumber, refuse_control_characters
from app.models.base import ApiModel, Page, RequestBody, TenantRow

Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200),
                        AfterValidator(refuse_control_characters)]


class Did(TenantRow, table=True):
    __tablename__ = "dids"

    # A carrier delivers a number to one place: unique across every organization.
    number: str = Field(max_length=16, unique=True)
    description: str | None = Field(default=None, max_length=200)
    sms_enabled: bool = False
    trunk_id: uuid.UUID | None = None  # the trunk that delivers it (None: any of the organization's trunks)


class DidCreate(RequestBody):
    """A number of the organization; it joins the free pool until an inbound rule routes it."""

    number: PhoneNumber
    description: Description | None = PydanticField(default=None, examples=["Sales line"])
    sms_enabled: bool = False
    trunk_id: uuid.UUID | None = PydanticField(default=None, description="The trunk that delivers the number")


class DidUpdate(RequestBody):
    """JSON merge patch of a DID (its number cannot change: delete it and add the new one)."""

    description: Description | None = None
    sms_enabled: bool | None = None
    trunk_id: uuid.UUID | None = None


class DidRead(ApiModel):
    """A DID, with where it is routed."""

    id: uuid.UUID
    number: str = PydanticField(examples=["+48221234567"], description="E.164")
    description: str | None
    sms_enabled: bool
    trunk_id: uuid.UUID | None
    assigned: bool = PydanticField(description="An inbound rule routes the number (false: in the free pool)")
    inbound_rule_id: uuid.UUID | None
    user_id: uuid.UUID | None = PydanticField(description="The user the number rings, when its rule rings a user")
    created_at: datetime
    updated_at: datetime


class DidPage(Page[DidRead]):
    """A page of DIDs."""
