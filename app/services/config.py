"""Save, then apply: render every enabled target from one snapshot, publish atomically, keep revisions.

The number of SQL statements an apply runs does not depend on the size of the
organization: the snapshot is two queries, whatever the number of accounts or devices.
"""

from __future__ import annotations

import asyncio
import contextlib
import difflib
import hashlib
import os
import shutil
import signal
from pathlib import Path

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.config_gen import writer
from app.config_gen.render import TARGETS, is_secret_path, render_targets
from app.config_gen.snapshot import AccountInfo, DeviceInfo, OrganizationInfo, RenderOptions, Snapshot, UserInfo
from app.core.context import Context
from app.core.db import after_commit
from app.core.errors import Conflict, Forbidden, NotFound, ValidationProblem
from app.core.security import SecretBox
from app.core.settings import Settings
from app.models import ConfigRevision, ConfigState, Device, Organization, SipAccount, User
from app.models.config import (ApplyRequest, ApplyResult, ConfigStatus, FileChange, ReloadResult, RestoreResult,
                               RevisionDiff)
from app.services import audit
from app.services.config_state import upsert

RESOURCE = "config"
_DIFF_LIMIT = 200_000  # characters of diff per file in a response


def organization_dir(settings: Settings, organization: Organization) -> Path:
    return settings.config_dir / organization.slug


def render_options(settings: Settings) -> RenderOptions:
    transports = [("transport-udp", "udp", settings.asterisk_udp_bind)]
    if settings.asterisk_wss_bind:
        transports.append(("transport-wss", "wss", settings.asterisk_wss_bind))
    return RenderOptions(asterisk_transports=tuple(transports), registrar_port=settings.registrar_port)


async def load_snapshot(session: AsyncSession, organization: Organization, box: SecretBox,
                        options: RenderOptions) -> Snapshot:
    """Everything the renderers need, in two queries (accounts with their users; devices).

    Plain column rows, not ORM objects: building 2,700 tracked instances costs
    more than the rest of an apply.
    """
    account, user, device = SipAccount.__table__.c, User.__table__.c, Device.__table__.c
    rows = (await session.execute(
        select(account.id, account.extension, account.auth_id, account.password_encrypted, account.active,
               account.phone_type, account.recording, account.permission_level, account.max_contacts,
               user.id, user.first_name, user.last_name, user.email, user.caller_id, user.language,
               user.voicemail_enabled, user.voicemail_pin_encrypted)
        .select_from(SipAccount.__table__.outerjoin(User.__table__, user.id == account.user_id))
        .where(account.organization_id == organization.id).order_by(account.extension)
    )).all()
    accounts: dict = {}
    for (account_id, extension, auth_id, password, active, phone_type, recording, level, max_contacts,
         user_id, first_name, last_name, email, caller_id, language, voicemail, pin) in rows:
        user_info = None
        if user_id is not None:
            plain_pin = box.decrypt(pin) if voicemail and pin else None
            user_info = UserInfo(id=str(user_id), first_name=first_name, last_name=last_name, email=email,
                                 caller_id=caller_id, language=language, voicemail_enabled=plain_pin is not None,
                                 voicemail_pin=plain_pin)
        accounts[account_id] = AccountInfo(
            id=str(account_id), extension=extension, auth_id=auth_id, password=box.decrypt(password), active=active,
            phone_type=phone_type, recording=recording, permission_level=level, max_contacts=max_contacts,
            user=user_info)
    devices = (await session.execute(
        select(device.id, device.mac, device.vendor, device.model, device.label, device.sip_account_id)
        .where(device.organization_id == organization.id).order_by(device.id))).all()
    return Snapshot(
        organization=OrganizationInfo(id=str(organization.id), slug=organization.slug, name=organization.name,
                                      sip_domain=organization.sip_domain, sip_proxy=organization.sip_proxy,
                                      timezone=organization.timezone, ring_timeout=organization.ring_timeout),
        accounts=tuple(accounts.values()),
        devices=tuple(DeviceInfo(id=str(d_id), mac=mac, vendor=vendor, model=model, label=label,
                                 account=accounts.get(account_id))
                      for d_id, mac, vendor, model, label, account_id in devices),
        options=options,
    )


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _diff(path: str, old: bytes | None, new: bytes | None) -> str:
    text = "".join(difflib.unified_diff(
        (old or b"").decode("utf-8", "replace").splitlines(keepends=True),
        (new or b"").decode("utf-8", "replace").splitlines(keepends=True),
        fromfile=f"a/{path}", tofile=f"b/{path}"))
    return text if len(text) <= _DIFF_LIMIT else text[:_DIFF_LIMIT] + "\n[diff truncated]\n"


