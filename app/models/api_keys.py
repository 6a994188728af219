"""API keys for CRMs and scripts."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlmodel import Field, SQLModel

from app.core.validation import Name
from app.models.base import TenantRow, optional_timestamp_field
from app.models.roles import Scope


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


class ApiKeyCreate(SQLModel):
    name: Name = Field(schema_extra={"examples": ["Odoo CRM"]})
    role: str = Field(default="readonly", schema_extra={"examples": ["admin"]})
    scope: Scope = "all"


class ApiKeyRead(SQLModel):
    id: uuid.UUID
    name: str
    key_prefix: str = Field(description="First characters of the key, to recognise it")
    role: str
    scope: Scope
    created_at: datetime
    last_used_at: datetime | None = optional_timestamp_field()
    revoked_at: datetime | None = optional_timestamp_field()


class ApiKeyCreated(ApiKeyRead):
    key: str = Field(description="Shown once; send it as 'Authorization: Bearer <key>'")
