"""Login throttling, idempotency records and the login schemas."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, Field as PydanticField, StringConstraints
from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from app.core.validation import refuse_control_characters
from app.models.base import ApiModel, json_field, timestamp_field


class LoginThrottle(SQLModel, table=True):
    """Login attempts per (username, client) and per client, in fixed windows; shared by every API process.

    ``username`` is ``*`` for the row counting every username from one client.
    """

    __tablename__ = "login_throttles"

    username: str = Field(primary_key=True, max_length=150)
    client: str = Field(primary_key=True, max_length=64)
    attempts: int = 0
    window_started: float = Field(index=True)  # unix time; the row expires a window after it


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


class LoginForm(ApiModel):
    """OAuth2 password flow: the form a client posts to get a token."""

    username: Annotated[str, StringConstraints(min_length=1, max_length=150),
                        AfterValidator(refuse_control_characters)] = PydanticField(examples=["admin"])
    password: Annotated[str, StringConstraints(min_length=1, max_length=256)]
    grant_type: Annotated[str | None, StringConstraints(pattern="^password$")] = PydanticField(
        default=None, description='Optional; "password" when sent')
    scope: Annotated[str, StringConstraints(max_length=500)] = PydanticField(
        default="", description="Ignored: rights come from the user's role")
    client_id: Annotated[str | None, StringConstraints(max_length=200)] = None
    client_secret: Annotated[str | None, StringConstraints(max_length=200)] = None


class Token(ApiModel):
    """A bearer token (JWT)."""

    access_token: str
    token_type: str = "bearer"
    expires_in: int = PydanticField(description="Lifetime in seconds", examples=[3600])
