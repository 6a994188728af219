"""Migrations carry existing data forward: organizations made before groups existed get their DEFAULT group
with every user in it, and built-in roles get the grown permission catalogue."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager

import httpx
from alembic import command
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from app.core.migrations import alembic_config, upgrade_async
from app.core.permissions import BUILTIN_ROLES
from app.main import create_app
from conftest import BOOTSTRAP_PASSWORD

BEFORE_GROUPS = "76f67c3dbd8c"


@asynccontextmanager
async def _as_owner(settings):
    """The app on ``settings``, and a client logged in as the bootstrap owner."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            token = (await client.post("/api/v1/auth/token", data={
                "username": "admin", "password": BOOTSTRAP_PASSWORD})).json()["access_token"]
            client.headers["Authorization"] = f"Bearer {token}"
            yield client


async def _scalar_rows(url: str, sql: str) -> list:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            return list((await connection.execute(text(sql))).all())
    finally:
        await engine.dispose()


async def test_upgrading_gives_existing_organizations_a_default_group_with_all_their_users(
        empty_database_url, settings):
    url = empty_database_url
    # Users made through the API, then the schema taken back to before groups (which drops them): the
    # organization is as the previous release left it, and the upgrade must bring its users in.
    await upgrade_async(url)
    settings = settings.model_copy(update={"database_url": url})
    async with _as_owner(settings) as client:
        for name in ("Anna", "Bruno"):
            assert (await client.post("/api/v1/users", json={"first_name": name})).status_code == 201
    await asyncio.to_thread(command.downgrade, alembic_config(url), BEFORE_GROUPS)
    old_manager = await _scalar_rows(url, "SELECT permissions FROM roles WHERE name = 'manager'")
    assert "groups.write" not in str(old_manager[0][0])

    await upgrade_async(url)

    groups = await _scalar_rows(url, "SELECT id, name, is_default FROM groups")
    assert [(name, bool(default)) for _, name, default in groups] == [("DEFAULT", True)]
    members = await _scalar_rows(url, "SELECT COUNT(*), MIN(role), MAX(role) FROM group_members")
    users = await _scalar_rows(url, "SELECT COUNT(*) FROM users")
    assert members[0] == (users[0][0], "member", "member") and users[0][0] == 3
    async with _as_owner(settings) as client:
        roles = (await client.get("/api/v1/roles")).json()["items"]
        users = (await client.get("/api/v1/users")).json()["items"]
    assert {r["name"]: sorted(r["permissions"]) for r in roles if r["builtin"]} == {
        name: sorted(permissions) for name, (_, permissions) in BUILTIN_ROLES.items()}
    assert {tuple(g["name"] for g in u["groups"]) for u in users} == {("DEFAULT",)}
