"""Webhook subscriptions, their deliveries and redelivery."""

from __future__ import annotations

import json
import uuid
from typing import Annotated

from fastapi import Depends, Path, Query, Response

from app.core.context import Context, require
from app.core.http import IfMatch, check_if_match, set_etag
from app.core.pagination import ListParamsDep
from app.models.webhooks import (DeliveryStatus, WebhookCreate, WebhookCreated, WebhookDelivery, WebhookDeliveryPage,
                                 WebhookDeliveryRead, WebhookEvents, WebhookPage, WebhookRead, WebhookSubscription,
                                 WebhookUpdate)
from app.routers.common import (CREATE_ERRORS, DELETE_ERRORS, ITEM_ERRORS, READ_ERRORS, WRITE_ERRORS, api_router,
                                created, responses)
from app.services import outbox, webhooks
from app.services.idempotency import IdempotencyDep

router = api_router("/webhooks", "webhooks")
Readers = Annotated[Context, Depends(require("webhooks.read", scope_all=True))]
Writers = Annotated[Context, Depends(require("webhooks.write", scope_all=True))]
DeliveryId = Annotated[int, Path(ge=1, le=2**62)]


def _read(row: WebhookSubscription, model: type[WebhookRead] = WebhookRead, **extra) -> WebhookRead:
    return model.model_construct(
        id=row.id, url=row.url, events=list(row.events), description=row.description, active=row.active,
        consecutive_failures=row.consecutive_failures, disabled_reason=row.disabled_reason,
        created_at=row.created_at, updated_at=row.updated_at, **extra)


def _delivery(row: WebhookDelivery) -> WebhookDeliveryRead:
    return WebhookDeliveryRead.model_construct(
        id=row.id, event_id=row.event_id, event_type=row.event_type, status=DeliveryStatus(row.status),
        attempts=row.attempts, next_attempt_at=row.next_attempt_at if row.status == DeliveryStatus.pending else None,
        last_status_code=row.last_status_code, last_error=row.last_error, last_attempt_at=row.last_attempt_at,
        delivered_at=row.delivered_at, created_at=row.created_at, payload=json.loads(row.payload))


@router.get("/events", response_model=WebhookEvents, summary="List the event names", responses=READ_ERRORS,
            operation_id="webhooks_events")
async def list_events(ctx: Readers) -> WebhookEvents:
    """Every event a subscription may ask for: `<resource>.created|updated|deleted` and `config.applied`."""
    return WebhookEvents(events=outbox.catalog())


@router.post("", status_code=201, response_model=WebhookCreated, summary="Subscribe to events",
             responses=CREATE_ERRORS, operation_id="webhooks_create")
async def create_webhook(payload: WebhookCreate, ctx: Writers, idem: IdempotencyDep,
                         response: Response) -> WebhookCreated:
    """Send the organization's events to `url`, signed as the Standard Webhooks spec says (`webhook-id`,
    `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256>`) with the `secret` of this response,
    shown once. Each event is written in the transaction of its change (it exists if and only if the change
    committed) and delivered at least once, in order per resource, with retries backing off exponentially.
    A URL that is not http(s), carries credentials, or resolves to a private or reserved address is a 422."""
    async def create():
        row, secret = await webhooks.create(ctx, payload)
        created(response, ctx.settings, f"/api/v1/webhooks/{row.id}", row)
        return _read(row, WebhookCreated, secret=secret)

    return await idem.run(ctx, 201, create, response)


@router.get("", response_model=WebhookPage, summary="List webhook subscriptions", responses=READ_ERRORS,
            operation_id="webhooks_list")
async def list_webhooks(ctx: Readers, params: ListParamsDep) -> WebhookPage:
    """The organization's subscriptions (never their secrets); `q` searches URL and description."""
    rows, total = await webhooks.list_subscriptions(ctx, params)
    return WebhookPage.model_construct(items=[_read(r) for r in rows], total=total, limit=params.limit,
                                       offset=params.offset)


@router.get("/{webhook_id}", response_model=WebhookRead, summary="Get a webhook subscription", responses=ITEM_ERRORS,
            operation_id="webhooks_get")
async def get_webhook(webhook_id: uuid.UUID, ctx: Readers, response: Response) -> WebhookRead:
    """One subscription, with its ETag; `active: false` with a `disabled_reason` when failures disabled it."""
    row = await webhooks.get(ctx, webhook_id)
    set_etag(response, row)
    return _read(row)


@router.patch("/{webhook_id}", response_model=WebhookRead, summary="Change a webhook subscription",
              responses=WRITE_ERRORS, operation_id="webhooks_update")
async def update_webhook(webhook_id: uuid.UUID, payload: WebhookUpdate, ctx: Writers, response: Response,
                         if_match: IfMatch = None) -> WebhookRead:
    """Partial update. `active: true` re-enables a subscription disabled after failures (its pending events
    are delivered again)."""
    row = await webhooks.get(ctx, webhook_id)
    check_if_match(if_match, row)
    await webhooks.update(ctx, row, payload)
    set_etag(response, row)
    return _read(row)


@router.delete("/{webhook_id}", status_code=204, summary="Delete a webhook subscription", responses=DELETE_ERRORS,
               operation_id="webhooks_delete")
async def delete_webhook(webhook_id: uuid.UUID, ctx: Writers, if_match: IfMatch = None) -> Response:
    """Stop sending events there; its deliveries go too."""
    row = await webhooks.get(ctx, webhook_id)
    check_if_match(if_match, row)
    await webhooks.delete(ctx, row)
    return Response(status_code=204)


@router.get("/{webhook_id}/deliveries", response_model=WebhookDeliveryPage, summary="List a subscription's deliveries",
            responses=ITEM_ERRORS, operation_id="webhooks_deliveries_list")
async def list_deliveries(webhook_id: uuid.UUID, ctx: Readers, params: ListParamsDep,
                          status: Annotated[DeliveryStatus | None, Query(description="Only this status")] = None
                          ) -> WebhookDeliveryPage:
    """The delivery log, newest first: each event, its attempts, the receiver's last answer or error."""
    row = await webhooks.get(ctx, webhook_id)
    rows, total = await webhooks.list_deliveries(ctx, row, params, status)
    return WebhookDeliveryPage.model_construct(items=[_delivery(d) for d in rows], total=total, limit=params.limit,
                                               offset=params.offset)


@router.post("/{webhook_id}/deliveries/{delivery_id}/redeliver", status_code=202, response_model=WebhookDeliveryRead,
             summary="Redeliver an event", responses=responses(401, 403, 404, 422, status=202),
             operation_id="webhooks_deliveries_redeliver")
async def redeliver(webhook_id: uuid.UUID, delivery_id: DeliveryId, ctx: Writers) -> WebhookDeliveryRead:
    """Send a delivery again, with the same `webhook-id` (receivers deduplicate by it): it is queued at once,
    behind earlier pending events of the same resource."""
    row = await webhooks.get(ctx, webhook_id)
    return _delivery(await webhooks.redeliver(ctx, row, delivery_id))
