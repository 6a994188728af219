"""What the renderers promise besides the exact bytes: determinism, secrecy, and the per-target rules."""

from __future__ import annotations

import dataclasses
import hashlib
import random
import xml.etree.ElementTree as ElementTree

import pytest
from config_readers import asterisk_entries, baresip_accounts, db_text_rows, key_value_lines
from golden_snapshot import ALL_RIGHTS, ANNA, PASSWORDS, account, fixture_snapshot, with_account, with_anna

from app.config_gen.asterisk import render_asterisk
from app.config_gen.kamailio import render_kamailio
from app.config_gen.provisioning import render_provisioning
from app.config_gen.render import TARGETS, is_secret_path, render_targets
from app.config_gen.snapshot import DeviceInfo, MemberInfo

ALL_TARGETS = sorted(TARGETS)


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def test_rendering_twice_gives_identical_output() -> None:
    assert render_targets(fixture_snapshot(), ALL_TARGETS) == render_targets(fixture_snapshot(), ALL_TARGETS)


@pytest.mark.parametrize("seed", range(5))
def test_input_order_does_not_change_the_output(seed: int) -> None:
    snapshot = fixture_snapshot()
    shuffler = random.Random(seed)
    accounts, devices = list(snapshot.accounts), list(snapshot.devices)
    shuffler.shuffle(accounts)
    shuffler.shuffle(devices)
    shuffled = dataclasses.replace(snapshot, accounts=tuple(accounts), devices=tuple(devices))

    expected = render_targets(snapshot, ALL_TARGETS)
    actual = render_targets(shuffled, ALL_TARGETS)
    assert actual == expected
    assert list(actual) == sorted(actual)


@pytest.mark.parametrize("renderer", [render_asterisk, render_kamailio], ids=["asterisk", "kamailio"])
def test_registrar_files_never_contain_a_plaintext_password(renderer) -> None:
    for path, content in renderer(fixture_snapshot()).items():
        text = content if isinstance(content, str) else content.decode("latin-1")
        for password in PASSWORDS.values():
            assert password not in text, f"{path} contains a plaintext password"


def test_unknown_target_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown configuration target 'freeswitch'"):
        render_targets(fixture_snapshot(), ["freeswitch"])


@pytest.mark.parametrize(
    ("path", "secret"),
    [
        ("asterisk/pjsip.conf", True),
        ("asterisk/voicemail.conf", True),
        ("asterisk/extensions.conf", False),
        ("kamailio/subscriber", True),
        ("kamailio/version", False),
        ("provisioning/baresip/dev-05/accounts", True),
        ("provisioning/001565aabb01.cfg", True),
    ],
)
def test_secret_path_predicate(path: str, secret: bool) -> None:
    assert is_secret_path(path) is secret


# --- Asterisk ----------------------------------------------------------------


def test_pjsip_has_endpoint_auth_and_aor_for_active_accounts_only() -> None:
    entries = asterisk_entries(render_asterisk(fixture_snapshot())["asterisk/pjsip.conf"])
    types = [(section, value) for section, key, value in entries if key == "type"]
    phones = [t for t in types if not t[0].startswith("trunk-")]  # the trunks follow (tested with them)
    assert phones == [
        ("transport-udp", "transport"),
        ("transport-wss", "transport"),
        *[(str(ext), kind) for ext in (101, 102, 104) for kind in ("endpoint", "auth", "aor")],
    ]


def test_pjsip_auth_holds_the_md5_digest_of_user_realm_password() -> None:
    text = render_asterisk(fixture_snapshot())["asterisk/pjsip.conf"]
    entries = asterisk_entries(text)
    auth_101 = _section_after_type(entries, "101", "auth")
    assert auth_101 == {
        "type": "auth",
        "auth_type": "md5",
        "username": "u101x",
        "realm": "pbx.acme.example",
        "md5_cred": md5(f"u101x:pbx.acme.example:{PASSWORDS[101]}"),
    }


def test_pjsip_endpoint_options_follow_the_account() -> None:
    entries = asterisk_entries(render_asterisk(fixture_snapshot())["asterisk/pjsip.conf"])
    anna = _section_after_type(entries, "101", "endpoint")
    bruno = _section_after_type(entries, "102", "endpoint")
    assert anna["callerid"] == '"Anna Rossi" <101>'
    assert anna["mailboxes"] == "101@acme"
    assert anna["transport"] == "transport-udp"
    assert "webrtc" not in anna
    assert bruno["webrtc"] == "yes"
    assert bruno["transport"] == "transport-wss"
    assert "mailboxes" not in bruno
    assert _section_after_type(entries, "101", "aor") == {
        "type": "aor",
        "max_contacts": "3",
        "remove_existing": "yes",
    }


