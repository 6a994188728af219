"""Configuration state, revisions and the apply API's schemas."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from app.models.base import json_field, optional_timestamp_field, timestamp_field

Target = Literal["asterisk", "kamailio", "provisioning"]


class ConfigState(SQLModel, table=True):
    """Per organization: changes saved since the last apply. Its row is also the apply lock on PostgreSQL."""

    __tablename__ = "config_states"

    organization_id: uuid.UUID = Field(foreign_key="organizations.id", primary_key=True, ondelete="CASCADE")
    pending_changes: int = 0
    last_change_at: datetime | None = optional_timestamp_field()
    # Set by a restore: the live files no longer match the database.
    live_differs: bool = False


class ConfigRevision(SQLModel, table=True):
    __tablename__ = "config_revisions"
    __table_args__ = (UniqueConstraint("organization_id", "number"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    organization_id: uuid.UUID = Field(foreign_key="organizations.id", ondelete="CASCADE", index=True)
    number: int
    created_at: datetime = timestamp_field()
    actor_id: uuid.UUID | None = None
    actor_name: str = Field(max_length=150)
    targets: list[str] = json_field(default_factory=list)
    files: dict[str, str] = json_field(default_factory=dict)  # path -> sha256
    restored_from: int | None = None
    reloads: list[dict] = json_field(default_factory=list)


class ApplyRequest(SQLModel):
    dry_run: bool = Field(default=False, description="Only report what would change; write nothing")
    include_diff: bool | None = Field(default=None, description="Unified diffs per changed file; default: on for "
                                                                "dry runs, off for applies (see /revisions/{a}/diff/{b})")
    targets: list[Target] | None = Field(default=None, min_length=1,
                                         description="Default: every enabled target. Applying only some keeps the "
                                                     "configuration pending until every target is applied",
                                         schema_extra={"examples": [["asterisk", "kamailio"]]})


FileStatus = Literal["added", "changed", "removed", "unchanged"]


class FileChange(SQLModel):
    path: str = Field(schema_extra={"examples": ["asterisk/pjsip.conf"]})
    status: FileStatus
    sha256: str | None = Field(description="Of the new content; null when removed")
    diff: str | None = Field(default=None, description="Unified diff; withheld for files holding secrets "
                                                       "unless the caller has sip_secrets.read")


class ReloadResult(SQLModel):
    target: str
    command: str
    exit_code: int | None = Field(description="null when the command timed out or could not start")
    output: str
    ok: bool


class ApplyResult(SQLModel):
    dry_run: bool
    created: bool = Field(description="True when a new revision was made (the output differed)")
    revision: int | None = Field(description="The live revision after this call")
    files: list[FileChange]
    reloads: list[ReloadResult] = []


class RevisionRead(SQLModel):
    number: int
    created_at: datetime
    actor_id: uuid.UUID | None
    actor_name: str
    targets: list[str]
    files: dict[str, str | None] = Field(description="path -> sha256 (null for files holding secrets, unless the "
                                                     "caller has sip_secrets.read with scope all)")
    restored_from: int | None
    reloads: list[dict]
    live: bool = Field(description="True for the revision currently live")


class ConfigStatus(SQLModel):
    pending: bool
    changes_since_apply: int
    last_change_at: datetime | None
    last_revision: int | None
    last_applied_at: datetime | None
    live_differs_from_database: bool = Field(description="True after a restore, until the next apply")


class RevisionDiff(SQLModel):
    base: int
    other: int
    files: list[FileChange]


class RestoreResult(SQLModel):
    revision: int = Field(description="The new live revision, byte for byte the restored one's files")
    restored_from: int
    database_differs: bool = Field(description="The database still holds the newer data: apply to make it live again")
    reloads: list[ReloadResult] = []
