"""The fixed organization the config_gen tests render: small, but it reaches every branch.

- 101 Anna: voicemail with e-mail, three devices (Yealink, Polycom, baresip)
- 102 Bruno: a WebRTC softphone, no voicemail
- 103 Carla: inactive, voicemail enabled (must appear nowhere), on a Snom
- 104: an unassigned pool account on a Grandstream and a Snom
- a Yealink without an account (gets no file)
- groups: DEFAULT (everyone, default rights), Sales 600 ring_all (Anna manager with every right, Bruno,
  inactive Carla; no answer: Anna's voicemail), Support 601 hunt (Bruno then Anna; no answer: Sales),
  Desk 602 queue (Bruno; no answer: not configured), Empty 603 (no members: straight to hang-up)
- a parking lot on 700 with three slots
"""

from __future__ import annotations

import dataclasses

from app.config_gen.snapshot import (AccountInfo, DeviceInfo, GroupInfo, MemberInfo, OrganizationInfo, RenderOptions,
                                     Snapshot, UserInfo)

# 104's password needs XML escaping in the Grandstream and Snom files.
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
              ring_timeout=20, no_answer_destination={"type": "hangup"}, members=()),
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
    )
    return Snapshot(
        organization=ORGANIZATION,
        accounts=(anna, bruno, carla, pool),
        devices=devices,
        options=RenderOptions(),
        groups=GROUPS,
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
