"""Roles: named sets of permissions, built-in or custom, per organization."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from sqlalchemy import UniqueConstraint
from pydantic import StringConstraints
from sqlmodel import Field, SQLModel

from app.core.validation import Description
from app.models.base import TenantRow, json_field

Scope = Literal["own", "groups", "all"]
RoleName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{1,49}$")]


class Role(TenantRow, table=True):
    __tablename__ = "roles"
    __table_args__ = (UniqueConstraint("organization_id", "name"),)

    name: str = Field(max_length=50)
    description: str = Field(default="", max_length=500)
    permissions: list[str] = json_field(default_factory=list)
    builtin: bool = Field(default=False)


class RoleCreate(SQLModel):
    name: RoleName = Field(schema_extra={"examples": ["helpdesk"]})
    description: Description = ""
    permissions: list[str] = Field(schema_extra={"examples": [["users.read", "sip_accounts.read"]]})


class RoleUpdate(SQLModel):
    description: Description | None = None
    permissions: list[str] | None = None


class RoleRead(SQLModel):
    id: uuid.UUID
    name: str
    description: str
    permissions: list[str]
    builtin: bool
    created_at: datetime
    updated_at: datetime


class PermissionRead(SQLModel):
    name: str = Field(schema_extra={"examples": ["users.write"]})
    description: str
