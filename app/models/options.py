"""A user's options and restrictions (3CX's Options tab): what its phone may do, enforced by the registrar."""

from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import Field as PydanticField, StringConstraints
from sqlmodel import Field

from app.models.base import ApiModel, RequestBody, TenantRow

OutboundPin = Annotated[str, StringConstraints(pattern=r"^[0-9]{4,10}$"), PydanticField(
    description="Write-only: 4–10 digits asked before every external call (emergency numbers excepted)",
    examples=["582047"])]


class UserOptions(TenantRow, table=True):
    """A user's stored options (absent: every default)."""

    __tablename__ = "user_options"

    user_id: uuid.UUID = Field(foreign_key="users.id", unique=True, ondelete="CASCADE")
    disabled: bool = False
    external_calls_disabled: bool = False
    outbound_pin_encrypted: str | None = Field(default=None, max_length=500)
    lan_only: bool = False
    block_outbound_outside_office_hours: bool = False
    record_calls: bool = False
    call_screening: bool = False
    allow_conferences: bool = True
    missed_call_email: bool = False


class _OptionFields(ApiModel):
    disabled: bool = PydanticField(
        default=False, description="The extension neither makes nor takes calls (its data and phones stay)")
    external_calls_disabled: bool = PydanticField(
        default=False, description="Only internal and emergency calls: no outbound route takes the user's calls")
    lan_only: bool = PydanticField(
        default=False, description="The phone is accepted only from private networks (10/8, 172.16/12, "
                                   "192.168/16, loopback)")
    block_outbound_outside_office_hours: bool = PydanticField(
        default=False, description="External calls only while the organization's `default` office hours are open "
                                   "(emergency numbers always)")
    record_calls: bool = PydanticField(
        default=False, description="Record the calls the user takes and the user's external calls")
    call_screening: bool = PydanticField(
        default=False, description="Callers say their name first; the user hears it and accepts or refuses")
    allow_conferences: bool = PydanticField(default=True, description="The user may join conference rooms")
    missed_call_email: bool = PydanticField(
        default=False, description="An e-mail to the user (its `email`) for each call to it that nobody answered: "
                                   "the caller hung up, or it went to voicemail or ended")


class OptionsUpdate(_OptionFields, RequestBody):
    """A user's options (the whole document; `outbound_pin` omitted keeps it, null removes it)."""

    outbound_pin: OutboundPin | None = None


class OptionsRead(_OptionFields):
    """A user's options (never the outbound PIN)."""

    user_id: uuid.UUID
    outbound_pin_set: bool = PydanticField(description="External calls ask for a PIN")


class OptionsPatch(RequestBody):
    """Options to change; the others stay (the outbound PIN is set per user, never in bulk)."""

    disabled: bool | None = None
    external_calls_disabled: bool | None = None
    lan_only: bool | None = None
    block_outbound_outside_office_hours: bool | None = None
    record_calls: bool | None = None
    call_screening: bool | None = None
    allow_conferences: bool | None = None
    missed_call_email: bool | None = None
