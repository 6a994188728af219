"""At start-up: make the configuration on disk agree with the database again.

A process killed mid-apply can leave a revision directory the database does
not know (``current`` may even point at it), files of an organization whose
deletion committed, or a revision whose reload commands never ran. Each
organization is reconciled under its files lock, so a concurrent apply of
another process is never disturbed.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config_gen import writer
from app.core.context import Context, system_principal
from app.core.db import READ, session_scope
from app.core.security import SecretBox
from app.core.settings import Settings
from app.models import ConfigRevision, Organization
from app.models.organizations import OrganizationRef
from app.services import config
from app.services.config_lock import LOCKS_DIR, organization_files_lock

log = logging.getLogger("centralino.reconcile")


def _is_organization_dir(path: Path) -> bool:
    """Only directories that look like ours are ever removed."""
    return path.is_dir() and not path.name.startswith(".") and (
        (path / writer.REVISIONS).is_dir() or (path / writer.CURRENT).is_symlink())


async def _organization(maker: async_sessionmaker[AsyncSession], slug: str) -> OrganizationRef | None:
    found = None
    async for session in session_scope(maker, mode=READ):
        found = (await session.execute(select(Organization).where(Organization.slug == slug))).scalar_one_or_none()
        found = OrganizationRef.of(found) if found is not None else None
    return found


async def reconcile_all(maker: async_sessionmaker[AsyncSession], settings: Settings, box: SecretBox) -> None:
    """Reconcile every organization's files, and remove those of deleted organizations."""
    config_dir = settings.config_dir
    if not config_dir.is_dir():
        return
    for entry in sorted(config_dir.iterdir()):
        if entry.name == LOCKS_DIR or not _is_organization_dir(entry):
            continue
        async with organization_files_lock(settings, entry.name):
            organization = await _organization(maker, entry.name)
            if organization is None:
                # Its deletion committed but the process died before the files went: no orphaned secrets.
                await asyncio.to_thread(shutil.rmtree, entry, True)
                log.warning("removed the files of deleted organization '%s'", entry.name)
                continue
            await _reconcile_organization(maker, settings, box, organization, entry)


async def _reconcile_organization(maker: async_sessionmaker[AsyncSession], settings: Settings, box: SecretBox,
                                  organization: OrganizationRef, org_dir: Path) -> None:
    async for session in session_scope(maker, mode=READ):
        known = await config.known_revisions(session, organization.id)
        last = (await session.execute(
            select(ConfigRevision).where(ConfigRevision.organization_id == organization.id)
            .order_by(ConfigRevision.number.desc()).limit(1))).scalar_one_or_none()
    for action in await asyncio.to_thread(writer.reconcile, org_dir, known):
        log.warning("organization '%s': %s", organization.slug, action)
    if last is None or last.reloads is not None or writer.live_revision(org_dir) != last.number:
        return
    # The revision went live but its reload commands never ran: the registrar still runs the old set.
    reloads = await config.run_reloads(settings, organization, org_dir, list(last.targets))
    async for session in session_scope(maker):
        ctx = Context(session=session, principal=system_principal(organization, "startup"), settings=settings,
                      request_id=None, secret_box=box)
        await config.record_reloads(ctx, last, reloads)
    log.warning("organization '%s': ran the reload commands of revision %s", organization.slug, last.number)
