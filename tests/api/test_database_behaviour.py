"""The database under pressure: reads never wait for writers, an apply blocks no other organization, a database
that goes away gives 503 with Retry-After (and the service recovers), lists run a fixed number of statements."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import threading
import uuid
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

import asyncpg
import httpx
from sqlalchemy import event

from app.main import create_app
from app.services import config as config_service
from db_proxy import TcpProxy
from problems import problem
from tests.conftest import BOOTSTRAP_PASSWORD

# A request that would wait for a lock waits for the database's busy timeout (30 s); answering
# well within this deadline shows it did not wait.
PROMPTLY = 5.0


@asynccontextmanager
async def writer_holding_its_lock(api, user_id: str):
    """Another process's transaction that has written and keeps its locks until the block ends."""
    url = api.settings.database_url
    if url.startswith("sqlite"):
        connection = sqlite3.connect(url.split("///", 1)[1], isolation_level=None, check_same_thread=False)
        connection.execute("BEGIN IMMEDIATE")
        connection.execute("UPDATE users SET first_name = 'Uncommitted' WHERE id = ?", (uuid.UUID(user_id).hex,))
        try:
            yield
        finally:
            connection.execute("ROLLBACK")
            connection.close()
    else:
        connection = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
        transaction = connection.transaction()
        await transaction.start()
        await connection.execute("UPDATE users SET first_name = 'Uncommitted' WHERE id = $1", uuid.UUID(user_id))
        try:
            yield
        finally:
            await transaction.rollback()
            await connection.close()


async def test_reads_answer_at_once_while_another_writer_holds_its_lock(api):
    user = await api.create_user(first_name="Anna", extension="next")

    async with writer_holding_its_lock(api, user["id"]):
        listed = await asyncio.wait_for(api.get("/api/v1/users"), PROMPTLY)
        fetched = await asyncio.wait_for(api.get(f"/api/v1/users/{user['id']}"), PROMPTLY)
        me = await asyncio.wait_for(api.get("/api/v1/auth/me"), PROMPTLY)

    assert listed.status_code == fetched.status_code == me.status_code == 200
    assert fetched.json()["first_name"] == "Anna"  # the uncommitted change is not seen


async def test_an_apply_in_one_organization_blocks_no_request_of_another(api, monkeypatch):
    other = await api.post("/api/v1/organizations", json={"name": "Beta", "slug": "beta",
                                                          "sip_domain": "beta.example.com"})
    assert other.status_code == 201, other.text
    await api.create_user(extension="next")
    rendering, release = threading.Event(), threading.Event()
    real_render = config_service.render_targets

    def slow_render(snapshot, targets):
        rendering.set()
        release.wait(30)
        return real_render(snapshot, targets)

    monkeypatch.setattr(config_service, "render_targets", slow_render)
    applying = asyncio.create_task(api.post("/api/v1/config/apply", json={}))
    assert await asyncio.to_thread(rendering.wait, PROMPTLY)
    beta = {**api.headers, "X-Organization": "beta"}
    try:
        created = await asyncio.wait_for(api.post("/api/v1/users", json={"first_name": "Bea", "extension": "next"},
                                                  headers=beta), PROMPTLY)
        same_org = await asyncio.wait_for(api.post("/api/v1/users", json={"first_name": "Ala"}), PROMPTLY)
        listed = await asyncio.wait_for(api.get("/api/v1/users", headers=beta), PROMPTLY)
    finally:
        release.set()
    applied = await applying

    assert (created.status_code, same_org.status_code, listed.status_code) == (201, 201, 200)
    assert applied.status_code == 200, applied.text
    # The user created while the apply rendered is not in that revision: it stays pending.
    assert (await api.get("/api/v1/config/status")).json()["pending"] is True


