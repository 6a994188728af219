"""Roles: named sets of permissions, built-in or custom, per organization."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import Field as PydanticField, StringConstraints
from sqlalchemy import UniqueConstraint
from sqlmodel import Field

from app.core.validation import Description, matches
from app.models.base import ApiModel, Page, RequestBody, TenantRow, json_field

RoleName = Annotated[
    str, StringConstraints(min_length=2, max_length=50),
    matches(r"[a-z][a-z0-9_-]*", "must start with a lower-case letter and use only a-z, 0-9, _ and -"),
    PydanticField(examples=["helpdesk"]),
]
PermissionName = Annotated[str, StringConstraints(min_length=1, max_length=64), PydanticField(examples=["users.read"])]


class Role(TenantRow, table=True):
    __tablename__ = "roles"
    __table_args__ = (UniqueConstraint("organization_id", "name"),)

    name: str = Field(max_length=50)
    description: str = Field(default="", max_length=500)
    permissions: list[str] = json_field(default_factory=list)
    builtin: bool = Field(default=False)


class RoleCreate(RequestBody):
    """A custom role: a named set of permissions."""

    name: RoleName
    description: Description = ""
    permissions: list[PermissionName] = PydanticField(max_length=200, examples=[["users.read", "sip_accounts.read"]])


class RoleUpdate(RequestBody):
    """JSON merge patch of a custom role."""

    description: Description | None = None
    permissions: list[PermissionName] | None = PydanticField(default=None, max_length=200)


class RoleRead(ApiModel):
    """A role and its permissions."""

    id: uuid.UUID
    name: str
    description: str
    permissions: list[str]
    builtin: bool
    created_at: datetime
    updated_at: datetime


class RolePage(Page[RoleRead]):
    """A page of roles."""


class PermissionRead(ApiModel):
    """One permission of the catalogue."""

    name: str = PydanticField(examples=["users.write"])
    description: str
