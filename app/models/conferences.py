"""Conference rooms (Axivox's "Conference" destination): a ConfBridge room with optional PINs.

A room may be dialable: its extension shares the organization's number space with SIP
accounts, groups, IVR menus and the parking lot. ``pin`` lets callers in; ``admin_pin``
lets them in as the room's administrator (ConfBridge's admin and marked user). Both
PINs are write-only secrets, encrypted at rest: reads only say whether each one is set.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import Field as PydanticField, StringConstraints
from sqlalchemy import UniqueConstraint
from sqlmodel import Field

from app.core.validation import ExtensionOrNext, Name, StrictInt, matches
from app.models.base import ApiModel, Page, RequestBody, TenantRow

MIN_MEMBERS, MAX_MEMBERS = 2, 500

ConferencePin = Annotated[
    str, StringConstraints(strict=True), matches(r"[0-9]{4,10}", "must be 4 to 10 digits"),
    PydanticField(examples=["4711"], description="Write-only: 4 to 10 digits"),
]


class Conference(TenantRow, table=True):
    __tablename__ = "conferences"
    __table_args__ = (UniqueConstraint("organization_id", "name"), UniqueConstraint("organization_id", "extension"))

    name: str = Field(max_length=100)
    extension: int | None = None
    pin_encrypted: str | None = Field(default=None, max_length=500)
    admin_pin_encrypted: str | None = Field(default=None, max_length=500)
    max_members: int = 50
    record: bool = False


class ConferenceCreate(RequestBody):
    """A new conference room."""

    name: Name = PydanticField(examples=["Weekly sales call"])
    extension: ExtensionOrNext | None = PydanticField(
        default=None, description='Makes the room dialable: a free number of the organization\'s range, or "next"')
    pin: ConferencePin | None = PydanticField(default=None, description="Callers must enter it (write-only)")
    admin_pin: ConferencePin | None = PydanticField(
        default=None, description="Callers who enter it join as the room's administrator (write-only)")
    max_members: StrictInt = PydanticField(default=50, ge=MIN_MEMBERS, le=MAX_MEMBERS,
                                           description="Callers the room takes at once")
    record: bool = PydanticField(default=False, description="Record the conference (ConfBridge's recording)")

    model_config = {"json_schema_extra": {"examples": [
        {"name": "Weekly sales call", "extension": 800, "pin": "4711", "admin_pin": "987654", "max_members": 20,
         "record": False}]}, "extra": "forbid"}


class ConferenceUpdate(RequestBody):
    """JSON merge patch of a conference room; `pin`/`admin_pin` null removes that PIN."""

    name: Name | None = None
    extension: ExtensionOrNext | None = None
    pin: ConferencePin | None = None
    admin_pin: ConferencePin | None = None
    max_members: StrictInt | None = PydanticField(default=None, ge=MIN_MEMBERS, le=MAX_MEMBERS)
    record: bool | None = None


class ConferenceRead(ApiModel):
    """A conference room (never its PINs: only whether they are set)."""

    id: uuid.UUID
    name: str = PydanticField(examples=["Weekly sales call"])
    extension: int | None = PydanticField(examples=[800])
    has_pin: bool = PydanticField(description="Callers must enter a PIN")
    has_admin_pin: bool = PydanticField(description="An administrator PIN is set")
    max_members: int = PydanticField(examples=[20])
    record: bool
    created_at: datetime
    updated_at: datetime


class ConferencePage(Page[ConferenceRead]):
    """A page of conference rooms."""
