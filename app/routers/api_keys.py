"""API keys for CRMs and scripts."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Query, Response

from app.core.context import Context, require
from app.core.pagination import ListParamsDep
from app.models.api_keys import ApiKey, ApiKeyCreate, ApiKeyCreated, ApiKeyRead
from app.models.base import Page
from app.routers.common import CREATE_ERRORS, ITEM_ERRORS, READ_ERRORS, WRITE_ERRORS, api_router
from app.services import api_keys
from app.services.idempotency import IdempotencyDep

router = api_router("/api-keys", "api-keys")


def _read(api_key: ApiKey, role: str | None) -> ApiKeyRead:
    return ApiKeyRead(id=api_key.id, name=api_key.name, key_prefix=api_key.key_prefix, role=role or "(deleted)",
                      scope=api_key.scope, created_at=api_key.created_at, last_used_at=api_key.last_used_at,
                      revoked_at=api_key.revoked_at)


@router.post("", status_code=201, response_model=ApiKeyCreated, summary="Create an API key", responses=CREATE_ERRORS)
async def create_api_key(payload: ApiKeyCreate, ctx: Annotated[Context, Depends(require("api_keys.write"))],
                         idem: IdempotencyDep) -> ApiKeyCreated:
    """Create a named key bound to a role and scope. The key is in this response only: store it now."""
    async def create() -> ApiKeyCreated:
        api_key, role, key = await api_keys.create(ctx, payload)
        return ApiKeyCreated(**_read(api_key, role).model_dump(), key=key)

    return await idem.run(ctx, 201, create)


@router.get("", response_model=Page[ApiKeyRead], summary="List API keys", responses=READ_ERRORS)
async def list_api_keys(ctx: Annotated[Context, Depends(require("api_keys.read"))], params: ListParamsDep,
                        include_revoked: Annotated[bool, Query(description="Also list revoked keys")] = False) -> Page[ApiKeyRead]:
    """The organization's API keys (never the keys themselves), with their last use."""
    rows, total = await api_keys.list_keys(ctx, params, include_revoked=include_revoked)
    return Page(items=[_read(k, r) for k, r in rows], total=total, limit=params.limit, offset=params.offset)


@router.get("/{key_id}", response_model=ApiKeyRead, summary="Get an API key", responses=ITEM_ERRORS)
async def get_api_key(key_id: uuid.UUID, ctx: Annotated[Context, Depends(require("api_keys.read"))]) -> ApiKeyRead:
    """One API key's metadata."""
    return _read(*await api_keys.get(ctx, key_id))


@router.delete("/{key_id}", status_code=204, summary="Revoke an API key", responses=WRITE_ERRORS)
async def revoke_api_key(key_id: uuid.UUID, ctx: Annotated[Context, Depends(require("api_keys.write"))]) -> Response:
    """Revoke a key at once; requests with it get 401 from now on."""
    api_key, _ = await api_keys.get(ctx, key_id)
    await api_keys.revoke(ctx, api_key)
    return Response(status_code=204)
