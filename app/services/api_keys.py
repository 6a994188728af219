"""API keys: named, bound to a role, shown once, stored hashed, revocable."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import select

from app.core.context import Context
from app.core.errors import Conflict, FieldErrors, Forbidden, NotFound
from app.core.pagination import ListParams, apply_sort, paginate
from app.core.security import hash_api_key, new_api_key
from app.models import ApiKey, Role
from app.models.api_keys import ApiKeyCreate
from app.services import audit, roles
from app.services.changes import touch
from app.services.scoping import require_scope_all

RESOURCE = "api_key"


async def create(ctx: Context, payload: ApiKeyCreate) -> tuple[ApiKey, Role, str]:
    """A new key; returns the row, its role and the key itself (shown once)."""
    require_scope_all(ctx.principal, "Creating API keys")
    errors = FieldErrors()
    role = await roles.by_name(ctx.session, ctx.principal.organization_id, payload.role)
    if role is None:
        errors.add(["body", "role"], f"Unknown role '{payload.role}'", "unknown_role")
    errors.raise_if_any()
    roles.check_grant(ctx.principal, role, payload.scope)
    key = new_api_key()
    api_key = ApiKey(organization_id=ctx.principal.organization_id, name=payload.name, key_hash=hash_api_key(key),
                     key_prefix=key[:12], role_id=role.id, scope=payload.scope, created_by_id=ctx.principal.user_id)
    ctx.session.add(api_key)
    await ctx.session.flush()
    await audit.record(ctx, "api_key.create", RESOURCE, api_key.id, after=audit.snapshot(api_key))
    return api_key, role, key


def _query(ctx: Context):
    return (select(ApiKey, Role).outerjoin(Role, Role.id == ApiKey.role_id)
            .where(ApiKey.organization_id == ctx.principal.organization_id))


async def list_keys(ctx: Context, params: ListParams, *, include_revoked: bool) -> tuple[list[tuple[ApiKey, Role | None]], int]:
    """The organization's keys (a list of every key is for scope 'all')."""
    require_scope_all(ctx.principal, "Listing API keys")
    query = _query(ctx)
    if not include_revoked:
        query = query.where(ApiKey.revoked_at.is_(None))
    query = apply_sort(query, params, {"name": ApiKey.name, "created_at": ApiKey.created_at,
                                       "last_used_at": ApiKey.last_used_at}, "-created_at", ApiKey.id)
    rows, total = await paginate(ctx.session, query, params, scalars=False)
    return [(key, role) for key, role in rows], total


async def get(ctx: Context, key_id: uuid.UUID) -> tuple[ApiKey, Role | None]:
    require_scope_all(ctx.principal, "Reading API keys")
    row = (await ctx.session.execute(ctx.locked(_query(ctx).where(ApiKey.id == key_id), ApiKey))).first()
    if row is None:
        raise NotFound("API key not found")
    key, role = row
    return key, role


async def revoke(ctx: Context, api_key: ApiKey, role: Role | None) -> None:
    """Revoke a key; only a principal at least as strong as the key may (no revoking the owner's CRM key)."""
    require_scope_all(ctx.principal, "Revoking API keys")
    if not ctx.principal.platform_admin and role is not None:
        beyond = sorted(set(role.permissions) - ctx.principal.permissions)
        if beyond:
            raise Forbidden(f"You cannot revoke an API key with permissions you do not hold ({', '.join(beyond)})")
    if api_key.revoked_at is not None:
        raise Conflict("The API key is already revoked")
    api_key.revoked_at = datetime.now(UTC)
    touch(api_key)
    await ctx.session.flush()
    await audit.record(ctx, "api_key.revoke", RESOURCE, api_key.id, after={"revoked_at": api_key.revoked_at})
