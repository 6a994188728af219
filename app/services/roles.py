"""Roles: the built-in ones (not deletable) and custom ones."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.context import Context, Principal
from app.core.errors import Conflict, FieldErrors, Forbidden, NotFound
from app.core.pagination import ListParams, apply_sort, paginate
from app.core.permissions import BUILTIN_ROLES, PERMISSIONS, SCOPE_ORDER
from app.models import ApiKey, Role, User
from app.models.roles import RoleCreate, RoleUpdate
from app.services import audit
from app.services.changes import delete_row, update_row
from app.services.scoping import require_scope_all

RESOURCE = "role"


def builtin_roles_for(organization_id: uuid.UUID) -> list[Role]:
    return [Role(organization_id=organization_id, name=name, description=description, permissions=permissions, builtin=True)
            for name, (description, permissions) in BUILTIN_ROLES.items()]


async def by_name(session: AsyncSession, organization_id: uuid.UUID, name: str) -> Role | None:
    return (await session.execute(select(Role).where(Role.organization_id == organization_id, Role.name == name))).scalar_one_or_none()


def check_grant(principal: Principal, role: Role, scope: str) -> None:
    """Refuse to hand out more than the granting principal holds (no privilege escalation)."""
    if principal.platform_admin:
        return
    extra = sorted(set(role.permissions) - principal.permissions)
    if extra:
        raise Forbidden(f"Cannot grant role '{role.name}': it has permissions you do not hold ({', '.join(extra)})")
    if SCOPE_ORDER[scope] > SCOPE_ORDER[principal.scope]:
        raise Forbidden(f"Cannot grant scope '{scope}' wider than your own ('{principal.scope}')")


async def check_authority_over(session: AsyncSession, principal: Principal, target: User, what: str) -> None:
    """Refuse to manage the login of someone holding rights the principal lacks (e.g. an admin and the owner)."""
    if principal.platform_admin or target.username is None:
        return
    if target.is_platform_admin:
        raise Forbidden(f"Only a platform administrator can {what} a platform administrator")
    role = await session.get(Role, target.role_id) if target.role_id else None
    beyond = sorted(set(role.permissions) - principal.permissions) if role else []
    if beyond or SCOPE_ORDER.get(target.scope or "own", 0) > SCOPE_ORDER[principal.scope]:
        raise Forbidden(f"You cannot {what} a user who holds rights you do not have")


def _unknown_permissions(permissions: list[str], errors: FieldErrors) -> None:
    for index, name in enumerate(permissions):
        if name not in PERMISSIONS:
            errors.add(["body", "permissions", index], f"Unknown permission '{name}'", "unknown_permission")


async def list_roles(ctx: Context, params: ListParams) -> tuple[list[Role], int]:
    query = select(Role).where(Role.organization_id == ctx.principal.organization_id)
    query = apply_sort(query, params, {"name": Role.name, "created_at": Role.created_at}, "name", Role.id)
    return await paginate(ctx.session, query, params)


async def get(ctx: Context, role_id: uuid.UUID) -> Role:
    role = (await ctx.session.execute(ctx.locked(
        select(Role).where(Role.id == role_id, Role.organization_id == ctx.principal.organization_id)))).scalar_one_or_none()
    if role is None:
        raise NotFound("Role not found")
    return role


def _refuse_escalation(ctx: Context, permissions: list[str]) -> None:
    if not ctx.principal.platform_admin:
        extra = sorted(set(permissions) - ctx.principal.permissions)
        if extra:
            raise Forbidden(f"A role cannot carry permissions you do not hold ({', '.join(extra)})")


def _refuse_stronger_role(ctx: Context, role: Role, what: str) -> None:
    """Only a principal holding every permission of a role may change or delete it."""
    if not ctx.principal.platform_admin:
        beyond = sorted(set(role.permissions) - ctx.principal.permissions)
        if beyond:
            raise Forbidden(f"You cannot {what} role '{role.name}': it has permissions you do not hold "
                            f"({', '.join(beyond)})")


async def create(ctx: Context, payload: RoleCreate) -> Role:
    require_scope_all(ctx.principal, "Managing roles")
    errors = FieldErrors()
    _unknown_permissions(payload.permissions, errors)
    errors.raise_if_any()
    _refuse_escalation(ctx, payload.permissions)
    if await by_name(ctx.session, ctx.principal.organization_id, payload.name) is not None:
        raise Conflict(f"Role '{payload.name}' already exists")
    role = Role(organization_id=ctx.principal.organization_id, name=payload.name, description=payload.description,
                permissions=sorted(set(payload.permissions)))
    ctx.session.add(role)
    await ctx.session.flush()
    await audit.record(ctx, "role.create", RESOURCE, role.id, after=audit.snapshot(role))
    return role


async def update(ctx: Context, role: Role, payload: RoleUpdate) -> Role:
    require_scope_all(ctx.principal, "Managing roles")
    if role.builtin:
        raise Forbidden(f"Built-in role '{role.name}' cannot be changed")
    _refuse_stronger_role(ctx, role, "change")
    changes = payload.model_dump(exclude_unset=True)
    errors = FieldErrors()
    if changes.get("permissions") is not None:
        _unknown_permissions(changes["permissions"], errors)
    errors.raise_if_any()
    if changes.get("permissions") is not None:
        _refuse_escalation(ctx, changes["permissions"])
        changes["permissions"] = sorted(set(changes["permissions"]))
    await update_row(ctx, role, {name: value for name, value in changes.items() if value is not None},
                     action="role.update", resource=RESOURCE, config_change=False)
    return role


async def delete(ctx: Context, role: Role) -> None:
    require_scope_all(ctx.principal, "Managing roles")
    if role.builtin:
        raise Forbidden(f"Built-in role '{role.name}' cannot be deleted")
    _refuse_stronger_role(ctx, role, "delete")
    in_use = (await ctx.session.execute(select(func.count()).select_from(User).where(User.role_id == role.id))).scalar_one()
    in_use += (await ctx.session.execute(
        select(func.count()).select_from(ApiKey).where(ApiKey.role_id == role.id, ApiKey.revoked_at.is_(None)))).scalar_one()
    if in_use:
        raise Conflict(f"Role '{role.name}' is still given to {in_use} user(s) or API key(s)")
    await delete_row(ctx, role, action="role.delete", resource=RESOURCE, config_change=False)
