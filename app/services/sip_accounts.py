"""SIP accounts: numbering in the organization's range, credentials, the free pool."""

from __future__ import annotations

import uuid

from sqlalchemy import String, cast, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.context import Context
from app.core.errors import Conflict, FieldErrors, NotFound, ValidationProblem
from app.core.pagination import ListParams, apply_sort, contains, paginate
from app.core.security import generate_auth_id, generate_sip_password, sip_password_problems
from app.models import SipAccount, User
from app.models.sip_accounts import SipAccountCreate, SipAccountUpdate
from app.services import audit, destinations, numbering, roles
from app.services.changes import delete_row, touch, update_row
from app.services.scoping import require_scope_all, restrict_to_own

RESOURCE = "sip_account"
_ALLOCATION_RETRIES = 8


async def _auth_id_in_use(session: AsyncSession, org_id: uuid.UUID, auth_id: str, exclude: uuid.UUID | None = None) -> bool:
    query = select(SipAccount.id).where(SipAccount.organization_id == org_id, SipAccount.auth_id == auth_id)
    if exclude is not None:
        query = query.where(SipAccount.id != exclude)
    return (await session.execute(query.limit(1))).first() is not None


async def _user_in_org(ctx: Context, user_id: uuid.UUID) -> User | None:
    return (await ctx.session.execute(
        select(User).where(User.id == user_id, User.organization_id == ctx.principal.organization_id)
    )).scalar_one_or_none()


async def _account_of_user(session: AsyncSession, user_id: uuid.UUID) -> SipAccount | None:
    return (await session.execute(select(SipAccount).where(SipAccount.user_id == user_id))).scalar_one_or_none()


def _password_errors(password: str, extension: int | None, auth_id: str | None, errors: FieldErrors, loc: list) -> None:
    forbidden = tuple(s for s in (str(extension) if extension else None, auth_id) if s)
    problems = sip_password_problems(password, forbidden_substrings=forbidden)
    if problems:
        errors.add(loc, "Password is too weak or unsafe: " + "; ".join(problems), "weak_password")


async def create(ctx: Context, payload: SipAccountCreate) -> tuple[SipAccount, str]:
    """Create an account; returns it with its plaintext password (to show once).

    Without an extension the lowest free number is allocated, safely under
    concurrency (per-organization lock + unique constraint + retry).
    """
    require_scope_all(ctx.principal, "Creating SIP accounts")
    org = ctx.organization
    session = ctx.session
    errors = FieldErrors()
    if payload.extension is not None:
        numbering.check_range(org, payload.extension, errors, ["body", "extension"])
    if payload.password is not None:
        _password_errors(payload.password, payload.extension, payload.auth_id, errors, ["body", "password"])
    if payload.user_id is not None:
        user = await _user_in_org(ctx, payload.user_id)
        if user is None:
            errors.add(["body", "user_id"], "No such user in this organization", "not_found")
        else:
            # The response carries the new account's password: as good as revealing the holder's secret.
            await _check_authority_over_holder(ctx, user, "create a SIP account for")
            if await _account_of_user(session, user.id) is not None:
                raise Conflict("The user already has a SIP account", slug="user-has-sip-account")
    errors.raise_if_any()

    await numbering.lock(session, org)
    password = payload.password or generate_sip_password()
    explicit_auth_id = payload.auth_id
    if explicit_auth_id is not None and await _auth_id_in_use(session, org.id, explicit_auth_id):
        raise Conflict.field(["body", "auth_id"], f"Auth ID '{explicit_auth_id}' is already in use", "auth-id-in-use")
    for _attempt in range(_ALLOCATION_RETRIES):
        if payload.extension is not None:
            extension = payload.extension
            await numbering.check_free(session, org, extension, ["body", "extension"])
        else:
            extension = await numbering.lowest_free(session, org)
        account = SipAccount(
            organization_id=org.id, extension=extension, auth_id=explicit_auth_id or generate_auth_id(),
            password_encrypted=ctx.secret_box.encrypt(password), user_id=payload.user_id,
            phone_type=payload.phone_type, active=payload.active, recording=payload.recording,
            permission_level=payload.permission_level if payload.permission_level is not None else org.default_permission_level,
            max_contacts=payload.max_contacts,
        )
        try:
            async with session.begin_nested():
                session.add(account)
                await session.flush()
        except IntegrityError:
            if payload.user_id is not None and await _account_of_user(session, payload.user_id) is not None:
                raise Conflict("The user already has a SIP account", slug="user-has-sip-account") from None
            # Another process took the number (or a generated auth ID collided) between
            # our check and our insert: look again; an explicit number is then reported taken.
            continue
        await audit.record(ctx, "sip_account.create", RESOURCE, account.id, after=audit.snapshot(account),
                           config_change=True)
        return account, password
    raise Conflict("Could not create the SIP account under heavy contention; retry the request", slug="contention")