def test_a_users_number_follows_its_rules_and_an_unassigned_one_rings_then_hangs_up() -> None:
    entries = asterisk_entries(render_asterisk(fixture_snapshot())["asterisk/extensions.conf"])
    internal = [(key, value) for section, key, value in entries if section == "internal" and key not in ("[", "include")]
    assert internal[:4] == [
        ("exten", "101,1,Goto(user-101,s,1)"),
        ("exten", "102,1,Goto(user-102,s,1)"),
        ("exten", "104,1,Dial(PJSIP/104,25)"),
        ("same", "n,Hangup()"),
    ]


def test_by_default_a_user_rings_for_the_ring_time_then_voicemail_or_hangup() -> None:
    text = _dialplan(fixture_snapshot())
    anna, bruno = _context(text, "user-101"), _context(text, "user-102")
    start = anna.index('exten => available-internal,1,GotoIf($["${PJSIP_DIAL_CONTACTS(101)}" = ""]?'
                       'nr-available-internal,1)')
    assert anna[start + 1] == " same => n,Dial(PJSIP/101,25)"
    assert anna[start + 4:start + 6] == [" same => n,VoiceMail(101@acme,u)", " same => n,Hangup()"]
    assert "exten => busy-available-internal,1,VoiceMail(101@acme,b)" in anna, "busy: the busy greeting"
    assert "exten => dnd-external,1,Goto(away-internal,1)" in anna, "the same rules are written once"
    assert "exten => away-internal,1,Hangup()" in bruno, "Bruno has no mailbox: the call ends"


def test_voicemail_lists_only_active_accounts_with_voicemail() -> None:
    entries = asterisk_entries(render_asterisk(fixture_snapshot())["asterisk/voicemail.conf"])
    mailboxes = [(key, value) for section, key, value in entries if section == "acme" and key != "["]
    # Carla (103) has voicemail but her account is inactive.
    assert mailboxes == [("101", "4321,Anna Rossi,anna.rossi@acme.example,,attach=yes|delete=no|saycid=no|envelope=yes")]


def test_a_mailbox_is_mailed_as_its_user_chose_and_reads_what_the_user_wants() -> None:
    def mailbox(**voicemail) -> str:
        text = render_asterisk(with_anna(fixture_snapshot(), **voicemail))["asterisk/voicemail.conf"]
        return next(value for section, key, value in asterisk_entries(text) if key == "101")

    assert mailbox(voicemail_email="none") == "4321,Anna Rossi,,,attach=no|delete=no|saycid=no|envelope=yes"
    assert mailbox(voicemail_email="notify").endswith("anna.rossi@acme.example,,attach=no|delete=no|saycid=no|envelope=yes")
    assert mailbox(voicemail_email="attach_and_delete", voicemail_play_caller_id=True,
                   voicemail_read_datetime=False).endswith(",,attach=yes|delete=yes|saycid=yes|envelope=no")
    assert mailbox(voicemail_email="attach", email=None) == "4321,Anna Rossi,,,attach=no|delete=no|saycid=no|envelope=yes"


def test_an_uploaded_greeting_is_played_before_the_beep_and_star_97_opens_ones_own_mailbox() -> None:
    snapshot = with_anna(fixture_snapshot(), voicemail_greeting=b"RIFF-greeting", voicemail_pin_required=False)
    files = render_asterisk(snapshot)
    anna = _context(files["asterisk/extensions.conf"], "user-101")
    start = anna.index("exten => busy-available-internal,1,"
                       "Playback(/var/lib/centralino/generated/acme/current/asterisk/sounds/voicemail-101)")
    assert anna[start + 1] == " same => n,VoiceMail(101@acme,s)"
    assert files["asterisk/sounds/voicemail-101.wav"] == b"RIFF-greeting"
    assert _context(files["asterisk/extensions.conf"], "voicemail-main") == [
        "exten => 101,1,VoiceMailMain(101@acme,s)", " same => n,Hangup()"]
    internal = _context(files["asterisk/extensions.conf"], "internal")
    assert "exten => *97,1,GotoIf(${DIALPLAN_EXISTS(voicemail-main,${CHANNEL(endpoint)},1)}?" \
           "voicemail-main,${CHANNEL(endpoint)},1)" in internal


