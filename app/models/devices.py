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


# The models each vendor makes, as they are written on the phone (case ignored). A model another vendor makes is
# refused: the file would be written in the wrong format.
_MODELS = {
    DeviceVendor.yealink: r"(SIP-)?T\d{2}[A-Z]{0,3}|CP\d{3,4}[A-Z]?|VP\d{2}[A-Z]?|W\d{2}[A-Z]{0,2}|MP\d{2}|AX\d{2}[A-Z]?",
    DeviceVendor.grandstream: r"(GXP|GRP|GXV|GAC|WP|DP|HT)\d{3,4}[A-Z]{0,2}",
    DeviceVendor.polycom: r"(VVX|CCX|TRIO|EDGE ?[BE]|SOUNDPOINT ?IP|SPIP|IP) ?\d{2,4}[A-Z]?",
    DeviceVendor.snom: r"(SNOM)?(D\d{3}[A-Z]?|[37]\d{2}|8[27]0|M\d{2,3}[A-Z]?|C\d{3}|PA1)",
    DeviceVendor.fanvil: r"[XHIV]\d{1,3}[A-Z]{0,4}(-?PRO)?",
    DeviceVendor.cisco_mpp: r"(CP-)?(68|78|88)\d{2}[A-Z]?(-3PCC)?(-[A-Z]+)?",
}
# The MAC prefixes (OUI) each vendor is known to use; others only warn (OEM phones exist). Cisco has too many.
_OUIS = {
    DeviceVendor.yealink: ("001565", "805ec0", "805e0c", "249ad8", "44dbd2"),
    DeviceVendor.grandstream: ("000b82", "c074ad", "ec74d7"),
    DeviceVendor.polycom: ("0004f2", "64167f", "482567"),
    DeviceVendor.snom: ("000413",),
    DeviceVendor.fanvil: ("0c383e",),
}


def model_problem(vendor: str, model: str | None) -> str | None:
    """Why ``model`` is not a model of ``vendor`` (None: it is, or no model was given)."""
    pattern = _MODELS.get(vendor)
    if model is None or pattern is None or re.fullmatch(pattern, model.strip().upper()):
        return None
    return f"{vendor} makes no phone called {model!r}"


def mac_warnings(vendor: str, mac: str | None) -> list[str]:
    """A warning when the MAC's prefix is not one the vendor is known to use (not an error: OEM phones exist)."""
    known = _OUIS.get(vendor)
    if mac is None or known is None or mac[:6] in known:
        return []
    return [f"MAC {mac} does not start with a prefix {vendor} is known to use ({', '.join(known)}): check it "
            "(an OEM phone may be right)"]


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
    warnings: list[str] = PydanticField(default_factory=list, description="What to check, e.g. a MAC whose prefix "
                                                                         "the vendor is not known to use")


class DeviceUpdated(DeviceRead):
    """A changed device; when the change gave it another SIP account, its new provisioning URL."""

    provisioning_url: str | None = PydanticField(
        default=None, description="The new secret URL when this change rotated it (the device now carries another "
                                  "account: the old URL stops working); null otherwise")
    warnings: list[str] = PydanticField(default_factory=list, description="What to check, e.g. a MAC whose prefix "
                                                                         "the vendor is not known to use")


class DevicePage(Page[DeviceRead]):
    """A page of devices."""
