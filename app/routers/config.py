"""Save, then apply: configuration status, apply, revisions."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Query
from fastapi.responses import Response

from app.core.context import Context, require
from app.core.errors import problem_responses
from app.models.base import Page
from app.models.config import ApplyRequest, ApplyResult, ConfigStatus, RestoreResult, RevisionDiff, RevisionRead
from app.routers.common import ITEM_ERRORS, READ_ERRORS, api_router
from app.services import config

router = api_router("/config", "config")
Readers = Annotated[Context, Depends(require("config.read"))]
Appliers = Annotated[Context, Depends(require("config.apply", scope_all=True))]
RevisionNumber = Annotated[int, Path(ge=1, le=2**31 - 1, description="Revision number")]


def _revision(ctx: Context, revision, live: int | None) -> RevisionRead:
    return RevisionRead(number=revision.number, created_at=revision.created_at, actor_id=revision.actor_id,
                        actor_name=revision.actor_name, targets=revision.targets,
                        files=config.visible_hashes(ctx, revision.files),
                        restored_from=revision.restored_from, reloads=revision.reloads, live=revision.number == live)


@router.get("/status", response_model=ConfigStatus, summary="Are changes waiting to be applied?", responses=READ_ERRORS)
async def config_status(ctx: Readers) -> ConfigStatus:
    """Whether saved changes are pending, how many, and the last applied revision."""
    return await config.status(ctx)


@router.post("/apply", response_model=ApplyResult, summary="Apply the configuration",
             responses=problem_responses(401, 403, 422))
async def apply_config(ctx: Appliers, payload: ApplyRequest | None = None) -> ApplyResult:
    """Render every enabled target (asterisk, kamailio, provisioning) for the organization.

    With `dry_run` nothing is written: each file is reported as added, changed, removed or unchanged,
    with a unified diff. Otherwise a new revision is published atomically — only when the output differs
    from the live one — the targets' reload commands run, and the pending state is cleared.
    Two applies of one organization never interleave."""
    return await config.apply(ctx, payload or ApplyRequest())


@router.get("/revisions", response_model=Page[RevisionRead], summary="List revisions", responses=READ_ERRORS)
async def list_revisions(ctx: Readers, limit: Annotated[int, Query(ge=1, le=500)] = 50,
                         offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0) -> Page[RevisionRead]:
    """Applied revisions, newest first (the oldest are pruned beyond the configured number kept)."""
    rows, total, live = await config.list_revisions(ctx, limit, offset)
    return Page(items=[_revision(ctx, r, live) for r in rows], total=total, limit=limit, offset=offset)


@router.get("/revisions/{number}", response_model=RevisionRead, summary="Get a revision", responses=ITEM_ERRORS)
async def get_revision(number: RevisionNumber, ctx: Readers) -> RevisionRead:
    """Who applied it, when, and the sha256 of each file."""
    revision = await config.get_revision(ctx, number)
    return _revision(ctx, revision, await config.live_number(ctx))


@router.get("/revisions/{number}/files/{path:path}", summary="A file of a revision",
            response_class=Response, responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}},
                                                      "description": "The file, byte for byte"},
                                                **ITEM_ERRORS})
async def get_revision_file(number: RevisionNumber, path: str, ctx: Readers) -> Response:
    """The file's content as applied. Files holding secrets need `sip_secrets.read` and their reads are audited."""
    data = await config.revision_file(ctx, number, path)
    return Response(content=data, media_type="text/plain; charset=utf-8")


@router.get("/revisions/{base}/diff/{other}", response_model=RevisionDiff, summary="Diff two revisions",
            responses=ITEM_ERRORS)
async def diff_revisions(base: RevisionNumber, other: RevisionNumber, ctx: Readers) -> RevisionDiff:
    """Per file: added, changed, removed or unchanged going from `base` to `other`, with unified diffs."""
    return await config.diff_revisions(ctx, base, other)


@router.post("/revisions/{number}/restore", response_model=RestoreResult, summary="Restore a revision",
             responses=ITEM_ERRORS)
async def restore_revision(number: RevisionNumber, ctx: Appliers) -> RestoreResult:
    """Publish an older revision's files, byte for byte, as the live set (a new revision).
    The database keeps the newer data, so the status shows it differs until the next apply."""
    return await config.restore(ctx, number)
