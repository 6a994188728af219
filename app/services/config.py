"""Save, then apply: render every enabled target from one snapshot, publish atomically, keep revisions.

An apply (and a restore) runs in phases, so that it never holds the database's
write lock while it works and a crash at any point leaves disk and database in
agreement:

1. Take the organization's files lock (and, on PostgreSQL, its row), then put the
   disk back in line with the revision rows (a crashed apply may have left files).
2. Read: the pending-change count, the last revision and the snapshot, in one
   read transaction (on SQLite it does not block writers).
3. Render and compare in a worker thread; publish a new revision directory and
   switch ``current`` (only when the output differs).
4. Write, briefly: the revision row (reloads not yet run), the pending count minus
   what the snapshot covered, the audit entry. Commit; prune old revisions' files.
5. After the commit and the lock: run the reload commands and record their result
   on the revision, with a second audit entry.

A kill before 4 commits leaves a revision directory the database does not know:
the next apply, or the next start of the service, removes it and points
``current`` back at the newest known revision. A kill after 4 leaves a revision
whose reloads never ran: the next start runs them.

The number of SQL statements does not depend on the size of the organization:
the snapshot is four queries, whatever the number of accounts, devices, groups or members.
"""

from __future__ import annotations

import asyncio
import contextlib
import difflib
import gc
import hashlib
import os
import shutil
import signal
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.config_gen import writer
from app.config_gen.provisioning import device_files
from app.config_gen.render import TARGETS, is_secret_path, render_targets
from app.config_gen.asterisk_forwarding import AGENT_CODE, status_code
from app.config_gen.asterisk_schedules import ScheduleInfo
from app.config_gen.asterisk_trunks import RouteInfo, TrunkInfo
from app.config_gen.snapshot import (AccountInfo, auth_username, KeyInfo, UserOptionsInfo, DeviceInfo, DidInfo, GroupInfo, MemberInfo, OrganizationInfo,
                                     RenderOptions, Snapshot, UserInfo)
from app.core.context import Context
from app.core.db import after_commit, begin_write, begin_write_phase, commit, end_read_phase, is_sqlite
from app.core.errors import Conflict, Forbidden, NotFound, ValidationProblem
from app.core.security import SecretBox
from app.core.settings import Settings
from app.models import (ConfigRevision, ConfigState, Device, Did, Group, GroupMember, InboundRule, Organization, Role,
                        SipAccount, User)
from app.models.office_hours import OfficeHours
from app.models.forwarding import UserForwarding
from app.models.keys import UserKeys
from app.models.options import UserOptions
from app.models.voicemail import VoicemailGreeting
from app.services.options import FIELDS as OPTION_FIELDS
from app.models.trunks import OutboundRoute, Trunk
from app.models.config import (ApplyRequest, ApplyResult, ConfigStatus, FileChange, ReloadResult, RestoreResult,
                               RevisionDiff)
from app.models.enums import FileStatus
from app.models.groups import RIGHTS
from app.services import audit, conferences, ivr_menus, sip_accounts
from app.services.config_lock import organization_files_lock

RESOURCE = "config"
_DIFF_LIMIT = 200_000  # characters of diff per file in a response
_BINARY_SUFFIXES = (".wav",)  # sounds: a diff says they differ, not how


def organization_dir(settings: Settings, organization: Organization) -> Path:
    return settings.config_dir / organization.slug


def render_options(settings: Settings) -> RenderOptions:
    transports = [("transport-udp", "udp", settings.asterisk_udp_bind)]
    if settings.asterisk_wss_bind:
        # Served by Asterisk's HTTP server at that address: TLS (wss) with a certificate, plain ws without.
        protocol = "wss" if settings.asterisk_tls_cert_file else "ws"
        transports.append((f"transport-{protocol}", protocol, settings.asterisk_wss_bind))
    return RenderOptions(asterisk_transports=tuple(transports), registrar_port=settings.registrar_port,
                         config_root=str(settings.config_dir.resolve()), mailcmd=settings.asterisk_mailcmd,
                         polycom_firmware=settings.polycom_firmware,
                         asterisk_http_bind=settings.asterisk_wss_bind or None,
                         asterisk_tls_cert_file=settings.asterisk_tls_cert_file,
                         asterisk_tls_private_key=settings.asterisk_tls_private_key)


