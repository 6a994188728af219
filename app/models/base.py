"""Shared column types and mixins for every table."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict
from sqlalchemy import JSON, DateTime, TypeDecorator
from sqlmodel import Field, SQLModel

# Explicit constraint names, so that migrations are reproducible on every backend.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC timestamp on every backend (SQLite stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def timestamp_field(**kwargs: Any) -> Any:
    return Field(default_factory=utcnow, sa_type=UTCDateTime, **kwargs)


def optional_timestamp_field(**kwargs: Any) -> Any:
    return Field(default=None, sa_type=UTCDateTime, **kwargs)


def json_field(**kwargs: Any) -> Any:
    return Field(sa_type=JSON, **kwargs)


class TenantRow(SQLModel):
    """Columns every organization-owned, versioned resource has."""

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    organization_id: uuid.UUID = Field(foreign_key="organizations.id", index=True, ondelete="CASCADE")
    created_at: datetime = timestamp_field()
    updated_at: datetime = timestamp_field()
    version: int = Field(default=1)


class ApiModel(BaseModel):
    """Base of every API schema (plain pydantic: SQLModel is for tables)."""

    model_config = ConfigDict(from_attributes=True)


class RequestBody(ApiModel):
    """Base of request bodies: an unknown field is refused, so a typo is not silently ignored."""

    model_config = ConfigDict(extra="forbid")


T = TypeVar("T")


class Page(ApiModel, Generic[T]):
    """One page of a list; each resource names its own page schema (``UserPage``, ...)."""

    items: list[T]
    total: int
    limit: int
    offset: int