async def get(ctx: Context, account_id: uuid.UUID) -> SipAccount:
    """One account of the caller's organization and scope, or 404."""
    query = select(SipAccount).where(SipAccount.id == account_id, SipAccount.organization_id == ctx.principal.organization_id)
    clause = restrict_to_own(ctx.principal, SipAccount.user_id)
    if clause is not None:
        query = query.where(clause)
    account = (await ctx.session.execute(ctx.locked(query, SipAccount))).scalar_one_or_none()
    if account is None:
        raise NotFound("SIP account not found")
    return account


async def list_accounts(ctx: Context, params: ListParams, *, assigned: bool | None, active: bool | None,
                        phone_type: str | None, user_id: uuid.UUID | None) -> tuple[list[SipAccount], int]:
    query = select(SipAccount).where(SipAccount.organization_id == ctx.principal.organization_id)
    clause = restrict_to_own(ctx.principal, SipAccount.user_id)
    if clause is not None:
        query = query.where(clause)
    if assigned is not None:
        query = query.where(SipAccount.user_id.is_not(None) if assigned else SipAccount.user_id.is_(None))
    if active is not None:
        query = query.where(SipAccount.active == active)
    if phone_type is not None:
        query = query.where(SipAccount.phone_type == phone_type)
    if user_id is not None:
        query = query.where(SipAccount.user_id == user_id)
    if params.q:
        query = query.where(or_(contains(cast(SipAccount.extension, String), params.q), contains(SipAccount.auth_id, params.q)))
    columns = {"extension": SipAccount.extension, "created_at": SipAccount.created_at, "auth_id": SipAccount.auth_id,
               "permission_level": SipAccount.permission_level}
    query = apply_sort(query, params, columns, "extension", SipAccount.id)
    return await paginate(ctx.session, query, params)


async def update(ctx: Context, account: SipAccount, payload: SipAccountUpdate) -> SipAccount:
    """Partial update; a new extension is range- and uniqueness-checked."""
    changes = payload.model_dump(exclude_unset=True)
    org = ctx.organization
    errors = FieldErrors()
    for required in ("extension", "auth_id", "phone_type", "active", "recording", "permission_level", "max_contacts"):
        if required in changes and changes[required] is None:
            errors.add(["body", required], "must not be null", "null")
    if changes.get("extension") is not None:
        numbering.check_range(org, changes["extension"], errors, ["body", "extension"])
    if "user_id" in changes and changes["user_id"] is not None:
        if await _user_in_org(ctx, changes["user_id"]) is None:
            errors.add(["body", "user_id"], "No such user in this organization", "not_found")
    errors.raise_if_any()
    if own_changes_forbidden := ({"extension", "auth_id", "user_id", "active", "permission_level"} & changes.keys()):
        require_scope_all(ctx.principal, "Changing " + ", ".join(sorted(own_changes_forbidden)))
    if changes.get("extension") not in (None, account.extension):
        await numbering.lock(ctx.session, org)
        await numbering.check_free(ctx.session, org, changes["extension"], ["body", "extension"],
                                   exclude_account=account.id)
    if changes.get("auth_id") not in (None, account.auth_id):
        if await _auth_id_in_use(ctx.session, org.id, changes["auth_id"], exclude=account.id):
            msg = f"Auth ID '{changes['auth_id']}' is already in use"
            raise Conflict.field(["body", "auth_id"], msg, "auth-id-in-use")
    if changes.get("user_id") not in (None, account.user_id):
        holder = await _account_of_user(ctx.session, changes["user_id"])
        if holder is not None and holder.id != account.id:
            raise Conflict("The user already has a SIP account", slug="user-has-sip-account")
    await check_holder_authority(ctx, account, "change the SIP account of")
    reassigned = changes.get("user_id") not in (None, account.user_id)
    await update_row(ctx, account, changes, action="sip_account.update", resource=RESOURCE, config_change=True)
    if reassigned:  # a new holder never inherits the previous one's credentials
        await set_password(ctx, account, None)
    return account