@dataclass(frozen=True, slots=True)
class SnapshotRows:
    """What the database holds for a snapshot, still encrypted: decrypting is CPU work for a thread."""

    organization: OrganizationInfo
    accounts: list[tuple]
    devices: list[tuple]
    groups: list[tuple]
    members: list[tuple]
    dids: list[tuple]
    schedules: list[tuple]
    trunks: list[tuple]
    routes: list[tuple]
    conferences: list[tuple]
    ivr_menus: tuple
    forwarding: dict  # user id -> stored forwarding document
    greetings: dict  # user id -> the active voicemail greeting's WAV
    options: dict  # user id -> its options' columns (OPTION_FIELDS, then the encrypted outbound PIN)
    keys: dict  # user id -> its stored phone keys


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a snapshot is built or rendered. Those allocate hundreds of
    thousands of short-lived objects and no cycles: the collections they would trigger cost as much as the work
    itself (measured: 0.55 s instead of 0.33 s for 900 users with their rules), and free nothing."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


async def load_snapshot_rows(session: AsyncSession, organization: Organization) -> SnapshotRows:
    """Everything the renderers need, in a fixed number of queries (accounts with their users; devices; groups;
    memberships; DIDs with their rules; schedules).

    Plain column rows, not ORM objects: building 2,700 tracked instances costs
    more than the rest of an apply. The rows (and the JSON documents in them) are
    thousands of acyclic objects: the cyclic collector stays paused while they are
    fetched, as while they are rendered (measured: 0.11 s instead of 0.19 s for 900 users).
    """
    with _collector_paused():
        return await _load_snapshot_rows(session, organization)


