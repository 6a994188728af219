"""The office-hours migration carries existing organizations forward: each gets its `default` schedule, Monday to
Friday 09:00–17:00 in the organization's own time zone; and it goes back down cleanly."""

from __future__ import annotations

import asyncio
import json

from alembic import command
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from app.core.migrations import alembic_config, upgrade_async
from test_data_migrations import _as_owner

BEFORE_OFFICE_HOURS = "16458365754b"


async def _rows(url: str, sql: str) -> list:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            return list((await connection.execute(text(sql))).all())
    finally:
        await engine.dispose()


async def test_upgrading_gives_each_existing_organization_a_default_schedule_in_its_time_zone(
        empty_database_url, settings):
    url = empty_database_url
    await upgrade_async(url)
    settings = settings.model_copy(update={"database_url": url})
    async with _as_owner(settings) as client:
        assert (await client.patch("/api/v1/organization", json={"timezone": "Europe/Warsaw"})).status_code == 200
        created = await client.post("/api/v1/organizations", json={
            "name": "Beta", "slug": "beta", "sip_domain": "beta.example.com", "timezone": "Asia/Tokyo"})
        assert created.status_code == 201, created.text
    await asyncio.to_thread(command.downgrade, alembic_config(url), BEFORE_OFFICE_HOURS)

    await upgrade_async(url)

    schedules = await _rows(url, "SELECT o.slug, s.name, s.timezone, s.is_default, s.weekly, s.breaks, s.holidays "
                                 "FROM office_hours s JOIN organizations o ON o.id = s.organization_id ORDER BY o.slug")
    weekly = [{"day": day, "start": "09:00", "end": "17:00"}
              for day in ("monday", "tuesday", "wednesday", "thursday", "friday")]
    loaded = [(slug, name, zone, bool(default), *(json.loads(v) if isinstance(v, str) else v for v in lists))
              for slug, name, zone, default, *lists in schedules]
    assert loaded == [("beta", "default", "Asia/Tokyo", True, weekly, [], []),
                      ("default", "default", "Europe/Warsaw", True, weekly, [], [])]
    async with _as_owner(settings) as client:
        listed = (await client.get("/api/v1/office-hours")).json()["items"]
    assert [(s["name"], s["timezone"], s["weekly"]) for s in listed] == [("default", "Europe/Warsaw", weekly)]
