"""Users: profile, login access, and the SIP account created with them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.context import Context
from app.core.errors import Conflict, FieldErrors, Forbidden, NotFound, ValidationProblem
from app.core.pagination import ListParams, apply_sort, contains, paginate
from app.core.security import generate_pin
from app.models import Role, SipAccount, User
from app.models.sip_accounts import SipAccountCreate
from app.models.users import UserAccessIn, UserAccessPatch, UserCreate, UserUpdate
from app.services import audit, roles, sip_accounts
from app.services.changes import delete_row, touch
from app.services.scoping import require_scope_all, restrict_to_own

RESOURCE = "user"
# Columns a principal with scope 'own' may change on itself; access changes are handled separately.
_SELF_SERVICE_FIELDS = {"first_name", "last_name", "mobile", "language", "status", "directory_visible", "multiple_calls"}
# Changing any of these makes the user's older tokens stop working.
_CREDENTIAL_FIELDS = {"username", "password_hash", "role_id", "scope", "active"}


@dataclass(slots=True)
class UserView:
    """A user with what its representation shows: the SIP account and the role name."""

    user: User
    account: SipAccount | None
    role_name: str | None
    sip_password: str | None = None  # set only when this request generated it


def _base_query(ctx: Context):
    query = (select(User, SipAccount, Role.name)
             .outerjoin(SipAccount, SipAccount.user_id == User.id)
             .outerjoin(Role, Role.id == User.role_id)
             .where(User.organization_id == ctx.principal.organization_id))
    clause = restrict_to_own(ctx.principal, User.id)
    return query.where(clause) if clause is not None else query


async def get(ctx: Context, user_id: uuid.UUID) -> UserView:
    """One user of the caller's organization and scope, or 404."""
    row = (await ctx.session.execute(ctx.locked(_base_query(ctx).where(User.id == user_id), User))).first()
    if row is None:
        raise NotFound("User not found")
    return UserView(*row)


async def list_users(ctx: Context, params: ListParams, *, status: str | None, email: str | None,
                     has_extension: bool | None, role: str | None) -> tuple[list[UserView], int]:
    query = _base_query(ctx)
    if status is not None:
        query = query.where(User.status == status)
    if email is not None:
        query = query.where(User.email == email.lower())
    if has_extension is not None:
        query = query.where(SipAccount.id.is_not(None) if has_extension else SipAccount.id.is_(None))
    if role is not None:
        query = query.where(Role.name == role)
    if params.q:
        query = query.where(or_(contains(User.first_name, params.q), contains(User.last_name, params.q),
                                contains(User.email, params.q), contains(User.username, params.q)))
    columns = {"first_name": User.first_name, "last_name": User.last_name, "email": User.email,
               "created_at": User.created_at, "updated_at": User.updated_at, "extension": SipAccount.extension,
               "status": User.status}
    query = apply_sort(query, params, columns, "last_name", User.id)
    rows, total = await paginate(ctx.session, query, params, scalars=False)
    return [UserView(*row) for row in rows], total


async def _email_taken(session: AsyncSession, org_id: uuid.UUID, email: str, exclude: uuid.UUID | None = None) -> bool:
    query = select(User.id).where(User.organization_id == org_id, User.email == email)
    if exclude is not None:
        query = query.where(User.id != exclude)
    return (await session.execute(query.limit(1))).first() is not None


async def _username_taken(session: AsyncSession, username: str, exclude: uuid.UUID | None = None) -> bool:
    query = select(User.id).where(User.username == username)
    if exclude is not None:
        query = query.where(User.id != exclude)
    return (await session.execute(query.limit(1))).first() is not None


async def _resolve_role(ctx: Context, name: str, errors: FieldErrors, loc: list) -> Role | None:
    role = await roles.by_name(ctx.session, ctx.principal.organization_id, name)
    if role is None:
        errors.add(loc, f"Unknown role '{name}'", "unknown_role")
    return role


