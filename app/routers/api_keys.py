"""API keys for CRMs and scripts."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Query, Response

from app.core.context import Context, require
from app.core.pagination import ListParamsDep
from app.models.api_keys import ApiKey, ApiKeyCreate, ApiKeyCreated, ApiKeyPage, ApiKeyRead
from app.models.enums import ManagementScope
from app.models.roles import Role
from app.routers.common import CREATE_ERRORS, DELETE_ERRORS, READ_ERRORS, api_router, created, responses
from app.services import api_keys
from app.services.idempotency import IdempotencyDep

router = api_router("/api-keys", "api-keys")


def _read(api_key: ApiKey, role: Role | None, model: type[ApiKeyRead] = ApiKeyRead, **extra) -> ApiKeyRead:
    return model.model_construct(
        id=api_key.id, name=api_key.name, key_prefix=api_key.key_prefix, role=role.name if role else "(deleted)",
        scope=ManagementScope(api_key.scope), created_at=api_key.created_at, last_used_at=api_key.last_used_at,
        revoked_at=api_key.revoked_at, **extra)


@router.post("", status_code=201, response_model=ApiKeyCreated, summary="Create an API key", responses=CREATE_ERRORS,
             operation_id="api_keys_create")
async def create_api_key(payload: ApiKeyCreate, ctx: Annotated[Context, Depends(require("api_keys.write"))],
                         idem: IdempotencyDep, response: Response) -> ApiKeyCreated:
    """Create a named key bound to a role and scope. The key is in this response only: store it now."""
    async def create() -> ApiKeyCreated:
        api_key, role, key = await api_keys.create(ctx, payload)
        created(response, ctx.settings, f"/api/v1/api-keys/{api_key.id}")
        return _read(api_key, role, ApiKeyCreated, key=key)

    return await idem.run(ctx, 201, create, response)


@router.get("", response_model=ApiKeyPage, summary="List API keys", responses=READ_ERRORS, operation_id="api_keys_list")
async def list_api_keys(ctx: Annotated[Context, Depends(require("api_keys.read", scope_all=True))],
                        params: ListParamsDep,
                        include_revoked: Annotated[bool, Query(description="Also list revoked keys")] = False) -> ApiKeyPage:
    """The organization's API keys (never the keys themselves), with their last use."""
    rows, total = await api_keys.list_keys(ctx, params, include_revoked=include_revoked)
    return ApiKeyPage.model_construct(items=[_read(k, r) for k, r in rows], total=total, limit=params.limit,
                                      offset=params.offset)


@router.get("/{key_id}", response_model=ApiKeyRead, summary="Get an API key",
            responses=responses(401, 403, 404, 422), operation_id="api_keys_get")
async def get_api_key(key_id: uuid.UUID,
                      ctx: Annotated[Context, Depends(require("api_keys.read", scope_all=True))]) -> ApiKeyRead:
    """One API key's metadata."""
    return _read(*await api_keys.get(ctx, key_id))


@router.delete("/{key_id}", status_code=204, summary="Revoke an API key", responses=DELETE_ERRORS,
               operation_id="api_keys_revoke")
async def revoke_api_key(key_id: uuid.UUID,
                         ctx: Annotated[Context, Depends(require("api_keys.write", scope_all=True))]) -> Response:
    """Revoke a key at once; requests with it get 401 from now on. A key with permissions you do not hold
    cannot be revoked by you."""
    api_key, role = await api_keys.get(ctx, key_id)
    await api_keys.revoke(ctx, api_key, role)
    return Response(status_code=204)
