"""A user's SIP credentials in one call: what a softphone, an SPA or a CRM (Odoo) needs to register."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends

from app.core.context import Context, require
from app.core.db import WRITE
from app.models.sip_credentials import SipCredentials
from app.routers.common import api_router, responses
from app.services import sip_credentials

router = api_router("/users", "users")
# A write transaction: the reveal is audited.
Revealers = Annotated[Context, Depends(require("users.read", "sip_secrets.read", transaction=WRITE))]


@router.get("/{user_id}/sip-credentials", response_model=SipCredentials, summary="Get a user's SIP credentials",
            responses=responses(401, 403, 404, 422), operation_id="users_sip_credentials_get")
async def get_sip_credentials(user_id: uuid.UUID, ctx: Revealers) -> SipCredentials:
    """In one call: SIP user, authentication user (by the organization's `sip_username_mode`), password, domain,
    proxy, WebSocket URL (`CENTRALINO_WEBSOCKET_URL`) and transport, plus an `odoo` block in the field names of
    Odoo's VoIP settings. The password is in clear: this needs `sip_secrets.read` and authority over the user
    (its own, or one holding no rights beyond the caller's), and is audited like a reveal. 404 when the user has
    no SIP account."""
    return await sip_credentials.read(ctx, user_id)
