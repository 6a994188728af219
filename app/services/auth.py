"""Login with username and password, slowed down and then refused after repeated failures."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.db import session_scope
from app.core.errors import TooManyRequests, Unauthorized
from app.core.security import create_access_token, verify_password
from app.core.settings import Settings
from app.models import LoginThrottle, User
from app.models.auth import Token

_WRONG = "Incorrect username or password"


async def _throttle_row(session: AsyncSession, username: str) -> LoginThrottle | None:
    return await session.get(LoginThrottle, username)


async def login(maker: async_sessionmaker[AsyncSession], settings: Settings, username: str, password: str) -> Token:
    """A JWT for valid credentials; the same 401 for an unknown user and a wrong password."""
    now = datetime.now(UTC)
    async for session in session_scope(maker):
        throttle = await _throttle_row(session, username)
        if throttle and throttle.locked_until and throttle.locked_until > now:
            retry_after = int((throttle.locked_until - now).total_seconds()) + 1
            raise TooManyRequests(f"Too many failed logins for this username; retry in {retry_after} s",
                                  headers={"Retry-After": str(retry_after)})
        failures = throttle.failures if throttle else 0
        user = (await session.execute(select(User).where(User.username == username))).scalar_one_or_none()
    if failures >= settings.login_free_failures:
        # Each failure past the free ones costs the next attempt more time.
        await asyncio.sleep(settings.login_failure_delay * (failures - settings.login_free_failures + 1))
    ok = verify_password(password, user.password_hash if user else None) and user is not None and user.role_id is not None
    async for session in session_scope(maker):
        throttle = await _throttle_row(session, username)
        if ok:
            if throttle is not None:
                await session.delete(throttle)
        else:
            if throttle is None:
                throttle = LoginThrottle(username=username, failures=0)
                session.add(throttle)
            throttle.failures += 1
            throttle.last_failure_at = now
            if throttle.failures >= settings.login_max_failures:
                throttle.locked_until = now + timedelta(seconds=settings.login_lockout_seconds)
                throttle.failures = 0
    if not ok:
        raise Unauthorized(_WRONG)
    token, lifetime = create_access_token(settings, subject=str(user.id), organization_id=str(user.organization_id))
    return Token(access_token=token, expires_in=lifetime)
