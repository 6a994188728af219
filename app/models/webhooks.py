"""Webhook subscriptions and their deliveries (a transactional outbox, sent by a worker)."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import Field as PydanticField, StringConstraints
from sqlalchemy import BigInteger, Column, ForeignKey, Index, Integer, Text, text
from sqlmodel import Field, SQLModel

from app.models.base import ApiModel, Page, RequestBody, TenantRow, json_field, optional_timestamp_field, \
    timestamp_field

MAX_URL_LENGTH = 2000
WebhookUrl = Annotated[str, StringConstraints(min_length=8, max_length=MAX_URL_LENGTH, strip_whitespace=True),
                       PydanticField(examples=["https://crm.example.com/hooks/centralino"])]
EventName = Annotated[str, StringConstraints(min_length=1, max_length=64),
                      PydanticField(examples=["user.created"])]
Description = Annotated[str, StringConstraints(max_length=200)]


class DeliveryStatus(StrEnum):
    """Where a delivery stands."""

    pending = "pending"  # waiting for its (next) attempt
    delivered = "delivered"  # the receiver answered 2xx
    failed = "failed"  # every attempt failed (or its subscription was disabled); redeliver to try again


class WebhookSubscription(TenantRow, table=True):
    """Where an organization's events go."""

    __tablename__ = "webhook_subscriptions"

    url: str = Field(max_length=MAX_URL_LENGTH)
    events: list[str] = json_field(default_factory=list)  # event names, or ["*"]
    description: str | None = Field(default=None, max_length=200)
    secret_encrypted: str = Field(max_length=500)
    active: bool = True
    consecutive_failures: int = 0  # failed attempts in a row; past the limit the subscription is disabled
    disabled_reason: str | None = Field(default=None, max_length=300)


class WebhookDelivery(SQLModel, table=True):
    """One event for one subscription: the outbox row, written in the transaction of the change it reports.

    The integer id orders events; the worker sends a resource's events to a subscription one after another.
    """

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        # The worker's claim walks pending rows in id order: a partial index keeps that cheap however many
        # delivered rows pile up (without it the claim grew with the log: 10,000 events took minutes).
        Index("ix_webhook_deliveries_pending", "id", postgresql_where=text("status = 'pending'"),
              sqlite_where=text("status = 'pending'")),
        Index("ix_webhook_deliveries_order", "subscription_id", "resource_key", "id"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigInteger().with_variant(Integer(), "sqlite"),
                                                          primary_key=True, autoincrement=True))
    organization_id: uuid.UUID = Field(foreign_key="organizations.id", index=True, ondelete="CASCADE")
    subscription_id: uuid.UUID = Field(sa_column=Column(ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"),
                                                        nullable=False))
    event_id: uuid.UUID  # the same for every subscription of one event: the webhook-id receivers deduplicate by
    event_type: str = Field(max_length=64)
    resource_key: str = Field(max_length=120)  # "<resource type>:<id>": the order is kept per resource
    payload: str = Field(sa_column=Column(Text, nullable=False))  # the exact JSON body sent (signed)
    status: str = Field(default=DeliveryStatus.pending, max_length=10)
    attempts: int = 0
    next_attempt_at: datetime = timestamp_field()
    claimed_until: datetime | None = optional_timestamp_field()
    last_status_code: int | None = None
    last_error: str | None = Field(default=None, max_length=500)
    last_attempt_at: datetime | None = optional_timestamp_field()
    delivered_at: datetime | None = optional_timestamp_field()
    created_at: datetime = timestamp_field()


class WebhookCreate(RequestBody):
    """A new subscription: an http(s) URL that is not on a private network, and the events it wants."""

    url: WebhookUrl
    events: list[EventName] = PydanticField(min_length=1, max_length=100, examples=[["user.created", "user.updated"]],
                                            description='Event names (`GET /webhooks/events`), or `["*"]` for all')
    description: Description | None = None
    active: bool = True


class WebhookUpdate(RequestBody):
    """JSON merge patch of a subscription; `active: true` re-enables one that was disabled after failures."""

    url: WebhookUrl | None = None
    events: list[EventName] | None = PydanticField(default=None, min_length=1, max_length=100)
    description: Description | None = None
    active: bool | None = None


class WebhookRead(ApiModel):
    """A subscription (never its secret)."""

    id: uuid.UUID
    url: str
    events: list[str]
    description: str | None
    active: bool
    consecutive_failures: int
    disabled_reason: str | None = PydanticField(description="Why the service disabled it, when it did")
    created_at: datetime
    updated_at: datetime


class WebhookCreated(WebhookRead):
    """A new subscription with its signing secret, shown in this response only."""

    secret: str = PydanticField(description="Standard Webhooks signing secret (`whsec_…`): verify `webhook-signature` "
                                            "with it; shown once")


class WebhookPage(Page[WebhookRead]):
    """A page of subscriptions."""


class WebhookDeliveryRead(ApiModel):
    """One delivery of an event to a subscription, with its latest attempt."""

    id: int
    event_id: uuid.UUID = PydanticField(description="The `webhook-id` header (the same on every retry)")
    event_type: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    last_attempt_at: datetime | None
    delivered_at: datetime | None
    created_at: datetime
    payload: dict[str, Any] = PydanticField(description="The body sent")


class WebhookDeliveryPage(Page[WebhookDeliveryRead]):
    """A page of deliveries, newest first."""


class WebhookEvents(ApiModel):
    """The event names a subscription may ask for."""

    events: list[str] = PydanticField(examples=[["user.created", "user.updated", "config.applied"]])