def test_voicemail_without_pin_is_refused() -> None:
    anna = fixture_snapshot().accounts[0]
    snapshot = with_account(fixture_snapshot(), 101, user=dataclasses.replace(anna.user, voicemail_pin=None))
    with pytest.raises(ValueError, match="voicemail of extension 101 is enabled but has no PIN"):
        render_asterisk(snapshot)


def test_webrtc_account_without_a_wss_transport_is_refused() -> None:
    snapshot = fixture_snapshot()
    options = dataclasses.replace(snapshot.options, asterisk_transports=(("transport-udp", "udp", "0.0.0.0:5060"),))
    with pytest.raises(ValueError, match="extension 102 needs a wss transport"):
        render_asterisk(dataclasses.replace(snapshot, options=options))


def _section_after_type(entries: list[tuple[str, str, str]], name: str, kind: str) -> dict[str, str]:
    """Return the settings of the section ``[name]`` whose ``type`` is ``kind``."""
    blocks: list[dict[str, str]] = []
    for section, key, value in entries:
        if section != name:
            continue
        if key == "[":
            blocks.append({})
        else:
            blocks[-1][key] = value
    (block,) = [b for b in blocks if b.get("type") == kind]
    return block


# --- Kamailio ----------------------------------------------------------------


def test_subscriber_rows_hold_digests_and_extension_for_active_accounts() -> None:
    rows = db_text_rows(render_kamailio(fixture_snapshot())["kamailio/subscriber"])
    header, *data = rows
    assert header == ["id(int,auto) username(string) domain(string) ha1(string) ha1b(string) extension(string)"]
    domain = "pbx.acme.example"
    assert data == [
        [
            str(row_id),
            f"u{ext}x",
            domain,
            md5(f"u{ext}x:{domain}:{PASSWORDS[ext]}"),
            md5(f"u{ext}x@{domain}:{domain}:{PASSWORDS[ext]}"),
            str(ext),
        ]
        for row_id, ext in enumerate((101, 102, 104), start=1)
    ]
    assert all(value for row in data for value in row), "an empty db_text value makes the table fail to load"


def test_version_table_declares_subscriber_version() -> None:
    assert render_kamailio(fixture_snapshot())["kamailio/version"].splitlines()[1:] == ["1:subscriber:7"]


def test_auth_id_with_colon_is_refused_because_kamailio_cuts_digest_usernames_there() -> None:
    snapshot = with_account(fixture_snapshot(), 101, auth_id="u1:01")
    with pytest.raises(ValueError, match="auth_id 'u1:01' is not a valid SIP user name"):
        render_kamailio(snapshot)


# --- Provisioning --------------------------------------------------------------


def test_provisioning_files_per_device_and_vendor() -> None:
    # Desk phones side by side under their vendors' names; the softphone in a directory of its own.
    assert sorted(render_provisioning(fixture_snapshot())) == sorted([
        "provisioning/001565aabb01.cfg",
        "provisioning/cfg000b82aabb02.xml",
        "provisioning/0004f2aabb03.cfg",
        "provisioning/phone0004f2aabb03.cfg",
        "provisioning/000413aabb04.xml",
        "provisioning/0c383eaabb08.cfg",
        "provisioning/00562baabb09.xml",
        "provisioning/baresip/dev-05/accounts",
        # dev-06's account is inactive and dev-07 has none: no files.
    ])


def test_yealink_file_without_proxy_registers_straight_to_the_domain() -> None:
    snapshot = fixture_snapshot()
    snapshot = dataclasses.replace(snapshot, organization=dataclasses.replace(snapshot.organization, sip_proxy=None))
    text = render_provisioning(snapshot)["provisioning/001565aabb01.cfg"]
    assert text.startswith("#!version:1.0.0.1\n")
    settings = dict(key_value_lines(text))
    assert settings["account.1.sip_server.1.address"] == "pbx.acme.example"
    assert settings["account.1.sip_server.1.port"] == "5060"
    assert settings["account.1.outbound_proxy_enable"] == "0"
    assert "account.1.outbound_proxy.1.address" not in settings
    assert settings["account.1.auth_name"] == "u101x"
    assert settings["account.1.user_name"] == "101"
    assert settings["account.1.password"] == PASSWORDS[101]


def test_grandstream_and_snom_xml_round_trip_the_password() -> None:
    files = render_provisioning(fixture_snapshot())
    grandstream = ElementTree.fromstring(files["provisioning/cfg000b82aabb02.xml"])
    assert grandstream.findtext("config/P34") == PASSWORDS[104]
    assert grandstream.findtext("config/P36") == "u104x"
    assert grandstream.findtext("config/P35") == "104"
    snom = ElementTree.fromstring(files["provisioning/000413aabb04.xml"])
    assert snom.findtext("phone-settings/user_pass") == PASSWORDS[104]
    assert snom.findtext("phone-settings/user_pname") == "u104x"


