"""A user's outbound PIN proven on a real Asterisk 22: set through the API (``PUT /users/{id}/options``) and
applied, it makes Asterisk ask for the PIN before every external call. The caller is a sipp phone that sends its
keys as RFC 4733 telephone-events in its RTP stream (the generated phone endpoints keep Asterisk's default
``dtmf_mode=rfc4733``), and a sipp carrier behind a trunk shows which calls went out:

- the right PIN, then ``#``: the call reaches the carrier with the dialled number;
- a wrong PIN three times: the carrier never gets an INVITE and Asterisk ends the call;
- an emergency number is dialled at once, without asking for the PIN;
- a call that fails over from a refusing carrier to the next route is asked for the PIN once, not per route.

The PIN reaches Asterisk only through the secret ``outbound_pins.conf`` (read with ``AST_CONFIG``), never in the
dialplan. sipp sends RTP through a raw socket, so these tests need root (or CAP_NET_RAW on sipp); without it, or
without Asterisk, they skip locally and fail under CI.
"""

from __future__ import annotations

import re
from contextlib import ExitStack

import pytest
from asterisk_office import Extension, Office, asterisk_port, office, settings  # noqa: F401 (fixtures)
from asterisk_tools import DtmfCall, Phone, require_raw_socket
from test_asterisk_options import FAR_END, routes_out, set_options

pytestmark = pytest.mark.registrar

PIN, WRONG_PIN = "2583", "2584"
BACKUP = "127.0.0.4"  # a second carrier
ABROAD = "0044207946000"  # the "World" route (_00X.) of routes_out; 112 is its emergency route
# After a wrong PIN Asterisk plays "agent-incorrect" (5.2 s, deaf to keys) before asking again, so a caller retries
# this long after starting its previous try (whose keys take 2.2 s to send). Keys lost anyway would only make
# that try end by Read's 10 s timeout: a failed try all the same, so the outcome never depends on this timing.
RETRY_AFTER_S = 9.0


class PinCall(DtmfCall):
    """``DtmfCall`` from a user's phone: it dials ``number`` and keys each of ``tries``."""

    def __init__(self, office: Office, caller: Extension, number: str, tries: list[str], *,
                 between_s: float = RETRY_AFTER_S, hold_s: float = 45.0) -> None:
        super().__init__(office.port, number, tries, caller=caller.number, auth_id=caller.auth_id,
                         password=caller.password, between_s=between_s, hold_s=hold_s)


def dialled(far_end: Phone) -> list[str]:
    """The numbers of the INVITEs the carrier received (one per call)."""
    return [invite.first_line.split()[1].split("@")[0].removeprefix("sip:") for invite in far_end.invites()]


async def user_with_pin(office: Office) -> Extension:
    anna = await office.user("Anna")
    await set_options(office, anna, outbound_pin=PIN)
    return anna


async def test_an_external_call_asks_for_the_outbound_pin_and_goes_out_when_it_is_right(office):
    require_raw_socket()
    anna = await user_with_pin(office)
    with ExitStack() as stack:
        far_end = stack.enter_context(Phone("answer", host=FAR_END, name="far-end", hold_s=0.5))
        await routes_out(office, far_end)
        with await office.apply() as pbx:
            endpoint = pbx.cli(f"pjsip show endpoint {anna.number}")
            with PinCall(office, anna, ABROAD, [f"{PIN}#"]) as caller:
                status = caller.wait()
                hung_up = caller.remote_hangup()
            out, log = dialled(far_end), pbx.full_log_text()
            pbx.assert_no_log_problems("extensions.conf", "pjsip.conf", "outbound_pins.conf")
    conf = office.api.settings.config_dir / "default" / "current" / "asterisk"

    assert re.search(r"^\s*dtmf_mode\s*:\s*rfc4733\s*$", endpoint, re.MULTILINE), "phones send RFC 4733 events"
    assert log.count("Read(") == 1 and f"User entered '{PIN}'" in log, "Asterisk asked for the PIN once"
    assert status == 200 and out == [ABROAD], "the right PIN: the call went out through the trunk"
    assert hung_up, "the carrier ended the call, and Asterisk the caller's"
    assert f"pin={PIN}" in (conf / "outbound_pins.conf").read_text()
    assert PIN not in (conf / "extensions.conf").read_text(), "the dialplan reads the PIN, never holds it"


async def test_a_wrong_outbound_pin_three_times_ends_the_call_and_nothing_goes_out(office):
    require_raw_socket()
    anna = await user_with_pin(office)
    with ExitStack() as stack:
        far_end = stack.enter_context(Phone("answer", host=FAR_END, name="far-end"))
        await routes_out(office, far_end)
        with await office.apply() as pbx:
            with PinCall(office, anna, ABROAD, [f"{WRONG_PIN}#"] * 3) as caller:
                status = caller.wait()
                hung_up = caller.remote_hangup()
            out, log = dialled(far_end), pbx.full_log_text()
            pbx.assert_no_log_problems("extensions.conf", "pjsip.conf", "outbound_pins.conf")

    assert status == 200 and hung_up, "Asterisk answered to ask for the PIN, then hung up"
    assert log.count("Read(") == 3 and f"User entered '{WRONG_PIN}'" in log, "three tries"
    assert "Dial(" not in log and out == [], "nothing went out"


async def test_an_emergency_number_is_dialled_without_asking_for_the_outbound_pin(office):
    anna = await user_with_pin(office)
    with ExitStack() as stack:
        far_end = stack.enter_context(Phone("answer", host=FAR_END, name="far-end"))
        await routes_out(office, far_end)
        with await office.apply() as pbx:
            emergency = office.dial(anna, "112", hangup_after_s=0.3)
            out, log = dialled(far_end), pbx.full_log_text()
            pbx.assert_no_log_problems("extensions.conf", "pjsip.conf")

    assert emergency.answered and out == ["112"], "the carrier answered the emergency call"
    assert "Read(" not in log and "@out-checks-" not in log, "no PIN was asked: the checks routine never ran"


async def test_a_call_failing_over_to_the_next_route_is_asked_for_the_pin_once(office):
    require_raw_socket()
    anna = await user_with_pin(office)
    with ExitStack() as stack:
        refusing = stack.enter_context(Phone("reject", reject_status="503 Service Unavailable", host=FAR_END,
                                             name="primary"))
        backup = stack.enter_context(Phone("answer", host=BACKUP, name="backup", hold_s=0.5))
        for priority, (name, host, port) in enumerate((("primary", FAR_END, refusing.port),
                                                       ("backup", BACKUP, backup.port)), start=1):
            trunk = await office.api.post("/api/v1/trunks", json={"name": name, "host": host, "port": port})
            assert trunk.status_code == 201, trunk.text
            route = await office.api.post("/api/v1/outbound-routes", json={
                "name": name, "patterns": ["_00X."], "trunks": [trunk.json()["id"]], "priority": priority * 10})
            assert route.status_code == 201, route.text
        with await office.apply() as pbx:
            # A second try is keyed only if Asterisk asks again; asked once, the call is up with the backup by then.
            with PinCall(office, anna, ABROAD, [f"{PIN}#", f"{PIN}#"], between_s=6) as caller:
                status = caller.wait()
            tried, out, log = dialled(refusing), dialled(backup), pbx.full_log_text()

    assert status == 200 and tried == [ABROAD] and out == [ABROAD], "refused by the first carrier, out by the second"
    assert log.count("Read(") == 1, "the PIN is asked once per call, not once per route"
