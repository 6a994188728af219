"""Async engine and per-request sessions for SQLite (aiosqlite) and PostgreSQL (asyncpg).

SQLite allows one writer at a time. A transaction that will write starts with
``BEGIN IMMEDIATE`` (writers queue instead of failing with "database is locked"
when two of them upgrade at once); a read-only one starts with a plain
``BEGIN``, so reads never wait for the write lock (WAL lets them run beside the
writer). A session says which it is with the ``WRITE`` execution option.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from app.core.settings import Settings

# Execution option: True when the transaction will write (SQLite then takes the write lock at BEGIN).
WRITE = "centralino_write"


def create_engine(settings: Settings) -> AsyncEngine:
    """Build the engine for the configured URL; SQLite gets WAL, foreign keys and the two BEGIN modes."""
    if settings.is_sqlite:
        engine = create_async_engine(
            settings.database_url,
            echo=settings.database_echo,
            connect_args={"timeout": 30},
        )

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # pragma: no cover - trivial
            # pysqlite's own transaction handling stays off; BEGIN is issued below.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine.sync_engine, "begin")
        def _sqlite_begin(connection):  # pragma: no cover - trivial
            writes = connection.get_execution_options().get(WRITE, True)
            connection.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")

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


def is_sqlite(session: AsyncSession) -> bool:
    return session.bind.dialect.name == "sqlite"


async def session_scope(maker: async_sessionmaker[AsyncSession], *, write: bool = True) -> AsyncIterator[AsyncSession]:
    """One transaction: commit when the block succeeds, roll back when it raises.

    ``write=False`` declares a read-only transaction (on SQLite it does not take the write lock).
    """
    async with maker(execution_options={WRITE: write}) as session:
        try:
            yield session
            await commit(session)
        except BaseException:
            await session.rollback()
            raise


async def commit(session: AsyncSession) -> None:
    """Commit the current transaction, running the ``on_commit`` hooks first and the ``after_commit`` ones after."""
    await run_before_commit(session)
    await session.commit()
    await run_after_commit(session)


async def begin_write(session: AsyncSession) -> None:
    """Start the session's next transaction as a writing one (after a read-only phase was committed)."""
    await session.connection(execution_options={WRITE: True})


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
