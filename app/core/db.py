"""Async engine and per-request sessions for SQLite (aiosqlite) and PostgreSQL (asyncpg).

Every session runs in one of three modes (the ``MODE`` execution option):

- ``write``: one transaction; on SQLite it starts with ``BEGIN IMMEDIATE``, so writers
  queue for the single write lock instead of failing with "database is locked" when two
  of them upgrade at once.
- ``read``: no transaction at all, each statement sees the latest committed data. Reads
  never wait for SQLite's write lock (WAL runs them beside the writer), and neither
  database spends round trips on BEGIN and COMMIT.
- ``phased``: transactions the service manages itself (apply, restore): they start as
  plain reads (``BEGIN``) and switch to writing with ``begin_write``.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator

from sqlalchemy import URL, event, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.util import await_
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from app.core.settings import Settings

MODE = "centralino_mode"
READ, WRITE, PHASED = "read", "write", "phased"


def create_engine(settings: Settings) -> AsyncEngine:
    """Build the engine for the configured URL; SQLite gets WAL, foreign keys and the session modes."""
    if settings.is_sqlite:
        engine = create_async_engine(
            _existing_sqlite_file(settings.database_url),
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

        writers = WriterQueue()

        @event.listens_for(engine.sync_engine, "begin")
        def _sqlite_begin(connection):  # pragma: no cover - trivial
            mode = connection.get_execution_options().get(MODE, WRITE)
            if mode == WRITE:
                writers.enter(connection)
                try:
                    connection.exec_driver_sql("BEGIN IMMEDIATE")
                except BaseException:
                    writers.leave(connection)
                    raise
            elif mode == PHASED:
                connection.exec_driver_sql("BEGIN")
            # READ: no transaction at all (autocommit)

        @event.listens_for(engine.sync_engine, "commit")
        @event.listens_for(engine.sync_engine, "rollback")
        def _sqlite_end(connection):  # pragma: no cover - trivial
            writers.leave(connection)

        return engine
    # No pre-ping: it costs a round trip per request. A connection the server dropped fails its
    # request with a 503 (see errors.database_unavailable) and is discarded; connections are
    # recycled before servers and proxies usually close idle ones.
    return create_async_engine(
        settings.database_url,
        echo=settings.database_echo,
        pool_size=10,
        max_overflow=20,
        pool_recycle=1800,
    )


class WriterQueue:
    """This process's SQLite writers, one at a time, first come first served.

    SQLite has one write lock; a writer that finds it taken sleeps and retries (the busy
    handler), so under load writers wait in growing naps and the lock goes to whoever
    retries first. In one process they queue here instead, and each takes the lock the
    moment the previous one commits. (Other processes still meet at SQLite's lock.)
    Runs inside SQLAlchemy's greenlet, where ``await_`` may wait for the asyncio lock.
    """

    TIMEOUT = 30.0  # as SQLite's busy timeout: then the request fails with 503, never hangs

    def __init__(self) -> None:
        self._lock = asyncio.Lock()

    def enter(self, connection) -> None:
        try:
            await_(asyncio.wait_for(self._lock.acquire(), self.TIMEOUT))
        except TimeoutError:
            raise OperationalError("BEGIN IMMEDIATE", {}, sqlite3.OperationalError("database is locked")) from None
        connection.info["centralino_writer"] = True

    def leave(self, connection) -> None:
        if connection.info.pop("centralino_writer", False):
            self._lock.release()


def _existing_sqlite_file(database_url: str) -> URL:
    """The URL opened read-write but never created: a database file that went away is an outage (503),
    not a fresh empty database silently taking its place. (Migrations create the file.)"""
    url = make_url(database_url)
    if not url.database or url.database == ":memory:" or url.database.startswith("file:"):
        return url
    return url.set(database=f"file:{url.database}", query={**url.query, "mode": "rw", "uri": "true"})


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


def is_sqlite(session: AsyncSession) -> bool:
    return session.bind.dialect.name == "sqlite"


def mode_options(maker: async_sessionmaker[AsyncSession], mode: str) -> dict[str, str]:
    """The execution options of a session mode (PostgreSQL reads run in autocommit: no BEGIN, no COMMIT)."""
    options = {MODE: mode}
    if mode == READ and maker.kw["bind"].dialect.name == "postgresql":
        options["isolation_level"] = "AUTOCOMMIT"
    return options


async def session_scope(maker: async_sessionmaker[AsyncSession], *, mode: str = WRITE) -> AsyncIterator[AsyncSession]:
    """One unit of work: commit when the block succeeds, roll back when it raises."""
    async with maker(execution_options=mode_options(maker, mode)) as session:
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
    """Start the session's next transaction as a writing one (after a read phase was committed)."""
    await session.connection(execution_options={MODE: WRITE})


async def end_read_phase(session: AsyncSession) -> None:
    """Phased sessions: on SQLite, end the read transaction before slow work (a render, an SMTP round trip), so no
    snapshot is held across it; PostgreSQL keeps its transaction (and any row lock) instead."""
    if is_sqlite(session):
        await commit(session)


async def begin_write_phase(session: AsyncSession) -> None:
    """Phased sessions: on SQLite, take the write lock for the writes that follow a read phase."""
    if is_sqlite(session):
        await begin_write(session)


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
