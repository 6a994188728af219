"""Request-scoped dependencies: the session, the principal, and permission checks.

Routes declare what they need, e.g.
``ctx: Annotated[Context, Depends(require("users.write"))]``; the principal's
organization and scope travel in the context to the services, which apply them
in their queries.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from fastapi import Depends, Request
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db import session_scope
from app.core.errors import Forbidden, NotFound, Unauthorized
from app.core.permissions import BUILTIN_ROLES
from app.core.security import API_KEY_PREFIX, SecretBox, decode_access_token, hash_api_key
from app.core.settings import Settings
from app.models import ApiKey, Organization, Role, User


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One session and transaction per request: commit on success, roll back on error."""
    async for session in session_scope(request.app.state.sessionmaker):
        yield session


def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings


# scope="function": the commit happens before the response is sent, so a
# failing commit still becomes an error response instead of a lost write.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling, on behalf of which organization, with which rights."""

    kind: Literal["user", "api_key", "system"]
    id: uuid.UUID
    name: str
    home_organization: Organization
    organization: Organization  # acted on: the home one, or X-Organization for platform admins
    role: str
    permissions: frozenset[str]
    scope: Literal["own", "groups", "all"]
    platform_admin: bool
    user_id: uuid.UUID | None  # the user behind the credential (None for API keys)

    @property
    def organization_id(self) -> uuid.UUID:
        return self.organization.id

    def can(self, permission: str) -> bool:
        return permission in self.permissions


@dataclass(slots=True)
class Context:
    """What a service needs for one request: the transaction, the caller, the settings."""

    session: AsyncSession
    principal: Principal
    settings: Settings
    request_id: str | None
    secret_box: SecretBox
    # Writes load their row FOR UPDATE, so If-Match and the change see the same version.
    for_update: bool = False

    @property
    def organization(self) -> Organization:
        return self.principal.organization

    def locked(self, query, *entities):
        """``query`` with a row lock on ``entities`` when this request writes (a no-op on SQLite)."""
        return query.with_for_update(of=entities or None) if self.for_update else query


def _bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Not authenticated: send 'Authorization: Bearer <token or API key>'")
    return token.strip()


async def _principal_from_api_key(session: AsyncSession, key: str) -> Principal:
    row = (
        await session.execute(
            select(ApiKey, Role, Organization)
            .join(Role, Role.id == ApiKey.role_id)
            .join(Organization, Organization.id == ApiKey.organization_id)
            .where(ApiKey.key_hash == hash_api_key(key), ApiKey.revoked_at.is_(None))
        )
    ).first()
    if row is None:
        raise Unauthorized("Invalid or revoked API key")
    api_key, role, organization = row
    now = datetime.now(UTC)
    # Record use at most once a minute, so a busy CRM does not write on every call.
    if api_key.last_used_at is None or now - api_key.last_used_at > timedelta(minutes=1):
        api_key.last_used_at = now
    return Principal(
        kind="api_key", id=api_key.id, name=f"api-key:{api_key.name}", home_organization=organization,
        organization=organization, role=role.name, permissions=frozenset(role.permissions),
        scope=api_key.scope, platform_admin=False, user_id=None,
    )


async def _principal_from_jwt(session: AsyncSession, settings: Settings, token: str) -> Principal:
    claims = decode_access_token(settings, token)
    if claims is None:
        raise Unauthorized("Invalid or expired token")
    try:
        user_id = uuid.UUID(str(claims.get("sub")))
    except ValueError as exc:
        raise Unauthorized("Invalid or expired token") from exc
    row = (
        await session.execute(
            select(User, Role, Organization)
            .join(Role, Role.id == User.role_id)
            .join(Organization, Organization.id == User.organization_id)
            .where(User.id == user_id, User.username.is_not(None))
        )
    ).first()
    if row is None:  # deleted, or its login was removed since the token was issued
        raise Unauthorized("Invalid or expired token")
    user, role, organization = row
    return Principal(
        kind="user", id=user.id, name=user.username or str(user.id), home_organization=organization,
        organization=organization, role=role.name, permissions=frozenset(role.permissions),
        scope=user.scope or "own", platform_admin=user.is_platform_admin, user_id=user.id,
    )


async def get_principal(request: Request, session: SessionDep, settings: SettingsDep) -> Principal:
    """Authenticate the bearer credential (JWT or API key) and pick the organization acted on."""
    token = _bearer(request)
    if token.startswith(API_KEY_PREFIX):
        principal = await _principal_from_api_key(session, token)
    else:
        principal = await _principal_from_jwt(session, settings, token)
    wanted = request.headers.get("x-organization")
    if wanted and wanted != principal.home_organization.slug:
        if not principal.platform_admin:
            raise Forbidden("X-Organization is for platform administrators")
        target = (await session.execute(select(Organization).where(Organization.slug == wanted))).scalar_one_or_none()
        if target is None:
            raise NotFound(f"Organization '{wanted}' not found")
        # A platform admin acts as the owner of the organization it switched to.
        principal = Principal(
            kind=principal.kind, id=principal.id, name=principal.name, home_organization=principal.home_organization,
            organization=target, role="owner", permissions=frozenset(BUILTIN_ROLES["owner"][1]), scope="all",
            platform_admin=True, user_id=principal.user_id,
        )
    request.state.principal = principal
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


class require:  # noqa: N801 - reads as a declaration: Depends(require("users.write"))
    """A dependency that checks the principal holds every named permission and builds the Context."""

    def __init__(self, *permissions: str, platform_admin: bool = False, scope_all: bool = False):
        self.permissions = permissions
        self.platform_admin = platform_admin
        self.scope_all = scope_all

    async def __call__(self, request: Request, principal: PrincipalDep, session: SessionDep,
                       settings: SettingsDep) -> Context:
        if self.platform_admin and not principal.platform_admin:
            raise Forbidden("This needs a platform administrator")
        missing = [p for p in self.permissions if not principal.can(p)]
        if missing:
            raise Forbidden(f"Missing permission: {', '.join(missing)}")
        if self.scope_all and principal.scope != "all":
            raise Forbidden("This needs management scope 'all'")
        return Context(
            session=session, principal=principal, settings=settings,
            request_id=getattr(request.state, "request_id", None), secret_box=request.app.state.secret_box,
            for_update=request.method in {"POST", "PUT", "PATCH", "DELETE"},
        )

    def describe(self) -> str:
        parts = [f"`{p}`" for p in self.permissions]
        if self.platform_admin:
            parts.append("a platform administrator")
        if self.scope_all:
            parts.append("management scope `all`")
        return " and ".join(parts) if parts else "any authenticated principal"


def system_principal(organization: Organization, name: str = "system") -> Principal:
    """The principal of work started outside HTTP (the CLI): owner rights in one organization."""
    return Principal(kind="system", id=uuid.UUID(int=0), name=name, home_organization=organization,
                     organization=organization, role="owner", permissions=frozenset(BUILTIN_ROLES["owner"][1]),
                     scope="all", platform_admin=True, user_id=None)
