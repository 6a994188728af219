"""Login throttling and idempotency records."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from app.models.base import json_field, optional_timestamp_field, timestamp_field


class LoginThrottle(SQLModel, table=True):
    """Failed logins per username; shared by every API process through the database."""

    __tablename__ = "login_throttles"

    username: str = Field(primary_key=True, max_length=150)
    failures: int = 0
    last_failure_at: datetime | None = optional_timestamp_field()
    locked_until: datetime | None = optional_timestamp_field()


class IdempotencyRecord(SQLModel, table=True):
    """The first response to a POST carrying an ``Idempotency-Key``."""

    __tablename__ = "idempotency_records"
    # Per organization too: a platform admin acting in two organizations may reuse a key.
    __table_args__ = (UniqueConstraint("organization_id", "principal_id", "key"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    organization_id: uuid.UUID = Field(foreign_key="organizations.id", ondelete="CASCADE", index=True)
    principal_id: uuid.UUID
    key: str = Field(max_length=255)
    method: str = Field(max_length=10)
    path: str = Field(max_length=500)
    request_hash: str = Field(max_length=64)
    status_code: int
    response_body: Any = json_field(default=None)
    created_at: datetime = timestamp_field(index=True)


class Token(SQLModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="Lifetime in seconds", schema_extra={"examples": [3600]})
