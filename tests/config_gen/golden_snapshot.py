"""The fixed organization the config_gen tests render: small, but it reaches every branch.

- 101 Anna: voicemail with e-mail, four devices (Yealink, Polycom, baresip, Fanvil)
- 102 Bruno: a WebRTC softphone, no voicemail
- 103 Carla: inactive, voicemail enabled (must appear nowhere), on a Snom
- 104: an unassigned pool account on a Grandstream, a Snom and a Cisco MPP
- a Yealink without an account (gets no file)
- groups: DEFAULT (everyone, default rights), Sales 600 ring_all (Anna manager with every right, Bruno,
  inactive Carla; no answer: Anna's voicemail), Support 601 hunt (Bruno then Anna; no answer: Sales),
  Desk 602 queue (Bruno; no answer: not configured), Empty 603 (no members: straight to an external number)
- a parking lot on 700 with three slots
- office hours "Shop" (Rome: weekdays 09:00–13:00 and 14:00–18:00, a break, a one-off and a yearly holiday)
- DIDs: +390212345601 to Anna by the Shop's hours (voicemail after hours, hang-up on holidays),
  +390212345602 to Sales at any hour, +390212345603 in the free pool (not in service)
- trunks: "carrier" (registers, digest auth, two channels at most) and "backup" (by IP, a default caller ID);
  routes: "Italy" (level 10, 0-prefixed numbers to +39, both trunks), "International" (level 50), "Emergency"
- a conference room 800 with a member and an admin PIN, recorded, and one without PINs; an IVR menu 810 with a
  greeting (a tenth of a second of silence), keys 1 (Sales), 2 (the room), 9 (Anna's voicemail), dial by
  extension and the directory
"""

from __future__ import annotations

import dataclasses

import datetime

import io
import wave

from app.config_gen.asterisk_media import ConferenceInfo, IvrMenuInfo
from app.config_gen.asterisk_schedules import ScheduleHoliday, ScheduleInfo, ScheduleInterval
from app.config_gen.asterisk_trunks import RouteInfo, TrunkInfo
from app.config_gen.snapshot import (AccountInfo, DeviceInfo, DidInfo, GroupInfo, MemberInfo, OrganizationInfo,
                                     RenderOptions, Snapshot, UserInfo)

# 104's password needs XML escaping in the Grandstream, Snom and Cisco files.
PASSWORDS = {101: "Anna-Secret-101!", 102: "Bruno-Secret-102", 103: "Carla;Secret:103", 104: 'pool&<Secret>"104"'}

ORGANIZATION = OrganizationInfo(
    id="org-1",
    slug="acme",
    name="ACME S.p.A.",
    sip_domain="pbx.acme.example",
    sip_proxy="sip.acme.example:5070",
    timezone="Europe/Rome",
    ring_timeout=25,
    parking_extension=700,
    parking_slots=3,
)

ALL_RIGHTS = frozenset({"see_members", "see_calls", "show_presence", "show_calls", "operate_calls", "barge",
                        "intercom", "park", "control_ivr", "manage_phonebook"})
MEMBER_RIGHTS = frozenset({"see_members", "show_presence"})
SALES_ID = "5a1e5000-0000-4000-8000-000000000001"
GROUPS = (
    GroupInfo(id="0defa017-0000-4000-8000-000000000000", name="DEFAULT", extension=None, ring_strategy="ring_all",
              ring_timeout=20, no_answer_destination={"type": "hangup"},
              members=tuple(MemberInfo(user_id=u, role="member", rights=MEMBER_RIGHTS)
                            for u in ("user-anna", "user-bruno", "user-carla"))),
    GroupInfo(id="de5c0000-0000-4000-8000-000000000003", name="Desk", extension=602, ring_strategy="queue",
              ring_timeout=40, no_answer_destination={"type": "not_configured"},
              members=(MemberInfo(user_id="user-bruno", role="member", rights=frozenset()),)),
    GroupInfo(id="e3370000-0000-4000-8000-000000000004", name="Empty", extension=603, ring_strategy="ring_all",
              ring_timeout=20, no_answer_destination={"type": "external", "number": "+390299887766"}, members=()),
    GroupInfo(id=SALES_ID, name="Sales; Milano", extension=600, ring_strategy="ring_all", ring_timeout=20,
              no_answer_destination={"type": "voicemail", "user_id": "user-anna"},
              members=(MemberInfo(user_id="user-anna", role="manager", rights=ALL_RIGHTS),
                       MemberInfo(user_id="user-bruno", role="member", rights=MEMBER_RIGHTS | {"operate_calls"}),
                       MemberInfo(user_id="user-carla", role="member", rights=MEMBER_RIGHTS))),
    GroupInfo(id="5a990000-0000-4000-8000-000000000002", name="Support", extension=601, ring_strategy="hunt",
              ring_timeout=15, no_answer_destination={"type": "group", "group_id": SALES_ID},
              members=(MemberInfo(user_id="user-bruno", role="member", rights=frozenset({"see_members"})),
                       MemberInfo(user_id="user-anna", role="member", rights=frozenset()))),
)

