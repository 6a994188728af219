"""A user's programmable phone keys (3CX's BLF tab, Axivox's keys 1–20): what each key of the user's phones does.

The provisioning files carry them to every phone of the user in its vendor's syntax (``app.config_gen.
provisioning``).
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from pydantic import Field as PydanticField, model_validator
from sqlmodel import Field

from app.core.validation import StrictInt
from app.models.base import RequestBody, TenantRow, json_field
from app.models.enums import PresenceStatus

MAX_KEYS = 100
Label = Annotated[str, PydanticField(min_length=1, max_length=40, description="What the phone shows; omitted: its own")]
KeyIndex = Annotated[StrictInt, PydanticField(ge=1, le=MAX_KEYS, description="The key's position, from 1")]


class UserKeys(TenantRow, table=True):
    """A user's stored keys (absent: no keys)."""

    __tablename__ = "user_keys"

    user_id: uuid.UUID = Field(foreign_key="users.id", unique=True, ondelete="CASCADE")
    count: int = 0
    keys: list[dict[str, Any]] = json_field(default_factory=list)


class _Key(RequestBody):
    index: KeyIndex
    label: Label | None = None


class NoneKey(_Key):
    """An empty key."""

    type: Literal["none"] = "none"


class BlfKey(_Key):
    """Busy lamp field: shows a colleague's state and calls it. The colleague must show its presence to the user
    (a group where the user has `see_members` and the colleague `show_presence`)."""

    type: Literal["blf"] = "blf"
    user_id: uuid.UUID


class SpeedDialKey(_Key):
    """Calls a number: an extension, or an outside number in E.164."""

    type: Literal["speed_dial"] = "speed_dial"
    number: Annotated[str, PydanticField(pattern=r"^(\+[1-9][0-9]{6,14}|[0-9]{2,8})$", examples=["+390612345678"])]


class LineKey(_Key):
    """The user's own line (account 1 on the phone)."""

    type: Literal["line"] = "line"


class PickupKey(_Key):
    """Picks up a call ringing in the user's pickup groups (`*8`; right `operate_calls`)."""

    type: Literal["pickup"] = "pickup"


class ParkKey(_Key):
    """Parks the current call in the organization's parking lot (right `park`)."""

    type: Literal["park"] = "park"


class ChangeStatusKey(_Key):
    """Sets the user's presence status from its phone (dials `*28<n>`), live like `PUT /users/{id}/status`. The
    service reads the phone's change from Asterisk, so this needs `CENTRALINO_ASTERISK_AMI_URL`."""

    type: Literal["change_status"] = "change_status"
    status: PresenceStatus


class AgentLoginKey(_Key):
    """Logs the user out of its queue groups, or back in (dials `*29`, a toggle): while out, queue calls are
    offered to the other members."""

    type: Literal["agent_login"] = "agent_login"


PhoneKey = Annotated[NoneKey | BlfKey | SpeedDialKey | LineKey | PickupKey | ParkKey | ChangeStatusKey | AgentLoginKey,
                     PydanticField(discriminator="type")]


class KeysDocument(RequestBody):
    """The user's keys: `count` positions, and what the configured ones do (the others are empty)."""

    count: Annotated[StrictInt, PydanticField(ge=0, le=MAX_KEYS, examples=[10])]
    keys: list[PhoneKey] = PydanticField(default_factory=list, max_length=MAX_KEYS)

    @model_validator(mode="after")
    def _positions(self) -> KeysDocument:
        seen: set[int] = set()
        for key in self.keys:
            if key.index > self.count:
                raise ValueError(f"key {key.index} is beyond count ({self.count})")
            if key.index in seen:
                raise ValueError(f"two keys at position {key.index}")
            seen.add(key.index)
        return self


class KeysRead(KeysDocument):
    """A user's keys as stored."""

    user_id: uuid.UUID
