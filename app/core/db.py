"""Async engine and per-request sessions for SQLite (aiosqlite) and PostgreSQL (asyncpg)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from app.core.settings import Settings


def create_engine(settings: Settings) -> AsyncEngine:
    """Build the engine for the configured URL; SQLite gets WAL and foreign keys."""
    if settings.is_sqlite:
        engine = create_async_engine(
            settings.database_url,
            echo=settings.database_echo,
            connect_args={"timeout": 30},
        )

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # pragma: no cover - trivial
            # Let pysqlite's own transaction handling stay off; we issue BEGIN
            # IMMEDIATE ourselves so writers queue instead of failing with
            # "database is locked" when two transactions upgrade at once.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine.sync_engine, "begin")
        def _sqlite_begin(connection):  # pragma: no cover - trivial
            connection.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_async_engine(
        settings.database_url,
        echo=settings.database_echo,
        pool_pre_ping=True,
        pool_size=10,
        max_overflow=20,
    )


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


async def session_scope(maker: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """One transaction: commit when the block succeeds, roll back when it raises."""
    async with maker() as session:
        try:
            yield session
            await run_before_commit(session)
            await session.commit()
            await run_after_commit(session)
        except BaseException:
            await session.rollback()
            raise


async def run_before_commit(session: AsyncSession) -> None:
    """Run the callbacks services registered with ``on_commit``, as the last writes of the transaction."""
    callbacks = session.info.pop("before_commit", {})
    for callback in callbacks.values():
        await callback(session)


async def run_after_commit(session: AsyncSession) -> None:
    """Run the callbacks registered with ``after_commit`` (file-system work that must follow the data)."""
    for callback in session.info.pop("after_commit", {}).values():
        await callback()


def after_commit(session: AsyncSession, key: str, callback) -> None:
    """Register ``await callback()`` to run once, only if this transaction commits."""
    session.info.setdefault("after_commit", {}).setdefault(key, callback)


def on_commit(session: AsyncSession, key: str, callback) -> None:
    """Register ``callback(session)`` to run once, just before this transaction commits.

    Writes made there commit or roll back with the rest of the transaction, and
    running them last keeps any row locks they take as short as possible.
    """
    session.info.setdefault("before_commit", {}).setdefault(key, callback)
