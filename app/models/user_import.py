"""Users as CSV: the columns of the export and the import, and what an import reports."""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field as PydanticField, field_validator

from app.core.validation import Email, Language, Name, OptionalName, PhoneNumber
from app.models.base import ApiModel
from app.models.enums import PresenceStatus

# In this order in an export; an import takes any of them, in any order (first_name is required). ``id`` matches
# a row to its user before the e-mail does, so users without an e-mail import back unchanged too.
COLUMNS = ("id", "email", "first_name", "last_name", "mobile", "caller_id", "language", "status", "directory_visible",
           "multiple_calls", "login_required", "voicemail_enabled", "active", "extension", "groups")


class OnConflict(StrEnum):
    """What an import does with a row whose e-mail (or id) is an existing user's."""

    skip = "skip"
    update = "update"
    fail = "fail"


class ImportAction(StrEnum):
    """What an import does with a row."""

    created = "created"
    updated = "updated"
    unchanged = "unchanged"
    skipped = "skipped"


class CsvDelimiter(StrEnum):
    """The separator of an exported CSV file."""

    comma = ","
    semicolon = ";"


class CsvUserRow(BaseModel):
    """One row, as read from its cells (an empty cell: the default, or for an optional value none)."""

    model_config = ConfigDict(extra="forbid")

    id: uuid.UUID | None = None
    first_name: Name
    last_name: OptionalName = ""
    email: Email | None = None
    mobile: PhoneNumber | None = None
    caller_id: PhoneNumber | None = None
    language: Language = "en"
    status: PresenceStatus = PresenceStatus.available
    directory_visible: bool = True
    multiple_calls: bool = True
    login_required: bool = False
    voicemail_enabled: bool = False
    active: bool = True
    extension: Annotated[int, PydanticField(ge=1, le=99_999_999)] | Literal["next"] | None = None
    groups: list[Name] | None = None

    @field_validator("extension", mode="before")
    @classmethod
    def _number(cls, value: object) -> object:
        if isinstance(value, str) and value.isdigit() and not value.startswith("0"):
            return int(value)
        if value not in (None, "next") and not isinstance(value, int):
            raise ValueError('must be an extension number or "next"')
        return value


class RowError(ApiModel):
    """A problem of one row (the header is row 1) and, when it is one cell's, its column."""

    row: int
    column: str | None
    message: str


class ImportRowResult(ApiModel):
    """What the import does (or, in a dry run, would do) with one row."""

    row: int
    email: str | None
    action: ImportAction
    user_id: uuid.UUID | None = PydanticField(description="The user (none for a user a dry run would create)")
    extension: int | None


class ImportResult(ApiModel):
    """The outcome of an import: counts, each row, and the problems (only a dry run returns them with a 200)."""

    dry_run: bool
    created: int
    updated: int
    unchanged: int
    skipped: int
    rows: list[ImportRowResult]
    errors: list[RowError]
