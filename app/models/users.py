"""Users: the people of an organization, and their optional API/portal login."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import Field as PydanticField
from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field

from app.core.validation import (Email, ExtensionOrNext, Language, LoginPassword, Lookup, Name, OptionalName,
                                 PhoneNumber, Username)
from app.models.base import ApiModel, Page, RequestBody, TenantRow
from app.models.enums import ManagementScope, PresenceStatus, PrincipalKind
from app.models.forwarding import ForwardingPatch
from app.models.groups import GroupReference, UserGroupRead
from app.models.options import OptionsPatch
from app.models.welcome_email import WelcomeEmailSent


class User(TenantRow, table=True):
    __tablename__ = "users"
    # The second index serves the default order of the users list (by last name) without a sort.
    __table_args__ = (UniqueConstraint("organization_id", "email"),
                      Index("ix_users_organization_id_last_name", "organization_id", "last_name", "id"))

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
    voicemail_pin_required: bool = True
    voicemail_play_caller_id: bool = False
    voicemail_read_datetime: bool = True
    voicemail_email_notification: str = Field(default="none", max_length=20)
    # An inactive user cannot log in and its tokens stop working; its data and phones stay.
    active: bool = True
    # The user's own login; a user without a username cannot log in.
    username: str | None = Field(default=None, unique=True, max_length=150)
    password_hash: str | None = Field(default=None, max_length=255)
    role_id: uuid.UUID | None = Field(default=None, foreign_key="roles.id")
    scope: str | None = Field(default=None, max_length=10)
    is_platform_admin: bool = False
    # Bumped whenever the login's credentials or rights change; tokens carry the
    # value they were issued with, so older tokens stop working at once.
    auth_version: int = Field(default=1)


class UserAccessIn(RequestBody):
    """The user's login to the API and portal."""

    username: Username
    password: LoginPassword = PydanticField(description="Write-only; at least 8 characters")
    role: Lookup = PydanticField(default="user", examples=["admin"])
    scope: ManagementScope = ManagementScope.own


class UserAccessPatch(RequestBody):
    """Changes to a user's login; only the fields sent change."""

    username: Username | None = None
    password: LoginPassword | None = None
    role: Lookup | None = None
    scope: ManagementScope | None = None


class UserAccessRead(ApiModel):
    """A user's login (never its password)."""

    username: str
    role: str
    scope: ManagementScope


class SipAccountSummary(ApiModel):
    """The SIP account a user holds."""

    id: uuid.UUID
    extension: int
    active: bool


class UserCreate(RequestBody):
    """A new user; with `extension` its SIP account is created in the same transaction."""

    first_name: Name = PydanticField(examples=["Anna"])
    last_name: OptionalName = PydanticField(default="", examples=["Nowak"])
    email: Email | None = None
    mobile: PhoneNumber | None = None
    caller_id: PhoneNumber | None = PydanticField(default=None, description="Outbound caller ID, E.164")
    language: Language = "en"
    status: PresenceStatus = PresenceStatus.available
    directory_visible: bool = True
    multiple_calls: bool = True
    login_required: bool = PydanticField(default=False, description="Hot-desking: the user must log in on a phone")
    voicemail_enabled: bool = False
    active: bool = PydanticField(default=True, description="An inactive user cannot log in")
    access: UserAccessIn | None = None
    groups: list[GroupReference] | None = PydanticField(
        default=None, max_length=100,
        description="Groups (ids or names) the user joins as a member; omitted: the DEFAULT group")
    extension: ExtensionOrNext | None = PydanticField(
        default=None,
        description='Create and assign a SIP account in the same transaction: a number, or "next" for the lowest free one',
        examples=["next"],
    )
    welcome_email: bool = PydanticField(
        default=False,
        description="Send the user its welcome e-mail (extension and softphone provisioning link, never a password) "
                    "in the same transaction: needs `email`, `extension`, `sip_secrets.read` and mail settings; if "
                    "the SMTP server refuses it, nothing is created (502)")


