"""Devices: phones and softphones that fetch a provisioning file."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field as PydanticField, model_validator
from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from app.core.validation import Label, Name
from app.models.base import TenantRow

Vendor = Literal["yealink", "grandstream", "polycom", "snom", "baresip"]
HARDWARE_VENDORS = {"yealink", "grandstream", "polycom", "snom"}


def normalize_mac(value: object) -> object:
    """Accept 00:15:65:AA:BB:CC, 00-15-65-aa-bb-cc, 0015.65aa.bbcc or 001565aabbcc; store 12 lower-case hex digits."""
    if not isinstance(value, str):
        return value
    digits = re.sub(r"[\s:.\-]", "", value).lower()
    if not re.fullmatch(r"[0-9a-f]{12}", digits):
        raise ValueError("must be a MAC address of 12 hex digits, e.g. 00:15:65:AA:BB:CC")
    if int(digits[:2], 16) & 1:
        raise ValueError("is a multicast address, not a phone's MAC")
    return digits


MacAddress = Annotated[str, BeforeValidator(normalize_mac), PydanticField(examples=["001565aabbcc"])]


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


def _mac_for_hardware(model: SQLModel) -> SQLModel:
    vendor, mac = getattr(model, "vendor", None), getattr(model, "mac", None)
    if vendor in HARDWARE_VENDORS and mac is None:
        raise ValueError(f"a {vendor} phone needs its MAC address")
    return model


class DeviceCreate(SQLModel):
    vendor: Vendor
    mac: MacAddress | None = Field(default=None, description="Required for hardware phones; normalized to 12 hex digits")
    model: Name | None = Field(default=None, schema_extra={"examples": ["T54W"]})
    label: Label | None = Field(default=None, schema_extra={"examples": ["Reception desk"]})
    sip_account_id: uuid.UUID | None = None

    _needs_mac = model_validator(mode="after")(_mac_for_hardware)


class DeviceUpdate(SQLModel):
    vendor: Vendor | None = None
    mac: MacAddress | None = None
    model: Name | None = None
    label: Label | None = None
    sip_account_id: uuid.UUID | None = None


class DeviceRead(SQLModel):
    id: uuid.UUID
    vendor: Vendor
    mac: str | None
    model: str | None
    label: str | None
    sip_account_id: uuid.UUID | None
    provisioning_filename: str | None = Field(description="The file the device fetches from its provisioning URL")
    created_at: datetime
    updated_at: datetime


class DeviceWithUrl(DeviceRead):
    provisioning_url: str = Field(description="Secret URL prefix the device fetches its file from; shown once")
