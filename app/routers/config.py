"""Save, then apply: configuration status, apply, revisions."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import Body, Depends, Path, Query, Request
from fastapi.responses import Response

from app.core.context import Context, require
from app.core.db import PHASED, WRITE
from app.models.config import (ApplyRequest, ApplyResult, ConfigRevision, ConfigStatus, ReloadResult, RestoreResult,
                               RevisionDiff, RevisionPage, RevisionRead)
from app.models.enums import ConfigTarget
from app.routers.common import api_router, responses
from app.services import config

router = api_router("/config", "config")
Readers = Annotated[Context, Depends(require("config.read"))]
# Revisions and their files list every extension of the organization: for scope 'all' only.
RevisionReaders = Annotated[Context, Depends(require("config.read", scope_all=True))]
# Reads that may show a file holding secrets record an audit entry: their transaction writes.
AuditedRevisionReaders = Annotated[Context, Depends(require("config.read", scope_all=True, transaction=WRITE))]
# Apply and restore run their own short transactions around the slow rendering and publishing.
Appliers = Annotated[Context, Depends(require("config.apply", scope_all=True, transaction=PHASED))]
RevisionNumber = Annotated[int, Path(ge=1, le=2**31 - 1, description="Revision number")]


def _revision(revision: ConfigRevision, live: int | None, may_see_secrets: bool) -> RevisionRead:
    return RevisionRead.model_construct(
        number=revision.number, created_at=revision.created_at, actor_id=revision.actor_id,
        actor_name=revision.actor_name, targets=[ConfigTarget(t) for t in revision.targets],
        files=config.visible_hashes(revision.files, may_see_secrets), restored_from=revision.restored_from,
        reloads=None if revision.reloads is None else [ReloadResult.model_validate(r) for r in revision.reloads],
        live=revision.number == live)


@router.get("/status", response_model=ConfigStatus, summary="Are changes waiting to be applied?",
            responses=responses(401, 403, 422), operation_id="config_status")
async def config_status(ctx: Readers) -> ConfigStatus:
    """Whether saved changes are pending, how many, and the last applied revision."""
    return await config.status(ctx)


@router.post("/apply", response_model=ApplyResult, summary="Apply the configuration",
             responses=responses(401, 403, 409, 422), operation_id="config_apply")
async def apply_config(ctx: Appliers, request: Request,
                       payload: Annotated[ApplyRequest, Body(default_factory=ApplyRequest)]) -> ApplyResult:
    """Render every enabled target (asterisk, kamailio, provisioning) for the organization.

    With `dry_run` nothing is written: each file is reported as added, changed, removed or unchanged,
    with a unified diff. Otherwise a new revision is published atomically — only when the output differs
    from the live one — and recorded; then the targets' reload commands run (their results are recorded
    in a second audit entry) and the pending state is cleared. The body is optional (`{}` or none applies
    everything). Two applies of one organization never interleave; applies of other organizations and
    requests of any organization are not blocked meanwhile."""
    started = time.perf_counter()
    result = await config.apply(ctx, payload)
    if not result.dry_run:
        metrics = request.app.state.metrics
        metrics.apply_duration.observe(time.perf_counter() - started)
        if result.created:
            metrics.revisions.inc()
    return result


@router.get("/revisions", response_model=RevisionPage, summary="List revisions", responses=responses(401, 403, 422),
            operation_id="config_revisions_list")
async def list_revisions(ctx: RevisionReaders, limit: Annotated[int, Query(ge=1, le=500)] = 50,
                         offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0) -> RevisionPage:
    """Applied revisions, newest first (the oldest are pruned beyond the configured number kept)."""
    rows, total, live = await config.list_revisions(ctx, limit, offset)
    may_see_secrets = await config.may_read_secret_files(ctx)
    return RevisionPage.model_construct(items=[_revision(r, live, may_see_secrets) for r in rows], total=total,
                                        limit=limit, offset=offset)


@router.get("/revisions/{number}", response_model=RevisionRead, summary="Get a revision",
            responses=responses(401, 403, 404, 422), operation_id="config_revisions_get")
async def get_revision(number: RevisionNumber, ctx: RevisionReaders) -> RevisionRead:
    """Who applied it, when, and the sha256 of each file."""
    revision = await config.get_revision(ctx, number)
    return _revision(revision, await config.live_number(ctx), await config.may_read_secret_files(ctx))


@router.get("/revisions/{number}/files/{path:path}", summary="A file of a revision",
            response_class=Response, operation_id="config_revisions_file",
            responses={200: {"content": {"text/plain": {"schema": {"type": "string"}},
                                         "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
                             "description": "The file, byte for byte (sounds as application/octet-stream)"},
                       **responses(401, 403, 404, 422)})
async def get_revision_file(number: RevisionNumber, path: Annotated[str, Path(max_length=500)],
                            ctx: AuditedRevisionReaders) -> Response:
    """The file's content as applied. Files holding secrets need `sip_secrets.read` and their reads are audited."""
    data = await config.revision_file(ctx, number, path)
    binary = path.endswith(".wav")
    return Response(content=data, media_type="application/octet-stream" if binary else "text/plain; charset=utf-8")


@router.get("/revisions/{base}/diff/{other}", response_model=RevisionDiff, summary="Diff two revisions",
            responses=responses(401, 403, 404, 422), operation_id="config_revisions_diff")
async def diff_revisions(base: RevisionNumber, other: RevisionNumber, ctx: AuditedRevisionReaders) -> RevisionDiff:
    """Per file: added, changed, removed or unchanged going from `base` to `other`, with unified diffs
    (those of files holding secrets only for principals with `sip_secrets.read`; such reads are audited)."""
    return await config.diff_revisions(ctx, base, other)


@router.post("/revisions/{number}/restore", response_model=RestoreResult, summary="Restore a revision",
             responses=responses(401, 403, 404, 409, 422), operation_id="config_revisions_restore")
async def restore_revision(number: RevisionNumber, ctx: Appliers) -> RestoreResult:
    """Publish an older revision's files, byte for byte, as the live set (a new revision).
    The database keeps the newer data, so the status shows it differs until the next apply."""
    return await config.restore(ctx, number)
