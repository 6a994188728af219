"""Users: the people of an organization, and their optional API/portal login."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import StringConstraints
from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from app.core.validation import Email, Language, Name, OptionalName, PhoneNumber, Username
from app.models.base import TenantRow
from app.models.roles import Scope

PresenceStatus = Literal["available", "away", "dnd", "lunch", "business_trip"]
LoginPassword = Annotated[str, StringConstraints(min_length=8, max_length=256)]


class User(TenantRow, table=True):
    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("organization_id", "email"),)

    first_name: str = Field(max_length=100)
    last_name: str = Field(default="", max_length=100)
    email: str | None = Field(default=None, max_length=320)  # stored lower-cased
    mobile: str | None = Field(default=None, max_length=32)
    caller_id: str | None = Field(default=None, max_length=32)
    language: str = Field(default="en", max_length=5)
    status: str = Field(default="available", max_length=20)
    directory_visible: bool = True
    multiple_calls: bool = True
    login_required: bool = False
    voicemail_enabled: bool = False
    voicemail_pin_encrypted: str | None = Field(default=None, max_length=500)
    # The user's own login; a user without a username cannot log in.
    username: str | None = Field(default=None, unique=True, max_length=150)
    password_hash: str | None = Field(default=None, max_length=255)
    role_id: uuid.UUID | None = Field(default=None, foreign_key="roles.id")
    scope: str | None = Field(default=None, max_length=10)
    is_platform_admin: bool = False


class UserAccessIn(SQLModel):
    """The user's login to the API and portal."""

    username: Username
    password: LoginPassword = Field(description="Write-only; at least 8 characters")
    role: str = Field(default="user", schema_extra={"examples": ["admin"]})
    scope: Scope = "own"


class UserAccessPatch(SQLModel):
    username: Username | None = None
    password: LoginPassword | None = None
    role: str | None = None
    scope: Scope | None = None


class UserAccessRead(SQLModel):
    username: str
    role: str
    scope: Scope


class SipAccountSummary(SQLModel):
    id: uuid.UUID
    extension: int
    active: bool


class UserBase(SQLModel):
    first_name: Name = Field(schema_extra={"examples": ["Anna"]})
    last_name: OptionalName = Field(default="", schema_extra={"examples": ["Nowak"]})
    email: Email | None = None
    mobile: PhoneNumber | None = None
    caller_id: PhoneNumber | None = Field(default=None, description="Outbound caller ID, E.164")
    language: Language = "en"
    status: PresenceStatus = "available"
    directory_visible: bool = True
    multiple_calls: bool = True
    login_required: bool = Field(default=False, description="Hot-desking: the user must log in on a phone")
    voicemail_enabled: bool = False


class UserCreate(UserBase):
    access: UserAccessIn | None = None
    extension: int | Literal["next"] | None = Field(
        default=None,
        description='Create and assign a SIP account in the same transaction: a number, or "next" for the lowest free one',
        schema_extra={"examples": ["next"]},
    )


class UserUpdate(SQLModel):
    first_name: Name | None = None
    last_name: OptionalName | None = None
    email: Email | None = None
    mobile: PhoneNumber | None = None
    caller_id: PhoneNumber | None = None
    language: Language | None = None
    status: PresenceStatus | None = None
    directory_visible: bool | None = None
    multiple_calls: bool | None = None
    login_required: bool | None = None
    voicemail_enabled: bool | None = None
    access: UserAccessPatch | None = Field(default=None, description="null removes the user's login")


class UserRead(UserBase):
    id: uuid.UUID
    sip_account: SipAccountSummary | None = None
    access: UserAccessRead | None = None
    created_at: datetime
    updated_at: datetime


class Me(SQLModel):
    """The authenticated principal."""

    kind: Literal["user", "api_key"]
    id: uuid.UUID
    name: str
    organization: str = Field(description="Slug of the organization acted on")
    home_organization: str
    role: str
    permissions: list[str]
    scope: Scope
    platform_admin: bool


class UserCreated(UserRead):
    sip_password: str | None = Field(
        default=None, description="The new SIP account's password, shown once (only when `extension` was given)")