async def test_a_slow_reload_command_blocks_nobody_and_its_result_is_audited_after_the_commit(api, tmp_path):
    go = tmp_path / "go"
    api.settings.reload_kamailio = f"while [ ! -e {go} ]; do sleep 0.02; done; echo reloaded"
    await api.create_user(extension="next")

    applying = asyncio.create_task(api.post("/api/v1/config/apply", json={}))
    while not (await api.get("/api/v1/config/revisions")).json()["total"]:  # committed: the revision is visible
        await asyncio.sleep(0)
    revision = (await api.get("/api/v1/config/revisions/1")).json()
    created = await asyncio.wait_for(api.post("/api/v1/users", json={"first_name": "Ala"}), PROMPTLY)
    go.touch()
    applied = (await applying).json()

    assert revision["reloads"] is None  # recorded, reloads not run yet
    assert created.status_code == 201
    assert applied["reloads"][0]["output"].strip() == "reloaded"
    assert (await api.get("/api/v1/config/revisions/1")).json()["reloads"][0]["ok"] is True
    actions = [e["action"] for e in (await api.get("/api/v1/audit-log", params={"resource_type": "config"})).json()["items"]]
    assert actions[:2] == ["config.reload", "config.apply"]


# --- the database goes away ----------------------------------------------------------------------------------

async def test_a_database_gone_at_runtime_is_503_with_retry_after_and_the_service_recovers(settings, tmp_path):
    url = settings.database_url
    proxy = None
    if url.startswith("sqlite"):
        database = urlsplit(url).path.removeprefix("/")
        moved = tmp_path / "moved"
        moved.mkdir()
    else:
        parts = urlsplit(url)
        proxy = TcpProxy(parts.hostname, parts.port or 5432)
        await proxy.start()
        settings = settings.model_copy(update={"database_url": url.replace(f"{parts.hostname}:{parts.port or 5432}",
                                                                            f"127.0.0.1:{proxy.port}")})
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            token = (await client.post("/api/v1/auth/token", data={"username": "admin",
                                                                   "password": BOOTSTRAP_PASSWORD})).json()
            headers = {"Authorization": f"Bearer {token['access_token']}"}
            assert (await client.get("/api/v1/users", headers=headers)).status_code == 200

            if proxy is not None:
                await proxy.stop()
            else:
                for suffix in ("", "-wal", "-shm"):
                    shutil.move(database + suffix, moved / f"db{suffix}") if _exists(database + suffix) else None
            await app.state.engine.dispose()  # the pool's connections die with the database

            for request in (client.get("/api/v1/users", headers=headers),
                            client.post("/api/v1/users", json={"first_name": "Anna"}, headers=headers),
                            client.get("/readyz")):
                response = await request
                problem(response, 503)
                assert int(response.headers["Retry-After"]) > 0
                assert "Traceback" not in response.text

            if proxy is not None:
                await proxy.start()
            else:
                for suffix in ("", "-wal", "-shm"):
                    shutil.move(moved / f"db{suffix}", database + suffix) if _exists(moved / f"db{suffix}") else None
            assert (await client.get("/api/v1/users", headers=headers)).status_code == 200
    if proxy is not None:
        await proxy.stop()


def _exists(path) -> bool:
    import os

    return os.path.exists(path)


# --- a fixed number of statements ---------------------------------------------------------------------------------

async def test_listing_users_runs_the_same_statements_for_3_users_or_120(api):
    statements: list[str] = []

    def count(_connection, _cursor, statement, *_args):
        statements.append(statement)

    async def listed_statements(limit: int) -> int:
        statements.clear()
        event.listen(api.app.state.engine.sync_engine, "before_cursor_execute", count)
        try:
            response = await api.get("/api/v1/users", params={"limit": limit})
        finally:
            event.remove(api.app.state.engine.sync_engine, "before_cursor_execute", count)
        assert response.status_code == 200
        return len(statements)

    for _ in range(2):
        await api.create_user(extension="next")
    few = await listed_statements(500)
    for _ in range(117):
        await api.create_user()
    many = await listed_statements(500)

    assert few == many == 4  # the principal, the page, the count, the page's groups
