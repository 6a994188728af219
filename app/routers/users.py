"""Users."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Query, Response

from app.core.context import Context, require
from app.core.http import IfMatch, check_if_match, set_etag
from app.core.pagination import ListParamsDep
from app.models.enums import ManagementScope, PresenceStatus
from app.models.users import (SipAccountSummary, UserAccessRead, UserCreate, UserCreated, UserPage, UserRead,
                              UserUpdate)
from app.routers.common import CREATE_ERRORS, DELETE_ERRORS, ITEM_ERRORS, READ_ERRORS, WRITE_ERRORS, api_router, created
from app.services import users
from app.services.idempotency import IdempotencyDep

router = api_router("/users", "users")
Readers = Annotated[Context, Depends(require("users.read"))]
Writers = Annotated[Context, Depends(require("users.write"))]


def _read(view: users.UserView, model: type[UserRead] = UserRead, **extra) -> UserRead:
    """The representation of a stored user (built from the row, not validated again)."""
    user, account = view.user, view.account
    return model.model_construct(
        id=user.id, first_name=user.first_name, last_name=user.last_name, email=user.email, mobile=user.mobile,
        caller_id=user.caller_id, language=user.language, status=PresenceStatus(user.status),
        directory_visible=user.directory_visible, multiple_calls=user.multiple_calls,
        login_required=user.login_required, voicemail_enabled=user.voicemail_enabled, active=user.active,
        sip_account=(SipAccountSummary.model_construct(id=account.id, extension=account.extension, active=account.active)
                     if account else None),
        access=(UserAccessRead.model_construct(username=user.username, role=view.role_name or "",
                                               scope=ManagementScope(user.scope or "own")) if user.username else None),
        created_at=user.created_at, updated_at=user.updated_at, **extra)


@router.post("", status_code=201, response_model=UserCreated, summary="Create a user", responses=CREATE_ERRORS,
             operation_id="users_create")
async def create_user(payload: UserCreate, ctx: Writers, idem: IdempotencyDep, response: Response) -> UserCreated:
    """Create a user. With `"extension": 105` or `"extension": "next"` its SIP account is created (or an
    unassigned pooled account with that number is taken over, with a new password) in the same transaction:
    if the number is taken, nothing is created. The SIP password is in this response only."""
    async def create():
        view = await users.create(ctx, payload)
        created(response, ctx.settings, f"/api/v1/users/{view.user.id}", view.user)
        return _read(view, UserCreated, sip_password=view.sip_password)

    return await idem.run(ctx, 201, create, response)


@router.get("", response_model=UserPage, summary="List users", responses=READ_ERRORS, operation_id="users_list")
async def list_users(
    ctx: Readers, params: ListParamsDep,
    status: Annotated[PresenceStatus | None, Query(description="Only users with this presence status")] = None,
    email: Annotated[str | None, Query(max_length=320, description="Exact e-mail address")] = None,
    has_extension: Annotated[bool | None, Query(description="Only users with (true) or without (false) a SIP account")] = None,
    role: Annotated[str | None, Query(max_length=50, description="Only users whose login has this role")] = None,
) -> UserPage:
    """Users of the organization within the caller's scope; `q` searches names, e-mail and username.
    Sort by `first_name`, `last_name`, `email`, `extension`, `status`, `created_at`, `updated_at`."""
    views, total = await users.list_users(ctx, params, status=status, email=email, has_extension=has_extension, role=role)
    return UserPage.model_construct(items=[_read(v) for v in views], total=total, limit=params.limit,
                                    offset=params.offset)


@router.get("/{user_id}", response_model=UserRead, summary="Get a user", responses=ITEM_ERRORS, operation_id="users_get")
async def get_user(user_id: uuid.UUID, ctx: Readers, response: Response) -> UserRead:
    """One user, with its SIP account summary and login (never the password), and an ETag."""
    view = await users.get(ctx, user_id)
    set_etag(response, view.user)
    return _read(view)


@router.patch("/{user_id}", response_model=UserRead, summary="Change a user", responses=WRITE_ERRORS,
              operation_id="users_update")
async def update_user(user_id: uuid.UUID, payload: UserUpdate, ctx: Writers, response: Response,
                      if_match: IfMatch = None) -> UserRead:
    """JSON merge patch: only the fields sent change; `null` clears an optional field (`"access": null`
    removes the login). With scope `own` a user may change its own profile fields and password only.
    Changing a login's password, username, role or scope, removing it, or deactivating the user makes
    the user's older tokens stop working."""
    view = await users.get(ctx, user_id)
    check_if_match(if_match, view.user)
    view = await users.update(ctx, view, payload)
    set_etag(response, view.user)
    return _read(view)


@router.delete("/{user_id}", status_code=204, summary="Delete a user", responses=DELETE_ERRORS,
               operation_id="users_delete")
async def delete_user(user_id: uuid.UUID, ctx: Writers, if_match: IfMatch = None) -> Response:
    """Delete a user. Its SIP account is kept and returns to the unassigned pool."""
    view = await users.get(ctx, user_id)
    check_if_match(if_match, view.user)
    await users.delete(ctx, view)
    return Response(status_code=204)
