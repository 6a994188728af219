"""A user's forwarding rules: per presence status and call origin, follow-me, caller-ID exceptions, auto status.

3CX's Forwarding rules tab and Axivox's forwarding, in one document (``/users/{id}/forwarding``):

- ``available`` and ``lunch`` ring the user's phone for ``no_answer_seconds`` and then take the
  ``no_answer`` action; ``busy`` and ``not_registered`` are taken when Asterisk reports the phone
  busy or without a registration. ``away``, ``dnd`` and ``business_trip`` do not ring the phone: the
  call takes their one ``action`` at once. Internal and external calls have their own rules.
- ``follow_me`` (Axivox): when enabled, the status rules are off and the user's own phone does not
  ring; the steps ring in order, each for its seconds, then ``then``.
- ``exceptions``: a caller ID (optionally in a weekly time window) goes to its own destination,
  before anything else.
- ``auto_status``: while the user's status is ``available``, the office-hours schedule decides:
  outside hours (and on holidays) the call is handled as ``dnd``, in a break as ``away``.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from pydantic import Field as PydanticField, StringConstraints, model_validator
from sqlmodel import Field

from app.core.validation import StrictInt
from app.models.enums import PresenceStatus
from app.models.office_hours import Weekday
from app.models.base import ApiModel, RequestBody, TenantRow, json_field
from app.models.destinations import (ConferenceDestination, ExtensionDestination, ExternalDestination,
                                     GroupDestination, HangupDestination, IvrDestination, UserDestination)

from app.config_gen.forwarding_rules import HOP_LIMIT, RINGING_STATUSES, STATUSES, default_document

__all__ = ["HOP_LIMIT", "RINGING_STATUSES", "STATUSES", "default_document"]


class UserForwarding(TenantRow, table=True):
    """A user's stored forwarding document (absent: the documented defaults)."""

    __tablename__ = "user_forwarding"

    user_id: uuid.UUID = Field(foreign_key="users.id", unique=True, ondelete="CASCADE")
    document: dict[str, Any] = json_field(default_factory=dict)


class OwnVoicemailDestination(RequestBody):
    """A mailbox: the user's own (``user_id`` omitted) or another user's (3CX "voicemail of another user")."""

    type: Literal["voicemail"] = "voicemail"
    user_id: uuid.UUID | None = PydanticField(default=None, description="Omitted: the user's own mailbox")


class MobileDestination(RequestBody):
    """The user's own `mobile` number, through the outbound routes with the user's permission level."""

    type: Literal["mobile"] = "mobile"


ForwardingAction = Annotated[
    OwnVoicemailDestination | MobileDestination | UserDestination | ExtensionDestination | GroupDestination
    | ConferenceDestination | IvrDestination | ExternalDestination | HangupDestination,
    PydanticField(discriminator="type"),
]
# What a follow-me step may ring: a phone or a number (a mailbox or a menu would answer and end the list).
FollowMeTarget = Annotated[
    MobileDestination | UserDestination | ExtensionDestination | ExternalDestination,
    PydanticField(discriminator="type"),
]

RingSeconds = Annotated[StrictInt, PydanticField(ge=5, le=600, description="Seconds to ring, 5–600")]


class RingingRules(RequestBody):
    """Rules of a status where the phone rings (`available`, `lunch`), for one call origin."""

    no_answer_seconds: RingSeconds | None = PydanticField(
        default=None, description="How long the phone rings; null: the organization's ring_timeout",
        examples=[20])
    no_answer: ForwardingAction = PydanticField(description="Where the call goes when nobody answers")
    busy: ForwardingAction = PydanticField(description="Where the call goes when the phone is busy")
    not_registered: ForwardingAction = PydanticField(
        description="Where the call goes when no phone of the user is registered")


class AwayRules(RequestBody):
    """Rules of a status where the phone does not ring (`away`, `dnd`, `business_trip`), for one call origin."""

    action: ForwardingAction = PydanticField(description="Where every call goes while the user has this status")


class StatusFlags(RequestBody):
    """3CX's per-status options."""

    ring_mobile_simultaneously: bool = PydanticField(
        default=False, description="Ring the user's mobile together with the phone (ringing statuses only)")
    accept_multiple_calls: bool = PydanticField(
        default=True, description="false: a second call while on the phone takes the busy action")
    logout_from_queues: bool = PydanticField(
        default=False, description="While in this status the user is paused in its queue groups (logged out): "
                                   "queue calls are offered to the other members")
    accept_ring_group_calls: bool = PydanticField(
        default=True, description="false: ring groups and hunt groups skip the user while in this status")