def test_polycom_master_file_points_at_the_settings_file() -> None:
    files = render_provisioning(fixture_snapshot())
    master = ElementTree.fromstring(files["provisioning/0004f2aabb03.cfg"])
    assert master.tag == "APPLICATION"
    assert master.get("CONFIG_FILES") == "phone0004f2aabb03.cfg"
    registration = ElementTree.fromstring(files["provisioning/phone0004f2aabb03.cfg"]).find("reg")
    assert registration.get("reg.1.auth.userId") == "u101x"
    assert registration.get("reg.1.auth.password") == PASSWORDS[101]
    assert registration.get("reg.1.outboundProxy.address") == "sip.acme.example"


def test_polycom_master_file_sends_phones_after_no_firmware_unless_one_is_configured() -> None:
    snapshot = fixture_snapshot()
    without = ElementTree.fromstring(render_provisioning(snapshot)["provisioning/0004f2aabb03.cfg"])
    with_firmware = dataclasses.replace(snapshot, options=dataclasses.replace(snapshot.options,
                                                                              polycom_firmware="sip-6.4.ld"))
    named = ElementTree.fromstring(render_provisioning(with_firmware)["provisioning/0004f2aabb03.cfg"])

    assert without.get("APP_FILE_PATH") == "", "no sip.ld the service does not have: phones keep their firmware"
    assert named.get("APP_FILE_PATH") == "sip-6.4.ld"


def test_baresip_account_line() -> None:
    (account,) = baresip_accounts(render_provisioning(fixture_snapshot())["provisioning/baresip/dev-05/accounts"])
    assert account == {
        "name": "Anna Rossi",
        "uri": "sip:101@pbx.acme.example:5060;transport=udp",
        "auth_user": "u101x",
        "auth_pass": PASSWORDS[101],
        "outbound": "sip:sip.acme.example:5070;transport=udp",
        "regint": "600",
    }


def test_hardware_device_without_mac_is_refused() -> None:
    snapshot = fixture_snapshot()
    devices = tuple(dataclasses.replace(d, mac=None) if d.id == "dev-01" else d for d in snapshot.devices)
    with pytest.raises(ValueError, match="device dev-01: yealink needs a MAC address"):
        render_provisioning(dataclasses.replace(snapshot, devices=devices))


def test_unknown_vendor_is_refused() -> None:
    snapshot = fixture_snapshot()
    anna = snapshot.accounts[0]
    extra = DeviceInfo(id="dev-99", mac="00aabbccddee", vendor="cisco", model=None, label=None, account=anna)
    with pytest.raises(ValueError, match="device dev-99: no provisioning format for vendor 'cisco'"):
        render_provisioning(dataclasses.replace(snapshot, devices=(*snapshot.devices, extra)))


@pytest.mark.parametrize("device_id", ["../etc", "a/b", ".hidden"])
def test_device_id_cannot_escape_its_directory(device_id: str) -> None:
    snapshot = fixture_snapshot()
    anna = snapshot.accounts[0]
    device = DeviceInfo(id=device_id, mac=None, vendor="baresip", model=None, label=None, account=anna)
    with pytest.raises(ValueError, match="device id"):
        render_provisioning(dataclasses.replace(snapshot, devices=(device,)))


# --- Groups and rights ---------------------------------------------------------------------------------------


def _dialplan(snapshot) -> str:
    return render_asterisk(snapshot)["asterisk/extensions.conf"]


def _context(text: str, name: str) -> list[str]:
    """The lines of one context of extensions.conf, without its header and blank lines."""
    lines, inside = [], False
    for line in text.splitlines():
        if line.startswith("["):
            inside = line == f"[{name}]"
        elif inside and line and not line.startswith(";"):
            lines.append(line)
    return lines


def _with_group(snapshot, group_name: str, **changes):
    groups = tuple(dataclasses.replace(g, **changes) if g.name == group_name else g for g in snapshot.groups)
    return dataclasses.replace(snapshot, groups=groups)


def test_an_inactive_member_is_left_out_of_ring_groups_presence_and_rights() -> None:
    text = _dialplan(fixture_snapshot())  # Carla (103) is in Sales and DEFAULT, but inactive
    assert "PJSIP/103" not in text and "103,1" not in text
    assert "presence-103" not in render_asterisk(fixture_snapshot())["asterisk/pjsip.conf"]


