"""Request-scoped dependencies: the session, the principal, and permission checks.

Routes declare what they need, e.g.
``ctx: Annotated[Context, Depends(require("users.write"))]``; the principal's
organization and scope travel in the context to the services, which apply them
in their queries.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer, OAuth2PasswordBearer
from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db import PHASED, READ, WRITE, after_commit, is_sqlite, session_scope
from app.core.errors import Forbidden, NotFound, Unauthorized
from app.core.permissions import BUILTIN_ROLES
from app.core.security import API_KEY_PREFIX, PasswordHasher, SecretBox, decode_access_token, hash_api_key
from app.core.settings import Settings
from app.models import ApiKey, Organization, Role, User
from app.models.enums import ManagementScope, PrincipalKind
from app.models.organizations import ORGANIZATION_COLUMNS, OrganizationRef

log = logging.getLogger("centralino.auth")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def transaction_mode(request: Request) -> str:
    """The request's session mode (see app.core.db): the route's, else write for unsafe methods, read for others."""
    declared = getattr(request.scope.get("route"), "transaction", None)
    if declared is not None:
        return declared
    return READ if request.method in SAFE_METHODS else WRITE


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One session per request: its writes commit on success and roll back on error."""
    async for session in session_scope(request.app.state.sessionmaker, mode=transaction_mode(request)):
        # Webhook events committed by this request wake this process's delivery worker (see services.outbox).
        session.info["wake_webhooks"] = getattr(request.app.state, "wake_webhooks", None)
        yield session


async def get_settings_dep(request: Request) -> Settings:
    # async: FastAPI would run a plain function in a worker thread, a hop on every request.
    return request.app.state.settings


# scope="function": the commit happens before the response is sent, so a
# failing commit still becomes an error response instead of a lost write.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]

# Declared for the OpenAPI document (Swagger's "Authorize" and generated clients): a JWT from the
# password flow, or an API key, both sent as "Authorization: Bearer ...". Parsing is ours.
oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", scheme_name="OAuth2Password", auto_error=False,
                                     description="Log in with a username and password to get a JWT")