def may_read_secret_files(ctx: Context) -> bool:
    """Files holding credentials are for principals who may reveal every account's secret."""
    return ctx.principal.can("sip_secrets.read") and ctx.principal.scope == "all"


def visible_hashes(ctx: Context, hashes: dict[str, str]) -> dict[str, str | None]:
    """File hashes, with those of secret files hidden: a hash of a file with a short PIN can be brute-forced."""
    may = may_read_secret_files(ctx)
    return {path: digest if may or not is_secret_path(path) else None for path, digest in hashes.items()}


def _compare(ctx: Context, old_hashes: dict[str, str], new_files: dict[str, bytes],
             read_old, with_diff: bool) -> list[FileChange]:
    """Per-file status against the live set; hashes and diffs of secret files only for those who may read them."""
    may_see_secrets = may_read_secret_files(ctx)
    changes = []
    for path in sorted(set(old_hashes) | set(new_files)):
        new = new_files.get(path)
        new_hash = _sha256(new) if new is not None else None
        old_hash = old_hashes.get(path)
        status = ("added" if old_hash is None else "removed" if new is None
                  else "unchanged" if old_hash == new_hash else "changed")
        secret = is_secret_path(path)
        diff = None
        if with_diff and status != "unchanged" and (may_see_secrets or not secret):
            diff = _diff(path, read_old(path) if old_hash is not None else None, new)
        changes.append(FileChange(path=path, status=status, sha256=new_hash if may_see_secrets or not secret else None,
                                  diff=diff))
    return changes


async def _audit_secret_diffs(ctx: Context, changes: list[FileChange], what: str) -> None:
    shown = [c.path for c in changes if c.diff is not None and is_secret_path(c.path)]
    if shown:
        await audit.record(ctx, "config.secret_diff_read", RESOURCE, what, after={"paths": shown})


async def _last_revision(session: AsyncSession, organization_id) -> ConfigRevision | None:
    return (await session.execute(
        select(ConfigRevision).where(ConfigRevision.organization_id == organization_id)
        .order_by(ConfigRevision.number.desc()).limit(1))).scalar_one_or_none()


async def _lock(session: AsyncSession, organization_id) -> ConfigState:
    """One apply at a time per organization, across processes.

    PostgreSQL: the organization's config_states row is locked FOR UPDATE until commit
    (writers touch that row last, so they wait a moment rather than interleave).
    SQLite: every transaction starts with BEGIN IMMEDIATE, which already serializes them.
    """
    await session.execute(upsert(session)(ConfigState).values(organization_id=organization_id)
                          .on_conflict_do_nothing(index_elements=[ConfigState.organization_id]))
    return (await session.execute(select(ConfigState).where(ConfigState.organization_id == organization_id)
                                  .with_for_update())).scalar_one()


def _enabled_targets(settings: Settings, requested: list[str] | None) -> list[str]:
    enabled = [t for t in TARGETS if t in settings.config_targets]
    if requested is None:
        return enabled
    disabled = sorted(set(requested) - set(enabled))
    if disabled:
        raise ValidationProblem.field(["body", "targets"], f"Target(s) not enabled on this server: {', '.join(disabled)}")
    return [t for t in enabled if t in requested]


