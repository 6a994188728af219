"""Webhook subscriptions: where an organization's events go, signed as the Standard Webhooks spec says.

A subscription's URL must be http(s) and must not lead to a private, loopback, link-local or otherwise
reserved address (server-side request forgery), unless ``CENTRALINO_WEBHOOKS_ALLOW_PRIVATE`` says so; the
address is checked again at each delivery, since DNS answers change.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import ipaddress
import json
import secrets
import socket
import uuid
from datetime import UTC, datetime
from urllib.parse import urlsplit

from sqlalchemy import select

from app.core.context import Context
from app.core.errors import FieldErrors, NotFound, ValidationProblem
from app.core.pagination import ListParams, apply_sort, contains, paginate
from app.models.webhooks import (DeliveryStatus, WebhookCreate, WebhookDelivery, WebhookSubscription,
                                 WebhookUpdate)
from app.services import audit, outbox
from app.services.changes import delete_row, update_row
from app.services.scoping import require_scope_all

RESOURCE = "webhook"
SECRET_PREFIX = "whsec_"


class UnsafeUrl(ValueError):
    """The URL is not one the service sends requests to."""


def new_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def sign(secret: str, message_id: str, timestamp: int, body: str) -> str:
    """The ``webhook-signature`` header: ``v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">``."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    digest = hmac.new(key, f"{message_id}.{timestamp}.{body}".encode(), hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def check_url_form(url: str) -> str:
    """The URL's host, when its form is acceptable (``UnsafeUrl`` otherwise)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise UnsafeUrl("must be an http or https URL")
    if not parts.hostname:
        raise UnsafeUrl("must name a host")
    if parts.username or parts.password:
        raise UnsafeUrl("must not carry credentials (the signature authenticates the service)")
    try:
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        raise UnsafeUrl("has an invalid port") from None
    return parts.hostname


async def check_url_target(url: str, allow_private: bool) -> None:
    """Refuse a URL whose host resolves to a non-public address (unless allowed): no requests into the
    service's own network."""
    host = check_url_form(url)
    if allow_private:
        return
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except OSError:
        raise UnsafeUrl(f"host {host} does not resolve") from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            raise UnsafeUrl(f"{host} is a private or reserved address ({address}); set "
                            f"CENTRALINO_WEBHOOKS_ALLOW_PRIVATE to allow it")


async def _check(ctx: Context, url: str | None, events: list[str] | None) -> None:
    errors = FieldErrors()
    if events is not None:
        known = set(outbox.catalog())
        for index, name in enumerate(events):
            if name != outbox.ALL and name not in known:
                errors.add(["body", "events", index], f"No event named '{name}' (see GET /api/v1/webhooks/events)",
                           "unknown_event")
    if url is not None:
        try:
            await check_url_target(url, ctx.settings.webhooks_allow_private)
        except UnsafeUrl as exc:
            errors.add(["body", "url"], f"The URL {exc}", "unsafe_url")
    errors.raise_if_any()


def _query(ctx: Context):
    return select(WebhookSubscription).where(WebhookSubscription.organization_id == ctx.principal.organization_id)


async def get(ctx: Context, subscription_id: uuid.UUID) -> WebhookSubscription:
    """One subscription of the caller's organization, or 404."""
    require_scope_all(ctx.principal, "Webhooks")
    row = (await ctx.session.execute(ctx.locked(_query(ctx).where(WebhookSubscription.id == subscription_id),
                                                WebhookSubscription))).scalar_one_or_none()
    if row is None:
        raise NotFound("Webhook subscription not found")
    return row


async def list_subscriptions(ctx: Context, params: ListParams) -> tuple[list[WebhookSubscription], int]:
    """The organization's subscriptions; ``q`` searches URL and description."""
    require_scope_all(ctx.principal, "Webhooks")
    query = _query(ctx)
    if params.q:
        query = query.where(contains(WebhookSubscription.url, params.q) | contains(WebhookSubscription.description,
                                                                                  params.q))
    query = apply_sort(query, params, {"created_at": WebhookSubscription.created_at, "url": WebhookSubscription.url},
                       "created_at", WebhookSubscription.id)
    return await paginate(ctx.session, query, params)


async def create(ctx: Context, payload: WebhookCreate) -> tuple[WebhookSubscription, str]:
    """A subscription and its signing secret (returned once, stored encrypted)."""
    require_scope_all(ctx.principal, "Webhooks")
    await _check(ctx, payload.url, payload.events)
    secret = new_secret()
    row = WebhookSubscription(organization_id=ctx.principal.organization_id, url=payload.url,
                              events=sorted(set(payload.events)), description=payload.description,
                              active=payload.active, secret_encrypted=ctx.secret_box.encrypt(secret))
    ctx.session.add(row)
    await ctx.session.flush()
    await audit.record(ctx, "webhook.create", RESOURCE, row.id, after=audit.snapshot(row))
    return row, secret


async def update(ctx: Context, row: WebhookSubscription, payload: WebhookUpdate) -> WebhookSubscription:
    """Change a subscription; re-enabling one clears its failure count."""
    changes = payload.model_dump(exclude_unset=True)
    for name in ("url", "events", "active"):
        if name in changes and changes[name] is None:
            raise ValidationProblem.field(["body", name], f"{name} cannot be null", "null")
    await _check(ctx, changes.get("url"), changes.get("events"))
    if "events" in changes:
        changes["events"] = sorted(set(changes["events"]))
    if changes.get("active") and not row.active:
        changes |= {"consecutive_failures": 0, "disabled_reason": None}
    await update_row(ctx, row, changes, action="webhook.update", resource=RESOURCE, config_change=False)
    return row


async def delete(ctx: Context, row: WebhookSubscription) -> None:
    """Remove a subscription and its deliveries."""
    await delete_row(ctx, row, action="webhook.delete", resource=RESOURCE, config_change=False)


async def list_deliveries(ctx: Context, row: WebhookSubscription, params: ListParams,
                          status: DeliveryStatus | None) -> tuple[list[WebhookDelivery], int]:
    """A subscription's deliveries, newest first."""
    query = select(WebhookDelivery).where(WebhookDelivery.subscription_id == row.id)
    if status is not None:
        query = query.where(WebhookDelivery.status == status)
    query = apply_sort(query, params, {"id": WebhookDelivery.id, "created_at": WebhookDelivery.id}, "-id",
                       WebhookDelivery.id.desc())
    return await paginate(ctx.session, query, params)


async def redeliver(ctx: Context, row: WebhookSubscription, delivery_id: int) -> WebhookDelivery:
    """Send a delivery again (the same ``webhook-id``): it goes back in line, now."""
    delivery = (await ctx.session.execute(select(WebhookDelivery).where(
        WebhookDelivery.id == delivery_id, WebhookDelivery.subscription_id == row.id))).scalar_one_or_none()
    if delivery is None:
        raise NotFound("Delivery not found")
    delivery.status = DeliveryStatus.pending.value
    delivery.next_attempt_at = datetime.now(UTC)
    delivery.claimed_until = None
    await ctx.session.flush()
    await audit.record(ctx, "webhook.redeliver", RESOURCE, row.id, after={"delivery_id": delivery.id})
    return delivery


def payload_of(delivery: WebhookDelivery) -> dict:
    return json.loads(delivery.payload)

