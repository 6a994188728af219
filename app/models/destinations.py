"""Destinations: the one typed schema for wherever a call goes (a discriminated union on ``type``).

Groups' no-answer destinations use it now; inbound rules, IVR options and users'
forwarding reuse it as they come. Each stored destination is also indexed in
``destination_references``, so that deleting a target it points at is refused with
the list of referrers.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import Field as PydanticField

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from app.core.validation import PhoneNumber
from app.models.base import RequestBody


class _Destination(RequestBody):
    pass


class UserDestination(_Destination):
    """The user: its extension rings (its own forwarding rules apply once they exist)."""

    type: Literal["user"] = "user"
    user_id: uuid.UUID


class ExtensionDestination(_Destination):
    """A SIP account directly, without its user's rules."""

    type: Literal["extension"] = "extension"
    sip_account_id: uuid.UUID


class GroupDestination(_Destination):
    """A dialable group (ring group or queue)."""

    type: Literal["group"] = "group"
    group_id: uuid.UUID


class VoicemailDestination(_Destination):
    """A user's mailbox (3CX's "voicemail of another user")."""

    type: Literal["voicemail"] = "voicemail"
    user_id: uuid.UUID


class ConferenceDestination(_Destination):
    """A conference room (Axivox's "Conference")."""

    type: Literal["conference"] = "conference"
    conference_id: uuid.UUID


class IvrDestination(_Destination):
    """An IVR menu (3CX's digital receptionist)."""

    type: Literal["ivr"] = "ivr"
    ivr_menu_id: uuid.UUID


class ExternalDestination(_Destination):
    """An outside number, through the outbound routes (with the organization's default permission level)."""

    type: Literal["external"] = "external"
    number: PhoneNumber


class HangupDestination(_Destination):
    """End the call (3CX "end call", Axivox "hang up")."""

    type: Literal["hangup"] = "hangup"


class NotConfiguredDestination(_Destination):
    """Axivox's default: "not in service", then hang up."""

    type: Literal["not_configured"] = "not_configured"


Destination = Annotated[
    UserDestination | ExtensionDestination | GroupDestination | VoicemailDestination | ConferenceDestination
    | IvrDestination | ExternalDestination | HangupDestination | NotConfiguredDestination,
    PydanticField(discriminator="type"),
]

# What each destination type points at: (target kind, attribute holding its id).
TARGETS: dict[str, tuple[str, str]] = {
    "user": ("user", "user_id"),
    "extension": ("sip_account", "sip_account_id"),
    "group": ("group", "group_id"),
    "voicemail": ("user", "user_id"),
    "conference": ("conference", "conference_id"),
    "ivr": ("ivr_menu", "ivr_menu_id"),
}


class DestinationReference(SQLModel, table=True):
    """One stored destination pointing at a target: who points (referrer) at what (target)."""

    __tablename__ = "destination_references"
    __table_args__ = (Index("ix_destination_references_target", "target_type", "target_id"),
                      Index("ix_destination_references_referrer", "referrer_type", "referrer_id"))

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    organization_id: uuid.UUID = Field(foreign_key="organizations.id", ondelete="CASCADE")
    referrer_type: str = Field(max_length=30)
    referrer_id: uuid.UUID
    field: str = Field(max_length=60)
    target_type: str = Field(max_length=30)
    target_id: uuid.UUID
