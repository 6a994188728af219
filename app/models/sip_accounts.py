"""SIP accounts: extension numbers and their digest credentials."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from app.core.validation import AuthId
from app.models.base import TenantRow

PhoneType = Literal["softphone", "webrtc", "hardware", "other"]


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


class SipAccountCreate(SQLModel):
    extension: int | None = Field(default=None, description="Omit for the lowest free number", schema_extra={"examples": [105]})
    auth_id: AuthId | None = Field(default=None, description="Generated when omitted")
    password: str | None = Field(default=None, description="Write-only; generated when omitted, strength-checked when given")
    user_id: uuid.UUID | None = None
    phone_type: PhoneType = "softphone"
    active: bool = True
    recording: bool = False
    permission_level: int | None = Field(default=None, ge=0, le=100, description="Defaults to the organization's level")
    max_contacts: int = Field(default=1, ge=1, le=20)


class SipAccountUpdate(SQLModel):
    extension: int | None = None
    auth_id: AuthId | None = None
    user_id: uuid.UUID | None = None
    phone_type: PhoneType | None = None
    active: bool | None = None
    recording: bool | None = None
    permission_level: int | None = Field(default=None, ge=0, le=100)
    max_contacts: int | None = Field(default=None, ge=1, le=20)


class SipAccountRead(SQLModel):
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
    password: str = Field(description="Shown once; afterwards only through the audited reveal")


class SipPasswordChange(SQLModel):
    password: str | None = Field(default=None, description="Omit to generate a new password")


class SipSecret(SQLModel):
    id: uuid.UUID
    extension: int
    auth_id: str
    password: str
    domain: str


class NextFreeExtension(SQLModel):
    extension: int = Field(schema_extra={"examples": [104]})


class ClaimRequest(SQLModel):
    user_id: uuid.UUID
