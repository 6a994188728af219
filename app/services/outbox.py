"""The webhook outbox: every audited change becomes an event, written to the deliveries of the subscriptions that
want it in the same transaction as the change (an event exists if and only if its change committed).

Events are named ``<resource>.created|updated|deleted`` after the audit action, and ``config.applied``. The
audit log calls ``note``; one query per transaction finds the subscriptions, just before the commit.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db import after_commit, on_commit
from app.models.webhooks import DeliveryStatus, WebhookDelivery, WebhookSubscription

RESOURCES = ("api_key", "conference", "device", "did", "group", "inbound_rule", "ivr_menu", "office_hours",
             "organization", "outbound_route", "role", "sip_account", "trunk", "user")
CONFIG_APPLIED = "config.applied"
ALL = "*"
# Audit actions that read or send something: no change, no event.
_NOT_CHANGES = ("reveal", "read", "welcome_email")


def catalog() -> list[str]:
    """Every event name a subscription may ask for."""
    return [f"{resource}.{verb}" for resource in RESOURCES for verb in ("created", "updated", "deleted")] + [
        CONFIG_APPLIED]


def event_type(action: str) -> str | None:
    """The event an audit action reports, or None (reads, reveals)."""
    if action == "config.apply":
        return CONFIG_APPLIED
    resource, _, rest = action.partition(".")
    if resource not in RESOURCES or not rest or any(word in rest for word in _NOT_CHANGES):
        return None
    if rest in ("create", "clone"):
        return f"{resource}.created"
    if rest == "delete":
        return f"{resource}.deleted"
    return f"{resource}.updated"  # an update, or a change to one of its parts (forwarding, members, ...)


def note(session: AsyncSession, organization_id: uuid.UUID, action: str, resource_type: str, resource_id: Any,
         after: dict[str, Any] | None, actor: dict[str, Any]) -> None:
    """Record the event of an audited change; it reaches the outbox only if this transaction commits."""
    kind = event_type(action)
    if kind is None:
        return
    now = datetime.now(UTC)
    # The body is built only if a subscription wants the event (most changes have no subscriber).
    body = {"type": kind, "timestamp": now.isoformat(timespec="milliseconds"),
            "data": {"id": str(resource_id) if resource_id is not None else None, "resource": resource_type,
                     "action": action, "organization_id": str(organization_id), "actor": actor, "after": after}}
    session.info.setdefault("webhook_events", []).append({
        "organization_id": organization_id, "event_id": uuid.uuid4(), "event_type": kind,
        "resource_key": f"{resource_type}:{resource_id}"[:120], "payload": body, "created_at": now})
    on_commit(session, "webhook_events", _write)
    wake = session.info.get("wake_webhooks")
    if wake is not None:
        after_commit(session, "wake_webhooks", _async(wake))


def _async(wake):
    async def call() -> None:
        wake()
    return call


async def _write(session: AsyncSession) -> None:
    events = session.info.pop("webhook_events", [])
    if not events:
        return
    organizations = {event["organization_id"] for event in events}
    subscriptions = (await session.execute(
        select(WebhookSubscription.id, WebhookSubscription.organization_id, WebhookSubscription.events)
        .where(WebhookSubscription.organization_id.in_(organizations), WebhookSubscription.active.is_(True)))).all()
    rows = []
    for event in events:
        wanting = [subscription_id for subscription_id, organization_id, wanted in subscriptions
                   if organization_id == event["organization_id"] and (ALL in wanted or event["event_type"] in wanted)]
        if wanting:
            payload = json.dumps(event["payload"], default=str)  # one text, signed and sent as is
            rows += [{**event, "payload": payload, "subscription_id": subscription_id,
                      "status": DeliveryStatus.pending.value, "attempts": 0, "next_attempt_at": event["created_at"]}
                     for subscription_id in wanting]
    if rows:
        await session.execute(insert(WebhookDelivery), rows)
