"""Publish a rendered file set atomically, as a numbered revision directory.

Layout under an organization's directory::

    <org_dir>/revisions/000041/asterisk/pjsip.conf
    <org_dir>/revisions/000042/asterisk/pjsip.conf
    <org_dir>/current -> revisions/000042

Readers (Asterisk, Kamailio, the provisioning endpoint) always go through
``current``. A revision is written completely into a temporary directory,
fsynced and renamed into place, and only then is ``current`` switched with
one ``rename(2)`` of a new symlink over the old one. A process killed at any
point therefore leaves either the previous set or the new one live, never a
mix. ``publish`` and ``prune`` of one organization must not run concurrently
(the apply service holds a per-organization lock around them).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

CURRENT = "current"
REVISIONS = "revisions"

SECRET_FILE_MODE = 0o640
PUBLIC_FILE_MODE = 0o644
DIRECTORY_MODE = 0o750

_TEMP_PREFIX = ".tmp-"


def revision_name(revision: int) -> str:
    """Return the directory name of a revision number (``42`` -> ``"000042"``)."""
    if revision < 0:
        raise ValueError(f"revision must not be negative, got {revision}")
    return f"{revision:06d}"


def publish(org_dir: Path, revision: int, files: dict[str, bytes], is_secret: Callable[[str], bool]) -> Path:
    """Write ``files`` as revision ``revision`` and make it the live set; return the revision directory.

    Secret files get mode 0640, others 0644, directories 0750. Each file's
    mtime is set to ``max(now, mtime of the same live file + 1 s)``: Kamailio's
    db_text (db_mode=1) re-reads a table only when its mtime grows in whole
    seconds, so even a second apply within the same second is picked up.
    """
    org_dir = Path(org_dir)
    revisions_dir = org_dir / REVISIONS
    _make_directory(org_dir)
    _make_directory(revisions_dir)
    final_dir = revisions_dir / revision_name(revision)
    live_dir = _live_directory(org_dir)
    if final_dir.exists():
        if live_dir is not None and final_dir.resolve() == live_dir:
            raise FileExistsError(f"revision {revision} is the live revision of {org_dir}; refusing to overwrite it")
        # Left over by a publish that died after renaming its directory but
        # before switching "current": it was never live, so it can go.
        shutil.rmtree(final_dir)

    staging_dir = Path(tempfile.mkdtemp(prefix=f"{_TEMP_PREFIX}{revision_name(revision)}-", dir=revisions_dir))
    try:
        os.chmod(staging_dir, DIRECTORY_MODE)
        now = time.time()
        for relative_path, content in sorted(files.items()):
            parts = _safe_parts(relative_path)
            destination = staging_dir.joinpath(*parts)
            _make_parents(staging_dir, parts)
            mode = SECRET_FILE_MODE if is_secret(relative_path) else PUBLIC_FILE_MODE
            mtime = _next_mtime(now, live_dir.joinpath(*parts) if live_dir is not None else None)
            _write_file(destination, content, mode, mtime)
        # One filesystem-wide flush instead of an fsync per file and directory: a
        # revision has a file per phone, and 900 fsyncs cost a second. Every byte
        # is durable before the rename below makes the directory visible.
        _sync_filesystem(staging_dir)
        os.rename(staging_dir, final_dir)
    except BaseException:
        shutil.rmtree(staging_dir, ignore_errors=True)
        raise
    _fsync_directory(revisions_dir)
    _switch_current(org_dir, final_dir)
    return final_dir


def read_live(org_dir: Path) -> dict[str, bytes]:
    """Return the live file set as ``{relative path: content}`` ({} when nothing was published)."""
    live_dir = _live_directory(Path(org_dir))
    if live_dir is None:
        return {}
    files = {}
    for path in sorted(live_dir.rglob("*")):
        if path.is_file():
            files[path.relative_to(live_dir).as_posix()] = path.read_bytes()
    return files


def read_live_file(org_dir: Path, relative_path: str) -> bytes | None:
    """Return one file of the live set, or None when it (or any live set) does not exist."""
    live_dir = _live_directory(Path(org_dir))
    return _read_file(live_dir, relative_path) if live_dir is not None else None


def read_revision_file(org_dir: Path, revision: int, relative_path: str) -> bytes | None:
    """Return one file of a revision, or None when the revision or the file is not on disk."""
    return _read_file(Path(org_dir) / REVISIONS / revision_name(revision), relative_path)


def live_revision(org_dir: Path) -> int | None:
    """Return the number of the live revision, or None when nothing was published."""
    live_dir = _live_directory(Path(org_dir))
    return int(live_dir.name) if live_dir is not None else None


def latest_revision_number(org_dir: Path) -> int:
    """Return the highest revision number on disk, live or not (0 when there is none).

    New revisions should be numbered above it, so that a directory left by a
    publish that died before switching ``current`` is never reused.
    """
    return max(_revision_numbers(Path(org_dir) / REVISIONS), default=0)


def prune(org_dir: Path, keep: int, protect: set[int]) -> list[int]:
    """Delete revision directories older than the newest ``keep``; return the numbers deleted.

    The live revision and the revisions in ``protect`` are never deleted.
    Staging directories and symlinks left by a killed ``publish`` are removed
    too.
    """
    if keep < 0:
        raise ValueError(f"keep must not be negative, got {keep}")
    org_dir = Path(org_dir)
    revisions_dir = org_dir / REVISIONS
    if not revisions_dir.is_dir():
        return []
    live = live_revision(org_dir)
    numbered = sorted(_revision_numbers(revisions_dir), reverse=True)
    deleted = []
    for number in numbered[keep:]:
        if number == live or number in protect:
            continue
        shutil.rmtree(revisions_dir / revision_name(number))
        deleted.append(number)
    for leftover in revisions_dir.glob(f"{_TEMP_PREFIX}*"):
        shutil.rmtree(leftover, ignore_errors=True)
    for leftover in org_dir.glob(f"{_TEMP_PREFIX}{CURRENT}-*"):
        leftover.unlink(missing_ok=True)
    return sorted(deleted)


def reconcile(org_dir: Path, known: set[int]) -> list[str]:
    """Make the disk agree with the revisions the database knows; return what was done.

    The database is the truth: a revision directory it does not know was left by a
    publish whose commit never happened (or by a prune that did not finish), so it
    goes, and ``current`` points at the newest known revision still on disk (or
    nowhere when there is none). Staging directories and temporary links go too.
    Must run under the organization's files lock.
    """
    org_dir = Path(org_dir)
    revisions_dir = org_dir / REVISIONS
    actions: list[str] = []
    for leftover in sorted(revisions_dir.glob(f"{_TEMP_PREFIX}*")) if revisions_dir.is_dir() else []:
        shutil.rmtree(leftover, ignore_errors=True)
        actions.append(f"removed unfinished {leftover.name}")
    for leftover in sorted(org_dir.glob(f"{_TEMP_PREFIX}{CURRENT}-*")) if org_dir.is_dir() else []:
        leftover.unlink(missing_ok=True)
        actions.append(f"removed temporary link {leftover.name}")
    on_disk = set(_revision_numbers(revisions_dir))
    live = live_revision(org_dir)
    if live not in known or live not in on_disk:
        target = max(known & on_disk, default=None)
        if target is not None:
            _switch_current(org_dir, revisions_dir / revision_name(target))
            actions.append(f"current -> {revision_name(target)} (was {live})")
        elif (org_dir / CURRENT).is_symlink():
            (org_dir / CURRENT).unlink()
            _fsync_directory(org_dir)
            actions.append(f"removed current (was {live})")
    for number in sorted(on_disk - known):
        shutil.rmtree(revisions_dir / revision_name(number), ignore_errors=True)
        actions.append(f"removed revision {revision_name(number)} unknown to the database")
    return actions


def _revision_numbers(revisions_dir: Path) -> list[int]:
    if not revisions_dir.is_dir():
        return []
    return [int(entry.name) for entry in revisions_dir.iterdir() if entry.is_dir() and entry.name.isdigit()]


def _read_file(root: Path, relative_path: str) -> bytes | None:
    try:
        parts = _safe_parts(relative_path)
    except ValueError:
        return None
    try:
        return root.joinpath(*parts).read_bytes()
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None


def _live_directory(org_dir: Path) -> Path | None:
    current = org_dir / CURRENT
    if not current.is_symlink():
        return None
    target = current.resolve()
    return target if target.is_dir() else None


def _switch_current(org_dir: Path, revision_dir: Path) -> None:
    # A relative target keeps the tree valid when org_dir is moved or mounted elsewhere.
    target = f"{REVISIONS}/{revision_dir.name}"
    temporary_link = org_dir / f"{_TEMP_PREFIX}{CURRENT}-{revision_dir.name}-{os.getpid()}"
    temporary_link.unlink(missing_ok=True)
    os.symlink(target, temporary_link)
    try:
        os.replace(temporary_link, org_dir / CURRENT)
    except BaseException:
        temporary_link.unlink(missing_ok=True)
        raise
    _fsync_directory(org_dir)


def _safe_parts(relative_path: str) -> tuple[str, ...]:
    # Split by hand: PurePosixPath would quietly normalize "a//b" and "./a".
    parts = tuple(relative_path.split("/"))
    if any(part in {"", ".", ".."} for part in parts) or "\\" in relative_path or "\0" in relative_path:
        raise ValueError(f"refusing to publish {relative_path!r}: not a plain relative path")
    return parts


def _make_directory(path: Path) -> None:
    path.mkdir(mode=DIRECTORY_MODE, parents=True, exist_ok=True)


def _make_parents(root: Path, parts: tuple[str, ...]) -> None:
    directory = root
    for part in parts[:-1]:
        directory = directory / part
        if not directory.is_dir():
            directory.mkdir()
            # mkdir's mode is filtered by the umask; set it exactly.
            os.chmod(directory, DIRECTORY_MODE)


def _write_file(path: Path, content: bytes, mode: int, mtime: float) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        # os.open's mode is filtered by the umask; set it exactly.
        os.fchmod(descriptor, mode)
        view = memoryview(content)
        while view:
            written = os.write(descriptor, view)
            view = view[written:]
        # Set the mtime last: writing would reset it.
        os.utime(descriptor, (mtime, mtime))
    finally:
        os.close(descriptor)


def _next_mtime(now: float, previous_live_file: Path | None) -> float:
    if previous_live_file is None:
        return now
    try:
        previous = previous_live_file.stat().st_mtime
    except FileNotFoundError:
        return now
    return max(now, previous + 1.0)


def _sync_filesystem(path: Path) -> None:
    """Flush the filesystem holding ``path`` (Linux syncfs; elsewhere a global sync)."""
    descriptor = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        if _LIBC is not None and _LIBC.syncfs(descriptor) == 0:
            return
        os.sync()
    finally:
        os.close(descriptor)


def _load_libc():
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.syncfs  # noqa: B018 - present on Linux only
        return libc
    except (OSError, AttributeError):
        return None


_LIBC = _load_libc()


def _fsync_directory(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
