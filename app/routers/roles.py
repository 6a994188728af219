"""Roles and the permission catalogue."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Response

from app.core.context import Context, require
from app.core.http import IfMatch, check_if_match, set_etag
from app.core.pagination import ListParamsDep
from app.core.permissions import PERMISSIONS
from app.models.roles import PermissionRead, Role, RoleCreate, RolePage, RoleRead, RoleUpdate
from app.routers.common import (CREATE_ERRORS, DELETE_ERRORS, ITEM_ERRORS, READ_ERRORS, WRITE_ERRORS, api_router,
                                created)
from app.services import roles
from app.services.idempotency import IdempotencyDep

router = api_router("/roles", "roles")
permissions_router = api_router("/permissions", "roles")


def _read(role: Role) -> RoleRead:
    return RoleRead.model_construct(id=role.id, name=role.name, description=role.description,
                                    permissions=list(role.permissions), builtin=role.builtin,
                                    created_at=role.created_at, updated_at=role.updated_at)


@permissions_router.get("", response_model=list[PermissionRead], summary="The permission catalogue",
                        responses=READ_ERRORS, operation_id="permissions_list")
async def list_permissions(ctx: Annotated[Context, Depends(require())]) -> list[PermissionRead]:
    """Every permission a role can carry, with what it allows."""
    return [PermissionRead(name=name, description=text) for name, text in sorted(PERMISSIONS.items())]


@router.get("", response_model=RolePage, summary="List roles", responses=READ_ERRORS, operation_id="roles_list")
async def list_roles(ctx: Annotated[Context, Depends(require("roles.read"))], params: ListParamsDep) -> RolePage:
    """Built-in (owner, admin, manager, user, readonly) and custom roles."""
    rows, total = await roles.list_roles(ctx, params)
    return RolePage.model_construct(items=[_read(r) for r in rows], total=total, limit=params.limit,
                                    offset=params.offset)


@router.post("", status_code=201, response_model=RoleRead, summary="Create a custom role", responses=CREATE_ERRORS,
             operation_id="roles_create")
async def create_role(payload: RoleCreate, ctx: Annotated[Context, Depends(require("roles.write"))],
                      idem: IdempotencyDep, response: Response) -> RoleRead:
    """A named set of permissions; you cannot put in a permission you do not hold."""
    async def create():
        role = await roles.create(ctx, payload)
        created(response, ctx.settings, f"/api/v1/roles/{role.id}", role)
        return _read(role)

    return await idem.run(ctx, 201, create, response)


@router.get("/{role_id}", response_model=RoleRead, summary="Get a role", responses=ITEM_ERRORS, operation_id="roles_get")
async def get_role(role_id: uuid.UUID, ctx: Annotated[Context, Depends(require("roles.read"))],
                   response: Response) -> RoleRead:
    """One role with its permissions."""
    role = await roles.get(ctx, role_id)
    set_etag(response, role)
    return _read(role)


@router.patch("/{role_id}", response_model=RoleRead, summary="Change a custom role", responses=WRITE_ERRORS,
              operation_id="roles_update")
async def update_role(role_id: uuid.UUID, payload: RoleUpdate, ctx: Annotated[Context, Depends(require("roles.write"))],
                      response: Response, if_match: IfMatch = None) -> RoleRead:
    """Change a custom role's description or permissions; built-in roles are fixed (403), and a role with
    permissions you do not hold is not yours to change (403)."""
    role = await roles.get(ctx, role_id)
    check_if_match(if_match, role)
    role = await roles.update(ctx, role, payload)
    set_etag(response, role)
    return _read(role)


@router.delete("/{role_id}", status_code=204, summary="Delete a custom role", responses=DELETE_ERRORS,
               operation_id="roles_delete")
async def delete_role(role_id: uuid.UUID, ctx: Annotated[Context, Depends(require("roles.write"))],
                      if_match: IfMatch = None) -> Response:
    """Delete a custom role that nobody holds. Built-in roles and roles with permissions you do not hold
    cannot be deleted (403)."""
    role = await roles.get(ctx, role_id)
    check_if_match(if_match, role)
    await roles.delete(ctx, role)
    return Response(status_code=204)
