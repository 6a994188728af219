"""The trunk and outbound-route renderer: pjsip.conf sections per trunk, the outbound dialplan, and the pattern rules
the API shares with it."""

from __future__ import annotations

import dataclasses
import re

import pytest

from app.config_gen.asterisk import render_dialplan
from app.config_gen.asterisk_trunks import (OUTBOUND_CONTEXT, RouteInfo, TrunkInfo, dial_pattern_length,
                                            outbound_contexts, phone_endpoint_lines, trunk_sections)

TELCO = TrunkInfo(id="11111111-0000-0000-0000-000000000001", name="telco", host="sip.carrier.example", port=5060,
                  transport="udp", username="4822100200", password="s3cret;Line", register=True,
                  from_domain="carrier.example", codecs=("alaw", "ulaw"), max_channels=30, caller_id="+48221002000")
BACKUP = TrunkInfo(id="22222222-0000-0000-0000-000000000002", name="backup", host="192.0.2.10", port=5080,
                   transport="tcp", username=None, password=None, register=False, from_domain=None,
                   codecs=("g722",), max_channels=None, match=("192.0.2.0/24", "198.51.100.7"))
INTERNATIONAL = RouteInfo(id="aaaaaaaa-0000-0000-0000-000000000001", name="International", patterns=("_00X.",),
                          strip=2, prepend="+", trunk_ids=(TELCO.id, BACKUP.id), caller_id_mode="user",
                          min_permission_level=50, priority=10, emergency=False)
EMERGENCY = RouteInfo(id="bbbbbbbb-0000-0000-0000-000000000002", name="Emergency", patterns=("112", "999"),
                      strip=0, prepend="", trunk_ids=(BACKUP.id,), caller_id_mode="trunk", min_permission_level=0,
                      priority=1, emergency=True)
NATIONAL = RouteInfo(id="cccccccc-0000-0000-0000-000000000003", name="National", patterns=("_0X.", "_00X."),
                     strip=1, prepend="0048", trunk_ids=(BACKUP.id,), caller_id_mode="did", min_permission_level=10,
                     priority=20, emergency=False)


def sections(text: str) -> dict[tuple[str, str], dict[str, str]]:
    """pjsip.conf sections by (name, type): their key=value lines."""
    found: dict[tuple[str, str], dict[str, str]] = {}
    for block in re.split(r"\n(?=\[)", text.strip()):
        lines = [line for line in block.splitlines() if line and not line.startswith(";")]
        if not lines:
            continue
        name = lines[0].strip("[]")
        values = dict(line.split("=", 1) for line in lines[1:])
        found[name, values["type"]] = values
    return found


def test_a_registering_trunk_has_endpoint_aor_auth_registration_and_identify() -> None:
    found = sections(trunk_sections([TELCO], transports=[("transport-udp", "udp", "0.0.0.0:5060")]))

    assert set(found) == {("trunk-telco", kind) for kind in ("endpoint", "aor", "auth", "registration", "identify")}
    endpoint = found["trunk-telco", "endpoint"]
    assert endpoint == {**endpoint, "context": "from-trunk", "transport": "transport-udp", "allow": "alaw,ulaw",
                        "aors": "trunk-telco", "outbound_auth": "trunk-telco", "from_domain": "carrier.example",
                        "send_pai": "yes"}
    assert found["trunk-telco", "aor"]["contact"] == "sip:sip.carrier.example:5060"
    assert found["trunk-telco", "auth"] == {"type": "auth", "auth_type": "userpass", "username": "4822100200",
                                            "password": "s3cret\\;Line"}
    registration = found["trunk-telco", "registration"]
    assert registration == {**registration, "server_uri": "sip:sip.carrier.example:5060",
                            "client_uri": "sip:4822100200@carrier.example", "contact_user": "4822100200",
                            "outbound_auth": "trunk-telco", "endpoint": "trunk-telco"}
    assert found["trunk-telco", "identify"] == {"type": "identify", "endpoint": "trunk-telco",
                                                "match": "sip.carrier.example"}


def test_a_trunk_without_credentials_has_no_auth_nor_registration_and_matches_its_networks() -> None:
    found = sections(trunk_sections([BACKUP]))

    assert set(found) == {("trunk-backup", kind) for kind in ("endpoint", "aor", "identify")}
    assert "outbound_auth" not in found["trunk-backup", "endpoint"]
    assert "transport" not in found["trunk-backup", "endpoint"]  # no TCP transport configured: from the URI
    assert found["trunk-backup", "aor"]["contact"] == "sip:192.0.2.10:5080;transport=tcp"
    assert found["trunk-backup", "identify"]["match"] == "192.0.2.0/24,198.51.100.7"


def test_trunks_render_in_name_order_whatever_the_input_order() -> None:
    assert trunk_sections([TELCO, BACKUP]) == trunk_sections([BACKUP, TELCO])
    text = trunk_sections([TELCO, BACKUP])
    assert text.index("[trunk-backup]") < text.index("[trunk-telco]")


@pytest.mark.parametrize("change", [
    {"name": "bad name"}, {"host": "evil\nhost"}, {"password": "two words"}, {"username": "a:b"},
    {"codecs": ("mp3",)}, {"transport": "sctp"}, {"match": ("not an address!",)}, {"from_domain": "a;b"},
])
def test_a_trunk_the_api_would_refuse_is_refused_by_the_renderer_too(change) -> None:
    with pytest.raises(ValueError):
        trunk_sections([dataclasses.replace(TELCO, **change)])


