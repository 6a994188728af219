"""The webhook delivery worker: one per API process, sending due outbox rows.

Rows are *claimed* before they are sent — a lease written in a transaction (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, SQLite's single write lock otherwise) — so several processes never send one row at the same time.
A resource's events go to a subscription one after another: a row is due only when no earlier row of the same
subscription and resource is still pending. Delivery is at least once: a process that dies after sending and
before recording it lets the lease expire and the row is sent again with the same ``webhook-id``, which
receivers deduplicate by. Failed attempts back off exponentially with jitter; a delivery fails for good after
``webhook_max_attempts``, and a subscription failing ``webhook_disable_after_failures`` attempts in a row is
disabled.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.db import session_scope
from app.core.security import SecretBox
from app.core.settings import Settings
from app.models.webhooks import DeliveryStatus, WebhookDelivery, WebhookSubscription
from app.services.webhooks import UnsafeUrl, check_url_target, sign

log = logging.getLogger("centralino.webhooks")
MAX_ERROR_LENGTH = 500


@dataclass(slots=True)
class _Claimed:
    id: int
    subscription_id: uuid.UUID
    event_id: uuid.UUID
    payload: str
    attempts: int
    url: str
    secret_encrypted: str


@dataclass(slots=True)
class _Outcome:
    claimed: _Claimed
    status_code: int | None
    error: str | None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class WebhookWorker:
    """Sends this deployment's webhook deliveries; ``run`` until cancelled, or ``deliver_due`` once."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, secret_box: SecretBox,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.sessionmaker, self.settings, self.secret_box = sessionmaker, settings, secret_box
        self.worker_id = uuid.uuid4().hex
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task | None = None
        self._transport = transport
        self._client = self._new_client()

    def _new_client(self) -> httpx.AsyncClient:
        # No redirects (a redirect could lead anywhere, past the address check); no proxies from the environment.
        return httpx.AsyncClient(transport=self._transport, follow_redirects=False, trust_env=False)

    def wake(self) -> None:
        """Look for due deliveries now (a change committed new events)."""
        self._wake.set()

    def start(self) -> None:
        """Run in the background until ``stop`` (again after a ``stop``)."""
        if self._client.is_closed:
            self._client = self._new_client()
        self._stopping = False
        self._task = asyncio.create_task(self.run(), name="webhook-worker")

    async def stop(self) -> None:
        """Finish the round in progress (a cancelled round could leave its transaction open), then end."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), self.settings.webhook_timeout_seconds + 10)
            except TimeoutError:
                self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def run(self) -> None:
        """Deliver until stopped: at once when woken, else every ``webhook_poll_seconds``."""
        try:
            while not self._stopping:
                try:
                    sent = await self.deliver_due()
                except Exception:  # noqa: BLE001 - a database hiccup must not end the worker
                    log.exception("webhook delivery round failed")
                    sent = 0
                if sent or self._stopping:
                    continue
                try:
                    await asyncio.wait_for(self._wake.wait(), self.settings.webhook_poll_seconds)
                except TimeoutError:
                    pass
                self._wake.clear()
        finally:
            await self._client.aclose()

    async def deliver_due(self) -> int:
        """Claim the due deliveries (up to a batch), send them concurrently, record the outcomes; how many."""
        claimed = await self._claim(self.settings.webhook_concurrency * 4)
        if not claimed:
            return 0
        limit = asyncio.Semaphore(self.settings.webhook_concurrency)

        async def send(row: _Claimed) -> _Outcome:
            async with limit:
                return await self._send(row)

        outcomes = await asyncio.gather(*(send(row) for row in claimed))
        await self._record(outcomes)
        return len(claimed)

    async def _claim(self, batch: int) -> list[_Claimed]:
        """Lease up to ``batch`` due rows, each the first pending one of its subscription and resource.

        Three small indexed queries rather than one anti-join over the whole table (whose plan grew with the
        delivery log): due candidates in id order, the first pending id of each candidate's resource, then
        the lock and the lease (``FOR UPDATE SKIP LOCKED`` on PostgreSQL re-checks rows another worker took).
        """
        now = datetime.now(UTC)
        lease = timedelta(seconds=self.settings.webhook_timeout_seconds * 3 + 30)
        free = or_(WebhookDelivery.claimed_until.is_(None), WebhookDelivery.claimed_until < now)
        pending = WebhookDelivery.status == DeliveryStatus.pending.value
        async for session in session_scope(self.sessionmaker):
            candidates = (await session.execute(
                select(WebhookDelivery.id, WebhookDelivery.subscription_id, WebhookDelivery.resource_key)
                .join(WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id)
                .where(pending, WebhookDelivery.next_attempt_at <= now, free, WebhookSubscription.active.is_(True))
                .order_by(WebhookDelivery.id).limit(batch * 4))).all()
            if not candidates:
                return []
            heads = {(subscription, key): first for subscription, key, first in (await session.execute(
                select(WebhookDelivery.subscription_id, WebhookDelivery.resource_key, func.min(WebhookDelivery.id))
                .where(pending, WebhookDelivery.subscription_id.in_({c.subscription_id for c in candidates}),
                       WebhookDelivery.resource_key.in_({c.resource_key for c in candidates}))
                .group_by(WebhookDelivery.subscription_id, WebhookDelivery.resource_key))).all()}
            wanted = [c.id for c in candidates if heads.get((c.subscription_id, c.resource_key)) == c.id][:batch]
            if not wanted:
                return []
            lock = select(WebhookDelivery.id).where(WebhookDelivery.id.in_(wanted), pending, free)
            if session.bind.dialect.name == "postgresql":
                lock = lock.with_for_update(skip_locked=True)
            ids = list((await session.execute(lock)).scalars())
            if not ids:
                return []
            await session.execute(update(WebhookDelivery).where(WebhookDelivery.id.in_(ids))
                                  .values(claimed_until=now + lease).execution_options(synchronize_session=False))
            rows = (await session.execute(
                select(WebhookDelivery.id, WebhookDelivery.subscription_id, WebhookDelivery.event_id,
                       WebhookDelivery.payload, WebhookDelivery.attempts, WebhookSubscription.url,
                       WebhookSubscription.secret_encrypted)
                .join(WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id)
                .where(WebhookDelivery.id.in_(ids)).order_by(WebhookDelivery.id))).all()
        return [_Claimed(*row) for row in rows]

    async def _send(self, row: _Claimed) -> _Outcome:
        try:
            await check_url_target(row.url, self.settings.webhooks_allow_private)
        except UnsafeUrl as exc:
            return _Outcome(row, None, f"refused: the URL {exc}")
        message_id = f"msg_{row.event_id.hex}"
        timestamp = int(time.time())
        secret = self.secret_box.decrypt(row.secret_encrypted)
        headers = {"content-type": "application/json", "user-agent": "Centralino-Webhooks/1.0",
                   "webhook-id": message_id, "webhook-timestamp": str(timestamp),
                   "webhook-signature": sign(secret, message_id, timestamp, row.payload)}
        try:
            # Only the status matters: the body is not read (a huge answer costs nothing), the time is bounded.
            async with self._client.stream("POST", row.url, content=row.payload.encode(), headers=headers,
                                           timeout=self.settings.webhook_timeout_seconds) as response:
                return _Outcome(row, response.status_code, None if response.is_success else
                                f"the receiver answered {response.status_code}")
        except httpx.TimeoutException:
            return _Outcome(row, None, f"no answer within {self.settings.webhook_timeout_seconds:g} s")
        except httpx.HTTPError as exc:
            return _Outcome(row, None, f"{type(exc).__name__}: {exc}"[:MAX_ERROR_LENGTH])

    def _backoff(self, attempts: int) -> timedelta:
        base = self.settings.webhook_retry_base_seconds * 2 ** (attempts - 1)
        return timedelta(seconds=min(base, self.settings.webhook_retry_max_seconds) * random.uniform(0.5, 1.5))

    async def _record(self, outcomes: list[_Outcome]) -> None:
        now = datetime.now(UTC)
        failures: dict[uuid.UUID, int] = {}
        successes: set[uuid.UUID] = set()
        async for session in session_scope(self.sessionmaker):
            for outcome in outcomes:
                row = outcome.claimed
                attempts = row.attempts + 1
                values = {"attempts": attempts, "last_attempt_at": now, "last_status_code": outcome.status_code,
                          "last_error": outcome.error[:MAX_ERROR_LENGTH] if outcome.error else None,
                          "claimed_until": None}
                if outcome.ok:
                    values |= {"status": DeliveryStatus.delivered.value, "delivered_at": now}
                    successes.add(row.subscription_id)
                elif attempts >= self.settings.webhook_max_attempts:
                    values |= {"status": DeliveryStatus.failed.value}
                    failures[row.subscription_id] = failures.get(row.subscription_id, 0) + 1
                else:
                    values |= {"next_attempt_at": now + self._backoff(attempts)}
                    failures[row.subscription_id] = failures.get(row.subscription_id, 0) + 1
                await session.execute(update(WebhookDelivery).where(WebhookDelivery.id == row.id).values(**values))
            for subscription_id in successes - failures.keys():
                await session.execute(update(WebhookSubscription).where(WebhookSubscription.id == subscription_id)
                                      .values(consecutive_failures=0))
            for subscription_id, count in failures.items():
                await self._count_failures(session, subscription_id, count)

    async def _count_failures(self, session: AsyncSession, subscription_id: uuid.UUID, count: int) -> None:
        limit = self.settings.webhook_disable_after_failures
        await session.execute(update(WebhookSubscription).where(WebhookSubscription.id == subscription_id)
                              .values(consecutive_failures=WebhookSubscription.consecutive_failures + count))
        failed = (await session.execute(select(WebhookSubscription.consecutive_failures)
                                        .where(WebhookSubscription.id == subscription_id))).scalar()
        if failed is not None and failed >= limit:
            await session.execute(update(WebhookSubscription).where(
                WebhookSubscription.id == subscription_id, WebhookSubscription.active.is_(True)).values(
                active=False, disabled_reason=f"disabled after {failed} failed attempts in a row"))
            log.warning("webhook subscription %s disabled after %s failed attempts in a row", subscription_id, failed)
