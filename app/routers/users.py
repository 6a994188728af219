"""Users."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Query, Response

from app.core.context import Context, require
from app.core.http import IfMatch, check_if_match, set_etag
from app.core.pagination import ListParamsDep
from app.models.enums import PresenceStatus
from app.models.users import (UserBulkResult, UserBulkUpdate, UserClone, UserCloned, UserCreate, UserCreated, UserPage,
                              UserRead, UserUpdate)
from app.routers.common import (DELETE_ERRORS, ITEM_ERRORS, READ_ERRORS, WRITE_ERRORS, api_router, created,
                                responses)
from app.services import groups, user_bulk, user_clone, users, welcome_email
from app.services.idempotency import IdempotencyDep

router = api_router("/users", "users")
Readers = Annotated[Context, Depends(require("users.read"))]
Writers = Annotated[Context, Depends(require("users.write"))]


_USER_FIELDS = ("id", "first_name", "last_name", "email", "mobile", "caller_id", "language", "status",
                "directory_visible", "multiple_calls", "login_required", "voicemail_enabled", "active", "created_at",
                "updated_at")


def _item(user, account_id, extension, account_active, role_name, groups) -> dict:
    """A user's representation from stored values (an ORM object): plain data, no input validators."""
    item = {name: getattr(user, name) for name in _USER_FIELDS}
    item["groups"] = groups
    item["sip_account"] = ({"id": account_id, "extension": extension, "active": account_active}
                           if account_id is not None else None)
    item["access"] = ({"username": user.username, "role": role_name or "", "scope": user.scope or "own"}
                      if user.username else None)
    return item


def _row_item(row, groups: list) -> dict:
    """The same from a row of ``users.READ_COLUMNS`` (unpacked by position: the hot path of every list)."""
    (id_, first_name, last_name, email, mobile, caller_id, language, status, directory_visible, multiple_calls,
     login_required, voicemail_enabled, active, username, scope, created_at, updated_at, _version,
     account_id, account_extension, account_active, role_name) = row[:22]
    return {"id": id_, "first_name": first_name, "last_name": last_name, "email": email, "mobile": mobile,
            "caller_id": caller_id, "language": language, "status": status, "directory_visible": directory_visible,
            "multiple_calls": multiple_calls, "login_required": login_required,
            "voicemail_enabled": voicemail_enabled, "active": active,
            "sip_account": ({"id": account_id, "extension": account_extension, "active": account_active}
                            if account_id is not None else None),
            "access": ({"username": username, "role": role_name or "", "scope": scope or "own"}
                       if username else None),
            "groups": groups, "created_at": created_at, "updated_at": updated_at}


async def _read(ctx: Context, view: users.UserView, model: type[UserRead] = UserRead, **extra) -> UserRead:
    account = view.account
    if view.groups is None:
        view.groups = (await groups.groups_of(ctx.session, [view.user.id])).get(view.user.id, [])
    return model.model_validate({
        **_item(view.user, account.id if account else None, account.extension if account else None,
                account.active if account else None, view.role_name, view.groups), **extra})


@router.post("", status_code=201, response_model=UserCreated, summary="Create a user",
             responses=responses(401, 403, 409, 422, 502, 503, status=201),
             operation_id="users_create")
async def create_user(payload: UserCreate, ctx: Writers, idem: IdempotencyDep, response: Response) -> UserCreated:
    """Create a user. With `"extension": 105` or `"extension": "next"` its SIP account is created (or an
    unassigned pooled account with that number is taken over, with a new password) in the same transaction:
    if the number is taken, nothing is created. The SIP password is in this response only. The user joins
    the DEFAULT group unless `groups` (ids or names) says otherwise; a group manager (scope `groups`)
    creates users only into groups it manages. `"welcome_email": true` also mails the user its extension and
    softphone provisioning link (see `POST /users/{id}/welcome-email`); if the mail is refused, nothing is
    created (502)."""
    async def create():
        view = await users.create(ctx, payload)
        welcome = await welcome_email.send_to_new_user(ctx, view) if payload.welcome_email else None
        created(response, ctx.settings, f"/api/v1/users/{view.user.id}", view.user)
        return await _read(ctx, view, UserCreated, sip_password=view.sip_password, welcome_email=welcome)

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
    rows, total = await users.list_users(ctx, params, status=status, email=email, has_extension=has_extension,
                                         role=role)
    memberships = await groups.groups_of(ctx.session, [row.id for row in rows])
    return UserPage.model_validate({"items": [_row_item(row, memberships.get(row.id, [])) for row in rows],
                                    "total": total, "limit": params.limit, "offset": params.offset})


