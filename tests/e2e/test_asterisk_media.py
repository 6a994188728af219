"""Conference rooms and IVR menus proven on a real Asterisk 22 with sipp.

The renderer's output (``app.config_gen.asterisk_media``: dialplan contexts, ``confbridge.conf``,
``conference_pins.conf``, the greeting file) is loaded by a private Asterisk together with plain
``pjsip_user()`` phones. Callers are sipp UACs that send their keys as SIP INFO
(``application/dtmf-relay``, ``Signal=<key>``): their endpoints have ``dtmf_mode=info``, which Asterisk
turns into the same DTMF frames RFC 2833 events give, so ``Read()`` and ``WaitExten()`` see them. (sipp
can only send RFC 2833 by replaying a pcap of RTP events; SIP INFO needs nothing but the scenario.)

Asterisk is found through ASTERISK_PREFIX or PATH (see tests/asterisk_tools.py); without it these tests skip
locally and fail under CI.
"""

from __future__ import annotations

import io
import math
import re
import struct
import time
import wave
from contextlib import ExitStack
from pathlib import Path

import pytest
from asterisk_tools import Asterisk, KeyedCall, Phone, pjsip_transport, pjsip_user, wait_until
from sip_tools import free_udp_port

from app.config_gen.asterisk import render_dialplan
from app.config_gen.asterisk_groups import DialplanContext, Extension, GroupPlan
from app.config_gen.asterisk_media import (CONFERENCE_PINS_FILE, ConferenceInfo, IvrMenuInfo, conference_contexts,
                                           entry_contexts, internal_extensions, ivr_contexts, render_conference_pins,
                                           render_confbridge, sound_files)
from app.config_gen.snapshot import AccountInfo, OrganizationInfo, Snapshot, UserInfo
from app.services import audio

pytestmark = pytest.mark.registrar

PASSWORD = "Secret-Pass-1"
CALLERS = ("101", "104", "105")  # send their keys as SIP INFO
PHONES = ("102", "103")  # answer calls
ROOM = ConferenceInfo(id="c0ffee00-0000-4000-8000-000000000001", name="Board", extension=800, pin="4711",
                      admin_pin="987654", max_members=10, record=False)


def user_account(extension: int) -> AccountInfo:
    user = UserInfo(id=f"user-{extension}", first_name="User", last_name=str(extension), email=None, caller_id=None,
                    language="en", voicemail_enabled=False, voicemail_pin=None)
    return AccountInfo(id=f"acct-{extension}", extension=extension, auth_id=str(extension), password=PASSWORD,
                       active=True, phone_type="softphone", recording=False, permission_level=10, max_contacts=1,
                       user=user)


def tone(seconds: float) -> bytes:
    """A 44.1 kHz stereo tone, as an administrator might upload it (the service converts it)."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(44100)
        out.writeframes(b"".join(struct.pack("<h", int(6000 * math.sin(i / 10))) * 2
                                 for i in range(int(seconds * 44100))))
    return audio.convert(buffer.getvalue()).wav


def menu(**changes) -> IvrMenuInfo:
    values = dict(id="1e0e0000-0000-4000-8000-000000000001", name="Main", extension=700,
                  options=(("1", {"type": "user", "user_id": "user-102"}),
                           ("2", {"type": "conference", "conference_id": ROOM.id})),
                  timeout_seconds=2, timeout_destination={"type": "user", "user_id": "user-103"},
                  invalid_destination={"type": "hangup"}, dial_by_extension=True, directory=False,
                  greeting=tone(1.0))
    values.update(changes)
    return IvrMenuInfo(**values)


def write_conf(conf: Path, port: int, menus: tuple[IvrMenuInfo, ...]) -> None:
    """A conf dir: the phones, ``[internal]``, and everything the media renderer gives for the room and menus."""
    conferences = (ROOM,)
    accounts = [user_account(int(n)) for n in sorted(CALLERS + PHONES)]
    organization = OrganizationInfo(id="org", slug="acme", name="ACME", sip_domain="127.0.0.1", sip_proxy=None,
                                    timezone="UTC", ring_timeout=10)
    plan = GroupPlan(Snapshot(organization=organization, accounts=tuple(accounts), devices=()), accounts)
    plan.entry_contexts.update(entry_contexts(conferences, menus))
    sounds = conf / "sounds"
    sounds.mkdir()
    for path, data in sound_files(menus).items():
        (sounds / Path(path).name).write_bytes(data)
    internal = DialplanContext("internal", (
        *(Extension(str(a.extension), (f"Dial(PJSIP/{a.extension},10)", "Hangup()")) for a in accounts),
        *internal_extensions(conferences, menus)))
    contexts = (internal, *conference_contexts(conferences),
                *ivr_contexts(menus, plan, conferences, sounds_dir=str(sounds.resolve())))
    (conf / "extensions.conf").write_text(render_dialplan(contexts))
    (conf / "confbridge.conf").write_text(render_confbridge(conferences))
    (conf / CONFERENCE_PINS_FILE).write_text(render_conference_pins(conferences))
    (conf / "pjsip.conf").write_text(pjsip_transport(port) + "".join(
        pjsip_user(n, PASSWORD, extra=["dtmf_mode=info"] if n in CALLERS else []) for n in CALLERS + PHONES))


@pytest.fixture
def pbx(tmp_path, request):
    """Asterisk on a free port with the phones answering on 102/103; ``menus`` from the test's parameter."""
    port = free_udp_port()
    conf = tmp_path / "conf"
    conf.mkdir()
    write_conf(conf, port, getattr(request, "param", (menu(),)))
    with Asterisk(conf) as asterisk, ExitStack() as stack:
        phones = {}
        for number in PHONES:
            phone = stack.enter_context(Phone("answer", name=f"phone-{number}"))
            assert phone.register(port, number, number, PASSWORD) == 200
            phones[number] = phone
        asterisk.port, asterisk.phones = port, phones
        yield asterisk
        asterisk.assert_no_log_problems("extensions.conf", "confbridge.conf", CONFERENCE_PINS_FILE, "ivr-")