async def _load_snapshot_rows(session: AsyncSession, organization: Organization) -> SnapshotRows:
    account, user, device = SipAccount.__table__.c, User.__table__.c, Device.__table__.c
    accounts = (await session.execute(
        select(account.id, account.extension, account.auth_id, account.password_encrypted, account.active,
               account.phone_type, account.recording, account.permission_level, account.max_contacts,
               user.id, user.first_name, user.last_name, user.email, user.caller_id, user.language,
               user.voicemail_enabled, user.voicemail_pin_encrypted, user.mobile, user.status,
               user.voicemail_pin_required, user.voicemail_play_caller_id, user.voicemail_read_datetime,
               user.voicemail_email_notification)
        .select_from(SipAccount.__table__.outerjoin(User.__table__, user.id == account.user_id))
        .where(account.organization_id == organization.id).order_by(account.extension)
    )).all()
    forwarding = UserForwarding.__table__.c
    rules = dict((await session.execute(
        select(forwarding.user_id, forwarding.document).where(forwarding.organization_id == organization.id))).all())
    option = UserOptions.__table__.c
    options = {row[0]: row[1:] for row in (await session.execute(
        select(option.user_id, *(option[name] for name in OPTION_FIELDS), option.outbound_pin_encrypted)
        .where(option.organization_id == organization.id))).all()}
    key = UserKeys.__table__.c
    keys = dict((await session.execute(
        select(key.user_id, key["keys"]).where(key.organization_id == organization.id))).all())
    greeting = VoicemailGreeting.__table__.c
    greetings = dict((await session.execute(select(greeting.user_id, greeting.wav).where(
        greeting.organization_id == organization.id, greeting.active.is_(True)))).all())
    devices = (await session.execute(
        select(device.id, device.mac, device.vendor, device.model, device.label, device.sip_account_id)
        .where(device.organization_id == organization.id).order_by(device.id))).all()
    group, member = Group.__table__.c, GroupMember.__table__.c
    groups = (await session.execute(
        select(group.id, group.name, group.extension, group.ring_strategy, group.ring_timeout,
               group.no_answer_destination)
        .where(group.organization_id == organization.id).order_by(group.name))).all()
    members = (await session.execute(
        select(member.group_id, member.user_id, member.role, *(member[right] for right in RIGHTS))
        .where(member.organization_id == organization.id)
        .order_by(member.group_id, member.position, member.created_at, member.user_id))).all()
    did, rule, schedule = Did.__table__.c, InboundRule.__table__.c, OfficeHours.__table__.c
    dids = (await session.execute(
        select(did.number, rule.name, rule.destination, rule.office_hours_id, rule.out_of_hours_destination,
               rule.holiday_destination)
        .select_from(Did.__table__.outerjoin(InboundRule.__table__, rule.did_id == did.id))
        .where(did.organization_id == organization.id).order_by(did.number))).all()
    schedules = (await session.execute(
        select(schedule.id, schedule.name, schedule.timezone, schedule.weekly, schedule.breaks, schedule.holidays)
        .where(schedule.organization_id == organization.id).order_by(schedule.name))).all()
    trunk, route = Trunk.__table__.c, OutboundRoute.__table__.c
    trunks = (await session.execute(
        select(trunk.id, trunk.name, trunk.host, trunk.port, trunk.transport, trunk.username,
               trunk.password_encrypted, trunk.registers, trunk.from_domain, trunk.codecs, trunk.max_channels,
               trunk.match, trunk.caller_id)
        .where(trunk.organization_id == organization.id).order_by(trunk.name))).all()
    routes = (await session.execute(
        select(route.id, route.name, route.patterns, route.strip, route.prepend, route.trunk_ids,
               route.caller_id_mode, route.min_permission_level, route.priority, route.emergency)
        .where(route.organization_id == organization.id).order_by(route.priority, route.name))).all()
    info = OrganizationInfo(id=str(organization.id), slug=organization.slug, name=organization.name,
                            sip_domain=organization.sip_domain, sip_proxy=organization.sip_proxy,
                            sip_username_mode=organization.sip_username_mode, timezone=organization.timezone, ring_timeout=organization.ring_timeout,
                            parking_extension=organization.parking_extension,
                            parking_slots=organization.parking_slots,
                            default_permission_level=organization.default_permission_level)
    return SnapshotRows(info, list(accounts), list(devices), list(groups), list(members), list(dids),
                        list(schedules), list(trunks), list(routes),
                        await conferences.load_rows(session, organization.id),
                        await ivr_menus.load_infos(session, organization.id), rules, greetings, options, keys)


def build_snapshot(rows: SnapshotRows, box: SecretBox, options: RenderOptions) -> Snapshot:
    """Decrypt and assemble the snapshot (blocking: run it in a thread)."""
    with _collector_paused():
        return _build_snapshot(rows, box, options)


