"""Users: profile, login access, and the SIP account created with them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import Row, Select, bindparam, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.context import Context
from app.core.errors import Conflict, FieldErrors, Forbidden, NotFound, ValidationProblem
from app.core.pagination import ListParams, Sort, contains, like_pattern, sort_column
from app.core.security import generate_pin
from app.models import Role, SipAccount, User
from app.models.sip_accounts import SipAccountCreate
from app.models.groups import UserGroupRead
from app.models.users import UserAccessIn, UserAccessPatch, UserCreate, UserUpdate
from app.services import ami, audit, destinations, groups, numbering, roles, sip_accounts
from app.services.changes import delete_row, touch
from app.services.scoping import require_scope_all, restrict_to_own, scope_clause

RESOURCE = "user"
FORWARDING_REFERRER = "user_forwarding"  # a user's forwarding rules, as a referrer of destinations
# Columns a principal with scope 'own' may change on itself; access changes are handled separately.
_SELF_SERVICE_FIELDS = {"first_name", "last_name", "mobile", "language", "status", "directory_visible", "multiple_calls"}
# What a group manager (scope 'groups') may also change on the users of its groups.
_GROUP_MANAGER_FIELDS = _SELF_SERVICE_FIELDS | {"email", "caller_id", "login_required", "voicemail_enabled", "groups"}
# Changing any of these makes the user's older tokens stop working.
_CREDENTIAL_FIELDS = {"username", "password_hash", "role_id", "scope", "active"}


@dataclass(slots=True)
class UserView:
    """A user with what its representation shows: the SIP account and the role name."""

    user: User
    account: SipAccount | None
    role_name: str | None
    sip_password: str | None = None  # set only when this request generated it
    groups: list[UserGroupRead] | None = None  # loaded for the representation
    status_pushed: bool | None = None  # a status change reached Asterisk over AMI


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


# What a representation shows of a user, as plain columns: reads build no ORM objects.
_users, _accounts, _roles = User.__table__, SipAccount.__table__, Role.__table__
READ_COLUMNS = (
    *(_users.c[name] for name in ("id", "first_name", "last_name", "email", "mobile", "caller_id", "language", "status",
                                  "directory_visible", "multiple_calls", "login_required", "voicemail_enabled",
                                  "active", "username", "scope", "created_at", "updated_at", "version")),
    _accounts.c.id.label("account_id"), _accounts.c.extension.label("account_extension"),
    _accounts.c.active.label("account_active"), _roles.c.name.label("role_name"),
)
_SORTS = {"first_name": _users.c.first_name, "last_name": _users.c.last_name, "email": _users.c.email,
          "created_at": _users.c.created_at, "updated_at": _users.c.updated_at, "extension": _accounts.c.extension,
          "status": _users.c.status}
_SEARCHED = (_users.c.first_name, _users.c.last_name, _users.c.email, _users.c.username)


def _with_account_and_role(selectable):
    return (selectable.outerjoin(_accounts, _accounts.c.user_id == _users.c.id)
            .outerjoin(_roles, _roles.c.id == _users.c.role_id))


def _in_scope(query, scope: str):
    """Narrow to the organization and the principal's scope (parameters ``org`` and, unless 'all', ``principal``)."""
    query = query.where(_users.c.organization_id == bindparam("org"))
    clause = scope_clause(scope, _users.c.id, bindparam("principal"))
    return query.where(clause) if clause is not None else query


_SCOPES = ("own", "groups", "all")
_READ_ONE = {scope: _in_scope(select(*READ_COLUMNS).select_from(_with_account_and_role(_users))
                              .where(_users.c.id == bindparam("user_id")), scope) for scope in _SCOPES}


def _scope_parameters(ctx: Context) -> tuple[str, dict]:
    """The principal's scope as a statement shape, and its parameters."""
    principal = ctx.principal
    if principal.scope == "all":
        return "all", {"org": principal.organization_id}
    return principal.scope, {"org": principal.organization_id, "principal": principal.user_id}


async def read(ctx: Context, user_id: uuid.UUID) -> Row:
    """One user's representation (a row of ``READ_COLUMNS``) within the caller's organization and scope, or 404."""
    scope, parameters = _scope_parameters(ctx)
    row = (await ctx.session.execute(_READ_ONE[scope], {**parameters, "user_id": user_id})).first()
    if row is None:
        raise NotFound("User not found")
    return row