class RingingStatus(StatusFlags):
    """A ringing status (`available`, `lunch`): its flags and its rules per origin."""

    internal: RingingRules
    external: RingingRules


class AwayStatus(StatusFlags):
    """A status where the phone does not ring: its flags and its one action per origin."""

    internal: AwayRules
    external: AwayRules


class FollowMeStep(RequestBody):
    """One step of follow-me: what rings, and for how long."""

    destination: FollowMeTarget
    ring_seconds: RingSeconds = 20


class FollowMe(RequestBody):
    """Axivox's follow-me: the steps ring in order instead of the user's phone; the status rules are off."""

    enabled: bool = False
    steps: list[FollowMeStep] = PydanticField(default_factory=list, max_length=10)
    then: ForwardingAction = PydanticField(
        default_factory=HangupDestination, description="Where the call goes when no step answered")

    @model_validator(mode="after")
    def _steps_when_enabled(self) -> FollowMe:
        if self.enabled and not self.steps:
            raise ValueError("follow-me needs at least one step when enabled")
        return self


TimeOfDay = Annotated[str, StringConstraints(pattern=r"^(([01]\d|2[0-3]):[0-5]\d|24:00)$"),
                      PydanticField(examples=["09:00"])]


class TimeWindow(RequestBody):
    """A weekly window in the organization's time zone: these days, from `start` up to (not including) `end`."""

    days: list[Weekday] = PydanticField(min_length=1, max_length=7, examples=[["monday", "friday"]])
    start: TimeOfDay
    end: TimeOfDay = PydanticField(examples=["17:00"])

    @model_validator(mode="after")
    def _ordered(self) -> TimeWindow:
        if self.start >= self.end:
            raise ValueError("end must be after start")
        return self


CallerIdPattern = Annotated[str, StringConstraints(pattern=r"^\+?[0-9]{2,20}\*?$"), PydanticField(
    description='A caller ID: an E.164 number or an extension; a trailing "*" matches every number that starts so',
    examples=["+390612345678"])]


class ForwardingException(RequestBody):
    """Calls from this caller ID (in the window, if given) go to their own destination, before any other rule."""

    caller_id: CallerIdPattern
    destination: ForwardingAction
    window: TimeWindow | None = None


class AutoStatus(RequestBody):
    """3CX's automatic status: while `available`, outside the schedule's hours calls are handled as `dnd`,
    and in its breaks as `away`."""

    enabled: bool = False
    office_hours_id: uuid.UUID | None = PydanticField(default=None, description="Required when enabled")

    @model_validator(mode="after")
    def _schedule_when_enabled(self) -> AutoStatus:
        if self.enabled and self.office_hours_id is None:
            raise ValueError("office_hours_id is required when auto_status is enabled")
        return self


class ForwardingDocument(RequestBody):
    """A user's forwarding rules: every status, follow-me, exceptions and auto status (the whole document)."""

    available: RingingStatus
    away: AwayStatus
    dnd: AwayStatus
    lunch: RingingStatus
    business_trip: AwayStatus
    follow_me: FollowMe = PydanticField(default_factory=FollowMe)
    exceptions: list[ForwardingException] = PydanticField(default_factory=list, max_length=50)
    auto_status: AutoStatus = PydanticField(default_factory=AutoStatus)


class ForwardingPatch(RequestBody):
    """Blocks of forwarding rules; each one given replaces the user's block, the others stay."""

    available: RingingStatus | None = None
    away: AwayStatus | None = None
    dnd: AwayStatus | None = None
    lunch: RingingStatus | None = None
    business_trip: AwayStatus | None = None
    follow_me: FollowMe | None = None
    exceptions: list[ForwardingException] | None = PydanticField(default=None, max_length=50)
    auto_status: AutoStatus | None = None


class ForwardingRead(ForwardingDocument):
    """A user's forwarding rules as stored, or the defaults (`is_default`)."""

    user_id: uuid.UUID
    is_default: bool = PydanticField(description="true: nothing was saved yet, these are the documented defaults")


class StatusRead(ApiModel):
    """A user's presence status (live state: changing it needs no apply)."""

    status: PresenceStatus
    effective_status: PresenceStatus = PydanticField(
        description="What calls follow now: the status, or what auto_status makes of it at this moment")
    pushed: bool | None = PydanticField(
        default=None, description="In a change's response: true when Asterisk took it over AMI at once; false when "
                                  "AMI is not configured or failed (then the next apply carries it)")


class StatusUpdate(RequestBody):
    """A new presence status."""

    status: PresenceStatus = PydanticField(examples=["dnd"])
