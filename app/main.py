"""The FastAPI application factory."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.routing import APIRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.context import PrincipalCache
from app.core.db import create_engine, create_sessionmaker, session_scope
from app.core.errors import HEADER_DOCS, Problem, install_error_handlers, problem_responses
from app.core.guard import RequestGuard
from app.core.logs import install_log_masking
from app.core.observability import Metrics, ObservabilityMiddleware, configure_logging
from app.core.ratelimit import RateLimiter
from app.core.security import PasswordHasher, SecretBox
from app.core.settings import Settings, get_settings
from app.routers import (api_keys, audit, auth, conferences, config, devices, dids, forwarding, groups, health,
                         inbound_rules, ivr_menus, keys, office_hours, options, organizations, outbound_routes, provisioning,
                         roles, sip_accounts, sip_credentials, trunks, user_import, users, voicemail,
                         webhooks, welcome_email)
from app.routers.docs import install_docs
from app.services.auth import LoginQueue
from app.services.bootstrap import ensure_bootstrap
from app.services.reconcile import reconcile_all
from app.services.webhook_worker import WebhookWorker

log = logging.getLogger("centralino")

DESCRIPTION = """The configuration brain of a phone system: users, SIP accounts, roles, devices, the audit log
and the registrar's configuration, as a REST API.

Authenticate with `POST /api/v1/auth/token` (OAuth2 password flow) or an API key, and send
`Authorization: Bearer <token or key>`. Errors are RFC 9457 `application/problem+json` with one
`errors` entry per bad field. Lists take `limit`, `offset`, `sort` and `q`; single resources carry an
`ETag` that writes may send back in `If-Match`; `POST` accepts `Idempotency-Key`."""

TAGS = ("auth", "api-keys", "organizations", "roles", "users", "groups", "sip-accounts", "devices", "dids",
        "inbound-rules", "office-hours", "conferences", "ivr-menus", "trunks", "outbound-routes", "config", "audit",
        "webhooks", "operations")
EXPOSED_HEADERS = ["ETag", "Location", "WWW-Authenticate", "X-Request-ID", "Retry-After", "Idempotent-Replayed"]


class RequestIdMiddleware:
    """Gives every request an id (or keeps the caller's ``X-Request-ID``) and echoes it back."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = b""
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                incoming = value
                break
        request_id = incoming.decode("ascii") if _is_token(incoming) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        encoded = request_id.encode()

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", []).append((b"x-request-id", encoded))
            await send(message)

        await self.app(scope, receive, send_with_id)


def _is_token(value: bytes) -> bool:
    # A caller's request id is echoed and logged: printable ASCII without spaces, 64 bytes at most.
    return 0 < len(value) <= 64 and all(0x21 <= byte <= 0x7E for byte in value)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the application; the engine is created at start-up from the settings, not at import."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(settings)
        app.state.engine = engine
        app.state.sessionmaker = create_sessionmaker(engine)
        app.state.secret_box = SecretBox(settings.fernet_key_material())
        app.state.password_hasher = PasswordHasher(settings.password_hash_concurrency)
        app.state.login_queue = LoginQueue(settings.login_max_in_flight)
        app.state.principal_cache = PrincipalCache()
        worker = None
        try:
            if app.state.bootstrap:
                async for session in session_scope(app.state.sessionmaker):
                    password = await ensure_bootstrap(session, settings)
                if password is not None:
                    # Shown once, on the first start only; it is not stored anywhere in clear.
                    print(f"\n  Bootstrap owner created: username '{settings.bootstrap_admin_username}', "
                          f"password '{password}' (shown once; change it)\n", flush=True)
            # A process killed mid-apply may have left files the database does not know: put disk and
            # database back in agreement before serving.
            await reconcile_all(app.state.sessionmaker, settings, app.state.secret_box)
            if settings.webhook_worker:
                worker = app.state.webhook_worker = WebhookWorker(app.state.sessionmaker, settings,
                                                                  app.state.secret_box)
                app.state.wake_webhooks = worker.wake
                worker.start()
            yield
        finally:
            if worker is not None:
                await worker.stop()
            app.state.password_hasher.close()
            await engine.dispose()

    app = FastAPI(
        title="Centralino", version="1.0.0", description=DESCRIPTION, lifespan=lifespan,
        openapi_tags=[{"name": name} for name in TAGS],
        docs_url=None, redoc_url=None, swagger_ui_oauth2_redirect_url=None,  # served offline by app.routers.docs
    )
    app.state.settings = settings
    app.state.bootstrap = True
    app.state.provisioning_limiter = RateLimiter(settings.provisioning_rate_limit_per_minute)
    install_error_handlers(app)
    install_log_masking()
    configure_logging(settings.effective_log_format, settings.access_log)
    app.add_middleware(RequestGuard, max_body_bytes=settings.max_body_bytes,
                       max_upload_bytes=settings.max_upload_bytes)
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_credentials=True,
                           allow_methods=["*"], allow_headers=["*"], expose_headers=EXPOSED_HEADERS)
    app.state.metrics = Metrics()
    app.add_middleware(ObservabilityMiddleware, metrics=app.state.metrics)
    app.add_middleware(RequestIdMiddleware)  # outside: the request line carries its id
    routers = (auth.router, api_keys.router, organizations.router, organizations.own_router, roles.permissions_router,
               roles.router, user_import.router, users.router, forwarding.router, voicemail.router, options.router,
               keys.router, welcome_email.router, sip_credentials.router, groups.router, sip_accounts.router, devices.router, dids.router, dids.user_router,
               inbound_rules.router, office_hours.router, conferences.router, ivr_menus.router, trunks.router,
               outbound_routes.router, config.router, audit.router, webhooks.router, provisioning.router, health.router)
    for router in routers:
        app.include_router(router)
    # Path patterns and their methods, for the Allow header of a 405.
    app.state.route_methods = [(route.path_regex, set(route.methods)) for router in routers for route in router.routes
                               if isinstance(route, APIRoute)]
    install_docs(app, "Centralino API")
    _customize_openapi(app)
    return app


def _customize_openapi(app: FastAPI) -> None:
    """Complete the generated document with what FastAPI cannot infer.

    The Problem schema the error responses reference; ``X-Request-ID`` on every response;
    503 (database unavailable) on every operation that uses the database and 413 on every
    operation that takes a body.
    """
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = generate()
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
        for name, sub in problem.pop("$defs", {}).items():
            components.setdefault(name, sub)
        components.setdefault("Problem", problem)
        unavailable = problem_responses(503)[503]
        too_large = problem_responses(413)[413]
        for path, operations in schema.get("paths", {}).items():
            for operation in operations.values():
                responses = operation.setdefault("responses", {})
                if path != "/healthz":
                    responses.setdefault("503", _openapi_response(unavailable))
                if "requestBody" in operation:
                    responses.setdefault("413", _openapi_response(too_large))
                for response in responses.values():
                    response.setdefault("headers", {}).setdefault("X-Request-ID", HEADER_DOCS["X-Request-ID"])
        return schema

    app.openapi = openapi


def _openapi_response(documented: dict[str, Any]) -> dict[str, Any]:
    """An entry of ``problem_responses`` as it appears in the OpenAPI document."""
    return {key: value for key, value in documented.items() if key != "model"}


def __getattr__(name: str) -> Any:
    """``app.main:app`` for ASGI servers and tools, built on first access (not at import) from the settings."""
    if name == "app":
        return create_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
