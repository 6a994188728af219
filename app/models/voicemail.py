"""A user's voicemail: settings (3CX's Voicemail tab), the write-only PIN, and uploaded greetings."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import Field as PydanticField, StringConstraints
from sqlalchemy import LargeBinary
from sqlmodel import Field, SQLModel

from app.models.base import ApiModel, RequestBody, timestamp_field


class EmailNotification(StrEnum):
    """What the user gets by e-mail when a message is left."""

    none = "none"
    notify = "notify"  # an e-mail without the recording
    attach = "attach"  # the recording attached
    attach_and_delete = "attach_and_delete"  # attached, and deleted from the mailbox


class VoicemailGreeting(SQLModel, table=True):
    """An uploaded greeting of a user's mailbox: the converted WAV file (16-bit PCM, mono, 8 kHz)."""

    __tablename__ = "voicemail_greetings"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    organization_id: uuid.UUID = Field(foreign_key="organizations.id", index=True, ondelete="CASCADE")
    user_id: uuid.UUID = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=100)
    active: bool = False  # at most one per user: the greeting callers hear
    wav: bytes = Field(sa_type=LargeBinary)
    duration_ms: int
    size_bytes: int
    sha256: str = Field(max_length=64)
    uploaded_format: str = Field(max_length=100)
    created_at: datetime = timestamp_field()


Pin = Annotated[str, StringConstraints(pattern=r"^[0-9]{4,10}$"), PydanticField(
    description="Write-only: 4–10 digits, not a trivial one (1234, 0000, the extension)", examples=["730519"])]


class VoicemailUpdate(RequestBody):
    """A user's voicemail settings (the whole document; `pin` omitted keeps the current one)."""

    enabled: bool = PydanticField(description="The user has a mailbox")
    pin: Pin | None = PydanticField(default=None, description="Write-only; omitted: unchanged (one is generated "
                                                              "when the mailbox has none)")
    pin_required: bool = PydanticField(default=True, description="The PIN is asked when the user calls the mailbox "
                                                                 "from its own phone")
    play_caller_id: bool = PydanticField(default=False, description="Say who called before each message")
    read_datetime: bool = PydanticField(default=True, description="Say when each message was left")
    email_notification: EmailNotification = EmailNotification.none
    active_greeting_id: uuid.UUID | None = PydanticField(
        default=None, description="The uploaded greeting callers hear; null: the one recorded on the phone, or "
                                  "the standard one")


class VoicemailGreetingRead(ApiModel):
    """An uploaded greeting (its audio: `GET …/greetings/{id}`)."""

    id: uuid.UUID
    name: str
    active: bool
    duration_ms: int
    size_bytes: int
    sha256: str
    uploaded_format: str = PydanticField(description="What was uploaded, before conversion")
    created_at: datetime


class VoicemailRead(ApiModel):
    """A user's voicemail settings (never the PIN) and its greetings."""

    user_id: uuid.UUID
    enabled: bool
    pin_set: bool = PydanticField(description="The mailbox has a PIN (reveal it with `GET …/voicemail/pin`)")
    pin_required: bool
    play_caller_id: bool
    read_datetime: bool
    email_notification: EmailNotification
    email: str | None = PydanticField(description="Where notifications go: the user's e-mail")
    active_greeting_id: uuid.UUID | None
    greetings: list[VoicemailGreetingRead]


class VoicemailPin(ApiModel):
    """A mailbox's PIN, revealed (audited)."""

    pin: str
