"""The atomic publisher: revision layout, modes, mtimes for db_text, crash safety, pruning."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from app.config_gen import writer
from app.config_gen.render import is_secret_path

FIRST = {
    "asterisk/pjsip.conf": b"[101]\ntype=auth\n",
    "asterisk/extensions.conf": b"[internal]\n",
    "kamailio/subscriber": b"id(int,auto)\n1\n",
}
SECOND = {**FIRST, "kamailio/subscriber": b"id(int,auto)\n1\n2\n", "provisioning/dev-1/accounts": b"<sip:101@x>\n"}


def test_publish_lays_out_revision_and_current_symlink(tmp_path: Path) -> None:
    revision_dir = writer.publish(tmp_path, 7, FIRST, is_secret_path)

    assert revision_dir == tmp_path / "revisions" / "000007"
    assert os.readlink(tmp_path / "current") == "revisions/000007"
    assert writer.read_live(tmp_path) == dict(sorted(FIRST.items()))
    assert writer.live_revision(tmp_path) == 7
    assert writer.read_live_file(tmp_path, "asterisk/pjsip.conf") == FIRST["asterisk/pjsip.conf"]
    assert writer.read_revision_file(tmp_path, 7, "kamailio/subscriber") == FIRST["kamailio/subscriber"]


def test_nothing_published_reads_as_empty(tmp_path: Path) -> None:
    assert writer.read_live(tmp_path) == {}
    assert writer.read_live_file(tmp_path, "asterisk/pjsip.conf") is None
    assert writer.live_revision(tmp_path) is None
    assert writer.latest_revision_number(tmp_path) == 0


@pytest.mark.parametrize("path", ["../escape", "/etc/passwd", "a/../../b", "a//b", ".", "a\\b", ""])
def test_paths_outside_the_revision_are_refused(tmp_path: Path, path: str) -> None:
    with pytest.raises(ValueError, match="not a plain relative path"):
        writer.publish(tmp_path, 1, {path: b"x"}, is_secret_path)
    assert writer.read_live_file(tmp_path, path) is None
    assert not list((tmp_path / "revisions").iterdir()), "a refused publish must leave nothing behind"


def test_secret_files_are_not_world_readable(tmp_path: Path) -> None:
    old_umask = os.umask(0)  # modes must not depend on the caller's umask
    try:
        revision_dir = writer.publish(tmp_path, 1, SECOND, is_secret_path)
    finally:
        os.umask(old_umask)

    def mode(relative: str) -> int:
        return stat.S_IMODE((revision_dir / relative).stat().st_mode)

    for secret in ("asterisk/pjsip.conf", "kamailio/subscriber", "provisioning/dev-1/accounts"):
        assert mode(secret) & 0o007 == 0, f"{secret} is world-accessible"
        assert mode(secret) == writer.SECRET_FILE_MODE
    assert mode("asterisk/extensions.conf") == writer.PUBLIC_FILE_MODE
    for directory in (revision_dir, revision_dir / "provisioning", revision_dir / "provisioning" / "dev-1"):
        assert stat.S_IMODE(directory.stat().st_mode) == writer.DIRECTORY_MODE


def test_republishing_within_a_second_still_grows_the_mtime(tmp_path: Path) -> None:
    # db_text (db_mode=1) reloads a table only when st_mtime grows in whole seconds.
    writer.publish(tmp_path, 1, FIRST, is_secret_path)
    first = (tmp_path / "current" / "kamailio" / "subscriber").stat().st_mtime
    writer.publish(tmp_path, 2, SECOND, is_secret_path)
    second = (tmp_path / "current" / "kamailio" / "subscriber").stat().st_mtime
    writer.publish(tmp_path, 3, FIRST, is_secret_path)
    third = (tmp_path / "current" / "kamailio" / "subscriber").stat().st_mtime

    assert int(second) > int(first)
    assert int(third) > int(second)


def test_crash_while_switching_current_leaves_the_old_set_live(tmp_path: Path, monkeypatch) -> None:
    writer.publish(tmp_path, 1, FIRST, is_secret_path)

    def crash(*_args, **_kwargs):
        raise OSError("simulated crash while switching 'current'")

    monkeypatch.setattr(writer.os, "replace", crash)
    with pytest.raises(OSError, match="simulated crash"):
        writer.publish(tmp_path, 2, SECOND, is_secret_path)
    monkeypatch.undo()

    assert writer.read_live(tmp_path) == dict(sorted(FIRST.items()))
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".tmp-")] == []
    # The directory left behind was never live; the next revision number skips it.
    assert writer.latest_revision_number(tmp_path) == 2
    writer.publish(tmp_path, 3, SECOND, is_secret_path)
    assert writer.read_live(tmp_path) == dict(sorted(SECOND.items()))


def test_crash_while_writing_files_leaves_the_old_set_live(tmp_path: Path, monkeypatch) -> None:
    writer.publish(tmp_path, 1, FIRST, is_secret_path)
    real_write = os.write
    calls = []

    def write_then_crash(descriptor, data):
        calls.append(descriptor)
        if len(calls) == 2:
            raise OSError("simulated crash while writing")
        return real_write(descriptor, data)

    monkeypatch.setattr(writer.os, "write", write_then_crash)
    with pytest.raises(OSError, match="simulated crash"):
        writer.publish(tmp_path, 2, SECOND, is_secret_path)
    monkeypatch.undo()

    assert writer.read_live(tmp_path) == dict(sorted(FIRST.items()))
    assert sorted(p.name for p in (tmp_path / "revisions").iterdir()) == ["000001"]


def test_publishing_over_the_live_revision_is_refused(tmp_path: Path) -> None:
    writer.publish(tmp_path, 1, FIRST, is_secret_path)
    with pytest.raises(FileExistsError, match="revision 1 is the live revision"):
        writer.publish(tmp_path, 1, SECOND, is_secret_path)
    assert writer.read_live(tmp_path) == dict(sorted(FIRST.items()))


def test_prune_keeps_the_newest_the_protected_and_the_live_revision(tmp_path: Path) -> None:
    for number in (1, 2, 3, 4, 6):
        writer.publish(tmp_path, number, FIRST, is_secret_path)
    # Revision 5 goes live after 6 was published (as a restore would).
    writer.publish(tmp_path, 5, SECOND, is_secret_path)
    (tmp_path / "revisions" / ".tmp-000009-leftover").mkdir()

    deleted = writer.prune(tmp_path, keep=1, protect={2})

    assert deleted == [1, 3, 4]
    assert sorted(p.name for p in (tmp_path / "revisions").iterdir()) == ["000002", "000005", "000006"]
    assert writer.read_live(tmp_path) == dict(sorted(SECOND.items()))


def test_prune_with_keep_zero_still_keeps_the_live_revision(tmp_path: Path) -> None:
    writer.publish(tmp_path, 1, FIRST, is_secret_path)
    writer.publish(tmp_path, 2, SECOND, is_secret_path)
    assert writer.prune(tmp_path, keep=0, protect=set()) == [1]
    assert writer.read_live(tmp_path) == dict(sorted(SECOND.items()))