@lru_cache(maxsize=256)
def _list_statements(sort: str, descending: bool, scope: str, filters: frozenset[str],
                     has_extension: bool | None) -> tuple[Select, Select]:
    """The page and count statements of one shape of list request, built once (values are bound parameters).

    The page is chosen on the users table alone (an index serves the default order), and only
    its rows are joined with their accounts and roles: joining every user first and sorting
    afterwards cost milliseconds per request. (A window count on the page would save the count
    query, but it makes SQLite read every row before the limit: ten times slower.)
    """
    order = Sort(_SORTS[sort], descending)
    needs_account = has_extension is not None or order.column is _accounts.c.extension
    source = _users.outerjoin(_accounts, _accounts.c.user_id == _users.c.id) if needs_account else _users
    if "role" in filters:
        source = source.join(_roles, _roles.c.id == _users.c.role_id)
    keys = _in_scope(select(_users.c.id).select_from(source), scope)
    if "role" in filters:
        keys = keys.where(_roles.c.name == bindparam("role"))
    if "status" in filters:
        keys = keys.where(_users.c.status == bindparam("status"))
    if "email" in filters:
        keys = keys.where(_users.c.email == bindparam("email"))
    if has_extension is not None:
        keys = keys.where(_accounts.c.id.is_not(None) if has_extension else _accounts.c.id.is_(None))
    if "q" in filters:
        keys = keys.where(or_(*(contains(column, bindparam("q")) for column in _SEARCHED)))
    count = select(func.count()).select_from(keys.subquery())
    page = (keys.add_columns(order.column.label("sort_key"))
            .order_by(*order.order(_users.c.id)).limit(bindparam("limit")).offset(bindparam("offset")).subquery())
    rows = (select(*READ_COLUMNS)
            .select_from(_with_account_and_role(page.join(_users, _users.c.id == page.c.id)))
            .order_by(*Sort(page.c.sort_key, descending).order(_users.c.id)))
    return rows, count


async def list_users(ctx: Context, params: ListParams, *, status: str | None, email: str | None,
                     has_extension: bool | None, role: str | None) -> tuple[list[Row], int]:
    """A page of users (rows of ``READ_COLUMNS``) and the total, in two queries."""
    sort = sort_column(params, _SORTS, "last_name")
    scope, parameters = _scope_parameters(ctx)
    for name, value in (("status", status), ("email", email.lower() if email else None), ("role", role),
                        ("q", like_pattern(params.q) if params.q else None)):
        if value is not None:
            parameters[name] = value
    filters = frozenset(parameters) - {"org", "principal"}
    page, count = _list_statements(sort.name, sort.descending, scope, filters, has_extension)
    rows = (await ctx.session.execute(page, {**parameters, "limit": params.limit, "offset": params.offset})).all()
    total = (await ctx.session.execute(count, parameters)).scalar_one()
    return list(rows), total


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
    """Create a user; with ``extension`` also create (or take from the pool) its SIP account, atomically.

    It joins DEFAULT unless ``groups`` is given; a group manager (scope 'groups') creates users only
    into groups it manages.
    """
    if ctx.principal.scope == "own":
        raise Forbidden("Creating users needs management scope 'groups' or 'all'")
    # Hashed before the first statement: on SQLite the transaction holds the only write lock from then on.
    password_hash = await ctx.hasher.hash(payload.access.password) if payload.access is not None else None
    if payload.extension is not None and not ctx.principal.can("sip_accounts.write"):
        raise Forbidden("Giving a user an extension needs the permission sip_accounts.write")
    session, org = ctx.session, ctx.organization
    errors = FieldErrors()
    role = None
    if ctx.principal.scope == "groups" and not payload.groups:
        # Its new user must land in its reach: DEFAULT (or nothing) would put it out of the principal's scope.
        errors.add(["body", "groups"], "With scope 'groups', name the groups you manage to put the user in",
                   "missing")
    if payload.access is not None:
        role = await _resolve_role(ctx, payload.access.role, errors, ["body", "access", "role"])
    if isinstance(payload.extension, int):
        numbering.check_range(org, payload.extension, errors, ["body", "extension"])
    if payload.welcome_email and not payload.email:
        errors.add(["body", "email"], "A welcome e-mail needs the user's e-mail address", "missing")
    if payload.welcome_email and payload.extension is None:
        errors.add(["body", "extension"], 'A welcome e-mail announces an extension: give one, or "next"', "missing")
    errors.raise_if_any()
    email = payload.email.lower() if payload.email else None
    if email and await _email_taken(session, org.id, email):
        raise Conflict.field(["body", "email"], f"Email {email} is already used by another user", "email-taken")
    if payload.access is not None:
        roles.check_grant(ctx.principal, role, payload.access.scope)
        if await _username_taken(session, payload.access.username):
            raise Conflict.field(["body", "access", "username"], f"Username '{payload.access.username}' is taken", "username-taken")

    user = User(
        organization_id=org.id, **payload.model_dump(exclude={"access", "extension", "email", "groups", "welcome_email"}), email=email,
        voicemail_pin_encrypted=ctx.secret_box.encrypt(generate_pin()),
    )
    _apply_access(user, payload.access, role, password_hash)
    session.add(user)
    await session.flush()
    if payload.groups is None and ctx.principal.scope == "all":
        await groups.join_default(ctx, user)
    else:
        await groups.set_user_groups(ctx, user, payload.groups, ["body", "groups"], new_user=True)
    await audit.record(ctx, "user.create", RESOURCE, user.id, after={**audit.snapshot(user), "groups": payload.groups},
                       config_change=True)
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
    await numbering.lock(session, org)
    pooled_query = sip_accounts.pooled_accounts(org.id)
    if wanted == "next":
        lowest_pooled = (await session.execute(pooled_query.order_by(SipAccount.extension).limit(1))).scalar_one_or_none()
        try:
            lowest_free = await numbering.lowest_free(session, org)
        except Conflict:
            lowest_free = None
        if lowest_pooled is not None and (lowest_free is None or lowest_pooled.extension < lowest_free):
            return await _take_over(ctx, lowest_pooled, user)
        if lowest_free is None:
            raise Conflict(f"No free extension in range {numbering.range_text(org)}", slug="extension-range-full")
        extension = None
    else:
        pooled = (await session.execute(pooled_query.where(SipAccount.extension == wanted))).scalar_one_or_none()
        if pooled is not None:
            return await _take_over(ctx, pooled, user)
        extension = int(wanted)
    return await sip_accounts.create(ctx, SipAccountCreate(extension=extension, user_id=user.id))


