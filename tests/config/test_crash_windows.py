"""A process killed at any step of an apply (or of an organization's deletion) leaves nothing behind: the next
start of the service puts disk and database back in agreement — no orphaned secrets, ``current`` on the
newest recorded revision, reloads that never ran are run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from app.config_gen import writer
from app.main import create_app
from app.models import ConfigRevision
from tests.conftest import BOOTSTRAP_PASSWORD

ROOT = Path(__file__).resolve().parents[2]
APPLY = "/api/v1/config/apply"


def crash(api, step: str, **env: str) -> None:
    """Run an apply in another process and kill it at ``step``."""
    settings = api.settings
    environment = {**os.environ, "CENTRALINO_DATABASE_URL": settings.database_url,
                   "CENTRALINO_SECRET_KEY": settings.secret_key.get_secret_value(),
                   "CENTRALINO_ENCRYPTION_KEY": settings.encryption_key.get_secret_value(),
                   "CENTRALINO_CONFIG_DIR": str(settings.config_dir), "CENTRALINO_BOOTSTRAP_ADMIN_PASSWORD": BOOTSTRAP_PASSWORD,
                   "CENTRALINO_CONFIG_KEEP_REVISIONS": str(settings.config_keep_revisions), **env}
    result = subprocess.run([sys.executable, str(ROOT / "tests" / "crash_apply.py"), step], env=environment,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 137, f"the process should have died at {step}: {result.stdout}{result.stderr}"


async def restart(api) -> None:
    """Start the service again (its start-up reconciles), as the next process would."""
    app = create_app(api.settings)
    app.state.bootstrap = False
    async with app.router.lifespan_context(app):
        pass


async def recorded(api) -> dict[int, ConfigRevision]:
    async with api.app.state.sessionmaker() as session:
        rows = (await session.execute(select(ConfigRevision))).scalars().all()
    return {row.number: row for row in rows}


def org_dir(api, slug="default") -> Path:
    return api.settings.config_dir / slug


def on_disk(api, slug="default") -> set[int]:
    revisions = org_dir(api, slug) / "revisions"
    return {int(p.name) for p in revisions.iterdir() if p.name.isdigit()} if revisions.is_dir() else set()


def leftovers(api, slug="default") -> list[str]:
    directory = org_dir(api, slug)
    return [p.name for p in [*directory.glob(".tmp-*"), *(directory / "revisions").glob(".tmp-*")]]


async def assert_agreement(api) -> None:
    """Disk and database agree: every revision directory is recorded, ``current`` is the newest one."""
    numbers = set(await recorded(api))
    assert on_disk(api) == numbers
    assert writer.live_revision(org_dir(api)) == (max(numbers) if numbers else None)
    assert leftovers(api) == []


@pytest.mark.parametrize("step", ["staged", "renamed", "switched"])
async def test_a_kill_before_the_revision_is_recorded_is_undone_at_the_next_start(api, step):
    await api.create_user(extension="next")
    assert (await api.post(APPLY, json={})).status_code == 200
    first_live = (org_dir(api) / "current" / "kamailio" / "subscriber").read_bytes()
    await api.create_user(extension="next")

    crash(api, step)
    await restart(api)

    await assert_agreement(api)
    assert set(await recorded(api)) == {1}
    # The live files are revision 1's again: phones and registrar never see an unrecorded set.
    assert (org_dir(api) / "current" / "kamailio" / "subscriber").read_bytes() == first_live
    again = (await api.post(APPLY, json={})).json()
    assert (again["created"], again["revision"]) == (True, 2)
    assert (await api.get("/api/v1/config/status")).json()["pending"] is False


async def test_a_kill_before_the_very_first_revision_is_recorded_leaves_nothing_live(api):
    await api.create_user(extension="next")

    crash(api, "switched")
    assert writer.live_revision(org_dir(api)) == 1  # what the kill left: live files nobody recorded
    await restart(api)

    await assert_agreement(api)
    assert not (org_dir(api) / "current").exists()


@pytest.mark.parametrize("step", ["committed", "reloaded"])
async def test_reload_commands_that_never_ran_or_were_never_recorded_run_at_the_next_start(api, step, tmp_path):
    marker = tmp_path / "reloads"
    command = f"echo reload >> {marker}"
    api.settings.reload_kamailio = command
    await api.create_user(extension="next")

    crash(api, step, CENTRALINO_RELOAD_KAMAILIO=command)
    assert (await recorded(api))[1].reloads is None
    await restart(api)

    await assert_agreement(api)
    reloads = (await recorded(api))[1].reloads
    assert reloads and reloads[0]["ok"] is True
    assert marker.read_text().count("reload") == (1 if step == "committed" else 2)
    entry = (await api.get("/api/v1/audit-log", params={"action": "config.reload"})).json()["items"][0]
    assert entry["actor_name"] == "startup"


async def test_a_kill_between_pruning_the_rows_and_the_directories_removes_them_at_the_next_start(api):
    api.settings.config_keep_revisions = 1
    for _ in range(2):
        await api.create_user(extension="next")
        assert (await api.post(APPLY, json={})).status_code == 200
    await api.create_user(extension="next")

    crash(api, "pruned")
    assert on_disk(api) == {2, 3} and set(await recorded(api)) == {3}
    await restart(api)

    await assert_agreement(api)


async def test_the_files_of_an_organization_whose_deletion_committed_are_removed_at_the_next_start(api):
    created = await api.post("/api/v1/organizations", json={"name": "Gone", "slug": "gone",
                                                           "sip_domain": "gone.example.com"})
    gone = {**api.headers, "X-Organization": "gone"}
    await api.post("/api/v1/users", json={"first_name": "G", "extension": "next"}, headers=gone)
    assert (await api.post(APPLY, json={}, headers=gone)).status_code == 200
    assert created.status_code == 201 and (org_dir(api, "gone") / "current").exists()
    await api.create_user(extension="next")
    assert (await api.post(APPLY, json={})).status_code == 200  # the default organization's files

    crash(api, "delete:gone")
    assert (org_dir(api, "gone") / "current" / "kamailio" / "subscriber").exists()  # secrets left behind
    await restart(api)

    assert not org_dir(api, "gone").exists()
    assert (org_dir(api, "default") / "current" / "kamailio" / "subscriber").exists()  # others are untouched
    await assert_agreement(api)


async def test_a_restart_with_nothing_to_mend_changes_nothing(api):
    await api.create_user(extension="next")
    await api.post(APPLY, json={})
    before = sorted(p.relative_to(api.settings.config_dir) for p in api.settings.config_dir.rglob("*"))

    await restart(api)

    assert sorted(p.relative_to(api.settings.config_dir) for p in api.settings.config_dir.rglob("*")) == before
