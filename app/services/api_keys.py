"""API keys: named, bound to a role, shown once, stored hashed, revocable."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import select

from app.core.context import Context
from app.core.errors import Conflict, FieldErrors, NotFound
from app.core.pagination import ListParams, apply_sort, paginate
from app.core.security import hash_api_key, new_api_key
from app.models import ApiKey, Role
from app.models.api_keys import ApiKeyCreate
from app.services import audit, roles
from app.services.changes import touch
from app.services.scoping import require_scope_all

RESOURCE = "api_key"


async def create(ctx: Context, payload: ApiKeyCreate) -> tuple[ApiKey, str, str]:
    """A new key; returns the row, its role name and the key itself (shown once)."""
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
    return api_key, role.name, key


def _query(ctx: Context):
    return (select(ApiKey, Role.name).outerjoin(Role, Role.id == ApiKey.role_id)
            .where(ApiKey.organization_id == ctx.principal.organization_id))


async def list_keys(ctx: Context, params: ListParams, *, include_revoked: bool) -> tuple[list[tuple[ApiKey, str | None]], int]:
    query = _query(ctx)
    if not include_revoked:
        query = query.where(ApiKey.revoked_at.is_(None))
    query = apply_sort(query, params, {"name": ApiKey.name, "created_at": ApiKey.created_at,
                                       "last_used_at": ApiKey.last_used_at}, "-created_at", ApiKey.id)
    rows, total = await paginate(ctx.session, query, params, scalars=False)
    return [tuple(row) for row in rows], total


async def get(ctx: Context, key_id: uuid.UUID) -> tuple[ApiKey, str | None]:
    row = (await ctx.session.execute(ctx.locked(_query(ctx).where(ApiKey.id == key_id), ApiKey))).first()
    if row is None:
        raise NotFound("API key not found")
    return tuple(row)


async def revoke(ctx: Context, api_key: ApiKey) -> None:
    require_scope_all(ctx.principal, "Revoking API keys")
    if api_key.revoked_at is not None:
        raise Conflict("The API key is already revoked")
    api_key.revoked_at = datetime.now(UTC)
    touch(api_key)
    await ctx.session.flush()
    await audit.record(ctx, "api_key.revoke", RESOURCE, api_key.id, after={"revoked_at": api_key.revoked_at})
