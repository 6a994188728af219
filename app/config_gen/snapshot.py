"""An immutable, fully loaded picture of one organization's telephony set-up.

The apply service builds one snapshot per organization in a fixed number of
queries; renderers are pure functions from a snapshot to file contents, so the
same data always gives byte-identical files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from app.config_gen.forwarding_rules import default_document

if TYPE_CHECKING:  # the renderer modules define them; importing them here would be circular
    from app.config_gen.asterisk_media import ConferenceInfo, IvrMenuInfo
    from app.config_gen.asterisk_schedules import ScheduleInfo
    from app.config_gen.asterisk_trunks import RouteInfo, TrunkInfo


@dataclass(frozen=True, slots=True)
class RenderOptions:
    """Deployment facts that are not organization data (from settings)."""

    # Asterisk transports: (name, protocol, bind address "host:port"). A ws/wss one is served by the HTTP server.
    asterisk_transports: tuple[tuple[str, str, str], ...] = (
        ("transport-udp", "udp", "0.0.0.0:5060"),
        ("transport-wss", "wss", "0.0.0.0:8089"),
    )
    # Asterisk's HTTP server (http.conf), which carries the WebSocket transport: "host:port", None: off.
    asterisk_http_bind: str | None = "0.0.0.0:8089"
    # Its TLS certificate and key (PEM files on the Asterisk host; the key may sit in the certificate's file),
    # also presented by DTLS; with them it serves wss, without plain ws (and DTLS generates its certificate).
    asterisk_tls_cert_file: str | None = "/etc/asterisk/keys/asterisk.crt"
    asterisk_tls_private_key: str | None = "/etc/asterisk/keys/asterisk.key"
    # Kamailio listen address used in provisioning when the org has no proxy.
    registrar_port: int = 5060
    registration_interval: int = 600
    # The absolute configuration directory (CENTRALINO_CONFIG_DIR) as Asterisk reads it: sound files (IVR
    # greetings) are played from <config_root>/<slug>/current/asterisk/sounds.
    config_root: str = "/var/lib/centralino/generated"
    # How the Asterisk host sends mail (voicemail.conf's mailcmd, and missed-call e-mails).
    mailcmd: str = "/usr/sbin/sendmail -t"
    # Polycom's firmware image (APP_FILE_PATH of the master file), served beside the phones' files; None: none.
    polycom_firmware: str | None = None


@dataclass(frozen=True, slots=True)
class OrganizationInfo:
    id: str
    slug: str
    name: str
    sip_domain: str
    # "host" or "host:port" phones and softphones send REGISTER to; None = sip_domain.
    sip_proxy: str | None
    timezone: str
    ring_timeout: int  # seconds an extension rings before voicemail / hang-up
    parking_extension: int | None = None  # the parking lot's number; its slots follow it (None: no lot)
    parking_slots: int = 10
    default_permission_level: int = 10  # for calls from outside forwarded to an external number
    sip_username_mode: str = "extension"  # what phones authenticate with: "extension" or "auth_id"


def auth_username(organization: Any, extension: int, auth_id: str) -> str:
    """What an account's phones authenticate with (the digest user name), by the organization's
    ``sip_username_mode``: the extension, or the account's Auth ID. Every renderer and the API use this."""
    return str(extension) if organization.sip_username_mode == "extension" else auth_id


@dataclass(frozen=True, slots=True)
class KeyInfo:
    """One programmable key of a user's phones (3CX's BLF tab, Axivox's keys 1–20), as the phone files need it.

    ``kind`` and what ``value`` holds:
      - ``blf``: the watched extension's number (digits); the key shows its state and calls it;
      - ``speed_dial``: the number to call (an extension, or E.164 with "+");
      - ``line``: the line (account) number on the phone, "1" for the user's own;
      - ``pickup``: the extension whose ringing call the key picks up (directed pickup), or None for the group
        pickup code;
      - ``park``: the parking lot's number; ``agent_login``, ``change_status``, ``switch``: the feature code the
        key dials (``value``);
      - ``none``: an empty key (never rendered).
    ``label`` is what the phone shows next to it (None: the phone's own default).
    """

    index: int  # 1-based position on the phone
    kind: str  # none | blf | speed_dial | line | pickup | park | agent_login | change_status | switch
    value: str | None
    label: str | None = None


