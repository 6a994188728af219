"""A user's SIP credentials in one call (softphones, SPAs, CRMs): the same authority and audit as a reveal."""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

from app.config_gen.snapshot import auth_username
from app.core.context import Context
from app.core.errors import NotFound
from app.models.enums import PhoneType, SipUsernameMode
from app.models.sip_credentials import OdooVoipSettings, SipCredentials, SipTransport
from app.services import sip_accounts, users


async def read(ctx: Context, user_id: uuid.UUID) -> SipCredentials:
    """The user's credentials in clear, for ``sip_secrets.read`` and authority over the user; audited as a reveal
    of the SIP password. 404 when the user is out of scope or has no SIP account."""
    view = await users.get(ctx, user_id)
    account = view.account
    if account is None:
        raise NotFound("The user has no SIP account: give it an extension first", slug="no-sip-account")
    password = await sip_accounts.reveal(ctx, account, via="sip-credentials")
    organization, settings = ctx.organization, ctx.settings
    username = str(account.extension)
    authenticates_as = auth_username(organization, account.extension, account.auth_id)
    websocket_url = settings.websocket_url
    transport = SipTransport.udp
    if account.phone_type == PhoneType.webrtc:
        transport = SipTransport.ws if websocket_url and urlsplit(websocket_url).scheme == "ws" else SipTransport.wss
    odoo = None
    if organization.sip_username_mode == SipUsernameMode.extension:
        odoo = OdooVoipSettings(voip_username=authenticates_as, voip_secret=password, pbx_ip=organization.sip_domain,
                                ws_server=websocket_url)
    return SipCredentials(
        user_id=view.user.id, sip_account_id=account.id, extension=account.extension, active=account.active,
        username=username, auth_username=authenticates_as, password=password, domain=organization.sip_domain,
        proxy=organization.sip_proxy or organization.sip_domain, websocket_url=websocket_url, transport=transport,
        odoo=odoo)