ANNA = UserInfo(
    id="user-anna",
    first_name="Anna",
    last_name="Rossi",
    email="anna.rossi@acme.example",
    caller_id="+390212345601",
    language="it",
    voicemail_enabled=True,
    voicemail_pin="4321",
    voicemail_email="attach",
)
BRUNO = UserInfo(
    id="user-bruno",
    first_name="Bruno",
    last_name="Bianchi",
    email=None,
    caller_id=None,
    language="it",
    voicemail_enabled=False,
    voicemail_pin=None,
)
CARLA = UserInfo(
    id="user-carla",
    first_name="Carla",
    last_name="Verdi",
    email="carla@acme.example",
    caller_id=None,
    language="en",
    voicemail_enabled=True,
    voicemail_pin="9999",
)


SHOP = ScheduleInfo(
    id="5b0b0000-0000-4000-8000-000000000010", name="Shop", timezone="Europe/Rome",
    weekly=tuple(ScheduleInterval(day, start, end) for day in ("monday", "tuesday", "wednesday", "thursday", "friday")
                 for start, end in (("09:00", "13:00"), ("14:00", "18:00"))),
    breaks=(ScheduleInterval("friday", "16:00", "16:30"),),
    holidays=(ScheduleHoliday(datetime.date(2026, 12, 24), "Christmas Eve (this year)"),
              ScheduleHoliday(datetime.date(2000, 12, 25), "Christmas", recurring_yearly=True)),
)
DIDS = (
    DidInfo(number="+390212345601", rule_name="Anna direct", destination={"type": "user", "user_id": "user-anna"},
            schedule_id=SHOP.id, out_of_hours_destination={"type": "voicemail", "user_id": "user-anna"},
            holiday_destination={"type": "hangup"}),
    DidInfo(number="+390212345602", rule_name="Sales line", destination={"type": "group", "group_id": SALES_ID}),
    DidInfo(number="+390212345603"),
)


TRUNKS = (
    TrunkInfo(id="7c000000-0000-4000-8000-000000000002", name="backup", host="203.0.113.20", port=5060,
              transport="udp", username=None, password=None, register=False, from_domain=None,
              codecs=("alaw",), max_channels=None, match=("203.0.113.0/28",), caller_id="+390212345600"),
    TrunkInfo(id="7c000000-0000-4000-8000-000000000001", name="carrier", host="sip.carrier.example", port=5060,
              transport="udp", username="acme-trunk", password="Trunk-Secret-1", register=True,
              from_domain="carrier.example", codecs=("alaw", "ulaw"), max_channels=2),
)
ROUTES = (
    RouteInfo(id="40000000-0000-4000-8000-000000000001", name="Italy", patterns=("_0XXXXXXXX.",), strip=1,
              prepend="+39", trunk_ids=("7c000000-0000-4000-8000-000000000001", "7c000000-0000-4000-8000-000000000002"),
              caller_id_mode="did", min_permission_level=10, priority=10, emergency=False),
    RouteInfo(id="40000000-0000-4000-8000-000000000002", name="International", patterns=("_00X.", "_+X."),
              strip=0, prepend="", trunk_ids=("7c000000-0000-4000-8000-000000000001",), caller_id_mode="user",
              min_permission_level=50, priority=20, emergency=False),
    RouteInfo(id="40000000-0000-4000-8000-000000000003", name="Emergency", patterns=("112", "113"), strip=0,
              prepend="", trunk_ids=("7c000000-0000-4000-8000-000000000002",), caller_id_mode="trunk",
              min_permission_level=0, priority=1, emergency=True),
)


def _silence(seconds: float = 0.1) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\x00\x00" * int(8000 * seconds))
    return buffer.getvalue()


