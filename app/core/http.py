"""HTTP concurrency helpers: ETag and If-Match."""

from __future__ import annotations

import hashlib
from types import SimpleNamespace
from typing import Annotated, Protocol

from fastapi import Header, Response

from app.core.errors import PreconditionFailed


class Versioned(Protocol):
    id: object
    version: int


def etag_of(resource: Versioned) -> str:
    digest = hashlib.sha256(f"{resource.id}:{resource.version}".encode()).hexdigest()[:20]
    return f'"{digest}"'


def versioned_or_default(row: Versioned | None, owner_id: object, document: str) -> Versioned:
    """What the ETag of a user's sub-document is computed from: its stored row, or while the user has the
    defaults (no row), a stable stand-in of version 0."""
    return row if row is not None else SimpleNamespace(id=f"{owner_id}/{document}", version=0)


def set_etag(response: Response, resource: Versioned) -> None:
    response.headers["ETag"] = etag_of(resource)


IfMatch = Annotated[
    str | None,
    Header(alias="If-Match", description="ETag from a previous GET; the change is refused with 412 when stale"),
]


def check_if_match(if_match: str | None, resource: Versioned) -> None:
    """Refuse (412) a change based on a stale representation."""
    if if_match is None:
        return
    current = etag_of(resource)
    candidates = {tag.strip().removeprefix("W/") for tag in if_match.split(",")}
    if "*" not in candidates and current not in candidates:
        raise PreconditionFailed("The resource has changed since you read it (If-Match does not match its ETag)")
