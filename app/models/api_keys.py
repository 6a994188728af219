"""API keys for CRMs and scripts."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import Field as PydanticField
from sqlmodel import Field

from app.core.validation import Lookup, Name
from app.models.base import ApiModel, Page, RequestBody, TenantRow, optional_timestamp_field
from app.models.enums import ManagementScope


class ApiKey(TenantRow, table=True):
    __tablename__ = "api_keys"

    name: str = Field(max_length=100)
    key_hash: str = Field(unique=True, max_length=64)
    key_prefix: str = Field(max_length=12)
    role_id: uuid.UUID | None = Field(default=None, foreign_key="roles.id", ondelete="SET NULL")
    scope: str = Field(default="all", max_length=10)
    created_by_id: uuid.UUID | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    last_used_at: datetime | None = optional_timestamp_field()
    revoked_at: datetime | None = optional_timestamp_field()


class ApiKeyCreate(RequestBody):
    """A new API key bound to a role and a management scope."""

    name: Name = PydanticField(examples=["Odoo CRM"])
    role: Lookup = PydanticField(default="readonly", examples=["admin"])
    scope: ManagementScope = ManagementScope.all


class ApiKeyRead(ApiModel):
    """An API key's metadata (never the key)."""

    id: uuid.UUID
    name: str
    key_prefix: str = PydanticField(description="First characters of the key, to recognise it")
    role: str
    scope: ManagementScope
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyRead):
    """A new API key; `key` is in this response only."""

    key: str = PydanticField(description="Shown once; send it as 'Authorization: Bearer <key>'")


class ApiKeyPage(Page[ApiKeyRead]):
    """A page of API keys."""