def members(pbx: Asterisk) -> int:
    listed = pbx.cli("confbridge list")
    line = next((line for line in listed.splitlines() if line.startswith("conference-")), "")
    return int(line.split()[1]) if line else 0


# --- conferences -------------------------------------------------------------------------------------------

def test_two_callers_with_the_pin_meet_in_the_room(pbx):
    with KeyedCall(pbx.port, "800", caller="101", password=PASSWORD, keys="4711#", hold_s=8) as first, \
            KeyedCall(pbx.port, "800", caller="104", password=PASSWORD, keys="987654#", hold_s=8) as second:
        count = wait_until(lambda: members(pbx) == 2 and 2, 20, "two members in the conference")
        listed = pbx.cli("confbridge list conference-c0ffee00")
        first.wait(), second.wait()

    assert count == 2
    assert "conference-c0ffee00-user" in listed and "conference-c0ffee00-admin" in listed, listed


def test_a_wrong_pin_does_not_get_in(pbx):
    with KeyedCall(pbx.port, "800", caller="101", password=PASSWORD, keys="4711#", hold_s=10) as member:
        wait_until(lambda: members(pbx) == 1 and 1, 20, "the member in the conference")
        with KeyedCall(pbx.port, "800", caller="105", password=PASSWORD, keys="1111#", wait_before_s=1.5,
                       hold_s=4) as intruder:
            time.sleep(2.5)
            inside = members(pbx)
            intruder.wait()
        member.wait()

    assert inside == 1, "the wrong PIN did not join"
    full = pbx.full_log_text()
    assert re.search(r'Playback\("PJSIP/105-\w+", "conf-invalidpin"\)', full), "105 heard 'invalid PIN'"


def test_the_room_asks_for_three_pins_then_hangs_up(pbx):
    with KeyedCall(pbx.port, "800", caller="105", password=PASSWORD, keys="1111#2222#3333#", wait_before_s=1.5,
                   hold_s=30) as intruder:
        intruder.wait(60)
        hung_up = intruder.remote_hangup()

    assert hung_up, "Asterisk ended the call after the third wrong PIN"
    assert pbx.full_log_text().count('Playback("PJSIP/105-00000000", "conf-invalidpin")') == 2


# --- IVR menus ---------------------------------------------------------------------------------------------

def test_a_key_routes_the_caller_to_the_options_destination(pbx):
    with KeyedCall(pbx.port, "700", caller="101", password=PASSWORD, keys="1", hold_s=4) as caller:
        invite = pbx.phones["102"].wait_for("INVITE", timeout_s=15)
        caller.wait()

    assert invite, "key 1 rang 102"
    assert not pbx.phones["103"].invites()
    assert "ivr-1e0e0000.slin' (language 'en')" in pbx.full_log_text(), "the greeting played"


def test_no_key_goes_to_the_timeout_destination(pbx):
    with KeyedCall(pbx.port, "700", caller="101", password=PASSWORD, keys="", hold_s=8) as caller:
        invite = pbx.phones["103"].wait_for("INVITE", timeout_s=15)
        caller.wait()

    assert invite, "the timeout destination (103) rang"
    assert not pbx.phones["102"].invites()


def test_a_key_reaches_a_conference_and_dial_by_extension_reaches_any_extension(pbx):
    with KeyedCall(pbx.port, "700", caller="101", password=PASSWORD, keys="2", hold_s=6) as to_room:
        wait_until(lambda: "conf-getpin" in pbx.full_log_text() and True, 15, "the room's PIN prompt")
        to_room.wait()
    with KeyedCall(pbx.port, "700", caller="104", password=PASSWORD, keys="103", hold_s=6) as dialled:
        invite = pbx.phones["103"].wait_for("INVITE", timeout_s=15)
        dialled.wait()

    assert invite
    assert "Goto(\"PJSIP/104-" in pbx.full_log_text() and "internal,103,1" in pbx.full_log_text()


@pytest.mark.parametrize("pbx", [(menu(dial_by_extension=False, invalid_destination={"type": "user",
                                                                                    "user_id": "user-103"}),)],
                         indirect=True)
def test_keys_that_lead_nowhere_replay_the_menu_then_go_to_the_invalid_destination(pbx):
    with KeyedCall(pbx.port, "700", caller="101", password=PASSWORD, keys="9", wait_before_s=1.2,
                   hold_s=12) as caller:
        time.sleep(3)
        assert not pbx.phones["103"].invites(), "one wrong key only replays the menu"
        caller.wait()
    with KeyedCall(pbx.port, "700", caller="104", password=PASSWORD, keys="999", wait_before_s=1.2,
                   hold_s=10) as caller:
        invite = pbx.phones["103"].wait_for("INVITE", timeout_s=15)
        caller.wait()

    assert invite
    assert "pbx-invalid" in pbx.full_log_text()