async def _take_over(ctx: Context, account: SipAccount, user: User) -> tuple[SipAccount, str]:
    return account, await sip_accounts.assign(ctx, account, user.id)


def _apply_access(user: User, access: UserAccessIn | None, role: Role | None, password_hash: str | None) -> None:
    if access is None:
        user.username = user.password_hash = user.role_id = user.scope = None
        return
    user.username = access.username
    user.password_hash = password_hash
    user.role_id = role.id
    user.scope = access.scope


async def update(ctx: Context, view: UserView, payload: UserUpdate) -> UserView:
    """JSON merge patch of a user; login changes are checked against escalation."""
    user, principal = view.user, ctx.principal
    changes = payload.model_dump(exclude_unset=True)
    new_password = payload.access.password if payload.access is not None else None
    password_hash = await ctx.hasher.hash(new_password) if new_password is not None else None
    is_self = principal.user_id == user.id
    if not is_self:
        await roles.check_authority_over(ctx.session, principal, user, "change")
    if principal.scope != "all":
        allowed = _GROUP_MANAGER_FIELDS if principal.scope == "groups" and not is_self else _SELF_SERVICE_FIELDS
        forbidden = set(changes) - allowed - {"access"}
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
    if "groups" in changes:
        references = changes.pop("groups")
        if references is None:
            raise ValidationProblem.field(["body", "groups"], "must not be null (send [] for no group)", "null")
        await groups.set_user_groups(ctx, user, references, ["body", "groups"], new_user=False)
        view.groups = None  # read again for the representation
    if "access" in changes:
        await _change_access(ctx, user, access_patch, role, is_self, password_hash)
        changes.pop("access")
        view.role_name = (role.name if role else view.role_name) if user.username else None
    for name, value in changes.items():
        setattr(user, name, value)
    if any(before[name] != getattr(user, name) for name in _CREDENTIAL_FIELDS):
        user.auth_version += 1
    touch(user)
    await ctx.session.flush()
    # The status is live state (pushed to Asterisk below), not configuration: alone it makes nothing pending.
    await audit.record(ctx, "user.update", RESOURCE, user.id, before=before, after=audit.snapshot(user),
                       config_change=not payload.model_fields_set <= {"status"})
    if "status" in changes and before["status"] != user.status:
        view.status_pushed = await ami.push_status(ctx.settings, user.id, user.status)
    return view


async def _change_access(ctx: Context, user: User, patch: UserAccessPatch | None, role: Role | None, is_self: bool,
                         password_hash: str | None) -> None:
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
        _apply_access(user, None, None, None)
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
    if password_hash is not None:
        user.password_hash = password_hash


async def delete(ctx: Context, view: UserView) -> None:
    """Delete a user; its SIP account returns to the unassigned pool."""
    require_scope_all(ctx.principal, "Deleting users")
    user = view.user
    if ctx.principal.user_id == user.id:
        raise Forbidden("You cannot delete yourself")
    await roles.check_authority_over(ctx.session, ctx.principal, user, "delete")
    await destinations.refuse_if_referenced(ctx, "user", user.id, f"User '{user.first_name} {user.last_name}'".strip())
    await destinations.forget(ctx, FORWARDING_REFERRER, user.id)  # its own rules go with it
    await sip_accounts.release_user_account(ctx, user)
    await delete_row(ctx, user, action="user.delete", resource=RESOURCE, config_change=True)
