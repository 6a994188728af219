"""Metrics (Prometheus text format) and one structured log line per request.

Each application has its own registry (tests build many apps in one process). The request line carries the
request id, the principal's id, the route *template* (never the raw path, which may hold a provisioning token),
the status and the duration; in production it is JSON, in development readable text.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.logs import mask_path

ACCESS_LOG = "centralino.access"
LOGIN_ROUTE = "/api/v1/auth/token"
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_APPLY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
# Fields of a LogRecord that are not extras.
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


class Metrics:
    """The application's Prometheus metrics."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter("centralino_http_requests", "HTTP requests by method, route template and status",
                                ("method", "route", "status"), registry=self.registry)
        self.latency = Histogram("centralino_http_request_duration_seconds", "HTTP request latency by route",
                                 ("method", "route"), buckets=_LATENCY_BUCKETS, registry=self.registry)
        self.apply_duration = Histogram("centralino_config_apply_duration_seconds",
                                        "Duration of configuration applies (dry runs excluded)",
                                        buckets=_APPLY_BUCKETS, registry=self.registry)
        self.revisions = Counter("centralino_config_revisions", "Configuration revisions published",
                                 registry=self.registry)
        self.pending_organizations = Gauge("centralino_config_pending_organizations",
                                           "Organizations with changes not applied yet (at scrape time)",
                                           registry=self.registry)
        self.webhook_queue = Gauge("centralino_webhook_queue_depth", "Webhook deliveries waiting to be sent "
                                   "(at scrape time)", registry=self.registry)
        self.webhook_lag = Gauge("centralino_webhook_delivery_lag_seconds", "Age of the oldest webhook delivery "
                                 "waiting to be sent (0: none waits)", registry=self.registry)
        self.login_failures = Counter("centralino_login_failures", "Refused logins (401 from the token endpoint)",
                                      registry=self.registry)


class ObservabilityMiddleware:
    """Counts and times every request by route template, and logs one line for it."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics
        self.log = logging.getLogger(ACCESS_LOG)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            self._record(scope, status, time.perf_counter() - started)

    def _record(self, scope: Scope, status: int, seconds: float) -> None:
        route = scope.get("route")
        template = getattr(route, "path", None) or "unmatched"
        method = scope["method"]
        self.metrics.requests.labels(method, template, str(status)).inc()
        self.metrics.latency.labels(method, template).observe(seconds)
        if template == LOGIN_ROUTE and status == 401:
            self.metrics.login_failures.inc()
        state = scope.get("state") or {}
        principal = state.get("principal")
        self.log.info("%s %s %s %.1f ms", method, template if route else mask_path(scope["path"]), status,
                      seconds * 1000, extra={
                          "request_id": state.get("request_id"), "principal_id": str(principal.id) if principal
                          else None, "method": method, "route": template, "status": status,
                          "duration_ms": round(seconds * 1000, 1)})


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and the record's extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(), "logger": record.name, "message": record.getMessage()}
        entry.update({key: value for key, value in record.__dict__.items() if key not in _STANDARD})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(log_format: str, access_log: bool) -> None:
    """Send the service's logs (``centralino.*``) to stderr, as JSON lines or readable text (once per process);
    ``access_log`` off silences the per-request lines."""
    logger = logging.getLogger("centralino")
    handler = next((h for h in logger.handlers if getattr(h, "centralino", False)), None)
    if handler is None:
        handler = logging.StreamHandler()
        handler.centralino = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(
        "%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.getLogger(ACCESS_LOG).setLevel(logging.INFO if access_log else logging.WARNING)
