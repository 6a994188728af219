"""Outbound routes proven on a real Asterisk 22: the renderer's trunk sections and outbound dialplan are loaded by a
private instance on 127.0.0.1, sipp phones call out with digest auth, and sipp carriers on 127.0.0.2 and 127.0.0.3
(their own addresses: PJSIP identifies a trunk by source address) take or refuse the calls. What reached which
carrier is read from their SIP traces.

Asterisk is found through ASTERISK_PREFIX or PATH (see tests/asterisk_tools.py); without it these tests skip
locally and fail under CI.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from asterisk_tools import Asterisk, Phone, call, pjsip_transport, pjsip_user, wait_until
from sip_tools import free_udp_port

from app.config_gen.asterisk import render_dialplan
from app.config_gen.asterisk_groups import DialplanContext
from app.config_gen.asterisk_trunks import (OUTBOUND_CONTEXT, RouteInfo, TrunkInfo, outbound_contexts,
                                            phone_endpoint_lines, trunk_sections)

pytestmark = pytest.mark.registrar

PHONES = {  # extension: (password, permission level, caller ID, external calls disabled)
    "101": ("pw-101-Secret", 10, "+48221000001", False),
    "102": ("pw-102-Secret", 60, "+48221000002", False),
    "103": ("pw-103-Secret", 0, None, True),
}


def trunk(trunk_id: str, name: str, host: str, port: int, **fields) -> TrunkInfo:
    values = {"username": None, "password": None, "register": False, "from_domain": None,
              "codecs": ("ulaw", "alaw"), "max_channels": None, **fields}
    return TrunkInfo(id=trunk_id, name=name, host=host, port=port, transport="udp", **values)


def route(route_id: str, name: str, patterns: tuple[str, ...], trunk_ids: tuple[str, ...], **fields) -> RouteInfo:
    values = {"strip": 0, "prepend": "", "caller_id_mode": "user", "min_permission_level": 0, "priority": 100,
              "emergency": False, **fields}
    return RouteInfo(id=route_id, name=name, patterns=patterns, trunk_ids=trunk_ids, **values)


def write_config(conf: Path, port: int, answering: Phone, refusing: Phone) -> None:
    good = trunk("10000000-0000-0000-0000-000000000001", "good", answering.host, answering.port,
                 caller_id="+48220000000")
    bad = trunk("20000000-0000-0000-0000-000000000002", "bad", refusing.host, refusing.port)
    # Registers to nowhere: proves the registration section loads (it retries in the background).
    registering = trunk("30000000-0000-0000-0000-000000000003", "registering", "127.0.0.4", free_udp_port(),
                        username="acct1", password="reg;Secret1", register=True, from_domain="carrier.example")
    trunks = [good, bad, registering]
    routes = [
        route("a0000000-0000-0000-0000-00000000000a", "International", ("_00X.",), (good.id,), strip=2, prepend="+",
              min_permission_level=50, priority=10),
        route("b0000000-0000-0000-0000-00000000000b", "Failover", ("_9X.",), (bad.id, good.id), strip=1,
              prepend="0048", priority=20),
        route("c0000000-0000-0000-0000-00000000000c", "Emergency", ("112",), (good.id,), caller_id_mode="trunk",
              emergency=True, min_permission_level=90),
        # Asterisk alone would send 7712 to the more specific _77X.; priority 5 beats it.
        route("d0000000-0000-0000-0000-00000000000d", "First", ("_7X.",), (good.id,), prepend="1", priority=5),
        route("e0000000-0000-0000-0000-00000000000e", "Specific", ("_77X.",), (good.id,), prepend="2", priority=6),
    ]
    transport = pjsip_transport(port)
    phones = "".join(pjsip_user(ext, pw, extra=phone_endpoint_lines(level, caller_id=cid,
                                                                    external_calls_disabled=disabled))
                     for ext, (pw, level, cid, disabled) in PHONES.items())
    (conf / "pjsip.conf").write_text(transport + phones + trunk_sections(trunks, [("transport-udp", "udp", "")]))
    internal = DialplanContext(name="internal", includes=(OUTBOUND_CONTEXT,))
    (conf / "extensions.conf").write_text(render_dialplan((internal, *outbound_contexts(routes, trunks))))


def dial(port: int, caller: str, number: str):
    return call(port, number, caller=caller, password=PHONES[caller][0], hangup_after_s=0.3, timeout_s=20)


def user_of(header: str | None) -> str | None:
    found = re.search(r"sips?:([^@;>]+)@", header or "")
    return found.group(1) if found else None


@pytest.fixture(scope="module")
def pbx(tmp_path_factory):
    """One Asterisk with three phones, a carrier that answers (127.0.0.2) and one that refuses with 503
    (127.0.0.3), shared by the tests of this module (each asserts on the INVITEs of its own number)."""
    port = free_udp_port()
    conf = tmp_path_factory.mktemp("conf")
    with Phone("answer", host="127.0.0.2", name="carrier-good") as answering, \
            Phone("reject", reject_status="503 Service Unavailable", host="127.0.0.3", name="carrier-bad") as refusing:
        write_config(conf, port, answering, refusing)
        with Asterisk(conf) as asterisk:
            asterisk.wait_cli("pjsip show contacts", r"trunk-good/sip:127\.0\.0\.2:\d+")
            yield asterisk, port, answering, refusing


def invites_for(phone: Phone, number: str) -> list:
    return [m for m in phone.invites() if m.first_line.startswith(f"INVITE sip:{number}@")]


def test_the_trunks_and_the_outbound_dialplan_load_without_complaint(pbx):
    asterisk, _port, _answering, _refusing = pbx

    asterisk.assert_no_log_problems("pjsip.conf", "extensions.conf", "trunk-")
    endpoints = asterisk.cli("pjsip show endpoints")
    assert "trunk-good" in endpoints and "trunk-bad" in endpoints and "trunk-registering" in endpoints
    assert "trunk-registering/sip:127.0.0.4" in asterisk.cli("pjsip show registrations")
    assert "127.0.0.2/32" in asterisk.cli("pjsip show identify trunk-good")
    assert re.search(r"CENTRALINO_LEVEL\s+: 60\b", asterisk.cli("pjsip show endpoint 102"))


def test_level_10_cannot_use_a_level_50_route_and_gets_403(pbx):
    _asterisk, port, answering, _refusing = pbx

    result = dial(port, "101", "0044111111")

    assert result.status == 403
    assert invites_for(answering, "+44111111") == []


def test_level_60_uses_it_with_digits_stripped_and_prepended_and_the_users_caller_id(pbx):
    _asterisk, port, answering, _refusing = pbx

    result = dial(port, "102", "0044222222")

    assert result.status == 200
    invite = wait_until(lambda: invites_for(answering, "+44222222"), 10, "the INVITE at the carrier")[0]
    assert user_of(invite.header("From")) == "+48221000002"
    assert user_of(invite.header("P-Asserted-Identity")) == "+48221000002"


def test_the_second_trunk_takes_the_call_when_the_first_refuses_it(pbx):
    _asterisk, port, answering, refusing = pbx

    result = dial(port, "101", "9333")

    assert result.status == 200
    refused = wait_until(lambda: invites_for(refusing, "0048333"), 10, "the INVITE at the refusing carrier")
    taken = wait_until(lambda: invites_for(answering, "0048333"), 10, "the INVITE at the answering carrier")
    assert refused[0].timestamp <= taken[0].timestamp
    assert user_of(taken[0].header("From")) == "+48221000001"


def test_an_emergency_route_is_open_even_with_external_calls_disabled_and_sends_the_trunks_caller_id(pbx):
    _asterisk, port, answering, _refusing = pbx

    emergency = dial(port, "103", "112")
    ordinary = dial(port, "103", "9444")  # a level-0 route: closed when external calls are disabled

    assert emergency.status == 200
    invite = wait_until(lambda: invites_for(answering, "112"), 10, "the emergency INVITE")[0]
    assert user_of(invite.header("From")) == "+48220000000"
    assert ordinary.status == 403
    assert invites_for(answering, "0048444") == []


def test_priority_decides_between_matching_routes_not_asterisks_most_specific_pattern(pbx):
    _asterisk, port, answering, _refusing = pbx

    result = dial(port, "102", "7712")

    assert result.status == 200
    assert wait_until(lambda: invites_for(answering, "17712"), 10, "the INVITE of route First")
    assert invites_for(answering, "27712") == []


def test_a_number_no_route_matches_is_404(pbx):
    _asterisk, port, _answering, _refusing = pbx

    assert dial(port, "102", "5555").status == 404