def test_phone_endpoint_lines_carry_the_level_and_caller_ids() -> None:
    assert phone_endpoint_lines(60, caller_id="+48221000001", did="+48221000099") == [
        "set_var=CENTRALINO_LEVEL=60", "set_var=CENTRALINO_CALLERID=+48221000001",
        "set_var=CENTRALINO_DID=+48221000099"]
    assert phone_endpoint_lines(60, external_calls_disabled=True) == ["set_var=CENTRALINO_LEVEL=-1"]
    with pytest.raises(ValueError):
        phone_endpoint_lines(10, caller_id="+48 22;x")


def test_the_outbound_dialplan_is_one_context_per_route_not_per_account() -> None:
    contexts = outbound_contexts([NATIONAL, INTERNATIONAL, EMERGENCY], [TELCO, BACKUP])
    names = [c.name for c in contexts]

    assert names[:2] == [OUTBOUND_CONTEXT, "outbound-select"] and names[-2:] == ["outbound-trunk", "outbound-checks"]
    assert len(contexts) == 4 + 2 * 3
    # Each distinct pattern once in [outbound], in priority order of first use.
    assert [e.pattern for e in contexts[0].extensions] == ["112", "999", "_00X.", "_0X."]
    # Routes are called in priority order.
    calls = [a for a in contexts[1].extensions[0].applications if a.startswith("Gosub(")]
    assert calls == ["Gosub(outbound-route-bbbbbbbb,s,1(${ARG1},${level}))",
                     "Gosub(outbound-route-aaaaaaaa,s,1(${ARG1},${level}))",
                     "Gosub(outbound-route-cccccccc,s,1(${ARG1},${level}))"]


def test_a_route_checks_its_patterns_and_level_then_strips_prepends_and_fails_over() -> None:
    text = render_dialplan(tuple(outbound_contexts([INTERNATIONAL], [TELCO, BACKUP])))

    assert """
; route International (priority 10, level 50+): _00X.; strip 2, prepend '+', caller ID user
[outbound-route-aaaaaaaa]
exten => s,1,ExecIf($[!${DIALPLAN_EXISTS(outbound-route-aaaaaaaa-patterns,${ARG1},1)}]?Return())
 same => n,ExecIf($[${ARG2} < 50]?Return())
 same => n,Gosub(outbound-checks,s,1)
 same => n,Set(CENTRALINO_CAUSE=34)
 same => n,Set(LOCAL(number)=+${ARG1:2})
 same => n,Set(LOCAL(cid)=${CENTRALINO_CALLERID})
 same => n,Gosub(outbound-trunk,s,1(${number},trunk-telco,${cid},+48221002000,30))
 same => n,Gosub(outbound-trunk,s,1(${number},trunk-backup,${cid},,0))
 same => n,Return()
""" in text
    assert "[outbound-route-aaaaaaaa-patterns]\nexten => _00X.,1,NoOp()\n" in text
    assert "[outbound]\nexten => _00X.,1,Gosub(outbound-select,s,1(${EXTEN}))\n same => n,Hangup(${CENTRALINO_CAUSE})" \
        in text


def test_an_emergency_route_has_no_level_check_and_did_mode_falls_back_to_the_users_caller_id() -> None:
    emergency, national = (outbound_contexts([route], [BACKUP])[2].extensions[0].applications
                           for route in (EMERGENCY, NATIONAL))

    assert not any("${ARG2}" in a for a in emergency)
    assert "Set(LOCAL(cid)=)" in emergency
    assert "ExecIf($[${ARG2} < 10]?Return())" in national
    assert "Set(LOCAL(cid)=${IF($[${LEN(${CENTRALINO_DID})} > 0]?${CENTRALINO_DID}:${CENTRALINO_CALLERID})})" \
        in national
    assert "Set(LOCAL(number)=0048${ARG1:1})" in national


def test_routes_without_a_known_trunk_are_left_out_and_no_route_renders_nothing() -> None:
    assert outbound_contexts([], [TELCO]) == []
    assert outbound_contexts([dataclasses.replace(INTERNATIONAL, trunk_ids=("gone",))], [TELCO]) == []


def test_the_dialplan_is_deterministic_whatever_the_input_order() -> None:
    forward = outbound_contexts([NATIONAL, INTERNATIONAL, EMERGENCY], [TELCO, BACKUP])
    backward = outbound_contexts([EMERGENCY, INTERNATIONAL, NATIONAL], [BACKUP, TELCO])

    assert render_dialplan(tuple(forward)) == render_dialplan(tuple(backward))


@pytest.mark.parametrize("change", [{"patterns": ("_0[1",)}, {"strip": 4}, {"prepend": "0a"},
                                    {"caller_id_mode": "mobile"}, {"patterns": ()}, {"name": "a\nb"}])
def test_a_route_the_api_would_refuse_is_refused_by_the_renderer_too(change) -> None:
    with pytest.raises(ValueError):
        outbound_contexts([dataclasses.replace(INTERNATIONAL, **change)], [TELCO])


@pytest.mark.parametrize(("pattern", "fixed"), [
    ("112", 3), ("+48221234567", 12), ("*67#", 4), ("_00X.", 3), ("_0[1-9]XXXXXXXX", 10), ("_NXXXXXX", 7),
    ("_Z!", 1), ("_[+0]0X.", 3), ("_[13-5*#]X", 2),
])
def test_patterns_and_what_they_fix(pattern, fixed) -> None:
    assert dial_pattern_length(pattern) == fixed


@pytest.mark.parametrize("pattern", ["", "_", "_.", "_!", "_0.X", "_0[1-9", "_0]", "_[]", "_[9-1]", "_[1-]",
                                     "_0xx", "_0ABC", "12a", "0 1", "_0-1", "_0X.;", "_" + "X" * 80])
def test_patterns_asterisk_would_misread_are_refused(pattern) -> None:
    with pytest.raises(ValueError):
        dial_pattern_length(pattern)