def _build_snapshot(rows: SnapshotRows, box: SecretBox, options: RenderOptions) -> Snapshot:
    accounts: dict = {}
    # Who has which active extension: what BLF keys watch.
    extension_of = {row[9]: row[1] for row in rows.accounts if row[9] is not None and row[4]}
    for (account_id, extension, auth_id, password, active, phone_type, recording, level, max_contacts,
         user_id, first_name, last_name, email, caller_id, language, voicemail, pin, mobile, status, pin_required,
         play_caller_id, read_datetime, email_notification) in rows.accounts:
        user_info = None
        if user_id is not None:
            plain_pin = box.decrypt(pin) if voicemail and pin else None
            user_info = UserInfo(id=str(user_id), first_name=first_name, last_name=last_name, email=email,
                                 caller_id=caller_id, language=language, voicemail_enabled=plain_pin is not None,
                                 voicemail_pin=plain_pin, mobile=mobile, status=status,
                                 forwarding=rows.forwarding.get(user_id), voicemail_pin_required=pin_required,
                                 voicemail_play_caller_id=play_caller_id, voicemail_read_datetime=read_datetime,
                                 voicemail_email=email_notification, voicemail_greeting=rows.greetings.get(user_id),
                                 options=_options(rows.options.get(user_id), box),
                                 keys=_keys(rows.keys.get(user_id, ()), extension_of, rows.organization))
        accounts[account_id] = AccountInfo(
            id=str(account_id), extension=extension, auth_id=auth_username(rows.organization, extension, auth_id), password=box.decrypt(password), active=active,
            phone_type=phone_type, recording=recording, permission_level=level, max_contacts=max_contacts,
            user=user_info)
    members: dict = defaultdict(list)
    for group_id, user_id, role, *granted in rows.members:
        rights = frozenset(right for right, held in zip(RIGHTS, granted, strict=True) if held)
        members[group_id].append(MemberInfo(user_id=str(user_id), role=role, rights=rights))
    return Snapshot(
        organization=rows.organization,
        accounts=tuple(accounts.values()),
        groups=tuple(GroupInfo(id=str(g_id), name=name, extension=extension, ring_strategy=strategy,
                               ring_timeout=timeout, no_answer_destination=destination,
                               members=tuple(members[g_id]))
                     for g_id, name, extension, strategy, timeout, destination in rows.groups),
        dids=tuple(DidInfo(number=number, rule_name=name, destination=destination,
                           schedule_id=str(schedule_id) if schedule_id else None,
                           out_of_hours_destination=out_of_hours, holiday_destination=holiday)
                   for number, name, destination, schedule_id, out_of_hours, holiday in rows.dids),
        schedules=tuple(ScheduleInfo.from_stored(*row) for row in rows.schedules),
        trunks=tuple(TrunkInfo(id=str(t_id), name=name, host=host, port=port, transport=transport, username=username,
                               password=box.decrypt(password) if password else None, register=registers,
                               from_domain=from_domain, codecs=tuple(codecs), max_channels=max_channels,
                               match=tuple(match), caller_id=caller_id)
                     for (t_id, name, host, port, transport, username, password, registers, from_domain, codecs,
                          max_channels, match, caller_id) in rows.trunks),
        routes=tuple(RouteInfo(id=str(r_id), name=name, patterns=tuple(patterns), strip=strip, prepend=prepend,
                               trunk_ids=tuple(str(t) for t in trunk_ids), caller_id_mode=mode,
                               min_permission_level=level, priority=priority, emergency=emergency)
                     for r_id, name, patterns, strip, prepend, trunk_ids, mode, level, priority, emergency
                     in rows.routes),
        conferences=conferences.infos(rows.conferences, box),
        ivr_menus=rows.ivr_menus,
        devices=tuple(DeviceInfo(id=str(d_id), mac=mac, vendor=vendor, model=model, label=label,
                                 account=accounts.get(account_id))
                      for d_id, mac, vendor, model, label, account_id in rows.devices),
        options=options,
    )


def _keys(stored: list[dict], extension_of: dict, organization: OrganizationInfo) -> tuple[KeyInfo, ...]:
    """A user's stored keys as the phone files need them; a key whose target has gone is left out."""
    found = []
    for key in stored:
        kind, value = key["type"], None
        if kind == "blf":
            extension = extension_of.get(uuid.UUID(str(key["user_id"])))
            if extension is None:
                continue
            value = str(extension)
        elif kind == "speed_dial":
            value = key["number"]
        elif kind == "line":
            value = "1"
        elif kind == "park":
            if organization.parking_extension is None:
                continue
            value = str(organization.parking_extension)
        elif kind == "change_status":
            value = status_code(key["status"])
        elif kind == "agent_login":
            value = AGENT_CODE
        found.append(KeyInfo(index=key["index"], kind=kind, value=value, label=key.get("label")))
    return tuple(found)


def _options(row: tuple | None, box: SecretBox) -> UserOptionsInfo:
    if row is None:
        return UserOptionsInfo()
    *flags, pin = row
    return UserOptionsInfo(**dict(zip(OPTION_FIELDS, flags, strict=True)),
                           outbound_pin=box.decrypt(pin) if pin else None)