async def apply(ctx: Context, request: ApplyRequest) -> ApplyResult:
    """Render the enabled targets; make a revision and publish it when the output differs from the live one."""
    session, settings, organization = ctx.session, ctx.settings, ctx.organization
    targets = _enabled_targets(settings, request.targets)
    state = None if request.dry_run else await _lock(session, organization.id)
    last = await _last_revision(session, organization.id)
    org_dir = organization_dir(settings, organization)
    def read_old(path: str) -> bytes | None:
        return writer.read_live_file(org_dir, path)

    old_hashes = dict(last.files) if last else {}

    snapshot = await load_snapshot(session, organization, ctx.secret_box, render_options(settings))
    try:
        rendered = {path: text.encode() for path, text in render_targets(snapshot, targets).items()}
    except ValueError as exc:
        # The API refuses what renderers refuse; this catches data older than a rule.
        raise Conflict(f"The configuration cannot be rendered: {exc}. Correct that record and apply again.",
                       slug="render-error") from exc
    # Targets not applied now keep their live files: a revision is always the whole set.
    prefixes = tuple(f"{t}/" for t in targets)
    new_files = dict(rendered)
    for path in old_hashes:
        if not path.startswith(prefixes):
            kept = read_old(path)
            if kept is not None:
                new_files[path] = kept
    with_diff = request.dry_run if request.include_diff is None else request.include_diff
    changes = _compare(ctx, old_hashes, new_files, read_old, with_diff=with_diff)
    changed = any(c.status != "unchanged" for c in changes)
    await _audit_secret_diffs(ctx, changes, "dry-run" if request.dry_run else "apply")
    if request.dry_run:
        return ApplyResult(dry_run=True, created=False, revision=last.number if last else None, files=changes)

    reloads: list[ReloadResult] = []
    number = last.number if last else None
    if changed:
        number = max(last.number if last else 0, writer.latest_revision_number(org_dir)) + 1
        await asyncio.to_thread(writer.publish, org_dir, number, new_files, is_secret_path)
        reloads = await run_reloads(settings, organization, org_dir, targets)
        session.add(ConfigRevision(
            organization_id=organization.id, number=number, actor_id=ctx.principal.id, actor_name=ctx.principal.name,
            targets=targets, files={path: _sha256(data) for path, data in sorted(new_files.items())},
            reloads=[r.model_dump() for r in reloads]))
        await _prune(session, settings, organization, org_dir, number)
    if set(targets) == set(_enabled_targets(settings, None)):
        # Only a full apply makes the live set match the database.
        state.pending_changes = 0
        state.live_differs = False
    await audit.record(ctx, "config.apply", RESOURCE, number, after={
        "revision": number, "created": changed, "targets": targets,
        "files": {c.path: c.status for c in changes if c.status != "unchanged"},
        "reloads": [{"target": r.target, "exit_code": r.exit_code, "ok": r.ok, "output": r.output} for r in reloads]})
    return ApplyResult(dry_run=False, created=changed, revision=number, files=changes, reloads=reloads)


async def _prune(session: AsyncSession, settings: Settings, organization: Organization, org_dir: Path, newest: int) -> None:
    oldest_kept = newest - settings.config_keep_revisions + 1
    await session.execute(delete(ConfigRevision).where(ConfigRevision.organization_id == organization.id,
                                                       ConfigRevision.number < oldest_kept))

    async def prune_files() -> None:
        # After the commit: the revision rows that point at these directories are gone by then.
        await asyncio.to_thread(writer.prune, org_dir, settings.config_keep_revisions, {newest})

    after_commit(session, f"prune:{organization.id}", prune_files)


async def remove_organization_files(session: AsyncSession, settings: Settings, organization: Organization) -> None:
    """Once the organization's deletion commits, take its configuration off disk (phones and
    registrar must stop using its credentials; a future organization may reuse the slug)."""
    org_dir = organization_dir(settings, organization)

    async def remove() -> None:
        await asyncio.to_thread(shutil.rmtree, org_dir, True)

    after_commit(session, f"remove:{organization.id}", remove)


async def run_reloads(settings: Settings, organization: Organization, org_dir: Path,
                      targets: list[str]) -> list[ReloadResult]:
    """Run each applied target's reload command (if configured) after the switch; report, never hide, failures."""
    results = []
    for target in targets:
        command = getattr(settings, f"reload_{target}", None)
        if not command:
            continue
        env = {**os.environ, "CENTRALINO_ORGANIZATION": organization.slug,
               "CENTRALINO_LIVE_DIR": str(org_dir / "current")}
        try:
            # A session of its own, so a timeout can stop the command's children too.
            process = await asyncio.create_subprocess_shell(
                command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, env=env,
                start_new_session=True)
        except OSError as exc:
            results.append(ReloadResult(target=target, command=command, exit_code=None, output=str(exc), ok=False))
            continue
        try:
            output, _ = await asyncio.wait_for(process.communicate(), timeout=settings.reload_timeout_seconds)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            await process.wait()
            results.append(ReloadResult(target=target, command=command, exit_code=None, ok=False,
                                        output=f"timed out after {settings.reload_timeout_seconds} s"))
            continue
        text = output.decode("utf-8", "replace")[-4000:]
        results.append(ReloadResult(target=target, command=command, exit_code=process.returncode, output=text,
                                    ok=process.returncode == 0))
    return results


