"""Users' options and restrictions proven on a real Asterisk 22: set through the API and applied; sipp phones and
a sipp carrier show which calls go through. Emergency routes stay open whatever the options.

Asterisk is found through ASTERISK_PREFIX or PATH (see tests/asterisk_tools.py); without it these tests skip
locally and fail under CI.
"""

from __future__ import annotations

from contextlib import ExitStack

import pytest
from asterisk_office import Office, asterisk_port, office, settings  # noqa: F401 (fixtures)
from asterisk_tools import Phone, wait_until

pytestmark = pytest.mark.registrar

FAR_END = "127.0.0.3"
DEFAULTS = {"disabled": False, "external_calls_disabled": False, "lan_only": False,
            "block_outbound_outside_office_hours": False, "record_calls": False, "call_screening": False,
            "allow_conferences": True, "missed_call_email": False}


async def set_options(office: Office, who, **changes) -> None:
    saved = await office.api.put(f"/api/v1/users/{who.user_id}/options", json={**DEFAULTS, **changes})
    assert saved.status_code == 200, saved.text


async def routes_out(office: Office, far_end: Phone) -> None:
    trunk = await office.api.post("/api/v1/trunks", json={"name": "out", "host": FAR_END, "port": far_end.port})
    assert trunk.status_code == 201, trunk.text
    for name, patterns, emergency in (("World", ["_00X."], False), ("Emergency", ["112"], True)):
        route = await office.api.post("/api/v1/outbound-routes", json={
            "name": name, "patterns": patterns, "trunks": [trunk.json()["id"]], "emergency": emergency})
        assert route.status_code == 201, route.text


async def test_restrictions_refuse_external_calls_but_never_emergency_ones(office):
    free, barred, after_hours, recorded = [await office.user(n) for n in ("Free", "Barred", "Late", "Taped")]
    await set_options(office, free, lan_only=True)  # loopback is a private network: its calls go through
    await set_options(office, barred, external_calls_disabled=True)
    await set_options(office, after_hours, block_outbound_outside_office_hours=True)
    await set_options(office, recorded, record_calls=True)
    default = next(s for s in (await office.api.get("/api/v1/office-hours")).json()["items"] if s["name"] == "default")
    closed = await office.api.patch(f"/api/v1/office-hours/{default['id']}", json={"weekly": []})  # never open
    assert closed.status_code == 200, closed.text

    with ExitStack() as stack:
        far_end = stack.enter_context(Phone("answer", host=FAR_END, name="far-end"))
        await routes_out(office, far_end)
        with await office.apply() as pbx:
            answered = {who.number: office.dial(who, "0044207946000", hangup_after_s=0.3).status
                        for who in (free, barred, after_hours, recorded)}
            emergency = {who.number: office.dial(who, "112", hangup_after_s=0.3).status
                         for who in (barred, after_hours)}
            log = pbx.full_log_text()
            pbx.assert_no_log_problems("extensions.conf", "pjsip.conf")

    assert answered == {free.number: 200, barred.number: 403, after_hours.number: 403, recorded.number: 200}
    assert emergency == {barred.number: 200, after_hours.number: 200}
    assert "MixMonitor(" in log and log.count("MixMonitor(") == 1, "only the recorded user's call is recorded"


async def test_a_disabled_user_neither_calls_nor_rings_and_rooms_refuse_who_may_not_join(office):
    anna, bruno, carla = [await office.user(n) for n in ("Anna", "Bruno", "Carla")]
    await set_options(office, anna, disabled=True)
    await set_options(office, carla, allow_conferences=False)
    room = await office.api.post("/api/v1/conferences", json={"name": "Board", "extension": 850})
    assert room.status_code == 201, room.text

    with await office.apply() as pbx, ExitStack() as stack:
        phones = office.phones(stack, anna=(anna, "answer"), bruno=(bruno, "answer"))
        from_disabled = office.dial(anna, bruno.number, hangup_after_s=0.3)
        to_disabled = office.dial(bruno, anna.number, hangup_after_s=None, timeout_s=20)
        refused_room = office.dial(carla, "850", hangup_after_s=0.3)
        joined_room = office.dial(bruno, "850", hangup_after_s=0.3)
        rang = {name: phone.invites() for name, phone in phones.items()}
        pbx.assert_no_log_problems("extensions.conf", "pjsip.conf")

    assert from_disabled.status == 403 and rang["bruno"] == []
    assert to_disabled.answered and to_disabled.remote_hangup and rang["anna"] == [], "not in service"
    assert refused_room.status == 403 and joined_room.answered


async def test_a_call_nobody_answered_mails_the_user_and_an_answered_one_does_not(office, settings, monkeypatch,
                                                                                   tmp_path):
    anna, bruno, carla = [await office.user(n) for n in ("Anna", "Bruno", "Carla")]
    for who, address in ((anna, "anna@example.com"), (carla, "carla@example.com")):
        assert (await office.api.patch(f"/api/v1/users/{who.user_id}", json={"email": address})).status_code == 200
        await set_options(office, who, missed_call_email=True)
    outbox = tmp_path / "outbox"
    outbox.mkdir()
    # The host's mail command: here a script that keeps each message in a file of its own.
    fake_sendmail = tmp_path / "sendmail"
    fake_sendmail.write_text(f'#!/bin/sh\ncat > "{outbox}/mail-$$"\n')
    fake_sendmail.chmod(0o755)
    monkeypatch.setattr(settings, "asterisk_mailcmd", str(fake_sendmail))

    with await office.apply() as pbx, ExitStack() as stack:
        office.phones(stack, anna=(anna, "ring"), carla=(carla, "answer"))
        # Carla answers first: had her call made a mail, it would be there before Anna's.
        office.dial(bruno, carla.number, hangup_after_s=0.3)
        office.dial(bruno, anna.number, cancel_after_s=1.0, hangup_after_s=None)  # Bruno gives up while it rings
        mails = wait_until(lambda: sorted(outbox.iterdir()) or None, 10, f"a mail in {outbox}")
        pbx.assert_no_log_problems("extensions.conf")

    [mail] = [path.read_text() for path in mails]
    assert "To: anna@example.com" in mail, "only Anna missed a call"
    assert f"Subject: Missed call from {bruno.number}" in mail
