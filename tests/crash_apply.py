"""Run ``centralino apply`` (or delete an organization) and kill the process at a named step.

    python tests/crash_apply.py STEP

The settings come from the environment (CENTRALINO_*), as for the service. The process dies with
``os._exit`` (no cleanup, no finally blocks): what SIGKILL or a power cut would leave behind.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.config_gen import writer  # noqa: E402
from app.services import config  # noqa: E402


def die(*_args, **_kwargs):
    os._exit(137)


def after(function):
    """``function``, then death."""
    def call(*args, **kwargs):
        function(*args, **kwargs)
        die()
    return call


def on_call(number: int, function):
    """``function`` until its ``number``-th call, which dies instead."""
    calls = 0

    def call(*args, **kwargs):
        nonlocal calls
        calls += 1
        if calls == number:
            die()
        return function(*args, **kwargs)
    return call


STEPS = {
    # The new revision is written to its staging directory, not yet renamed into place.
    "staged": lambda: setattr(writer, "_sync_filesystem", die),
    # Renamed into revisions/, but "current" still points at the previous revision.
    "renamed": lambda: setattr(writer, "_fsync_directory", die),
    # "current" points at the new revision; the database has not committed its row.
    "switched": lambda: setattr(writer, "_switch_current", after(writer._switch_current)),
    # The revision row committed; the reload commands have not run.
    "committed": lambda: setattr(config, "run_reloads", die),
    # The reload commands ran; their results are not recorded.
    "reloaded": lambda: setattr(config, "record_reloads", die),
    # Older revisions' rows are pruned and committed; their directories are still on disk.
    "pruned": lambda: setattr(writer, "reconcile", on_call(2, writer.reconcile)),
}


def delete_organization(slug: str) -> None:
    """Delete an organization through the API, dying right after the commit, before its files are removed."""
    import asyncio
    import shutil

    import httpx

    from app.main import create_app

    shutil.rmtree = die  # the removal that runs after the commit

    async def run() -> None:
        app = create_app()
        async with app.router.lifespan_context(app):
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://x") as client:
                token = (await client.post("/api/v1/auth/token", data={
                    "username": "admin", "password": os.environ["CENTRALINO_BOOTSTRAP_ADMIN_PASSWORD"]})).json()
                headers = {"Authorization": f"Bearer {token['access_token']}"}
                organization = (await client.get("/api/v1/organizations", params={"q": slug}, headers=headers)).json()
                await client.delete(f"/api/v1/organizations/{organization['items'][0]['id']}", headers=headers)

    asyncio.run(run())


if __name__ == "__main__":
    step = sys.argv[1]
    if step.startswith("delete:"):
        delete_organization(step.split(":", 1)[1])
    else:
        STEPS[step]()
        from app.cli import main

        sys.argv = ["centralino", "apply"]
        main()
    sys.exit(3)  # the process was meant to die before getting here
