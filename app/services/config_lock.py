"""One apply, restore, reconcile or removal of an organization's files at a time, across processes.

The files are the shared resource, so the lock lives beside them: an exclusive
``flock`` on ``<config dir>/.locks/<slug>.lock`` (never deleted, so every
process locks the same inode). Waiting polls without blocking a thread: a
thread parked in ``flock`` would be one the lock holder may need to render.
On PostgreSQL the apply also locks the organization's row in the database
(see ``config.apply``), which serializes it against processes on other hosts.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from app.core.settings import Settings

LOCKS_DIR = ".locks"
_FIRST_WAIT, _LONGEST_WAIT = 0.002, 0.05


def lock_path(settings: Settings, slug: str) -> Path:
    return settings.config_dir / LOCKS_DIR / f"{slug}.lock"


@asynccontextmanager
async def organization_files_lock(settings: Settings, slug: str) -> AsyncIterator[None]:
    """Hold the organization's files lock for the block."""
    path = lock_path(settings, slug)
    path.parent.mkdir(mode=0o750, parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        wait = _FIRST_WAIT
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                await asyncio.sleep(wait)
                wait = min(wait * 2, _LONGEST_WAIT)
        yield
    finally:
        os.close(descriptor)  # releases the lock