async def load_snapshot(session: AsyncSession, organization: Organization, box: SecretBox,
                        options: RenderOptions) -> Snapshot:
    """The organization's snapshot: four queries, then decryption off the event loop."""
    rows = await load_snapshot_rows(session, organization)
    return await asyncio.to_thread(build_snapshot, rows, box, options)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _diff(path: str, old: bytes | None, new: bytes | None) -> str:
    if path.endswith(_BINARY_SUFFIXES):
        return f"Binary files a/{path} and b/{path} differ\n"
    text = "".join(difflib.unified_diff(
        (old or b"").decode("utf-8", "replace").splitlines(keepends=True),
        (new or b"").decode("utf-8", "replace").splitlines(keepends=True),
        fromfile=f"a/{path}", tofile=f"b/{path}"))
    return text if len(text) <= _DIFF_LIMIT else text[:_DIFF_LIMIT] + "\n[diff truncated]\n"


async def may_read_secret_files(ctx: Context) -> bool:
    """Files holding every account's credentials are for principals who may reveal every account's secret:
    ``sip_secrets.read`` and ``trunk_secrets.read``, scope ``all``, and authority over every login that holds a
    SIP account. pjsip.conf
    holds the owner's digest too, and an admin must not read through a file what it may not reveal through the
    API."""
    principal = ctx.principal
    # pjsip.conf also holds the trunks' passwords: those need their own permission.
    if not (principal.can("sip_secrets.read") and principal.can("trunk_secrets.read") and principal.scope == "all"):
        return False
    if principal.platform_admin:
        return True
    # The distinct roles (and platform-admin flags) of the logins holding an account: a handful of rows.
    holders = (select(User.role_id, User.is_platform_admin)
               .join(SipAccount, SipAccount.user_id == User.id)
               .where(User.organization_id == principal.organization_id, User.username.is_not(None)))
    if principal.user_id is not None:  # an API key or the system has no user of its own
        holders = holders.where(User.id != principal.user_id)
    holders = holders.distinct().subquery()
    rows = await ctx.session.execute(select(Role.permissions, holders.c.is_platform_admin)
                                     .select_from(holders).outerjoin(Role, Role.id == holders.c.role_id))
    return not any(platform_admin or set(permissions or ()) - principal.permissions
                   for permissions, platform_admin in rows)


def visible_hashes(hashes: dict[str, str], may_see_secrets: bool) -> dict[str, str | None]:
    """File hashes, with those of secret files hidden: a hash of a file with a short PIN can be brute-forced."""
    return {path: digest if may_see_secrets or not is_secret_path(path) else None for path, digest in hashes.items()}


def compare(old_hashes: dict[str, str], new_files: dict[str, bytes], read_old: Callable[[str], bytes | None],
            *, with_diff: bool, may_see_secrets: bool) -> list[FileChange]:
    """Per-file status against the live set; hashes and diffs of secret files only for those who may read them."""
    changes = []
    for path in sorted(set(old_hashes) | set(new_files)):
        new = new_files.get(path)
        new_hash = _sha256(new) if new is not None else None
        old_hash = old_hashes.get(path)
        status = (FileStatus.added if old_hash is None else FileStatus.removed if new is None
                  else FileStatus.unchanged if old_hash == new_hash else FileStatus.changed)
        secret = is_secret_path(path)
        diff = None
        if with_diff and status != FileStatus.unchanged and (may_see_secrets or not secret):
            diff = _diff(path, read_old(path) if old_hash is not None else None, new)
        changes.append(FileChange(path=path, status=status,
                                  sha256=new_hash if may_see_secrets or not secret else None, diff=diff))
    return changes


async def _audit_secret_diffs(ctx: Context, changes: list[FileChange], what: str) -> None:
    shown = [c.path for c in changes if c.diff is not None and is_secret_path(c.path)]
    if shown:
        await audit.record(ctx, "config.secret_diff_read", RESOURCE, what, after={"paths": shown})


