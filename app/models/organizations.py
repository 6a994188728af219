"""Organizations (tenants)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from pydantic import Field as PydanticField, StringConstraints, model_validator
from sqlmodel import Field, SQLModel

from app.core.validation import HostPort, Name, PermissionLevel, SipDomain, Slug, StrictInt, TimeZone
from app.models.base import ApiModel, Page, RequestBody, timestamp_field
from app.models.enums import SipUsernameMode


class Organization(SQLModel, table=True):
    __tablename__ = "organizations"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    slug: str = Field(unique=True, max_length=63)
    name: str = Field(max_length=100)
    # The digest realm of the organization's accounts: a carrier-like identity, one place only.
    sip_domain: str = Field(max_length=253, unique=True)
    sip_proxy: str | None = Field(default=None, max_length=260)
    # What phones authenticate with: the extension, or the account's Auth ID (organizations made before this
    # setting existed keep auth_id: their phones are configured so).
    sip_username_mode: str = Field(default="extension", max_length=10)
    # HTTP credentials phones must give the provisioning server besides their token (None: the token alone).
    provisioning_username: str | None = Field(default=None, max_length=64)
    provisioning_password_encrypted: str | None = Field(default=None, max_length=500)
    extension_min: int = 100
    extension_max: int = 999
    default_permission_level: int = 10
    timezone: str = Field(default="UTC", max_length=64)
    ring_timeout: int = 20
    # The call parking lot: its extension, then ``parking_slots`` numbers after it (None: no lot).
    parking_extension: int | None = None
    parking_slots: int = 10
    created_at: datetime = timestamp_field()
    updated_at: datetime = timestamp_field()
    version: int = Field(default=1)


@dataclass(frozen=True, slots=True)
class OrganizationRef:
    """An organization's settings as a request sees them, read with its principal in one query.

    A plain value, not an ORM object: services read it, and load the row itself to change it.
    """

    id: uuid.UUID
    slug: str
    name: str
    sip_domain: str
    sip_proxy: str | None
    sip_username_mode: str
    provisioning_username: str | None
    extension_min: int
    extension_max: int
    default_permission_level: int
    timezone: str
    ring_timeout: int
    parking_extension: int | None
    parking_slots: int
    created_at: datetime
    updated_at: datetime
    version: int

    @classmethod
    def of(cls, source: Any) -> OrganizationRef:
        """From an ``Organization`` row or any object with its attributes."""
        return cls(**{name: getattr(source, name) for name in ORGANIZATION_FIELDS})


ORGANIZATION_FIELDS = tuple(OrganizationRef.__dataclass_fields__)
# The table's columns in OrganizationRef's order, to select them beside a principal.
ORGANIZATION_COLUMNS = tuple(Organization.__table__.c[name] for name in ORGANIZATION_FIELDS)


# Printable, and nothing a Basic (":") or Digest ('"', "\\") header could not carry.
ProvisioningUsername = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r'^[!#-9;-\[\]-~]+$'),
                                 PydanticField(examples=["phones"])]
ProvisioningPassword = Annotated[str, StringConstraints(min_length=12, max_length=128, pattern=r'^[ -~]+$'),
                                 PydanticField(examples=["Provisioning-Secret-1"])]


class OrganizationCreate(RequestBody):
    """A new tenant."""

    name: Name = PydanticField(examples=["Acme Sp. z o.o."])
    slug: Slug
    sip_domain: SipDomain = PydanticField(description="SIP domain and digest realm of the organization's accounts; "
                                                      "unique across the platform")
    sip_proxy: HostPort | None = PydanticField(
        default=None, description="Where phones send REGISTER (host or host:port); defaults to sip_domain")
    sip_username_mode: SipUsernameMode = PydanticField(
        default=SipUsernameMode.extension,
        description="What phones authenticate with: `extension` (the SIP user is the extension, as Odoo and Axivox "
                    "expect) or `auth_id` (each account's generated Auth ID, as 3CX does)")
    extension_min: StrictInt = PydanticField(default=100, ge=1, le=99_999_999)
    extension_max: StrictInt = PydanticField(default=999, ge=1, le=99_999_999)
    default_permission_level: PermissionLevel = 10
    timezone: TimeZone = "UTC"
    ring_timeout: StrictInt = PydanticField(default=20, ge=5, le=300,
                                            description="Seconds an extension rings before voicemail")
    parking_extension: StrictInt | None = PydanticField(
        default=None, ge=1, le=99_999_999,
        description="The call parking lot's number; the slots take the numbers after it (null: no parking)")
    parking_slots: StrictInt = PydanticField(default=10, ge=1, le=100, description="Parked calls the lot holds")

    @model_validator(mode="after")
    def _range(self) -> OrganizationCreate:
        if self.extension_min > self.extension_max:
            raise ValueError("extension_min must not be greater than extension_max")
        if self.parking_extension is not None and not (
                self.extension_min <= self.parking_extension
                and self.parking_extension + self.parking_slots <= self.extension_max):
            raise ValueError("the parking lot (parking_extension and its slots) must lie within the extension range")
        return self


class OrganizationUpdate(RequestBody):
    """JSON merge patch of an organization's settings."""

    name: Name | None = None
    sip_domain: SipDomain | None = None
    sip_proxy: HostPort | None = None
    sip_username_mode: SipUsernameMode | None = PydanticField(
        default=None, description="Changing it changes every phone's credentials: re-provision the phones after the "
                                  "apply")
    provisioning_username: ProvisioningUsername | None = PydanticField(
        default=None, description="HTTP Digest/Basic user phones must give the provisioning server (with the "
                                  "password); null removes the credentials")
    provisioning_password: ProvisioningPassword | None = PydanticField(
        default=None, description="Write-only: the provisioning server's HTTP password (stored encrypted)")
    extension_min: StrictInt | None = PydanticField(default=None, ge=1, le=99_999_999)
    extension_max: StrictInt | None = PydanticField(default=None, ge=1, le=99_999_999)
    default_permission_level: PermissionLevel | None = None
    timezone: TimeZone | None = None
    ring_timeout: StrictInt | None = PydanticField(default=None, ge=5, le=300)
    parking_extension: StrictInt | None = PydanticField(default=None, ge=1, le=99_999_999)
    parking_slots: StrictInt | None = PydanticField(default=None, ge=1, le=100)


class OrganizationRead(ApiModel):
    """An organization as stored."""

    id: uuid.UUID
    slug: str
    name: str
    sip_domain: str
    sip_proxy: str | None
    sip_username_mode: SipUsernameMode
    provisioning_username: str | None = PydanticField(
        default=None, description="The provisioning server's HTTP user (never the password); null: the token alone")
    extension_min: int
    extension_max: int
    default_permission_level: int
    timezone: str
    ring_timeout: int
    parking_extension: int | None
    parking_slots: int
    created_at: datetime
    updated_at: datetime


class OrganizationPage(Page[OrganizationRead]):
    """A page of organizations."""