@dataclass(frozen=True, slots=True)
class UserOptionsInfo:
    """A user's options and restrictions (the defaults: none)."""

    disabled: bool = False
    external_calls_disabled: bool = False
    outbound_pin: str | None = None  # plaintext digits (decrypted only for rendering)
    lan_only: bool = False
    block_outbound_outside_office_hours: bool = False
    record_calls: bool = False
    call_screening: bool = False
    allow_conferences: bool = True
    missed_call_email: bool = False


@dataclass(frozen=True, slots=True)
class UserInfo:
    id: str
    first_name: str
    last_name: str
    email: str | None
    caller_id: str | None  # E.164 outbound caller id
    language: str
    voicemail_enabled: bool
    voicemail_pin: str | None  # plaintext digits (decrypted), present when enabled
    mobile: str | None = None  # E.164
    status: str = "available"  # the presence status stored when the configuration was applied
    forwarding: dict | None = None  # the stored forwarding document; None: the defaults
    keys: tuple[KeyInfo, ...] = ()  # the programmable keys of the user's phones, by index
    voicemail_pin_required: bool = True  # VoiceMailMain asks the PIN on the user's own phone
    voicemail_play_caller_id: bool = False
    voicemail_read_datetime: bool = True
    voicemail_email: str = "none"  # none | notify | attach | attach_and_delete
    voicemail_greeting: bytes | None = None  # the active uploaded greeting (16-bit PCM, mono, 8 kHz WAV)
    options: UserOptionsInfo = field(default_factory=lambda: UserOptionsInfo())  # its options and restrictions

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def rules(self) -> dict:
        """The forwarding rules calls follow: the stored document, or the documented defaults."""
        return self.forwarding if self.forwarding is not None else default_document(self.voicemail_enabled)


@dataclass(frozen=True, slots=True)
class AccountInfo:
    id: str
    extension: int
    auth_id: str  # SIP digest username (``auth_username``: the extension, or the Auth ID)
    password: str  # plaintext (decrypted only for rendering; never logged)
    active: bool
    phone_type: str  # softphone | webrtc | hardware | other
    recording: bool
    permission_level: int
    max_contacts: int
    user: UserInfo | None


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    id: str
    mac: str | None  # 12 lowercase hex digits, no separators; None for softphones
    vendor: str  # yealink | grandstream | polycom | snom | baresip
    model: str | None
    label: str | None
    account: AccountInfo | None


@dataclass(frozen=True, slots=True)
class MemberInfo:
    """A user's membership of a group: its role and the rights it holds there."""

    user_id: str
    role: str  # manager | member
    rights: frozenset[str]  # the names of the rights granted (see app.models.groups.RIGHTS)


@dataclass(frozen=True, slots=True)
class GroupInfo:
    id: str
    name: str
    extension: int | None  # None: not dialable
    ring_strategy: str  # ring_all | hunt | queue
    ring_timeout: int
    no_answer_destination: dict  # the stored Destination (``{"type": ..., ...}``)
    members: tuple[MemberInfo, ...]  # hunt order: position, then when they joined


@dataclass(frozen=True, slots=True)
class DidInfo:
    """A DID and its inbound rule (``destination`` None: no rule, the number is "not in service")."""

    number: str  # E.164
    rule_name: str | None = None
    destination: dict | None = None
    schedule_id: str | None = None
    out_of_hours_destination: dict | None = None
    holiday_destination: dict | None = None


@dataclass(frozen=True, slots=True)
class Snapshot:
    organization: OrganizationInfo
    accounts: tuple[AccountInfo, ...]  # sorted by extension
    devices: tuple[DeviceInfo, ...]  # sorted by id
    options: RenderOptions = field(default_factory=RenderOptions)
    groups: tuple[GroupInfo, ...] = ()  # sorted by name
    dids: tuple[DidInfo, ...] = ()  # sorted by number
    schedules: tuple[ScheduleInfo, ...] = ()  # office-hours schedules, sorted by name
    trunks: tuple[TrunkInfo, ...] = ()  # sorted by name
    routes: tuple[RouteInfo, ...] = ()  # outbound routes
    conferences: tuple[ConferenceInfo, ...] = ()  # sorted by name
    ivr_menus: tuple[IvrMenuInfo, ...] = ()  # sorted by name, greetings' audio included
