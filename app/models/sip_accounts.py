"""SIP accounts: extension numbers and their digest credentials."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import Field as PydanticField, StringConstraints
from sqlalchemy import UniqueConstraint
from sqlmodel import Field

from app.core.validation import AuthId, ExtensionNumber, PermissionLevel, StrictInt
from app.models.base import ApiModel, Page, RequestBody, TenantRow
from app.models.enums import PhoneType

# Strength and allowed characters are checked by the service (with the extension and auth ID at hand).
SipPassword = Annotated[str, StringConstraints(min_length=1, max_length=128)]


class SipAccount(TenantRow, table=True):
    __tablename__ = "sip_accounts"
    __table_args__ = (
        UniqueConstraint("organization_id", "extension"),
        UniqueConstraint("organization_id", "auth_id"),
    )

    extension: int
    auth_id: str = Field(max_length=64)
    password_encrypted: str = Field(max_length=500)
    user_id: uuid.UUID | None = Field(default=None, foreign_key="users.id", unique=True, ondelete="SET NULL")
    phone_type: str = Field(default="softphone", max_length=20)
    active: bool = True
    recording: bool = False
    permission_level: int = 10
    max_contacts: int = 1


class SipAccountCreate(RequestBody):
    """A new SIP account; number and password are generated when omitted."""

    extension: ExtensionNumber | None = PydanticField(default=None, description="Omit for the lowest free number")
    auth_id: AuthId | None = PydanticField(default=None, description="Generated when omitted")
    password: SipPassword | None = PydanticField(
        default=None, description="Write-only; generated when omitted, strength-checked when given")
    user_id: uuid.UUID | None = None
    phone_type: PhoneType = PhoneType.softphone
    active: bool = True
    recording: bool = False
    permission_level: PermissionLevel | None = PydanticField(default=None,
                                                             description="Defaults to the organization's level")
    max_contacts: StrictInt = PydanticField(default=1, ge=1, le=20)


class SipAccountUpdate(RequestBody):
    """JSON merge patch of a SIP account."""

    extension: ExtensionNumber | None = None
    auth_id: AuthId | None = None
    user_id: uuid.UUID | None = None
    phone_type: PhoneType | None = None
    active: bool | None = None
    recording: bool | None = None
    permission_level: PermissionLevel | None = None
    max_contacts: StrictInt | None = PydanticField(default=None, ge=1, le=20)


class SipAccountRead(ApiModel):
    """A SIP account (never its password)."""

    id: uuid.UUID
    extension: int
    auth_id: str
    user_id: uuid.UUID | None
    phone_type: PhoneType
    active: bool
    recording: bool
    permission_level: int
    max_contacts: int
    created_at: datetime
    updated_at: datetime


class SipAccountCreated(SipAccountRead):
    """A SIP account with its password, shown in this response only."""

    password: str = PydanticField(description="Shown once; afterwards only through the audited reveal")


class SipAccountPage(Page[SipAccountRead]):
    """A page of SIP accounts."""


class SipPasswordChange(RequestBody):
    """A new SIP password, or nothing to generate one."""

    password: SipPassword | None = PydanticField(default=None, description="Omit to generate a new password")


class SipSecret(ApiModel):
    """An account's credentials in clear."""

    id: uuid.UUID
    extension: int
    auth_id: str = PydanticField(description="The account's generated Auth ID (used when the organization's "
                                             "sip_username_mode is auth_id)")
    username: str = PydanticField(description="The SIP user (URI user): the extension", examples=["105"])
    auth_username: str = PydanticField(
        description="What the phone authenticates with, by the organization's sip_username_mode: the extension, "
                    "or the Auth ID", examples=["105"])
    password: str
    domain: str


class NextFreeExtension(ApiModel):
    """The number a new account would get now."""

    extension: int = PydanticField(examples=[104])


class ClaimRequest(RequestBody):
    """Which user gets a pooled account."""

    user_id: uuid.UUID
