"""A user's SIP credentials in one call, for softphones, SPAs and CRMs (Odoo's VoIP settings)."""

from __future__ import annotations

import uuid
from enum import StrEnum

from pydantic import Field as PydanticField

from app.models.base import ApiModel


class SipTransport(StrEnum):
    """How the client reaches the registrar."""

    udp = "udp"  # desk phones and softphones
    ws = "ws"  # browsers, over CENTRALINO_WEBSOCKET_URL (plain: local networks and tests only)
    wss = "wss"  # browsers, over CENTRALINO_WEBSOCKET_URL


class OdooVoipMode(StrEnum):
    """Odoo's VoIP `mode`: `prod` places real calls (`demo` only simulates them)."""

    prod = "prod"


class OdooVoipSettings(ApiModel):
    """The same credentials under the names of Odoo's VoIP settings: the user's `voip_username` and
    `voip_secret`, the PBX's `pbx_ip`, `ws_server` and `mode`. Odoo registers with one user name as both
    SIP user and authentication user."""

    voip_username: str = PydanticField(examples=["105"])
    voip_secret: str
    pbx_ip: str = PydanticField(description="The SIP domain Odoo puts in its SIP URIs", examples=["pbx.example.com"])
    ws_server: str | None = PydanticField(description="CENTRALINO_WEBSOCKET_URL; null when it is not set",
                                          examples=["wss://pbx.example.com:8089/ws"])
    mode: OdooVoipMode = OdooVoipMode.prod


class SipCredentials(ApiModel):
    """Everything a softphone, a browser or a CRM needs to register as the user, in clear (an audited reveal)."""

    user_id: uuid.UUID
    sip_account_id: uuid.UUID
    extension: int = PydanticField(examples=[105])
    active: bool = PydanticField(description="false: the account is deactivated and cannot register")
    username: str = PydanticField(description="The SIP user (URI user): the extension", examples=["105"])
    auth_username: str = PydanticField(
        description="The digest user name, by the organization's sip_username_mode: the extension, or the Auth ID",
        examples=["105"])
    password: str
    domain: str = PydanticField(description="SIP domain and digest realm", examples=["pbx.example.com"])
    proxy: str = PydanticField(description="Where to send REGISTER (host or host:port): the organization's "
                                           "sip_proxy, else its domain", examples=["sip.example.com:5060"])
    websocket_url: str | None = PydanticField(description="CENTRALINO_WEBSOCKET_URL (browsers); null when not set",
                                              examples=["wss://pbx.example.com:8089/ws"])
    transport: SipTransport = PydanticField(
        description="`wss`/`ws` for a `webrtc` account (by the WebSocket URL's scheme), `udp` otherwise")
    odoo: OdooVoipSettings | None = PydanticField(
        description="For Odoo's VoIP module; null when the organization's sip_username_mode is auth_id (Odoo cannot "
                    "authenticate with a user name other than its SIP user)")
