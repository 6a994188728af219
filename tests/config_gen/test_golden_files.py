"""Every target's output for the fixture snapshot, compared byte for byte with tests/config_gen/golden/.

Each target writes under a directory named after it (``asterisk/``,
``kamailio/``, ``provisioning/``), and so do the golden files. Regenerate them
after an intended change with ``UPDATE_GOLDEN=1`` and review the diff.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from golden_snapshot import fixture_snapshot

from app.config_gen.render import TARGETS, render_targets

GOLDEN_DIR = Path(__file__).parent / "golden"


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_output_matches_golden_files(target: str) -> None:
    rendered = render_targets(fixture_snapshot(), [target])
    assert all(path.startswith(f"{target}/") for path in rendered)
    golden_root = GOLDEN_DIR / target

    if os.environ.get("UPDATE_GOLDEN"):
        shutil.rmtree(golden_root, ignore_errors=True)
        for relative_path, content in rendered.items():
            destination = GOLDEN_DIR / relative_path
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_bytes(_bytes(content))

    golden = {
        path.relative_to(GOLDEN_DIR).as_posix(): path.read_bytes()
        for path in sorted(golden_root.rglob("*"))
        if path.is_file()
    }
    assert sorted(golden) == sorted(rendered), "file set differs from the golden files (UPDATE_GOLDEN=1 to accept)"
    for relative_path, content in rendered.items():
        assert _bytes(content) == golden[relative_path], f"{relative_path} differs (UPDATE_GOLDEN=1 to accept)"


def _bytes(content: str | bytes) -> bytes:
    return content.encode() if isinstance(content, str) else content
