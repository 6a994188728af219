"""SIP trunks (the carriers' lines) and outbound routes (which numbers go out through which trunks).

A trunk's password is write-only: encrypted at rest, never in a read or an audit diff, shown only by the
audited reveal. A route matches dial patterns in Asterisk's syntax, strips and prepends digits, and tries
its trunks in order (failover); an account may use it when its permission level is at least the route's
``min_permission_level`` (Thulium's *poziom uprawnień*); emergency routes are open to every account.
Every rule the renderer applies is applied here first (the same functions of
``app.config_gen.asterisk_trunks``), so saved data always applies.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, ConfigDict, Field as PydanticField, StringConstraints
from sqlalchemy import UniqueConstraint
from sqlmodel import Field

from app.config_gen import asterisk_trunks
from app.core.validation import Name, PermissionLevel, SipDomain
from app.models.base import ApiModel, Page, RequestBody, TenantRow, json_field


class TrunkTransport(StrEnum):
    """The SIP transport to the carrier."""

    udp = "udp"
    tcp = "tcp"
    tls = "tls"


class Codec(StrEnum):
    """An audio codec, by the name Asterisk gives it."""

    ulaw = "ulaw"
    alaw = "alaw"
    g722 = "g722"
    g729 = "g729"
    g726 = "g726"
    gsm = "gsm"
    ilbc = "ilbc"
    opus = "opus"
    speex = "speex"


class CallerIdMode(StrEnum):
    """Which number a route sends as caller ID."""

    user = "user"
    did = "did"
    trunk = "trunk"


class Trunk(TenantRow, table=True):
    __tablename__ = "trunks"
    __table_args__ = (UniqueConstraint("organization_id", "name"),)

    name: str = Field(max_length=40)
    host: str = Field(max_length=253)
    port: int = 5060
    transport: str = Field(default=TrunkTransport.udp, max_length=5)
    username: str | None = Field(default=None, max_length=64)
    password_encrypted: str | None = Field(default=None, max_length=500)
    registers: bool = False  # the API's "register" (a pydantic model cannot name a field "register")
    from_domain: str | None = Field(default=None, max_length=253)
    codecs: list[str] = json_field(default_factory=lambda: ["ulaw", "alaw"])
    max_channels: int | None = None
    match: list[str] = json_field(default_factory=list)
    caller_id: str | None = Field(default=None, max_length=21)


class OutboundRoute(TenantRow, table=True):
    """An outbound route; ``trunk_ids`` is the failover order (JSON list of trunk ids; each is also indexed in
    ``destination_references`` so that a trunk in use cannot be deleted)."""

    __tablename__ = "outbound_routes"
    __table_args__ = (UniqueConstraint("organization_id", "name"),)

    name: str = Field(max_length=100)
    patterns: list[str] = json_field(default_factory=list)
    strip: int = 0
    prepend: str = Field(default="", max_length=20)
    trunk_ids: list[str] = json_field(default_factory=list)
    caller_id_mode: str = Field(default=CallerIdMode.user, max_length=10)
    min_permission_level: int = 0
    priority: int = 100
    emergency: bool = False


def _checked(rule: Any, what: str) -> Any:
    """A pydantic validator from a renderer rule (which raises ValueError naming ``what``)."""

    def check(value: str) -> str:
        try:
            rule(value, what)
        except ValueError as exc:
            message = str(exc)
            raise ValueError(message.split(f"{what} {value!r} ", 1)[-1]) from None
        return value

    return AfterValidator(check)


def _pattern(value: str) -> str:
    asterisk_trunks.dial_pattern_length(value)
    return value


TrunkName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40),
                      _checked(asterisk_trunks.trunk_name, "trunk name"), PydanticField(examples=["telco-1"])]
Host = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, min_length=1, max_length=253),
                 _checked(lambda v, w: asterisk_trunks.escaping.hostname(v, w), "host"),
                 PydanticField(examples=["sip.carrier.example"])]
TrunkUsername = Annotated[str, StringConstraints(min_length=1, max_length=64),
                          _checked(asterisk_trunks.escaping.sip_user, "username"),
                          PydanticField(examples=["4822100200"])]
TrunkPassword = Annotated[str, StringConstraints(min_length=1, max_length=128),
                          _checked(asterisk_trunks.secret, "password")]
CallerNumber = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=21),
                         _checked(asterisk_trunks.number, "caller ID"), PydanticField(examples=["+48221002000"])]
MatchAddress = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=253),
                         _checked(asterisk_trunks.match_address, "match address"),
                         PydanticField(examples=["203.0.113.0/24"])]
DialPattern = Annotated[str, StringConstraints(min_length=1, max_length=asterisk_trunks.MAX_PATTERN_LENGTH),
                        AfterValidator(_pattern), PydanticField(examples=["_00X.", "_0[1-9]XXXXXXXX", "112"])]
Prepend = Annotated[str, StringConstraints(max_length=20), _checked(asterisk_trunks.prepend_digits, "prepend"),
                    PydanticField(examples=["+"])]
Port = Annotated[int, PydanticField(strict=True, ge=1, le=65535, examples=[5060])]
MaxChannels = Annotated[int, PydanticField(strict=True, ge=1, le=10_000, examples=[30])]
Codecs = Annotated[list[Codec], PydanticField(min_length=1, max_length=len(Codec), examples=[["alaw", "ulaw"]],
                                              description="Codecs offered to the carrier, in order of preference")]
Matches = Annotated[list[MatchAddress], PydanticField(
    max_length=20, description="Addresses or networks (CIDR) the carrier calls from; empty: the host. PJSIP "
                               "identifies a call by its source address before its user name")]

_TRUNK_FIELD_DOCS = {
    "register": "Send REGISTER to the carrier (needs username and password)",
    "from_domain": "Domain in From of calls and registrations (the carrier's, when it asks for one)",
    "max_channels": "Simultaneous outgoing calls; the next trunk of the route is tried when full (null: no limit)",
    "caller_id": "Number sent when the route's caller ID mode gives none (mode `trunk`, or a user without one); "
                 "null: the carrier's default",
}


class TrunkCreate(RequestBody):
    """A new SIP trunk to a carrier."""

    name: TrunkName = PydanticField(description="Letters, digits, '_' and '-': Asterisk's sections are "
                                                "`trunk-<name>`")
    host: Host
    port: Port = 5060
    transport: TrunkTransport = TrunkTransport.udp
    username: TrunkUsername | None = None
    password: TrunkPassword | None = PydanticField(default=None, description="Write-only; encrypted at rest")
    registers: bool = PydanticField(default=False, alias="register", description=_TRUNK_FIELD_DOCS["register"])
    from_domain: SipDomain | None = PydanticField(default=None, description=_TRUNK_FIELD_DOCS["from_domain"])
    codecs: Codecs = PydanticField(default_factory=lambda: [Codec.alaw, Codec.ulaw])
    max_channels: MaxChannels | None = PydanticField(default=None, description=_TRUNK_FIELD_DOCS["max_channels"])
    match: Matches = PydanticField(default_factory=list)
    caller_id: CallerNumber | None = PydanticField(default=None, description=_TRUNK_FIELD_DOCS["caller_id"])

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "name": "telco-1", "host": "sip.carrier.example", "username": "4822100200", "password": "s3cret-Line",
        "register": True, "codecs": ["alaw", "ulaw"], "max_channels": 30, "caller_id": "+48221002000"}]})


class TrunkUpdate(RequestBody):
    """JSON merge patch of a trunk (`password: null` removes the credentials' password)."""

    name: TrunkName | None = None
    host: Host | None = None
    port: Port | None = None
    transport: TrunkTransport | None = None
    username: TrunkUsername | None = None
    password: TrunkPassword | None = PydanticField(default=None, description="Write-only")
    registers: bool | None = PydanticField(default=None, alias="register", description=_TRUNK_FIELD_DOCS["register"])
    from_domain: SipDomain | None = None
    codecs: Codecs | None = None
    max_channels: MaxChannels | None = None
    match: Matches | None = None
    caller_id: CallerNumber | None = None


class TrunkRead(ApiModel):
    """A SIP trunk (never its password)."""

    id: uuid.UUID
    name: str
    host: str
    port: int
    transport: TrunkTransport
    username: str | None
    has_password: bool = PydanticField(description="Whether a password is stored (reveal it with GET .../secret)")
    registers: bool = PydanticField(alias="register", description=_TRUNK_FIELD_DOCS["register"])
    from_domain: str | None
    codecs: list[Codec]
    max_channels: int | None
    match: list[str]
    caller_id: str | None
    created_at: datetime
    updated_at: datetime


class TrunkPage(Page[TrunkRead]):
    """A page of trunks."""


class TrunkSecret(ApiModel):
    """A trunk's credentials in clear."""

    id: uuid.UUID
    name: str
    username: str | None
    password: str | None


Patterns = Annotated[list[DialPattern], PydanticField(
    min_length=1, max_length=50,
    description="Asterisk dial patterns: a literal number (digits, + * #) or `_` then digits, X (0-9), Z (1-9), "
                "N (2-9), [ranges], and . (one or more) or ! (zero or more) at the end")]
TrunkIds = Annotated[list[uuid.UUID], PydanticField(min_length=1, max_length=10,
                                                    description="Trunk ids in failover order")]
Strip = Annotated[int, PydanticField(strict=True, ge=0, le=20, description="Digits removed from the front of the "
                                     "number; at most what every pattern fixes before . or !")]
Priority = Annotated[int, PydanticField(strict=True, ge=0, le=10_000,
                                        description="Lower first, when several routes match a number")]


class OutboundRouteCreate(RequestBody):
    """A new outbound route."""

    name: Name = PydanticField(examples=["International"])
    patterns: Patterns
    strip: Strip = 0
    prepend: Prepend = ""
    trunks: TrunkIds
    caller_id_mode: CallerIdMode = PydanticField(
        default=CallerIdMode.user,
        description="`user`: the user's caller_id; `did`: a DID of the user's (until DIDs are assigned, the user's "
                    "caller_id); `trunk`: the trunk's caller_id, or the carrier's default. Each falls back to the "
                    "next: DID, user, trunk")
    min_permission_level: PermissionLevel = PydanticField(
        default=0, description="Accounts of at least this permission level may use the route")
    priority: Priority = 100
    emergency: bool = PydanticField(default=False, description="Open to every account, even with external calls "
                                                                "disabled; no level check")

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "name": "International", "patterns": ["_00X."], "strip": 2, "prepend": "+",
        "trunks": ["6f1c2a4e-1b2c-4d5e-8f90-0a1b2c3d4e5f"], "caller_id_mode": "user", "min_permission_level": 50,
        "priority": 10}]})


class OutboundRouteUpdate(RequestBody):
    """JSON merge patch of an outbound route."""

    name: Name | None = None
    patterns: Patterns | None = None
    strip: Strip | None = None
    prepend: Prepend | None = None
    trunks: TrunkIds | None = None
    caller_id_mode: CallerIdMode | None = None
    min_permission_level: PermissionLevel | None = None
    priority: Priority | None = None
    emergency: bool | None = None


class OutboundRouteRead(ApiModel):
    """An outbound route."""

    id: uuid.UUID
    name: str
    patterns: list[str]
    strip: int
    prepend: str
    trunks: list[uuid.UUID] = PydanticField(description="Trunk ids in failover order")
    caller_id_mode: CallerIdMode
    min_permission_level: int
    priority: int
    emergency: bool
    created_at: datetime
    updated_at: datetime


class OutboundRoutePage(Page[OutboundRouteRead]):
    """A page of outbound routes."""