@router.get("/{user_id}", response_model=UserRead, summary="Get a user", responses=ITEM_ERRORS, operation_id="users_get")
async def get_user(user_id: uuid.UUID, ctx: Readers, response: Response) -> UserRead:
    """One user, with its SIP account summary and login (never the password), and an ETag."""
    row = await users.read(ctx, user_id)
    set_etag(response, row)
    memberships = await groups.groups_of(ctx.session, [row.id])
    return UserRead.model_validate(_row_item(row, memberships.get(row.id, [])))


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
    return await _read(ctx, view)


@router.delete("/{user_id}", status_code=204, summary="Delete a user", responses=DELETE_ERRORS,
               operation_id="users_delete")
async def delete_user(user_id: uuid.UUID, ctx: Writers, if_match: IfMatch = None) -> Response:
    """Delete a user. Its SIP account is kept and returns to the unassigned pool."""
    view = await users.get(ctx, user_id)
    check_if_match(if_match, view.user)
    await users.delete(ctx, view)
    return Response(status_code=204)


@router.post("/{user_id}/clone", status_code=201, response_model=UserCloned, summary="Clone a user",
             responses=responses(401, 403, 404, 409, 422, status=201), operation_id="users_clone")
async def clone_user(user_id: uuid.UUID, payload: UserClone, ctx: Writers, idem: IdempotencyDep,
                     response: Response) -> UserCloned:
    """A new user with its own name, e-mail and extension (`"next"` by default) and the original's call
    handling, as 3CX clones: voicemail settings with a **new PIN**, forwarding rules and exceptions, phone keys,
    options (a new outbound PIN when the original had one, shown in this response only), groups with their
    roles and rights. Never copied: DIDs, the SIP password (a new account), the login, greetings (the original's
    voice) and the extension. When the copied rules forward to the mobile, give the clone a `mobile` (422
    otherwise). One transaction: a refused clone leaves nothing behind."""
    async def run():
        source = await users.get(ctx, user_id)
        view, outbound_pin = await user_clone.clone(ctx, source, payload)
        created(response, ctx.settings, f"/api/v1/users/{view.user.id}", view.user)
        return await _read(ctx, view, UserCloned, sip_password=view.sip_password, outbound_pin=outbound_pin)

    return await idem.run(ctx, 201, run, response)


@router.post("/bulk-update", response_model=UserBulkResult, summary="Change many users at once",
             responses={**WRITE_ERRORS}, operation_id="users_bulk_update",
             openapi_extra={"requestBody": {"content": {"application/json": {"example": {
                 "filter": {"has_extension": True},
                 "changes": {"language": "it", "options": {"record_calls": True},
                             "forwarding": {"dnd": {"internal": {"action": {"type": "hangup"}},
                                                    "external": {"action": {"type": "voicemail"}}}}}}}}}})
async def bulk_update(payload: UserBulkUpdate, ctx: Writers) -> UserBulkResult:
    """One change to many users, chosen by `user_ids` or by a `filter` (status, group, with or without an
    extension, language), always within the caller's scope: profile fields, whole blocks of the forwarding rules
    (each block given replaces the user's), options. All or nothing: every user is checked first, and a refusal
    names the users (`errors[].loc`: `["users", "<id>", …]`); 403 when one holds rights the caller lacks."""
    ids = await user_bulk.bulk_update(ctx, payload)
    return UserBulkResult(updated=len(ids), user_ids=ids)