ROOM_ID = "c0f00000-0000-4000-8000-000000000001"
CONFERENCES = (
    ConferenceInfo(id="c0f00000-0000-4000-8000-000000000002", name="Open room", extension=None, pin=None,
                   admin_pin=None, max_members=10, record=False),
    ConferenceInfo(id=ROOM_ID, name="Board", extension=800, pin="2468", admin_pin="97531", max_members=12,
                   record=True),
)
MENU = IvrMenuInfo(
    id="1b000000-0000-4000-8000-000000000001", name="Reception", extension=810,
    options=(("1", {"type": "group", "group_id": SALES_ID}), ("2", {"type": "conference", "conference_id": ROOM_ID}),
             ("9", {"type": "voicemail", "user_id": "user-anna"})),
    timeout_seconds=8, timeout_destination={"type": "user", "user_id": "user-anna"},
    invalid_destination={"type": "hangup"}, dial_by_extension=True, directory=True, greeting=_silence())


def account(
    extension: int, user: UserInfo | None, *, active: bool = True, phone_type: str = "softphone"
) -> AccountInfo:
    """Build the fixture account for an extension (auth_id ``u<extension>x``, password from PASSWORDS)."""
    return AccountInfo(
        id=f"acc-{extension}",
        extension=extension,
        auth_id=f"u{extension}x",
        password=PASSWORDS[extension],
        active=active,
        phone_type=phone_type,
        recording=False,
        permission_level=10,
        max_contacts=3,
        user=user,
    )


def fixture_snapshot() -> Snapshot:
    """Return the fixed snapshot the golden files are rendered from."""
    anna = account(101, ANNA)
    bruno = account(102, BRUNO, phone_type="webrtc")
    carla = account(103, CARLA, active=False)
    pool = account(104, None, phone_type="hardware")
    devices = (
        DeviceInfo(id="dev-01", mac="001565aabb01", vendor="yealink", model="T46U", label="Reception", account=anna),
        DeviceInfo(id="dev-02", mac="000b82aabb02", vendor="grandstream", model="GXP2170", label=None, account=pool),
        DeviceInfo(id="dev-03", mac="0004f2aabb03", vendor="polycom", model="VVX450", label="Anna desk", account=anna),
        DeviceInfo(id="dev-04", mac="000413aabb04", vendor="snom", model="D785", label="Store", account=pool),
        DeviceInfo(id="dev-05", mac=None, vendor="baresip", model=None, label="Anna laptop", account=anna),
        DeviceInfo(id="dev-06", mac="000413aabb06", vendor="snom", model="D735", label="Carla", account=carla),
        DeviceInfo(id="dev-07", mac="001565aabb07", vendor="yealink", model="T31", label="Spare", account=None),
        DeviceInfo(id="dev-08", mac="0c383eaabb08", vendor="fanvil", model="X4U", label="Sales desk", account=anna),
        DeviceInfo(id="dev-09", mac="00562baabb09", vendor="cisco_mpp", model="CP-8841-3PCC", label="Back office",
                   account=pool),
    )
    return Snapshot(
        organization=ORGANIZATION,
        accounts=(anna, bruno, carla, pool),
        devices=devices,
        options=RenderOptions(),
        groups=GROUPS,
        dids=DIDS,
        schedules=(SHOP,),
        trunks=TRUNKS,
        routes=ROUTES,
        conferences=CONFERENCES,
        ivr_menus=(MENU,),
    )


def with_anna(snapshot: Snapshot, **user_changes: object) -> Snapshot:
    """Return ``snapshot`` with Anna's user fields changed everywhere she appears (accounts and devices)."""
    user = dataclasses.replace(ANNA, **user_changes)
    return _replace_account(snapshot, 101, user=user)


def with_account(snapshot: Snapshot, extension: int, **account_changes: object) -> Snapshot:
    """Return ``snapshot`` with one account's fields changed everywhere it appears."""
    return _replace_account(snapshot, extension, **account_changes)


def _replace_account(snapshot: Snapshot, extension: int, **changes: object) -> Snapshot:
    accounts = tuple(dataclasses.replace(a, **changes) if a.extension == extension else a for a in snapshot.accounts)
    by_extension = {a.extension: a for a in accounts}
    devices = tuple(
        dataclasses.replace(d, account=by_extension[d.account.extension]) if d.account is not None else d
        for d in snapshot.devices
    )
    return dataclasses.replace(snapshot, accounts=accounts, devices=devices)
