"""Groups: every organization's DEFAULT group and its own; memberships with a role and ten rights.

A group may be dialable (its extension shares the number space with SIP accounts):
it rings its members at once (``ring_all``), one after another (``hunt``) or through
a call queue (``queue``), then goes to its no-answer destination. Rights are per
membership (3CX's Rights tab) and enforced by the registrar where it can: presence
(BLF), pickup, barge/listen/whisper, intercom and park.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, Field as PydanticField, StringConstraints
from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from app.core.validation import ExtensionOrNext, Name, StrictInt, refuse_control_characters
from app.models.base import ApiModel, Page, RequestBody, TenantRow, json_field, timestamp_field
from app.models.destinations import Destination, HangupDestination

DEFAULT_GROUP = "DEFAULT"


class RingStrategy(StrEnum):
    """How a dialable group rings its members."""

    ring_all = "ring_all"
    hunt = "hunt"
    queue = "queue"


class GroupRole(StrEnum):
    """A member's role in a group: managers manage it (scope ``groups``) and get every right by default."""

    manager = "manager"
    member = "member"


# The ten rights of 3CX's Rights tab, in its order.
RIGHTS = ("see_members", "see_calls", "show_presence", "show_calls", "operate_calls", "barge", "intercom", "park",
          "control_ivr", "manage_phonebook")
DEFAULT_RIGHTS: dict[GroupRole, dict[str, bool]] = {
    GroupRole.manager: dict.fromkeys(RIGHTS, True),
    GroupRole.member: {right: right in ("see_members", "show_presence") for right in RIGHTS},
}


class Group(TenantRow, table=True):
    __tablename__ = "groups"
    __table_args__ = (UniqueConstraint("organization_id", "name"), UniqueConstraint("organization_id", "extension"))

    name: str = Field(max_length=100)
    extension: int | None = None
    ring_strategy: str = Field(default=RingStrategy.ring_all, max_length=20)
    ring_timeout: int = 20
    no_answer_destination: dict[str, Any] = json_field(default_factory=lambda: {"type": "hangup"})
    is_default: bool = False


class GroupMember(SQLModel, table=True):
    """A user's membership of a group, with its role and rights."""

    __tablename__ = "group_members"

    group_id: uuid.UUID = Field(foreign_key="groups.id", primary_key=True, ondelete="CASCADE")
    user_id: uuid.UUID = Field(foreign_key="users.id", primary_key=True, ondelete="CASCADE", index=True)
    organization_id: uuid.UUID = Field(foreign_key="organizations.id", ondelete="CASCADE", index=True)
    role: str = Field(default=GroupRole.member, max_length=10)
    position: int = 0  # hunt order (lower rings first), then by when the member joined
    see_members: bool = True
    see_calls: bool = False
    show_presence: bool = True
    show_calls: bool = False
    operate_calls: bool = False
    barge: bool = False
    intercom: bool = False
    park: bool = False
    control_ivr: bool = False
    manage_phonebook: bool = False
    created_at: datetime = timestamp_field()
    updated_at: datetime = timestamp_field()
    version: int = Field(default=1)


class GroupCreate(RequestBody):
    """A new group; with `extension` it is dialable."""

    name: Name = PydanticField(examples=["Sales"])
    extension: ExtensionOrNext | None = PydanticField(
        default=None, description='Makes the group dialable: a free number of the organization\'s range, or "next"')
    ring_strategy: RingStrategy = RingStrategy.ring_all
    ring_timeout: StrictInt = PydanticField(
        default=20, ge=5, le=300,
        description="Seconds the group rings (ring_all, queue), or each member rings (hunt), before the no-answer "
                    "destination")
    no_answer_destination: Destination = PydanticField(default_factory=HangupDestination)


class GroupUpdate(RequestBody):
    """JSON merge patch of a group (DEFAULT cannot be renamed)."""

    name: Name | None = None
    extension: ExtensionOrNext | None = None
    ring_strategy: RingStrategy | None = None
    ring_timeout: StrictInt | None = PydanticField(default=None, ge=5, le=300)
    no_answer_destination: Destination | None = None


class GroupRead(ApiModel):
    """A group."""

    id: uuid.UUID
    name: str
    extension: int | None
    ring_strategy: RingStrategy
    ring_timeout: int
    no_answer_destination: Destination
    is_default: bool = PydanticField(description="The organization's DEFAULT group: not deletable or renamable")
    member_count: int
    created_at: datetime
    updated_at: datetime


class GroupPage(Page[GroupRead]):
    """A page of groups."""


class GroupRights(ApiModel):
    """A member's rights in a group (3CX's Rights tab)."""

    see_members: bool = PydanticField(description="See the group's members and their presence")
    see_calls: bool = PydanticField(description="See the calls of the group's members")
    show_presence: bool = PydanticField(description="Show my presence to the group's members (BLF)")
    show_calls: bool = PydanticField(description="Show my calls to the group's members")
    operate_calls: bool = PydanticField(description="Pick up, divert and transfer members' calls")
    barge: bool = PydanticField(description="Barge in, listen or whisper on members' calls")
    intercom: bool = PydanticField(description="Call members by intercom (auto-answer)")
    park: bool = PydanticField(description="Park calls in the parking lot")
    control_ivr: bool = PydanticField(description="Control the IVR")
    manage_phonebook: bool = PydanticField(description="Manage the company phonebook")


class GroupRightsPatch(RequestBody):
    """Rights to set; those not given take the role's default."""

    see_members: bool | None = None
    see_calls: bool | None = None
    show_presence: bool | None = None
    show_calls: bool | None = None
    operate_calls: bool | None = None
    barge: bool | None = None
    intercom: bool | None = None
    park: bool | None = None
    control_ivr: bool | None = None
    manage_phonebook: bool | None = None


class MembershipIn(RequestBody):
    """A user's membership of a group (PUT replaces it whole)."""

    role: GroupRole = GroupRole.member
    rights: GroupRightsPatch = PydanticField(
        default_factory=GroupRightsPatch,
        description="Rights not given take the role's default: a manager gets them all; a member sees the "
                    "members and shows its presence")
    position: StrictInt = PydanticField(default=0, ge=0, le=10_000, description="Hunt order: lower rings first")


class MemberRead(ApiModel):
    """A member of a group."""

    user_id: uuid.UUID
    first_name: str
    last_name: str
    extension: int | None
    role: GroupRole
    position: int
    rights: GroupRights
    updated_at: datetime


class MemberPage(Page[MemberRead]):
    """A page of a group's members."""


GroupReference = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100),
    AfterValidator(refuse_control_characters),
    PydanticField(examples=["Sales"], description="A group's id or its name"),
]


class UserGroupRead(ApiModel):
    """A group a user belongs to, with the user's role in it."""

    id: uuid.UUID
    name: str
    role: GroupRole
