"""The audit log: who changed what, when, with before/after values (secrets masked)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import Field as PydanticField
from sqlalchemy import BigInteger, Column, Identity, Index, Integer
from sqlmodel import Field, SQLModel

from app.models.base import ApiModel, Page, json_field, timestamp_field


class AuditEntry(SQLModel, table=True):
    __tablename__ = "audit_entries"
    __table_args__ = (Index("ix_audit_entries_org_resource", "organization_id", "resource_type", "resource_id"),)

    # A sequence, not a UUID: the log is append-only and its order matters.
    id: int | None = Field(
        default=None,
        sa_column=Column(BigInteger().with_variant(Integer(), "sqlite"), Identity(), primary_key=True),
    )
    organization_id: uuid.UUID = Field(foreign_key="organizations.id", index=True, ondelete="CASCADE")
    created_at: datetime = timestamp_field(index=True)
    actor_type: str = Field(max_length=20)  # user | api_key | system
    actor_id: uuid.UUID | None = Field(default=None, index=True)
    actor_name: str = Field(max_length=150)
    action: str = Field(max_length=50, index=True)
    resource_type: str = Field(max_length=50)
    resource_id: str | None = Field(default=None, max_length=64)
    before: dict[str, Any] | None = json_field(default=None)
    after: dict[str, Any] | None = json_field(default=None)
    request_id: str | None = Field(default=None, max_length=64)
    # True when the entry changed what apply renders (marks config as pending).
    config_change: bool = False


class AuditEntryRead(ApiModel):
    """One audit entry."""

    id: int
    created_at: datetime
    actor_type: str = PydanticField(examples=["user"], description="user, api_key or system")
    actor_id: uuid.UUID | None
    actor_name: str
    action: str = PydanticField(examples=["sip_account.create"])
    resource_type: str
    resource_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    request_id: str | None


class AuditEntryPage(Page[AuditEntryRead]):
    """A page of audit entries."""