async def _last_revision(session: AsyncSession, organization_id) -> ConfigRevision | None:
    return (await session.execute(
        select(ConfigRevision).where(ConfigRevision.organization_id == organization_id)
        .order_by(ConfigRevision.number.desc()).limit(1))).scalar_one_or_none()


async def known_revisions(session: AsyncSession, organization_id) -> set[int]:
    return set((await session.execute(
        select(ConfigRevision.number).where(ConfigRevision.organization_id == organization_id))).scalars())


def _enabled_targets(settings: Settings, requested: list[str] | None) -> list[str]:
    enabled = [t for t in TARGETS if t in settings.config_targets]
    if requested is None:
        return enabled
    disabled = sorted(set(requested) - set(enabled))
    if disabled:
        raise ValidationProblem.field(["body", "targets"], f"Target(s) not enabled on this server: {', '.join(disabled)}")
    return [t for t in enabled if t in requested]


@dataclass(slots=True)
class _Held:
    """What the read phase saw under the lock."""

    organization: Organization  # its settings as they are now, under the lock
    pending_seen: int
    last: ConfigRevision | None
    known: set[int]


async def _begin(ctx: Context) -> _Held:
    """Under the files lock: lock the organization's row (PostgreSQL), reconcile the disk, read the state."""
    session, organization = ctx.session, ctx.organization
    if is_sqlite(session):
        # A fresh read transaction: the one that loaded the principal may predate an apply we waited for.
        await commit(session)
    query = (select(Organization).where(Organization.id == organization.id)
             .execution_options(populate_existing=True))  # the settings as they are now, not at request start
    if not is_sqlite(session):
        # Serializes applies across hosts; NO KEY UPDATE leaves inserts that reference the organization free.
        query = query.with_for_update(key_share=True)
    current = (await session.execute(query)).scalar_one_or_none()
    if current is None:
        raise NotFound("Organization not found (it was deleted)")
    known = await known_revisions(session, organization.id)
    await asyncio.to_thread(writer.reconcile, organization_dir(ctx.settings, organization), known)
    state = await session.get(ConfigState, organization.id)
    return _Held(organization=current, pending_seen=state.pending_changes if state else 0,
                 last=await _last_revision(session, organization.id), known=known)


def _render(snapshot: Snapshot, targets: list[str], old_hashes: dict[str, str], org_dir: Path, with_diff: bool,
            may_see_secrets: bool) -> tuple[dict[str, bytes], list[FileChange]]:
    """Render and compare against the live set (blocking: runs in a thread)."""
    def read_old(path: str) -> bytes | None:
        return writer.read_live_file(org_dir, path)

    try:
        with _collector_paused():
            rendered = {path: content.encode() if isinstance(content, str) else content
                        for path, content in render_targets(snapshot, targets).items()}
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
    return new_files, compare(old_hashes, new_files, read_old, with_diff=with_diff, may_see_secrets=may_see_secrets)