async def create(ctx: Context, payload: UserCreate) -> UserView:
    """Create a user; with ``extension`` also create (or take from the pool) its SIP account, atomically."""
    require_scope_all(ctx.principal, "Creating users")
    if payload.extension is not None and not ctx.principal.can("sip_accounts.write"):
        raise Forbidden("Giving a user an extension needs the permission sip_accounts.write")
    session, org = ctx.session, ctx.organization
    errors = FieldErrors()
    role = None
    if payload.access is not None:
        role = await _resolve_role(ctx, payload.access.role, errors, ["body", "access", "role"])
    if isinstance(payload.extension, int):
        sip_accounts.check_extension_range(org, payload.extension, errors, ["body", "extension"])
    errors.raise_if_any()
    email = payload.email.lower() if payload.email else None
    if email and await _email_taken(session, org.id, email):
        raise Conflict.field(["body", "email"], f"Email {email} is already used by another user", "email-taken")
    if payload.access is not None:
        roles.check_grant(ctx.principal, role, payload.access.scope)
        if await _username_taken(session, payload.access.username):
            raise Conflict.field(["body", "access", "username"], f"Username '{payload.access.username}' is taken", "username-taken")

    user = User(
        organization_id=org.id, **payload.model_dump(exclude={"access", "extension", "email"}), email=email,
        voicemail_pin_encrypted=ctx.secret_box.encrypt(generate_pin()),
    )
    await _apply_access(ctx, user, payload.access, role)
    session.add(user)
    await session.flush()
    await audit.record(ctx, "user.create", RESOURCE, user.id, after=audit.snapshot(user), config_change=True)
    view = UserView(user, None, role.name if role else None)
    if payload.extension is not None:
        view.account, view.sip_password = await _give_extension(ctx, user, payload.extension)
    return view


async def _give_extension(ctx: Context, user: User, wanted: int | str) -> tuple[SipAccount, str]:
    """Create the user's account, or take over an unassigned pooled one with that number.

    A pooled account keeps its number but gets a new password: its old
    credentials may still sit in a former user's phone.
    """
    session, org = ctx.session, ctx.organization
    await sip_accounts.lock_numbering(session, org)
    pooled_query = sip_accounts.pooled_accounts(org.id)
    if wanted == "next":
        lowest_pooled = (await session.execute(pooled_query.order_by(SipAccount.extension).limit(1))).scalar_one_or_none()
        try:
            lowest_free = await sip_accounts.lowest_free_extension(session, org)
        except Conflict:
            lowest_free = None
        if lowest_pooled is not None and (lowest_free is None or lowest_pooled.extension < lowest_free):
            return await _take_over(ctx, lowest_pooled, user)
        if lowest_free is None:
            raise Conflict(f"No free extension in range {sip_accounts.range_text(org)}", slug="extension-range-full")
        extension = None
    else:
        pooled = (await session.execute(pooled_query.where(SipAccount.extension == wanted))).scalar_one_or_none()
        if pooled is not None:
            return await _take_over(ctx, pooled, user)
        extension = int(wanted)
    return await sip_accounts.create(ctx, SipAccountCreate(extension=extension, user_id=user.id))


async def _take_over(ctx: Context, account: SipAccount, user: User) -> tuple[SipAccount, str]:
    return account, await sip_accounts.assign(ctx, account, user.id)


async def _apply_access(ctx: Context, user: User, access: UserAccessIn | None, role: Role | None) -> None:
    if access is None:
        user.username = user.password_hash = user.role_id = user.scope = None
        return
    user.username = access.username
    user.password_hash = await ctx.hasher.hash(access.password)
    user.role_id = role.id
    user.scope = access.scope