class UserUpdate(RequestBody):
    """JSON merge patch of a user."""

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
    active: bool | None = PydanticField(default=None, description="false: the user's login and tokens stop working")
    access: UserAccessPatch | None = PydanticField(default=None, description="null removes the user's login")
    groups: list[GroupReference] | None = PydanticField(
        default=None, max_length=100,
        description="The groups (ids or names) the user belongs to, exactly: it leaves the others and joins new ones "
                    "as a member; in groups it stays in its role and rights are kept")


class UserRead(ApiModel):
    """A user as stored, with its SIP account summary and login."""

    id: uuid.UUID
    first_name: str
    last_name: str
    email: str | None
    mobile: str | None
    caller_id: str | None
    language: str
    status: PresenceStatus
    directory_visible: bool
    multiple_calls: bool
    login_required: bool
    voicemail_enabled: bool
    active: bool
    sip_account: SipAccountSummary | None = None
    access: UserAccessRead | None = None
    groups: list[UserGroupRead] = PydanticField(default_factory=list)
    created_at: datetime
    updated_at: datetime


class UserCreated(UserRead):
    """A new user; `sip_password` is shown in this response only."""

    sip_password: str | None = PydanticField(
        default=None, description="The new SIP account's password, shown once (only when `extension` was given)")
    welcome_email: WelcomeEmailSent | None = PydanticField(
        default=None, description="The welcome e-mail sent, when `welcome_email` was asked for")


class UserClone(RequestBody):
    """Who the clone is: its own name, e-mail and extension; everything else of the call handling is copied."""

    first_name: Name = PydanticField(examples=["Bruno"])
    last_name: OptionalName = PydanticField(default="", examples=["Bianchi"])
    email: Email | None = None
    mobile: PhoneNumber | None = PydanticField(
        default=None, description="Needed when the copied forwarding rules send calls to the mobile")
    extension: ExtensionOrNext | None = PydanticField(
        default="next", description='The clone\'s extension: a number, or "next" for the lowest free one; null: none',
        examples=["next"])


class UserCloned(UserCreated):
    """The clone; its new secrets are in this response only."""

    outbound_pin: str | None = PydanticField(
        default=None, description="A new outbound PIN, when the original had one (never the original's)")


class UserFilter(RequestBody):
    """Which users a bulk change is for (all conditions together; the caller's scope always applies)."""

    status: PresenceStatus | None = None
    group_id: uuid.UUID | None = PydanticField(default=None, description="Members of this group")
    has_extension: bool | None = None
    language: Language | None = None


class UserBulkChanges(RequestBody):
    """The one change made to every user: profile fields, whole blocks of the forwarding rules, options."""

    language: Language | None = None
    caller_id: PhoneNumber | None = None
    status: PresenceStatus | None = None
    directory_visible: bool | None = None
    multiple_calls: bool | None = None
    login_required: bool | None = None
    voicemail_enabled: bool | None = None
    forwarding: ForwardingPatch | None = PydanticField(
        default=None, description="The blocks given replace the users' blocks (e.g. `dnd` for everyone)")
    options: OptionsPatch | None = None


class UserBulkUpdate(RequestBody):
    """One partial change to many users, by ids or by a filter: all or nothing."""

    user_ids: list[uuid.UUID] | None = PydanticField(default=None, min_length=1, max_length=5000)
    filter: UserFilter | None = None
    changes: UserBulkChanges


class UserBulkResult(ApiModel):
    """What a bulk change did."""

    updated: int
    user_ids: list[uuid.UUID]


class UserPage(Page[UserRead]):
    """A page of users."""


class Me(ApiModel):
    """The authenticated principal."""

    kind: PrincipalKind
    id: uuid.UUID
    name: str
    organization: str = PydanticField(description="Slug of the organization acted on")
    home_organization: str
    role: str
    permissions: list[str]
    scope: ManagementScope
    platform_admin: bool