async def status(ctx: Context) -> ConfigStatus:
    state = await ctx.session.get(ConfigState, ctx.principal.organization_id)
    last = await _last_revision(ctx.session, ctx.principal.organization_id)
    pending = state.pending_changes if state else 0
    return ConfigStatus(pending=pending > 0 or bool(state and state.live_differs), changes_since_apply=pending,
                        last_change_at=state.last_change_at if state else None,
                        last_revision=last.number if last else None, last_applied_at=last.created_at if last else None,
                        live_differs_from_database=bool(state and state.live_differs))


async def list_revisions(ctx: Context, limit: int, offset: int) -> tuple[list[ConfigRevision], int, int | None]:
    base = select(ConfigRevision).where(ConfigRevision.organization_id == ctx.principal.organization_id)
    total = (await ctx.session.execute(select(func.count()).select_from(base.subquery()))).scalar_one()
    rows = (await ctx.session.execute(base.order_by(ConfigRevision.number.desc()).limit(limit).offset(offset))).scalars().all()
    last = await _last_revision(ctx.session, ctx.principal.organization_id)
    return list(rows), total, last.number if last else None


async def live_number(ctx: Context) -> int | None:
    last = await _last_revision(ctx.session, ctx.principal.organization_id)
    return last.number if last else None


async def get_revision(ctx: Context, number: int) -> ConfigRevision:
    revision = (await ctx.session.execute(select(ConfigRevision).where(
        ConfigRevision.organization_id == ctx.principal.organization_id, ConfigRevision.number == number))).scalar_one_or_none()
    if revision is None:
        raise NotFound(f"Revision {number} not found (it may have been pruned)")
    return revision


def _check_secret_access(ctx: Context, path: str) -> None:
    if is_secret_path(path) and not may_read_secret_files(ctx):
        raise Forbidden(f"'{path}' holds secrets: reading it needs sip_secrets.read with management scope 'all'")


def _revision_file(ctx: Context, revision: ConfigRevision, path: str) -> bytes:
    if path not in revision.files:
        raise NotFound(f"Revision {revision.number} has no file '{path}'")
    data = writer.read_revision_file(organization_dir(ctx.settings, ctx.organization), revision.number, path)
    if data is None:
        raise NotFound(f"The files of revision {revision.number} are no longer on disk")
    return data


async def revision_file(ctx: Context, number: int, path: str) -> bytes:
    """One file of a revision, byte for byte (secret files need sip_secrets.read; audited)."""
    revision = await get_revision(ctx, number)
    _check_secret_access(ctx, path)
    data = _revision_file(ctx, revision, path)
    if is_secret_path(path):
        await audit.record(ctx, "config.secret_file_read", RESOURCE, number, after={"path": path})
    return data


async def diff_revisions(ctx: Context, base_number: int, other_number: int) -> RevisionDiff:
    base, other = await get_revision(ctx, base_number), await get_revision(ctx, other_number)
    other_files = {path: _revision_file(ctx, other, path) for path in other.files}
    changes = _compare(ctx, dict(base.files), other_files, lambda p: _revision_file(ctx, base, p), with_diff=True)
    await _audit_secret_diffs(ctx, changes, f"{base_number}..{other_number}")
    return RevisionDiff(base=base_number, other=other_number, files=changes)


async def restore(ctx: Context, number: int) -> RestoreResult:
    """Make an older revision's files live again, byte for byte, as a new revision."""
    session, settings, organization = ctx.session, ctx.settings, ctx.organization
    state = await _lock(session, organization.id)
    source = await get_revision(ctx, number)
    files = {path: _revision_file(ctx, source, path) for path in source.files}
    last = await _last_revision(session, organization.id)
    org_dir = organization_dir(settings, organization)
    new_number = max(last.number if last else 0, writer.latest_revision_number(org_dir)) + 1
    await asyncio.to_thread(writer.publish, org_dir, new_number, files, is_secret_path)
    targets = sorted({path.split("/", 1)[0] for path in files})
    reloads = await run_reloads(settings, organization, org_dir, [t for t in TARGETS if t in targets])
    session.add(ConfigRevision(organization_id=organization.id, number=new_number, actor_id=ctx.principal.id,
                               actor_name=ctx.principal.name, targets=targets, files=dict(source.files),
                               restored_from=number, reloads=[r.model_dump() for r in reloads]))
    state.live_differs = True
    await _prune(session, settings, organization, org_dir, new_number)
    await audit.record(ctx, "config.restore", RESOURCE, new_number, after={
        "revision": new_number, "restored_from": number,
        "reloads": [{"target": r.target, "exit_code": r.exit_code, "ok": r.ok, "output": r.output} for r in reloads]})
    return RestoreResult(revision=new_number, restored_from=number, database_differs=True, reloads=reloads)

