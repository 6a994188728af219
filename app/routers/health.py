"""Liveness and readiness probes, and the Prometheus metrics."""

from __future__ import annotations

import os
import secrets
from datetime import UTC, datetime
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import func, select, text

from app.core.db import MODE, READ
from app.core.errors import problem_response, problem_responses
from app.models import ConfigState, WebhookDelivery
from app.models.webhooks import DeliveryStatus
from app.models.base import ApiModel

router = APIRouter(tags=["operations"])


class Health(ApiModel):
    """A probe's answer."""

    status: str


@router.get("/healthz", response_model=Health, summary="Liveness", operation_id="healthz")
async def healthz() -> Health:
    """The process is up (does not touch the database)."""
    return Health(status="ok")


@router.get("/readyz", response_model=Health, summary="Readiness", operation_id="readyz",
            responses=problem_responses(503))
async def readyz(request: Request) -> Health | JSONResponse:
    """The service can reach its database and write its configuration directory (`CENTRALINO_CONFIG_DIR`);
    503 says which is missing."""
    try:
        async with request.app.state.engine.connect() as connection:
            connection = await connection.execution_options(**{MODE: READ})
            await connection.execute(text("SELECT 1"))
    except Exception:  # any failure means "not ready"; the cause goes to the log, not the body
        return problem_response(503, "Database unreachable", slug="service-unavailable",
                                headers={"Retry-After": "5"})
    if not _writable_directory(request.app.state.settings.config_dir):
        return problem_response(503, "The configuration directory (CENTRALINO_CONFIG_DIR) is missing or not "
                                "writable", slug="service-unavailable", headers={"Retry-After": "5"})
    return Health(status="ok")


def _writable_directory(path: Path) -> bool:
    # The directory an apply creates, or the nearest existing parent it would be created in.
    path = Path(path).absolute()
    while not path.exists():
        if path.parent == path:
            return False
        path = path.parent
    return path.is_dir() and os.access(path, os.W_OK | os.X_OK)


@router.get("/metrics", summary="Prometheus metrics", operation_id="metrics", response_class=Response,
            responses={200: {"description": "Metrics in the Prometheus text format",
                             "content": {CONTENT_TYPE_LATEST.split(";")[0]: {"schema": {"type": "string"}}}},
                       **problem_responses(401)})
async def metrics(request: Request) -> Response:
    """Request counts and latency by route template and status, apply durations and revisions published,
    organizations with changes pending, webhook queue depth and delivery lag, refused logins. Open unless `CENTRALINO_METRICS_TOKEN` is set; then
    scrapers send it as `Authorization: Bearer <token>`."""
    state = request.app.state
    token = state.settings.metrics_token
    if token is not None:
        sent = request.headers.get("authorization", "")
        if not secrets.compare_digest(sent.encode(), f"Bearer {token.get_secret_value()}".encode()):
            return problem_response(401, "Send the metrics token: Authorization: Bearer <CENTRALINO_METRICS_TOKEN>",
                                    slug="unauthorized", headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
    async with state.engine.connect() as connection:
        connection = await connection.execution_options(**{MODE: READ})
        pending = (await connection.execute(
            select(func.count()).select_from(ConfigState).where(ConfigState.pending_changes > 0))).scalar_one()
        waiting, oldest = (await connection.execute(
            select(func.count(), func.min(WebhookDelivery.created_at))
            .where(WebhookDelivery.status == DeliveryStatus.pending.value))).one()
    state.metrics.pending_organizations.set(pending)
    state.metrics.webhook_queue.set(waiting)
    state.metrics.webhook_lag.set(max(0.0, (datetime.now(UTC) - _aware(oldest)).total_seconds()) if oldest else 0.0)
    return Response(generate_latest(state.metrics.registry), media_type=CONTENT_TYPE_LATEST)


def _aware(moment: datetime) -> datetime:
    # An aggregate bypasses the column type: SQLite hands back a naive (UTC) value.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
