"""Test harness: every API test runs on SQLite and on a real PostgreSQL, each on a clean database.

The schema comes from ``alembic upgrade head`` (once per session and backend);
each test then gets a fresh copy (SQLite: a copied file; PostgreSQL: truncated tables).
PostgreSQL is reached at CENTRALINO_TEST_PG (default postgresql://postgres@127.0.0.1:5432/test);
the suite creates and drops its own throwaway database and never touches others.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import pytest
from sqlmodel import SQLModel

from app.core.migrations import upgrade
from app.core.settings import Settings
from app.main import create_app

BOOTSTRAP_PASSWORD = "bootstrap-Pass-123"
PG_ADMIN_DSN = os.environ.get("CENTRALINO_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
BACKENDS = [b for b in os.environ.get("CENTRALINO_TEST_BACKENDS", "sqlite,postgresql").split(",") if b]


def skip_or_fail(reason: str) -> None:
    """Locally a missing external part skips the test; in CI it is a failure."""
    if os.environ.get("CI"):
        pytest.fail(reason + " (CI must run this test)")
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch):
    """Argon2 with minimal cost: the same code path, a fraction of the time per login."""
    from passlib.context import CryptContext

    from app.core import security

    monkeypatch.setattr(security, "_password_context", CryptContext(
        schemes=["argon2"], argon2__time_cost=1, argon2__memory_cost=1024, argon2__parallelism=1))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


async def _pg_admin(sql: str) -> None:
    connection = await asyncpg.connect(PG_ADMIN_DSN, timeout=5)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


def _pg_url(name: str) -> str:
    return f"{PG_ADMIN_DSN.rsplit('/', 1)[0].replace('postgresql://', 'postgresql+asyncpg://')}/{name}"


@pytest.fixture(scope="session")
def pg_database() -> str | None:
    """A throwaway PostgreSQL database with the schema migrated; dropped at the end."""
    name = f"centralino_test_{uuid.uuid4().hex[:10]}"
    try:
        asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError) as exc:
        yield None if not isinstance(exc, OSError) else f"error:{exc}"
        return
    url = _pg_url(name)
    upgrade(url)
    yield url
    asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def empty_database_url(backend, tmp_path) -> Iterator[str]:
    """A database of its own with no schema (for migration tests), dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
        return
    name = f"centralino_test_{uuid.uuid4().hex[:10]}"
    try:
        asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError) as exc:
        skip_or_fail(f"PostgreSQL is not reachable at {PG_ADMIN_DSN}: {exc}")
    yield _pg_url(name)
    asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture
def database_url(backend, request, tmp_path) -> str:
    if backend == "sqlite":
        target = tmp_path / "centralino.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), target)
        return f"sqlite+aiosqlite:///{target}"
    url = request.getfixturevalue("pg_database")
    if url is None or url.startswith("error:"):
        skip_or_fail(f"PostgreSQL is not reachable at {PG_ADMIN_DSN}: {url}")
    asyncio.run(_truncate(url))
    return url


async def _truncate(url: str) -> None:
    tables = ", ".join(f'"{t}"' for t in SQLModel.metadata.tables)
    connection = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await connection.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    finally:
        await connection.close()


@pytest.fixture
def settings(database_url, tmp_path) -> Settings:
    return Settings(
        _env_file=None,
        database_url=database_url,
        secret_key="test-secret-key-" + "x" * 32,
        encryption_key="test-encryption-key-" + "y" * 32,
        bootstrap_admin_password=BOOTSTRAP_PASSWORD,
        login_failure_delay=0.0,
        config_dir=tmp_path / "generated",
        webhook_worker=False,  # the webhook tests start it; elsewhere it would only poll in the background
    )


@dataclass
class Api:
    """An HTTP client on the app, logged in as the bootstrap owner, with helpers the tests share."""

    client: httpx.AsyncClient
    app: object
    settings: Settings
    headers: dict[str, str]

    async def login(self, username: str, password: str) -> dict[str, str]:
        response = await self.client.post("/api/v1/auth/token", data={"username": username, "password": password})
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    async def post(self, url: str, json=None, headers=None, **kw) -> httpx.Response:
        return await self.client.post(url, json=json, headers=headers if headers is not None else self.headers, **kw)

    async def get(self, url: str, headers=None, **kw) -> httpx.Response:
        return await self.client.get(url, headers=headers if headers is not None else self.headers, **kw)

    async def patch(self, url: str, json=None, headers=None, **kw) -> httpx.Response:
        return await self.client.patch(url, json=json, headers=headers if headers is not None else self.headers, **kw)

    async def put(self, url: str, json=None, headers=None, **kw) -> httpx.Response:
        return await self.client.put(url, json=json, headers=headers if headers is not None else self.headers, **kw)

    async def delete(self, url: str, headers=None, **kw) -> httpx.Response:
        return await self.client.delete(url, headers=headers if headers is not None else self.headers, **kw)

    async def create_user(self, headers=None, **fields) -> dict:
        body = {"first_name": "Test", "last_name": uuid.uuid4().hex[:8], **fields}
        response = await self.post("/api/v1/users", json=body, headers=headers)
        assert response.status_code == 201, response.text
        return response.json()

    async def user_with_role(self, role: str, scope: str = "own", extension=None, headers=None) -> tuple[dict, dict[str, str]]:
        """A user with a login of the given role; returns it and its auth headers."""
        username = f"{role}-{uuid.uuid4().hex[:6]}"
        user = await self.create_user(headers=headers, access={"username": username, "password": "Password-123",
                                                               "role": role, "scope": scope}, extension=extension)
        return user, await self.login(username, "Password-123")


@pytest.fixture
async def api(settings) -> AsyncIterator[Api]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            api = Api(client=client, app=app, settings=settings, headers={})
            api.headers = await api.login("admin", BOOTSTRAP_PASSWORD)
            yield api


def pytest_sessionfinish(session, exitstatus):
    """In CI a skipped test is a failure: CI installs everything the suite needs."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if os.environ.get("CI") and reporter is not None and reporter.stats.get("skipped"):
        reporter.write_line(f"CI: {len(reporter.stats['skipped'])} test(s) skipped; failing the run", red=True)
        session.exitstatus = 1
