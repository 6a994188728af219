"""Configuration state, revisions and the apply API's schemas."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import Field as PydanticField
from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from app.models.base import ApiModel, Page, RequestBody, json_field, optional_timestamp_field, timestamp_field
from app.models.enums import ConfigTarget, FileStatus


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
    # The reload commands' results; null until they have run (they run after the commit).
    reloads: list[dict] | None = json_field(default=None, nullable=True)


class ApplyRequest(RequestBody):
    """What to apply; every field is optional (`{}` applies everything)."""

    dry_run: bool = PydanticField(default=False, description="Only report what would change; write nothing")
    include_diff: bool | None = PydanticField(
        default=None, description="Unified diffs per changed file; default: on for dry runs, off for applies "
                                  "(see /revisions/{a}/diff/{b})")
    targets: list[ConfigTarget] | None = PydanticField(
        default=None, min_length=1, max_length=3,
        description="Default: every enabled target. Applying only some keeps the configuration pending until every "
                    "target is applied", examples=[["asterisk", "kamailio"]])


class FileChange(ApiModel):
    """One file's status against the live (or the other) revision."""

    path: str = PydanticField(examples=["asterisk/pjsip.conf"])
    status: FileStatus
    sha256: str | None = PydanticField(description="Of the new content; null when removed, or for a file holding "
                                                   "secrets that the caller may not read")
    diff: str | None = PydanticField(default=None, description="Unified diff; withheld for files holding secrets "
                                                              "unless the caller has sip_secrets.read")


class ReloadResult(ApiModel):
    """What a target's reload command did."""

    target: ConfigTarget
    command: str
    exit_code: int | None = PydanticField(description="null when the command timed out or could not start")
    output: str
    ok: bool


class ApplyResult(ApiModel):
    """The outcome of an apply (or of a dry run)."""

    dry_run: bool
    created: bool = PydanticField(description="True when a new revision was made (the output differed)")
    revision: int | None = PydanticField(description="The live revision after this call")
    files: list[FileChange]
    reloads: list[ReloadResult] = []


class RevisionRead(ApiModel):
    """An applied revision."""

    number: int
    created_at: datetime
    actor_id: uuid.UUID | None
    actor_name: str
    targets: list[ConfigTarget]
    files: dict[str, str | None] = PydanticField(description="path -> sha256 (null for files holding secrets, unless "
                                                            "the caller has sip_secrets.read with scope all)")
    restored_from: int | None
    reloads: list[ReloadResult] | None = PydanticField(description="null while the reload commands have not run yet")
    live: bool = PydanticField(description="True for the revision currently live")


class RevisionPage(Page[RevisionRead]):
    """A page of revisions."""


class ConfigStatus(ApiModel):
    """Whether saved changes wait to be applied."""

    pending: bool
    changes_since_apply: int
    last_change_at: datetime | None
    last_revision: int | None
    last_applied_at: datetime | None
    live_differs_from_database: bool = PydanticField(description="True after a restore, until the next apply")


class RevisionDiff(ApiModel):
    """Per-file differences between two revisions."""

    base: int
    other: int
    files: list[FileChange]


class RestoreResult(ApiModel):
    """The outcome of a restore."""

    revision: int = PydanticField(description="The new live revision, byte for byte the restored one's files")
    restored_from: int
    database_differs: bool = PydanticField(description="The database still holds the newer data: apply to make it "
                                                       "live again")
    reloads: list[ReloadResult] = []
