"""SIP accounts."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Body, Depends, Query, Response

from app.config_gen.snapshot import auth_username
from app.core.context import Context, require
from app.core.db import WRITE
from app.core.http import IfMatch, check_if_match, set_etag
from app.core.pagination import ListParamsDep
from app.models.enums import PhoneType
from app.models.sip_accounts import (ClaimRequest, NextFreeExtension, SipAccount, SipAccountCreate, SipAccountCreated,
                                     SipAccountPage, SipAccountRead, SipAccountUpdate, SipPasswordChange, SipSecret)
from app.routers.common import (CREATE_ERRORS, DELETE_ERRORS, ITEM_ERRORS, READ_ERRORS, WRITE_ERRORS, api_router,
                                created, responses)
from app.services import sip_accounts
from app.services.idempotency import IdempotencyDep

router = api_router("/sip-accounts", "sip-accounts")
Readers = Annotated[Context, Depends(require("sip_accounts.read"))]
Writers = Annotated[Context, Depends(require("sip_accounts.write"))]


def _read(account: SipAccount, model: type[SipAccountRead] = SipAccountRead, **extra) -> SipAccountRead:
    """The representation of a stored account (built from the row, not validated again)."""
    return model.model_construct(
        id=account.id, extension=account.extension, auth_id=account.auth_id, user_id=account.user_id,
        phone_type=PhoneType(account.phone_type), active=account.active, recording=account.recording,
        permission_level=account.permission_level, max_contacts=account.max_contacts,
        created_at=account.created_at, updated_at=account.updated_at, **extra)


@router.post("", status_code=201, response_model=SipAccountCreated, summary="Create a SIP account",
             responses=CREATE_ERRORS, operation_id="sip_accounts_create")
async def create_sip_account(payload: SipAccountCreate, ctx: Writers, idem: IdempotencyDep,
                             response: Response) -> SipAccountCreated:
    """Create an account. Without `extension` it gets the lowest free number of the organization's range;
    without `password` a strong one is generated. The password is in this response only."""
    async def create():
        account, password = await sip_accounts.create(ctx, payload)
        created(response, ctx.settings, f"/api/v1/sip-accounts/{account.id}", account)
        return _read(account, SipAccountCreated, password=password)

    return await idem.run(ctx, 201, create, response)


@router.get("", response_model=SipAccountPage, summary="List SIP accounts", responses=READ_ERRORS,
            operation_id="sip_accounts_list")
async def list_sip_accounts(
    ctx: Readers, params: ListParamsDep,
    assigned: Annotated[bool | None, Query(description="false: the unassigned pool")] = None,
    active: bool | None = None,
    phone_type: PhoneType | None = None,
    user_id: uuid.UUID | None = None,
) -> SipAccountPage:
    """Accounts within the caller's scope, by extension; `q` searches extension and auth ID.
    Passwords are never listed."""
    rows, total = await sip_accounts.list_accounts(ctx, params, assigned=assigned, active=active,
                                                   phone_type=phone_type, user_id=user_id)
    return SipAccountPage.model_construct(items=[_read(a) for a in rows], total=total, limit=params.limit,
                                          offset=params.offset)


@router.get("/next-free", response_model=NextFreeExtension, summary="The lowest free extension",
            responses=responses(401, 403, 409), operation_id="sip_accounts_next_free")
async def next_free_extension(ctx: Readers) -> NextFreeExtension:
    """The number a new account would get now; 409 when the range is full."""
    return NextFreeExtension(extension=await sip_accounts.next_free(ctx))


@router.post("/claim", response_model=SipAccountCreated, summary="Give a user a pooled account",
             responses=responses(401, 403, 409, 422, etag=True), operation_id="sip_accounts_claim")
async def claim_sip_account(payload: ClaimRequest, ctx: Writers, response: Response) -> SipAccountCreated:
    """Assign the lowest-numbered unassigned active account to the user; 409 "No free SIP account" when none.
    The account gets a new password (shown in this response only): a former holder's phone must not keep it."""
    account, password = await sip_accounts.claim(ctx, payload.user_id)
    set_etag(response, account)
    return _read(account, SipAccountCreated, password=password)


@router.get("/{account_id}", response_model=SipAccountRead, summary="Get a SIP account", responses=ITEM_ERRORS,
            operation_id="sip_accounts_get")
async def get_sip_account(account_id: uuid.UUID, ctx: Readers, response: Response) -> SipAccountRead:
    """One account (without its password), with an ETag."""
    account = await sip_accounts.get(ctx, account_id)
    set_etag(response, account)
    return _read(account)


@router.patch("/{account_id}", response_model=SipAccountRead, summary="Change a SIP account", responses=WRITE_ERRORS,
              operation_id="sip_accounts_update")
async def update_sip_account(account_id: uuid.UUID, payload: SipAccountUpdate, ctx: Writers, response: Response,
                             if_match: IfMatch = None) -> SipAccountRead:
    """Partial update; a new extension must be free and in range. `user_id: null` returns it to the pool."""
    account = await sip_accounts.get(ctx, account_id)
    check_if_match(if_match, account)
    account = await sip_accounts.update(ctx, account, payload)
    set_etag(response, account)
    return _read(account)


@router.delete("/{account_id}", status_code=204, summary="Delete a SIP account", responses=DELETE_ERRORS,
               operation_id="sip_accounts_delete")
async def delete_sip_account(account_id: uuid.UUID, ctx: Writers, if_match: IfMatch = None) -> Response:
    """Delete an account; its number becomes free."""
    account = await sip_accounts.get(ctx, account_id)
    check_if_match(if_match, account)
    await sip_accounts.delete(ctx, account)
    return Response(status_code=204)


@router.post("/{account_id}/password", response_model=SipAccountCreated, summary="Rotate or set the password",
             responses=WRITE_ERRORS, operation_id="sip_accounts_rotate_password")
async def rotate_sip_password(account_id: uuid.UUID, ctx: Writers, response: Response,
                              payload: Annotated[SipPasswordChange, Body(default_factory=SipPasswordChange)],
                              if_match: IfMatch = None) -> SipAccountCreated:
    """Generate a new password (or set the one given, strength-checked) and return it once."""
    account = await sip_accounts.get(ctx, account_id)
    check_if_match(if_match, account)
    password = await sip_accounts.set_password(ctx, account, payload.password)
    set_etag(response, account)
    return _read(account, SipAccountCreated, password=password)


@router.get("/{account_id}/secret", response_model=SipSecret, summary="Reveal the password",
            responses=responses(401, 403, 404, 422), operation_id="sip_accounts_reveal_secret")
async def reveal_sip_secret(account_id: uuid.UUID,
                            ctx: Annotated[Context, Depends(require("sip_accounts.read", "sip_secrets.read",
                                                                    transaction=WRITE))]) -> SipSecret:
    """The account's credentials in clear. Every call is recorded in the audit log."""
    account = await sip_accounts.get(ctx, account_id)
    password = await sip_accounts.reveal(ctx, account)
    return SipSecret(id=account.id, extension=account.extension, auth_id=account.auth_id,
                     username=str(account.extension),
                     auth_username=auth_username(ctx.organization, account.extension, account.auth_id),
                     password=password, domain=ctx.organization.sip_domain)