async def delete(ctx: Context, account: SipAccount) -> None:
    require_scope_all(ctx.principal, "Deleting SIP accounts")
    await check_holder_authority(ctx, account, "delete the SIP account of")
    await destinations.refuse_if_referenced(ctx, "sip_account", account.id, f"SIP account {account.extension}")
    await delete_row(ctx, account, action="sip_account.delete", resource=RESOURCE, config_change=True)


async def set_password(ctx: Context, account: SipAccount, password: str | None) -> str:
    """Rotate (or set a caller-chosen, strength-checked) password; returns it to show once."""
    await check_holder_authority(ctx, account, "change the SIP password of")
    if password is not None:
        errors = FieldErrors()
        _password_errors(password, account.extension, account.auth_id, errors, ["body", "password"])
        errors.raise_if_any()
    new_password = password or generate_sip_password()
    account.password_encrypted = ctx.secret_box.encrypt(new_password)
    touch(account)
    await ctx.session.flush()
    await audit.record(ctx, "sip_account.password_rotate", RESOURCE, account.id,
                       after={"password": new_password}, config_change=True)
    return new_password


async def reveal(ctx: Context, account: SipAccount, via: str | None = None) -> str:
    """The plaintext password, for a principal holding ``sip_secrets.read``; audited (``via``: which endpoint)."""
    await check_holder_authority(ctx, account, "reveal the SIP password of")
    await audit.record(ctx, "sip_account.secret_reveal", RESOURCE, account.id,
                       after={"extension": account.extension, **({"via": via} if via else {})})
    return ctx.secret_box.decrypt(account.password_encrypted)


async def next_free(ctx: Context) -> int:
    return await numbering.lowest_free(ctx.session, ctx.organization)


def pooled_accounts(organization_id: uuid.UUID):
    """The accounts that may be handed to a user: unassigned and active."""
    return select(SipAccount).where(SipAccount.organization_id == organization_id, SipAccount.user_id.is_(None),
                                    SipAccount.active.is_(True))


async def claim(ctx: Context, user_id: uuid.UUID) -> tuple[SipAccount, str]:
    """Give a user the lowest-numbered active account of the unassigned pool."""
    require_scope_all(ctx.principal, "Claiming SIP accounts")
    user = await _user_in_org(ctx, user_id)
    if user is None:
        raise ValidationProblem.field(["body", "user_id"], "No such user in this organization", "not_found")
    await _check_authority_over_holder(ctx, user, "give a SIP account to")
    if await _account_of_user(ctx.session, user.id) is not None:
        raise Conflict("The user already has a SIP account", slug="user-has-sip-account")
    await numbering.lock(ctx.session, ctx.organization)
    query = pooled_accounts(ctx.principal.organization_id).order_by(SipAccount.extension).limit(1)
    account = (await ctx.session.execute(query)).scalar_one_or_none()
    if account is None:
        raise Conflict("No free SIP account", slug="no-free-sip-account")
    return account, await assign(ctx, account, user.id)


async def release_user_account(ctx: Context, user: User) -> None:
    """Return a user's account to the pool (when the user is deleted)."""
    account = await _account_of_user(ctx.session, user.id)
    if account is None:
        return
    await update_row(ctx, account, {"user_id": None}, action="sip_account.unassign", resource=RESOURCE,
                     config_change=True)


async def assign(ctx: Context, account: SipAccount, user_id: uuid.UUID) -> str:
    """Give a pooled account to a user, with a new password (returned, to show once).

    The old credentials may still sit in a former user's phone: they must not
    keep calling as the new holder.
    """
    await update_row(ctx, account, {"user_id": user_id}, action="sip_account.claim", resource=RESOURCE,
                     config_change=True)
    return await set_password(ctx, account, None)


async def _check_authority_over_holder(ctx: Context, holder: User, what: str) -> None:
    if holder.id != ctx.principal.user_id:
        await roles.check_authority_over(ctx.session, ctx.principal, holder, what)


async def check_holder_authority(ctx: Context, account: SipAccount, what: str) -> None:
    """Refuse acting on the account of a user who holds rights the principal lacks (e.g. the owner's)."""
    if account.user_id is None or account.user_id == ctx.principal.user_id:
        return
    holder = await ctx.session.get(User, account.user_id)
    if holder is not None:
        await _check_authority_over_holder(ctx, holder, what)
