"""The FastAPI application factory."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.db import create_engine, create_sessionmaker, session_scope
from app.core.errors import Problem, install_error_handlers
from app.core.security import SecretBox
from app.core.settings import Settings, get_settings
from app.core.ratelimit import RateLimiter
from app.routers import (api_keys, audit, auth, config, devices, health, organizations, provisioning, roles,
                         sip_accounts, users)
from app.services.bootstrap import ensure_bootstrap

log = logging.getLogger("centralino")

DESCRIPTION = """The configuration brain of a phone system: users, SIP accounts, roles and the audit log,
as a REST API. Authenticate with `POST /api/v1/auth/token` (or an API key) and send
`Authorization: Bearer <token>`. Errors are RFC 9457 `application/problem+json`."""


class RequestIdMiddleware:
    """Gives every request an id (or keeps the caller's ``X-Request-ID``) and echoes it back."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if 0 < len(incoming) <= 64 and incoming.isprintable() else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", []).append((b"x-request-id", request_id.encode()))
            await send(message)

        await self.app(scope, receive, send_with_id)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the application; the engine is created at start-up from the settings, not at import."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(settings)
        app.state.engine = engine
        app.state.sessionmaker = create_sessionmaker(engine)
        app.state.secret_box = SecretBox(settings.fernet_key_material())
        if app.state.bootstrap:
            async for session in session_scope(app.state.sessionmaker):
                password = await ensure_bootstrap(session, settings)
            if password is not None:
                # Shown once, on the first start only; it is not stored anywhere in clear.
                print(f"\n  Bootstrap owner created: username '{settings.bootstrap_admin_username}', "
                      f"password '{password}' (shown once; change it)\n", flush=True)
        try:
            yield
        finally:
            await engine.dispose()

    app = FastAPI(
        title="Centralino", version="1.0.0", description=DESCRIPTION, lifespan=lifespan,
        openapi_tags=[{"name": name} for name in
                      ("auth", "api-keys", "organizations", "roles", "users", "sip-accounts", "devices", "config",
                       "audit", "operations")],
    )
    app.state.settings = settings
    app.state.bootstrap = True
    app.state.provisioning_limiter = RateLimiter(settings.provisioning_rate_limit_per_minute)
    install_error_handlers(app)
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_credentials=True,
                           allow_methods=["*"], allow_headers=["*"], expose_headers=["ETag", "X-Request-ID", "Retry-After"])
    app.add_middleware(RequestIdMiddleware)
    routers = (auth.router, api_keys.router, organizations.router, organizations.own_router, roles.permissions_router,
               roles.router, users.router, sip_accounts.router, devices.router, config.router, audit.router,
               provisioning.router, health.router)
    for router in routers:
        app.include_router(router)
    # Path patterns and their methods, for the Allow header of a 405.
    app.state.route_methods = [(route.path_regex, set(route.methods)) for router in routers for route in router.routes]
    _register_problem_schema(app)
    return app


def _register_problem_schema(app: FastAPI) -> None:
    """Make sure ``#/components/schemas/Problem`` exists for the error responses that reference it."""
    original = app.openapi

    def openapi() -> dict:
        if app.openapi_schema:
            return app.openapi_schema
        schema = original()
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.setdefault("Problem", Problem.model_json_schema(ref_template="#/components/schemas/{model}"))
        for name, sub in Problem.model_json_schema(ref_template="#/components/schemas/{model}").get("$defs", {}).items():
            components.setdefault(name, sub)
        components["Problem"].pop("$defs", None)
        return schema

    app.openapi = openapi


app = create_app()
