"""Throwaway databases for the benchmarks: a SQLite file in a work directory, or a PostgreSQL database
created and dropped here (at CENTRALINO_TEST_PG, default postgresql://postgres@127.0.0.1:5432/test)."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import asyncpg

PG_ADMIN_DSN = os.environ.get("CENTRALINO_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


async def _admin(sql: str) -> None:
    connection = await asyncpg.connect(PG_ADMIN_DSN, timeout=5)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


async def create_database(backend: str, workdir: Path, prefix: str) -> tuple[str, str | None]:
    """The URL of a new, empty database, and the name of the PostgreSQL database to drop afterwards."""
    if backend == "sqlite":
        return f"sqlite+aiosqlite:///{workdir / 'bench.db'}", None
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    await _admin(f'CREATE DATABASE "{name}"')
    return PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://") + f"/{name}", name


async def drop_database(name: str | None) -> None:
    if name is not None:
        await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