async def update(ctx: Context, view: UserView, payload: UserUpdate) -> UserView:
    """JSON merge patch of a user; login changes are checked against escalation."""
    user, principal = view.user, ctx.principal
    changes = payload.model_dump(exclude_unset=True)
    is_self = principal.user_id == user.id
    if not is_self:
        await roles.check_authority_over(ctx.session, principal, user, "change")
    if principal.scope != "all":
        forbidden = set(changes) - _SELF_SERVICE_FIELDS - {"access"}
        if forbidden:
            raise Forbidden(f"With scope '{principal.scope}' you cannot change: {', '.join(sorted(forbidden))}")
    if is_self and changes.get("active") is False:
        raise Forbidden("You cannot deactivate yourself; ask another administrator")
    errors = FieldErrors()
    for required in ("first_name", "last_name", "language", "status", "directory_visible", "multiple_calls",
                     "login_required", "voicemail_enabled", "active"):
        if required in changes and changes[required] is None:
            errors.add(["body", required], "must not be null", "null")
    access_patch = payload.access if "access" in changes else None
    role = None
    if access_patch is not None and access_patch.role is not None:
        role = await _resolve_role(ctx, access_patch.role, errors, ["body", "access", "role"])
    if access_patch is not None and user.username is None and "access" in changes:
        for field in ("username", "password"):
            if getattr(access_patch, field) is None:
                errors.add(["body", "access", field], "is required to give the user a login", "missing")
    errors.raise_if_any()

    if "email" in changes and changes["email"] is not None:
        changes["email"] = changes["email"].lower()
        if await _email_taken(ctx.session, user.organization_id, changes["email"], exclude=user.id):
            raise Conflict.field(["body", "email"], f"Email {changes['email']} is already used by another user", "email-taken")
    before = audit.snapshot(user)
    if "access" in changes:
        await _change_access(ctx, user, access_patch, role, is_self)
        changes.pop("access")
        view.role_name = (role.name if role else view.role_name) if user.username else None
    for name, value in changes.items():
        setattr(user, name, value)
    if any(before[name] != getattr(user, name) for name in _CREDENTIAL_FIELDS):
        user.auth_version += 1
    touch(user)
    await ctx.session.flush()
    await audit.record(ctx, "user.update", RESOURCE, user.id, before=before, after=audit.snapshot(user), config_change=True)
    return view


async def _change_access(ctx: Context, user: User, patch: UserAccessPatch | None, role: Role | None, is_self: bool) -> None:
    principal = ctx.principal
    only_password = patch is not None and patch.model_dump(exclude_unset=True).keys() <= {"password"}
    if not (is_self and only_password):
        # Anything beyond changing one's own password is an administrator's act.
        require_scope_all(principal, "Changing a user's login, role or scope")
        if is_self:
            raise Forbidden("You cannot change your own login, role or scope; ask another administrator")
    if not is_self:
        await roles.check_authority_over(ctx.session, principal, user, "change the login of")
    if patch is None:
        await _apply_access(ctx, user, None, None)
        return
    if patch.username is not None and patch.username != user.username:
        if await _username_taken(ctx.session, patch.username, exclude=user.id):
            raise Conflict.field(["body", "access", "username"], f"Username '{patch.username}' is taken", "username-taken")
        user.username = patch.username
    if role is not None or patch.scope is not None:
        target_role = role or (await ctx.session.get(Role, user.role_id) if user.role_id else None)
        target_scope = patch.scope or user.scope or "own"
        if target_role is None:
            raise ValidationProblem.field(["body", "access", "role"], "is required to give the user a login", "missing")
        roles.check_grant(principal, target_role, target_scope)
        user.role_id, user.scope = target_role.id, target_scope
    elif user.role_id is None:
        default_role = await roles.by_name(ctx.session, user.organization_id, "user")
        user.role_id, user.scope = default_role.id, "own"
    if patch.password is not None:
        user.password_hash = await ctx.hasher.hash(patch.password)


async def delete(ctx: Context, view: UserView) -> None:
    """Delete a user; its SIP account returns to the unassigned pool."""
    require_scope_all(ctx.principal, "Deleting users")
    user = view.user
    if ctx.principal.user_id == user.id:
        raise Forbidden("You cannot delete yourself")
    await roles.check_authority_over(ctx.session, ctx.principal, user, "delete")
    await sip_accounts.release_user_account(ctx, user)
    await delete_row(ctx, user, action="user.delete", resource=RESOURCE, config_change=True)