def test_a_destination_whose_target_has_gone_ends_the_call_instead_of_breaking_the_dialplan() -> None:
    # Anna's voicemail goes off: Sales' no-answer destination (her mailbox) becomes a hang-up.
    snapshot = with_anna(fixture_snapshot(), voicemail_enabled=False, voicemail_pin=None)
    sales = _context(_dialplan(snapshot), "internal")
    start = sales.index(' same => n,ExecIf($["${CENTRALINO_RING}" != ""]?Dial(${CENTRALINO_RING:1},20))')
    assert sales[start + 1] == " same => n,Hangup()"
    # A group destination that is no longer dialable, and an unknown type, also hang up.
    snapshot = _with_group(fixture_snapshot(), "Sales; Milano", extension=None)
    support = _context(_dialplan(snapshot), "internal")
    last_member = ' same => n,ExecIf($[${REGEX("^(available|lunch)$" ${CENTRALINO_STATUS})}]?Dial(PJSIP/101,15))'
    assert support[support.index(last_member) + 1] == " same => n,Hangup()"


def test_a_group_name_never_reaches_an_application_where_asterisk_would_evaluate_it() -> None:
    snapshot = _with_group(fixture_snapshot(), "Support", name="${SHELL(touch /tmp/owned)}")
    text = _dialplan(snapshot)
    assert [line for line in text.splitlines() if "SHELL" in line] == ["; group ${SHELL(touch /tmp/owned)}: hunt, then group",
                                                                        "; Members of group ${SHELL(touch /tmp/owned)}",
                                                                        "; Presence of the members of group ${SHELL(touch /tmp/owned)} who show it"]


def test_a_group_name_with_a_line_break_is_refused() -> None:
    snapshot = _with_group(fixture_snapshot(), "Support", name="Support\n[internal]")
    with pytest.raises(ValueError, match="group name"):
        render_asterisk(snapshot)


def test_rights_lists_hold_only_the_groups_where_the_member_has_the_right() -> None:
    text = _dialplan(fixture_snapshot())
    assert _context(text, "barge-from-101") == ["include => members-5a1e5000"]  # Anna manages Sales
    assert _context(text, "barge-from-102") == []  # Bruno holds no barge right
    assert _context(text, "presence-101") == ["include => blf-0defa017", "include => blf-5a1e5000"]
    assert _context(text, "park-allowed") == ["exten => 101,1,NoOp()"]


def test_a_phone_that_sees_no_group_gets_a_presence_context_without_hints() -> None:
    entries = asterisk_entries(render_asterisk(fixture_snapshot())["asterisk/pjsip.conf"])
    pool = _section_after_type(entries, "104", "endpoint")  # an unassigned account is in no group
    assert pool["subscribe_context"] == "presence-none"
    assert "named_call_group" not in pool and "named_pickup_group" not in pool
    assert _context(_dialplan(fixture_snapshot()), "presence-none") == []


def test_group_output_grows_with_memberships_not_with_pairs_of_users() -> None:
    base = fixture_snapshot()
    members = tuple(MemberInfo(user_id=f"user-{n}", role="manager", rights=ALL_RIGHTS) for n in range(300))
    accounts = tuple(dataclasses.replace(account(101, ANNA), id=f"acc-{n}", extension=200 + n,
                                         user=dataclasses.replace(ANNA, id=f"user-{n}")) for n in range(300))
    group = dataclasses.replace(base.groups[0], members=members)
    text = _dialplan(dataclasses.replace(base, accounts=accounts, groups=(group,), devices=()))
    # 300 members who may all barge on each other: a few dozen lines per member (its extension, its forwarding
    # rules, its phone's user, list entries and includes), not a line per pair (90,000).
    assert len(text.splitlines()) < 300 * 55


def test_an_external_destination_dials_out_through_the_routes_with_the_organizations_level() -> None:
    internal = _context(_dialplan(fixture_snapshot()), "internal")
    start = internal.index("exten => 603,1,Set(CENTRALINO_LEVEL=10)")
    assert internal[start + 1:start + 4] == [" same => n,Set(CENTRALINO_CHECKS=)",
                                             " same => n,Gosub(outbound-select,s,1(+390299887766))",
                                             " same => n,Hangup(${CENTRALINO_CAUSE})"]
    # Without any outbound route the call cannot go out: it ends.
    no_routes = _context(_dialplan(dataclasses.replace(fixture_snapshot(), routes=())), "internal")
    assert "exten => 603,1,Hangup()" in no_routes