async def apply(ctx: Context, request: ApplyRequest) -> ApplyResult:
    """Render the enabled targets; make a revision and publish it when the output differs from the live one."""
    session, settings, organization = ctx.session, ctx.settings, ctx.organization
    targets = _enabled_targets(settings, request.targets)
    org_dir = organization_dir(settings, organization)
    with_diff = request.dry_run if request.include_diff is None else request.include_diff
    async with organization_files_lock(settings, organization.slug):
        held = await _begin(ctx)
        snapshot_rows = await load_snapshot_rows(session, held.organization)
        may_see_secrets = await may_read_secret_files(ctx)
        await end_read_phase(session)
        snapshot = await asyncio.to_thread(build_snapshot, snapshot_rows, ctx.secret_box, render_options(settings))
        old_hashes = dict(held.last.files) if held.last else {}
        new_files, changes = await asyncio.to_thread(_render, snapshot, targets, old_hashes, org_dir, with_diff,
                                                     may_see_secrets)
        changed = any(c.status != FileStatus.unchanged for c in changes)
        if request.dry_run:
            if any(c.diff is not None and is_secret_path(c.path) for c in changes):
                await begin_write_phase(session)
                await _audit_secret_diffs(ctx, changes, "dry-run")
            return ApplyResult(dry_run=True, created=False, revision=held.last.number if held.last else None,
                               files=changes)
        number = held.last.number if held.last else None
        if changed:
            number = max(number or 0, writer.latest_revision_number(org_dir)) + 1
            await asyncio.to_thread(writer.publish, org_dir, number, new_files, is_secret_path)
        await begin_write_phase(session)
        revision = None
        if changed:
            revision = ConfigRevision(
                organization_id=organization.id, number=number, actor_id=ctx.principal.id,
                actor_name=ctx.principal.name, targets=targets, reloads=None,
                files={path: _sha256(data) for path, data in sorted(new_files.items())})
            session.add(revision)
            kept = await _prune_rows(session, settings, organization, held.known | {number})
        if set(targets) == set(_enabled_targets(settings, None)):
            # Only a full apply makes the live set match the database; changes saved while it
            # rendered stay pending.
            await _settle_pending(session, organization.id, held.pending_seen, live_differs=False)
        await _audit_secret_diffs(ctx, changes, "apply")
        await audit.record(ctx, "config.apply", RESOURCE, number, after={
            "revision": number, "created": changed, "targets": targets,
            "files": {c.path: c.status for c in changes if c.status != FileStatus.unchanged}})
        await commit(session)
        if changed:  # the pruned revisions' directories
            await asyncio.to_thread(writer.reconcile, org_dir, kept)
    reloads = await run_reloads(settings, organization, org_dir, targets) if changed else []
    if revision is not None:
        await record_reloads(ctx, revision, reloads)
    return ApplyResult(dry_run=False, created=changed, revision=number, files=changes, reloads=reloads)


async def _settle_pending(session: AsyncSession, organization_id, seen: int, *, live_differs: bool) -> None:
    """Subtract the changes the published snapshot covered (later ones stay pending)."""
    await session.execute(update(ConfigState).where(ConfigState.organization_id == organization_id).values(
        pending_changes=func.max(ConfigState.pending_changes - seen, 0) if is_sqlite(session)
        else func.greatest(ConfigState.pending_changes - seen, 0),
        live_differs=live_differs))


async def _prune_rows(session: AsyncSession, settings: Settings, organization: Organization,
                      known: set[int]) -> set[int]:
    """Forget revisions beyond the number kept; returns the numbers kept (their directories stay, the others
    go once this commits)."""
    kept = set(sorted(known)[-settings.config_keep_revisions:])
    await session.execute(delete(ConfigRevision).where(ConfigRevision.organization_id == organization.id,
                                                       ConfigRevision.number < min(kept)))
    return kept


async def record_reloads(ctx: Context, revision: ConfigRevision, reloads: list[ReloadResult]) -> None:
    """Store what the reload commands did on the revision, with a second audit entry (a new transaction)."""
    session = ctx.session
    await begin_write(session)
    results = [r.model_dump(mode="json") for r in reloads]
    await session.execute(update(ConfigRevision).where(ConfigRevision.id == revision.id).values(reloads=results))
    revision.reloads = results
    await audit.record(ctx, "config.reload", RESOURCE, revision.number, after={
        "revision": revision.number,
        "reloads": [{"target": r.target, "exit_code": r.exit_code, "ok": r.ok, "output": r.output} for r in reloads]})


async def remove_organization_files(session: AsyncSession, settings: Settings, organization: Organization) -> None:
    """Once the organization's deletion commits, take its configuration off disk (phones and
    registrar must stop using its credentials; a future organization may reuse the slug)."""
    org_dir = organization_dir(settings, organization)
    slug = organization.slug

    async def remove() -> None:
        async with organization_files_lock(settings, slug):
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