api_key_scheme = HTTPBearer(scheme_name="ApiKey", bearerFormat="cnt_…", auto_error=False,
                            description="An API key (`cnt_…`) or a JWT, as `Authorization: Bearer <value>`")


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling, on behalf of which organization, with which rights."""

    kind: str  # a PrincipalKind, or "system" for the CLI
    id: uuid.UUID
    name: str
    home_organization: OrganizationRef
    organization: OrganizationRef  # acted on: the home one, or X-Organization for platform admins
    role: str
    permissions: frozenset[str]
    scope: ManagementScope
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
    hasher: PasswordHasher | None = None  # None outside HTTP (CLI, start-up), where nothing hashes a password
    # Writes load their row FOR UPDATE, so If-Match and the change see the same version.
    for_update: bool = False

    @property
    def organization(self) -> OrganizationRef:
        return self.principal.organization

    def locked(self, query, *entities):
        """``query`` with a row lock on ``entities`` when this request writes (a no-op on SQLite)."""
        return query.with_for_update(of=entities or None) if self.for_update else query


def _note_api_key_use(request: Request, session: AsyncSession, api_key_id: uuid.UUID, now: datetime) -> None:
    """Record the key's last use in a short transaction of its own, after the request's one.

    A read must not become a write (on SQLite it would take the write lock), and a
    lost "last used" time is not worth failing a request for.
    """
    maker = request.app.state.sessionmaker

    async def record() -> None:
        try:
            async for write_session in session_scope(maker):
                await write_session.execute(update(ApiKey).where(ApiKey.id == api_key_id).values(last_used_at=now))
        except Exception:  # noqa: BLE001 - best effort, logged
            log.warning("could not record the last use of API key %s", api_key_id, exc_info=True)

    after_commit(session, f"api-key-use:{api_key_id}", record)


# The principal is resolved in one query, with statements built once (building and caching a
# statement costs more than running it on every request). The query returns the versions of the
# organization's settings and of the role's permissions; their values come from a per-process cache
# and are read again only when a version changed (so they are never stale).
_users, _roles, _organizations, _keys = User.__table__, Role.__table__, Organization.__table__, ApiKey.__table__
_LINKED = (_roles.c.id, _roles.c.version, _organizations.c.id, _organizations.c.version)
_API_KEY_PRINCIPAL = (
    select(_keys.c.id, _keys.c.name, _keys.c.scope, _keys.c.last_used_at, *_LINKED)
    .select_from(_keys.join(_roles, _roles.c.id == _keys.c.role_id)
                 .join(_organizations, _organizations.c.id == _keys.c.organization_id))
    .where(_keys.c.key_hash == bindparam("key_hash"), _keys.c.revoked_at.is_(None))
)
# Only a user whose login still exists, is active and whose credentials have not changed since
# the token was issued.
_USER_PRINCIPAL = (
    select(_users.c.username, _users.c.scope, _users.c.is_platform_admin, *_LINKED)
    .select_from(_users.join(_roles, _roles.c.id == _users.c.role_id)
                 .join(_organizations, _organizations.c.id == _users.c.organization_id))
    .where(_users.c.id == bindparam("user_id"), _users.c.username.is_not(None), _users.c.active.is_(True),
           _users.c.auth_version == bindparam("version"))
)
_ORGANIZATION_BY_SLUG = select(*ORGANIZATION_COLUMNS).where(_organizations.c.slug == bindparam("slug"))
_ORGANIZATION_BY_ID = select(*ORGANIZATION_COLUMNS).where(_organizations.c.id == bindparam("id"))
_ROLE_BY_ID = select(_roles.c.name, _roles.c.permissions, _roles.c.version).where(_roles.c.id == bindparam("id"))


@dataclass(frozen=True, slots=True)
class RoleRef:
    """A role as a principal carries it."""

    name: str
    permissions: frozenset[str]
    version: int


class PrincipalCache:
    """Organization settings and role permissions by id, each valid for the version it was read at."""

    def __init__(self, max_entries: int = 10_000):
        self.max_entries = max_entries
        self.organizations: dict[uuid.UUID, OrganizationRef] = {}
        self.roles: dict[uuid.UUID, RoleRef] = {}

    async def organization(self, session: AsyncSession, organization_id: uuid.UUID, version: int) -> OrganizationRef:
        cached = self.organizations.get(organization_id)
        if cached is None or cached.version != version:
            row = (await session.execute(_ORGANIZATION_BY_ID, {"id": organization_id})).one()
            cached = self._keep(self.organizations, organization_id, OrganizationRef(*row))
        return cached

    async def role(self, session: AsyncSession, role_id: uuid.UUID, version: int) -> RoleRef:
        cached = self.roles.get(role_id)
        if cached is None or cached.version != version:
            name, permissions, stored_version = (await session.execute(_ROLE_BY_ID, {"id": role_id})).one()
            cached = self._keep(self.roles, role_id, RoleRef(name, frozenset(permissions), stored_version))
        return cached

    def _keep(self, entries: dict, key: uuid.UUID, value):
        if len(entries) >= self.max_entries:
            entries.clear()
        entries[key] = value
        return value


async def _linked(request: Request, session: AsyncSession, row, start: int) -> tuple[RoleRef, OrganizationRef]:
    role_id, role_version, organization_id, organization_version = row[start:start + 4]
    cache: PrincipalCache = request.app.state.principal_cache
    return (await cache.role(session, role_id, role_version),
            await cache.organization(session, organization_id, organization_version))


async def _principal_from_api_key(request: Request, session: AsyncSession, key: str) -> Principal:
    row = (await session.execute(_API_KEY_PRINCIPAL, {"key_hash": hash_api_key(key)})).first()
    if row is None:
        raise Unauthorized("Invalid or revoked API key")
    key_id, key_name, scope, last_used_at = row[:4]
    role, organization = await _linked(request, session, row, 4)
    now = datetime.now(UTC)
    # Record use at most once a minute, so a busy CRM does not write on every call.
    if last_used_at is None or now - last_used_at > timedelta(minutes=1):
        _note_api_key_use(request, session, key_id, now)
    return Principal(
        kind=PrincipalKind.api_key, id=key_id, name=f"api-key:{key_name}", home_organization=organization,
        organization=organization, role=role.name, permissions=role.permissions,
        scope=ManagementScope(scope), platform_admin=False, user_id=None,
    )


async def _principal_from_jwt(request: Request, session: AsyncSession, settings: Settings, token: str) -> Principal:
    claims = decode_access_token(settings, token)
    if claims is None:
        raise Unauthorized("Invalid or expired token")
    try:
        user_id = uuid.UUID(str(claims["sub"]))
    except ValueError as exc:
        raise Unauthorized("Invalid or expired token") from exc
    row = (await session.execute(_USER_PRINCIPAL, {"user_id": user_id, "version": claims["ver"]})).first()
    if row is None:
        raise Unauthorized("Invalid or expired token")
    username, scope, platform_admin = row[:3]
    role, organization = await _linked(request, session, row, 3)
    return Principal(
        kind=PrincipalKind.user, id=user_id, name=username, home_organization=organization,
        organization=organization, role=role.name, permissions=role.permissions,
        scope=ManagementScope(scope or "own"), platform_admin=platform_admin, user_id=user_id,
    )


async def get_principal(
    request: Request, session: SessionDep, settings: SettingsDep,
    bearer: Annotated[str | None, Depends(oauth2_scheme)],
    _documented: Annotated[HTTPAuthorizationCredentials | None, Depends(api_key_scheme)],
) -> Principal:
    """Authenticate the bearer credential (JWT or API key) and pick the organization acted on."""
    token = (bearer or "").strip()
    if not token:
        raise Unauthorized("Not authenticated: send 'Authorization: Bearer <token or API key>'")
    if transaction_mode(request) == WRITE and is_sqlite(session):
        # On SQLite a writing transaction holds the database's only write lock from its first
        # statement: the principal is read outside it, so the lock is taken only for the work itself.
        async for lookup in session_scope(request.app.state.sessionmaker, mode=READ):
            principal = await _resolve_principal(request, lookup, settings, token)
    else:
        principal = await _resolve_principal(request, session, settings, token)
    request.state.principal = principal
    return principal


async def _resolve_principal(request: Request, session: AsyncSession, settings: Settings, token: str) -> Principal:
    if token.startswith(API_KEY_PREFIX):
        principal = await _principal_from_api_key(request, session, token)
    else:
        principal = await _principal_from_jwt(request, session, settings, token)
    wanted = request.headers.get("x-organization")
    if wanted and wanted != principal.home_organization.slug:
        if not principal.platform_admin:
            raise Forbidden("X-Organization is for platform administrators")
        row = (await session.execute(_ORGANIZATION_BY_SLUG, {"slug": wanted})).first()
        if row is None:
            raise NotFound(f"Organization '{wanted}' not found")
        # A platform admin acts as the owner of the organization it switched to.
        principal = Principal(
            kind=principal.kind, id=principal.id, name=principal.name, home_organization=principal.home_organization,
            organization=OrganizationRef(*row), role="owner", permissions=frozenset(BUILTIN_ROLES["owner"][1]),
            scope=ManagementScope.all, platform_admin=True, user_id=principal.user_id,
        )
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


class require:  # noqa: N801 - reads as a declaration: Depends(require("users.write"))
    """A dependency that checks the principal holds every named permission and builds the Context.

    ``transaction`` overrides what the HTTP method says about the request's session:
    ``"write"`` for a read that records an audit entry (a secret reveal), ``"phased"`` for a
    POST whose service manages its own transactions (apply, restore).
    """

    def __init__(self, *permissions: str, platform_admin: bool = False, scope_all: bool = False,
                 transaction: str | None = None):
        assert transaction in (None, READ, WRITE, PHASED)
        self.permissions = permissions
        self.platform_admin = platform_admin
        self.scope_all = scope_all
        self.transaction = transaction

    async def __call__(self, request: Request, principal: PrincipalDep, session: SessionDep,
                       settings: SettingsDep) -> Context:
        if self.platform_admin and not principal.platform_admin:
            raise Forbidden("This needs a platform administrator")
        missing = [p for p in self.permissions if not principal.can(p)]
        if missing:
            raise Forbidden(f"Missing permission: {', '.join(missing)}")
        if self.scope_all and principal.scope != ManagementScope.all:
            raise Forbidden("This needs management scope 'all'")
        state = request.app.state
        return Context(
            session=session, principal=principal, settings=settings,
            request_id=getattr(request.state, "request_id", None), secret_box=state.secret_box,
            hasher=state.password_hasher, for_update=transaction_mode(request) == WRITE,
        )

    def describe(self) -> str:
        parts = [f"`{p}`" for p in self.permissions]
        if self.platform_admin:
            parts.append("a platform administrator")
        if self.scope_all:
            parts.append("management scope `all`")
        return " and ".join(parts) if parts else "any authenticated principal"


def system_principal(organization: Organization | OrganizationRef, name: str = "system") -> Principal:
    """The principal of work started outside HTTP (the CLI): owner rights in one organization."""
    organization = OrganizationRef.of(organization)
    return Principal(kind="system", id=uuid.UUID(int=0), name=name, home_organization=organization,
                     organization=organization, role="owner", permissions=frozenset(BUILTIN_ROLES["owner"][1]),
                     scope=ManagementScope.all, platform_admin=True, user_id=None)
