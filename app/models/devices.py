"""Devices: phones and softphones that fetch a provisioning file."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BeforeValidator, Field as PydanticField, model_validator
from sqlalchemy import UniqueConstraint
from sqlmodel import Field

from app.core.validation import Label, Name
from app.models.base import ApiModel, Page, RequestBody, TenantRow
from app.models.enums import DeviceVendor

HARDWARE_VENDORS = frozenset({DeviceVendor.yealink, DeviceVendor.grandstream, DeviceVendor.polycom, DeviceVendor.snom,
                              DeviceVendor.fanvil, DeviceVendor.cisco_mpp})

_HEX = "[0-9A-Fa-f]"
# The usual written forms only: 001565aabbcc, 00:15:65:aa:bb:cc, 00-15-65-AA-BB-CC (one separator
# throughout) and Cisco's 0015.65aa.bbcc. Anything else is more likely a typo than a MAC.
_MAC_FORMS = re.compile(
    rf"{_HEX}{{12}}|{_HEX}{{2}}(?P<sep>[:-]){_HEX}{{2}}(?:(?P=sep){_HEX}{{2}}){{4}}|{_HEX}{{4}}\.{_HEX}{{4}}\.{_HEX}{{4}}")


def normalize_mac(value: object) -> object:
    """A MAC in one of its usual written forms, as 12 lower-case hex digits."""
    if not isinstance(value, str):
        return value
    if len(value) > 17 or not _MAC_FORMS.fullmatch(value):
        raise ValueError("must be a MAC address such as 00:15:65:AA:BB:CC, 00-15-65-AA-BB-CC, 0015.65aa.bbcc "
                         "or 001565aabbcc")
    digits = re.sub(r"[:.\-]", "", value).lower()
    if int(digits[:2], 16) & 1:
        raise ValueError("is a multicast address, not a phone's MAC")
    return digits


MacAddress = Annotated[str, BeforeValidator(normalize_mac), PydanticField(examples=["00:15:65:AA:BB:CC"])]


class Device(TenantRow, table=True):
    __tablename__ = "devices"
    __table_args__ = (UniqueConstraint("organization_id", "mac"),)

    mac: str | None = Field(default=None, max_length=12)
    vendor: str = Field(max_length=20)
    model: str | None = Field(default=None, max_length=100)
    label: str | None = Field(default=None, max_length=200)
    sip_account_id: uuid.UUID | None = Field(default=None, foreign_key="sip_accounts.id", ondelete="SET NULL", index=True)
    # Only a hash: the URL is shown when created or rotated, and looked up by hash.
    provisioning_token_hash: str = Field(max_length=64, unique=True)


class DeviceCreate(RequestBody):
    """A phone (MAC required for desk phones) or a softphone."""

    vendor: DeviceVendor
    mac: MacAddress | None = PydanticField(default=None,
                                           description="Required for hardware phones; stored as 12 hex digits")
    model: Name | None = PydanticField(default=None, examples=["T54W"])
    label: Label | None = PydanticField(default=None, examples=["Reception desk"])
    sip_account_id: uuid.UUID | None = None

    @model_validator(mode="after")
    def _mac_for_hardware(self) -> DeviceCreate:
        if self.vendor in HARDWARE_VENDORS and self.mac is None:
            raise ValueError(f"a {self.vendor} phone needs its MAC address")
        return self


class DeviceUpdate(RequestBody):
    """JSON merge patch of a device; a new `sip_account_id` rotates its provisioning URL."""

    vendor: DeviceVendor | None = None
    mac: MacAddress | None = None
    model: Name | None = None
    label: Label | None = None
    sip_account_id: uuid.UUID | None = None


class DeviceRead(ApiModel):
    """A device (without its provisioning URL, which is a secret)."""

    id: uuid.UUID
    vendor: DeviceVendor
    mac: str | None
    model: str | None
    label: str | None
    sip_account_id: uuid.UUID | None
    provisioning_filename: str | None = PydanticField(description="The file the device fetches from its provisioning URL")
    created_at: datetime
    updated_at: datetime


class DeviceWithUrl(DeviceRead):
    """A device with its secret provisioning URL, shown in this response only."""

    provisioning_url: str = PydanticField(description="Secret URL prefix the device fetches its file from; shown once")


class DeviceUpdated(DeviceRead):
    """A changed device; when the change gave it another SIP account, its new provisioning URL."""

    provisioning_url: str | None = PydanticField(
        default=None, description="The new secret URL when this change rotated it (the device now carries another "
                                  "account: the old URL stops working); null otherwise")


class DevicePage(Page[DeviceRead]):
    """A page of devices."""