async def _check_secret_access(ctx: Context, path: str) -> None:
    """A phone's file needs authority over its account's holder (as a reveal does); a file holding every
    account's secrets needs authority over every holder."""
    if not is_secret_path(path):
        return
    principal = ctx.principal
    if not (principal.can("sip_secrets.read") and principal.scope == "all"):
        raise Forbidden(f"'{path}' holds secrets: reading it needs sip_secrets.read with management scope 'all'")
    if path.startswith("provisioning/"):
        account = await _account_of_device_file(ctx, path)
        if account is not None:
            await sip_accounts.check_holder_authority(ctx, account, "read the phone file of")
            return
    if not await may_read_secret_files(ctx):
        raise Forbidden(f"'{path}' holds every account's secrets (and the trunks'): reading it needs "
                        "trunk_secrets.read too, and authority over every user who holds an account")


async def _account_of_device_file(ctx: Context, path: str) -> SipAccount | None:
    """The SIP account whose password a phone file carries (None when no current device has that file)."""
    devices = (await ctx.session.execute(
        select(Device.id, Device.vendor, Device.mac, Device.sip_account_id)
        .where(Device.organization_id == ctx.principal.organization_id, Device.sip_account_id.is_not(None)))).all()
    for device_id, vendor, mac, account_id in devices:
        if path in device_files(vendor, mac, str(device_id)).values():
            return await ctx.session.get(SipAccount, account_id)
    return None


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
    await _check_secret_access(ctx, path)
    data = _revision_file(ctx, revision, path)
    if is_secret_path(path):
        await audit.record(ctx, "config.secret_file_read", RESOURCE, number, after={"path": path})
    return data


async def diff_revisions(ctx: Context, base_number: int, other_number: int) -> RevisionDiff:
    base, other = await get_revision(ctx, base_number), await get_revision(ctx, other_number)
    may_see_secrets = await may_read_secret_files(ctx)

    def work() -> list[FileChange]:
        other_files = {path: _revision_file(ctx, other, path) for path in other.files}
        return compare(dict(base.files), other_files, lambda p: _revision_file(ctx, base, p), with_diff=True,
                       may_see_secrets=may_see_secrets)

    changes = await asyncio.to_thread(work)
    await _audit_secret_diffs(ctx, changes, f"{base_number}..{other_number}")
    return RevisionDiff(base=base_number, other=other_number, files=changes)


async def restore(ctx: Context, number: int) -> RestoreResult:
    """Make an older revision's files live again, byte for byte, as a new revision."""
    session, settings, organization = ctx.session, ctx.settings, ctx.organization
    org_dir = organization_dir(settings, organization)
    async with organization_files_lock(settings, organization.slug):
        held = await _begin(ctx)
        source = await get_revision(ctx, number)
        await end_read_phase(session)
        files = await asyncio.to_thread(lambda: {path: _revision_file(ctx, source, path) for path in source.files})
        new_number = max(held.last.number if held.last else 0, writer.latest_revision_number(org_dir)) + 1
        await asyncio.to_thread(writer.publish, org_dir, new_number, files, is_secret_path)
        targets = [t for t in TARGETS if t in {path.split("/", 1)[0] for path in files}]
        await begin_write_phase(session)
        revision = ConfigRevision(organization_id=organization.id, number=new_number, actor_id=ctx.principal.id,
                                  actor_name=ctx.principal.name, targets=targets, files=dict(source.files),
                                  restored_from=number, reloads=None)
        session.add(revision)
        await session.execute(update(ConfigState).where(ConfigState.organization_id == organization.id)
                              .values(live_differs=True))
        kept = await _prune_rows(session, settings, organization, held.known | {new_number})
        await audit.record(ctx, "config.restore", RESOURCE, new_number,
                           after={"revision": new_number, "restored_from": number})
        await commit(session)
        await asyncio.to_thread(writer.reconcile, org_dir, kept)
    reloads = await run_reloads(settings, organization, org_dir, targets)
    await record_reloads(ctx, revision, reloads)
    return RestoreResult(revision=new_number, restored_from=number, database_differs=True, reloads=reloads)
