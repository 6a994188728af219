"""IVR menus (3CX's digital receptionist): a greeting, then the caller's key decides where the call goes.

Keys ``0``–``9``, ``*`` and ``#`` lead to Destinations; no key within ``timeout_seconds``
goes to ``timeout_destination``, an unknown key (after two more tries) to
``invalid_destination``. With ``dial_by_extension`` the caller may dial any extension of
the organization; with ``directory`` the ``#`` key opens a dial-by-name directory.

The greeting is an uploaded WAV file, validated and converted to what Asterisk plays
natively (16-bit PCM, mono, 8 kHz) and kept in the database (``ivr_greetings``, one row
per menu), so that an apply can write it next to the configuration it belongs to.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import Field as PydanticField
from sqlalchemy import LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.core.validation import ExtensionOrNext, Name, StrictInt
from app.models.base import ApiModel, Page, RequestBody, TenantRow, json_field, timestamp_field
from app.models.destinations import Destination, HangupDestination

class IvrKey(StrEnum):
    """A key of the phone's keypad that an IVR option answers to."""

    k0, k1, k2, k3, k4, k5, k6, k7, k8, k9 = "0", "1", "2", "3", "4", "5", "6", "7", "8", "9"
    star = "*"
    hash = "#"


OptionKey = IvrKey
OPTION_KEYS: tuple[str, ...] = tuple(key.value for key in IvrKey)
DIRECTORY_KEY = "#"  # with ``directory``, this key opens the dial-by-name directory


class IvrMenu(TenantRow, table=True):
    __tablename__ = "ivr_menus"
    __table_args__ = (UniqueConstraint("organization_id", "name"), UniqueConstraint("organization_id", "extension"))

    name: str = Field(max_length=100)
    extension: int | None = None
    options: dict[str, Any] = json_field(default_factory=dict)  # key -> stored Destination
    timeout_seconds: int = 10
    timeout_destination: dict[str, Any] = json_field(default_factory=lambda: {"type": "hangup"})
    invalid_destination: dict[str, Any] = json_field(default_factory=lambda: {"type": "hangup"})
    dial_by_extension: bool = False
    directory: bool = False


class IvrGreeting(SQLModel, table=True):
    """A menu's greeting: the converted WAV file (16-bit PCM, mono, 8 kHz) and what was uploaded."""

    __tablename__ = "ivr_greetings"

    ivr_menu_id: uuid.UUID = Field(foreign_key="ivr_menus.id", primary_key=True, ondelete="CASCADE")
    organization_id: uuid.UUID = Field(foreign_key="organizations.id", index=True, ondelete="CASCADE")
    wav: bytes = Field(sa_type=LargeBinary)
    duration_ms: int
    size_bytes: int
    sha256: str = Field(max_length=64)
    uploaded_format: str = Field(max_length=100)  # e.g. "PCM 16-bit, 2 channels, 44100 Hz"
    created_at: datetime = timestamp_field()


_OPTIONS_DOC = ('Keys "0"–"9", "*" and "#", each to a Destination. With `directory`, "#" opens the directory and '
                'cannot be an option.')


class IvrMenuCreate(RequestBody):
    """A new IVR menu (upload its greeting afterwards with `PUT /ivr-menus/{id}/greeting`)."""

    name: Name = PydanticField(examples=["Main menu"])
    extension: ExtensionOrNext | None = PydanticField(
        default=None, description='Makes the menu dialable: a free number of the organization\'s range, or "next"')
    options: dict[OptionKey, Destination] = PydanticField(default_factory=dict, description=_OPTIONS_DOC)
    timeout_seconds: StrictInt = PydanticField(default=10, ge=1, le=120,
                                               description="Seconds to wait for a key after the greeting")
    timeout_destination: Destination = PydanticField(default_factory=HangupDestination)
    invalid_destination: Destination = PydanticField(
        default_factory=HangupDestination, description="Where the call goes after three keys that lead nowhere")
    dial_by_extension: bool = PydanticField(default=False, description="The caller may dial any extension")
    directory: bool = PydanticField(
        default=False, description='"#" opens a dial-by-name directory of the users (those with a mailbox)')

    model_config = {"json_schema_extra": {"examples": [
        {"name": "Main menu", "extension": 700,
         "options": {"1": {"type": "group", "group_id": "0b7e8f5e-4e1b-4a56-9a57-3f0f2a0d9c11"},
                     "2": {"type": "conference", "conference_id": "5d7c1f1e-9c0a-4f0e-8a44-2a1f6c9b3e21"}},
         "timeout_seconds": 8, "timeout_destination": {"type": "hangup"},
         "invalid_destination": {"type": "hangup"}, "dial_by_extension": True, "directory": False}]},
        "extra": "forbid"}


class IvrMenuUpdate(RequestBody):
    """JSON merge patch of an IVR menu; `options`, when given, replaces all the options."""

    name: Name | None = None
    extension: ExtensionOrNext | None = None
    options: dict[OptionKey, Destination] | None = PydanticField(default=None, description=_OPTIONS_DOC)
    timeout_seconds: StrictInt | None = PydanticField(default=None, ge=1, le=120)
    timeout_destination: Destination | None = None
    invalid_destination: Destination | None = None
    dial_by_extension: bool | None = None
    directory: bool | None = None


class GreetingRead(ApiModel):
    """A menu's greeting as stored: 16-bit PCM, mono, 8 kHz WAV."""

    duration_ms: int = PydanticField(examples=[4200])
    size_bytes: int = PydanticField(examples=[67244], description="Size of the stored (converted) WAV file")
    sha256: str
    uploaded_format: str = PydanticField(examples=["PCM 16-bit, 2 channels, 44100 Hz"],
                                         description="The format of the file as uploaded, before conversion")
    created_at: datetime


class IvrMenuRead(ApiModel):
    """An IVR menu."""

    id: uuid.UUID
    name: str = PydanticField(examples=["Main menu"])
    extension: int | None = PydanticField(examples=[700])
    options: dict[OptionKey, Destination]
    timeout_seconds: int
    timeout_destination: Destination
    invalid_destination: Destination
    dial_by_extension: bool
    directory: bool
    greeting: GreetingRead | None = PydanticField(description="The uploaded greeting; null: none (silence)")
    created_at: datetime
    updated_at: datetime


class IvrMenuPage(Page[IvrMenuRead]):
    """A page of IVR menus."""
