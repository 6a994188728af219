"""Login with username and password, throttled per username *and* client address.

Every attempt is counted *before* its password is checked, atomically in the
database (so across processes): of 40 parallel guesses, 40 are counted and at
most ``login_max_failures`` reach the password hash; the rest get 429 at once.
A success clears its own (username, client) counter. Because the counter is
per client address, a stranger guessing the owner's password from elsewhere
locks out only itself. A client may also fail only so often over all usernames
(password spraying). The table is pruned of expired windows and capped in size.
"""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import case, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.db import session_scope
from app.core.errors import ServiceUnavailable, TooManyRequests, Unauthorized
from app.core.security import PasswordHasher, create_access_token
from app.core.settings import Settings
from app.models import LoginThrottle, User
from app.models.auth import Token
from app.services.config_state import upsert

_WRONG = "Incorrect username or password"
ANY_USERNAME = "*"  # the per-client row, over every username (not a valid username)


def client_key(host: str | None) -> str:
    """The address a throttle counts by: IPv4 as is, IPv6 by its /64 (one site's addresses), bounded in length."""
    if not host:
        return "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host if len(host) <= 64 else "h:" + hashlib.sha256(host.encode()).hexdigest()[:40]
    if address.version == 6:
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


class LoginQueue:
    """Admission of logins in one process: how many may be in flight, and how many may use the database.

    A login spends almost all its time waiting for a hashing thread; it must not hold a
    database connection meanwhile, nor may a flood of logins queue for connections the
    rest of the service needs. So the throttle bookkeeping of at most ``database_slots``
    logins runs at a time, and past ``max_in_flight`` logins more are refused at once.
    """

    def __init__(self, max_in_flight: int, database_slots: int = 2):
        self.max_in_flight = max_in_flight
        self.in_flight = 0
        self.database = asyncio.Semaphore(database_slots)

    @contextmanager
    def admit(self) -> Iterator[None]:
        if self.in_flight >= self.max_in_flight:
            raise ServiceUnavailable("Too many logins are being checked; retry shortly", headers={"Retry-After": "1"})
        self.in_flight += 1
        try:
            yield
        finally:
            self.in_flight -= 1


@dataclass(frozen=True, slots=True)
class Attempt:
    """This attempt's place in its windows: the counts include it."""

    pair_attempts: int
    client_attempts: int
    retry_after: float  # seconds until the tightest exceeded window ends (0 when none is exceeded)


async def _count(session: AsyncSession, username: str, client: str, now: float, window: float) -> tuple[int, float]:
    """Add one attempt to a (username, client) row, starting a new window when the old one ended."""
    # One statement, so concurrent attempts (other processes included) each get their own count.
    expired = LoginThrottle.window_started < now - window
    statement = upsert(session)(LoginThrottle).values(username=username, client=client, attempts=1, window_started=now)
    statement = statement.on_conflict_do_update(
        index_elements=[LoginThrottle.username, LoginThrottle.client],
        set_={"attempts": case((expired, 1), else_=LoginThrottle.attempts + 1),
              "window_started": case((expired, now), else_=LoginThrottle.window_started)},
    ).returning(LoginThrottle.attempts, LoginThrottle.window_started)
    attempts, started = (await session.execute(statement)).one()
    return attempts, started


async def _prune(session: AsyncSession, settings: Settings, now: float) -> None:
    """Drop expired windows; past the row cap, drop the oldest windows too (the table stays bounded)."""
    window = settings.login_lockout_seconds
    await session.execute(delete(LoginThrottle).where(LoginThrottle.window_started < now - window))
    cutoff = (await session.execute(
        select(LoginThrottle.window_started).order_by(LoginThrottle.window_started.desc())
        .offset(settings.login_throttle_max_rows).limit(1))).scalar_one_or_none()
    if cutoff is not None:
        await session.execute(delete(LoginThrottle).where(LoginThrottle.window_started <= cutoff))


async def _reserve(maker: async_sessionmaker[AsyncSession], settings: Settings, username: str,
                   client: str) -> tuple[Attempt, User | None]:
    now = time.time()
    window = settings.login_lockout_seconds
    async for session in session_scope(maker):
        pair, pair_started = await _count(session, username, client, now, window)
        spray, spray_started = await _count(session, ANY_USERNAME, client, now, window)
        if pair == 1 or spray == 1:  # a new row: keep the table small
            await _prune(session, settings, now)
        user = (await session.execute(select(User).where(User.username == username))).scalar_one_or_none()
    waits = [started + window - now for count, limit, started in
             ((pair, settings.login_max_failures, pair_started),
              (spray, settings.login_client_max_failures, spray_started)) if count > limit]
    return Attempt(pair, spray, max(waits, default=0.0)), user


async def _settle(maker: async_sessionmaker[AsyncSession], username: str, client: str) -> None:
    """A success: clear the pair's counter and give the client back the attempt it spent."""
    async for session in session_scope(maker):
        await session.execute(delete(LoginThrottle).where(LoginThrottle.username == username,
                                                          LoginThrottle.client == client))
        spent = (LoginThrottle.username == ANY_USERNAME, LoginThrottle.client == client)
        await session.execute(update(LoginThrottle).where(*spent).values(attempts=LoginThrottle.attempts - 1))
        await session.execute(delete(LoginThrottle).where(*spent, LoginThrottle.attempts <= 0))


async def login(maker: async_sessionmaker[AsyncSession], settings: Settings, hasher: PasswordHasher,
                queue: LoginQueue, username: str, password: str, client_host: str | None) -> Token:
    """A JWT for valid credentials; the same 401 for an unknown user and a wrong password."""
    client = client_key(client_host)
    with queue.admit():
        async with queue.database:
            attempt, user = await _reserve(maker, settings, username, client)
        if attempt.retry_after > 0:
            retry_after = int(attempt.retry_after) + 1
            raise TooManyRequests(f"Too many failed logins from this address; retry in {retry_after} s",
                                  headers={"Retry-After": str(retry_after)})
        extra = attempt.pair_attempts - 1 - settings.login_free_failures
        if extra >= 0 and settings.login_failure_delay > 0:
            # Each failure past the free ones costs the next attempt more time.
            await asyncio.sleep(settings.login_failure_delay * (extra + 1))
        ok = await hasher.verify(password, user.password_hash if user else None)
        if not (ok and user is not None and user.role_id is not None and user.active):
            raise Unauthorized(_WRONG)
        async with queue.database:
            await _settle(maker, username, client)
    token, lifetime = create_access_token(settings, subject=str(user.id), organization_id=str(user.organization_id),
                                          version=user.auth_version)
    return Token(access_token=token, expires_in=lifetime)
