"""Organizations (tenants)."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import model_validator
from sqlmodel import Field, SQLModel

from app.core.validation import HostPort, Name, SipDomain, Slug, TimeZone
from app.models.base import timestamp_field


class OrganizationBase(SQLModel):
    name: Name = Field(schema_extra={"examples": ["Acme Sp. z o.o."]})
    sip_domain: SipDomain = Field(description="SIP domain and digest realm of the organization's accounts")
    sip_proxy: HostPort | None = Field(
        default=None, description="Where phones send REGISTER (host or host:port); defaults to sip_domain"
    )
    extension_min: int = Field(default=100, ge=1, le=99999999)
    extension_max: int = Field(default=999, ge=1, le=99999999)
    default_permission_level: int = Field(default=10, ge=0, le=100)
    timezone: TimeZone = Field(default="UTC")
    ring_timeout: int = Field(default=20, ge=5, le=300, description="Seconds an extension rings before voicemail")


class Organization(OrganizationBase, table=True):
    __tablename__ = "organizations"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    slug: str = Field(unique=True, max_length=63)
    name: str = Field(max_length=100)
    sip_domain: str = Field(max_length=253)
    sip_proxy: str | None = Field(default=None, max_length=260)
    timezone: str = Field(default="UTC", max_length=64)
    created_at: datetime = timestamp_field()
    updated_at: datetime = timestamp_field()
    version: int = Field(default=1)


def _check_range(model: SQLModel) -> SQLModel:
    low, high = getattr(model, "extension_min", None), getattr(model, "extension_max", None)
    if low is not None and high is not None and low > high:
        raise ValueError("extension_min must not be greater than extension_max")
    return model


class OrganizationCreate(OrganizationBase):
    slug: Slug = Field(schema_extra={"examples": ["acme"]})

    _range = model_validator(mode="after")(_check_range)


class OrganizationUpdate(SQLModel):
    name: Name | None = None
    sip_domain: SipDomain | None = None
    sip_proxy: HostPort | None = None
    extension_min: int | None = Field(default=None, ge=1, le=99999999)
    extension_max: int | None = Field(default=None, ge=1, le=99999999)
    default_permission_level: int | None = Field(default=None, ge=0, le=100)
    timezone: TimeZone | None = None
    ring_timeout: int | None = Field(default=None, ge=5, le=300)


class OrganizationRead(OrganizationBase):
    id: uuid.UUID
    slug: str
    created_at: datetime
    updated_at: datetime
