"""Calls from a carrier proven on a real Asterisk 22: a trunk, DIDs, office hours and inbound rules are made
through the API and applied; a sipp carrier on 127.0.0.2 (PJSIP identifies a trunk by source address) calls
the numbers, and the phones that ring show where each call went. Schedules are chosen so that "now" is surely
inside or outside them, whatever the test machine's clock says.
"""

from __future__ import annotations

import datetime as dt
from contextlib import ExitStack

import pytest
from asterisk_office import Office, asterisk_port, office, settings  # noqa: F401 (fixtures)
from asterisk_tools import Phone, call

pytestmark = pytest.mark.registrar

CARRIER = "127.0.0.2"
ALL_DAY = [{"day": day, "start": "00:00", "end": "24:00"}
           for day in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")]


async def schedule(office: Office, name: str, **fields) -> str:
    created = await office.api.post("/api/v1/office-hours", json={"name": name, "timezone": "UTC", **fields})
    assert created.status_code == 201, created.text
    return created.json()["id"]


async def number(office: Office, e164: str, **rule) -> str:
    did = await office.api.post("/api/v1/dids", json={"number": e164})
    assert did.status_code == 201, did.text
    if rule:
        created = await office.api.post("/api/v1/inbound-rules", json={"name": e164, "did_id": did.json()["id"],
                                                                         **rule})
        assert created.status_code == 201, created.text
    return e164


def user(extension) -> dict:
    return {"type": "user", "user_id": extension.user_id}


def from_carrier(office: Office, dialled: str, **options):
    return call(office.port, dialled, caller="+390612345678", password=None, host=CARRIER, **options)


async def test_a_call_to_a_did_reaches_its_destination_in_hours_out_of_hours_and_on_holidays(office):
    anna, bruno, carla = [await office.user(n) for n in ("Anna", "Bruno", "Carla")]
    trunk = await office.api.post("/api/v1/trunks", json={"name": "carrier", "host": CARRIER})
    assert trunk.status_code == 201, trunk.text
    today = dt.datetime.now(dt.UTC).date()
    always = await schedule(office, "Always", weekly=ALL_DAY)
    never = await schedule(office, "Never", weekly=[])
    # Yesterday, today and tomorrow (UTC): today is a holiday even if the day turns during the test.
    closed_days = await schedule(office, "Holidays", weekly=ALL_DAY, holidays=[
        {"date": (today + dt.timedelta(days=d)).isoformat(), "name": f"Day {d}"} for d in (-1, 0, 1)])
    in_hours = await number(office, "+390212340001", destination=user(anna), office_hours_id=always,
                            out_of_hours_destination=user(bruno))
    out_of_hours = await number(office, "+390212340002", destination=user(anna), office_hours_id=never,
                                out_of_hours_destination=user(bruno))
    holiday = await number(office, "+390212340003", destination=user(anna), office_hours_id=closed_days,
                           out_of_hours_destination=user(bruno), holiday_destination=user(carla))
    plain = await number(office, "+390212340004", destination=user(carla))
    free = await number(office, "+390212340005")

    with await office.apply() as pbx, ExitStack() as stack:
        phones = office.phones(stack, anna=(anna, "answer"), bruno=(bruno, "answer"), carla=(carla, "answer"))
        answered = {label: from_carrier(office, dialled, hangup_after_s=0.3).status
                    for label, dialled in (("in hours", in_hours), ("out of hours", out_of_hours),
                                           ("holiday", holiday), ("no schedule, without +", plain[1:]))}
        rang = {name: [m.header("To") for m in phone.invites()] for name, phone in phones.items()}
        not_in_service = from_carrier(office, free, hangup_after_s=None, timeout_s=20)
        unknown = from_carrier(office, "+390299999999", hangup_after_s=None, timeout_s=20)
        pbx.assert_no_log_problems("extensions.conf", "pjsip.conf")

    assert answered == dict.fromkeys(answered, 200)
    assert len(rang["anna"]) == 1, "only the in-hours call rings Anna"
    assert len(rang["bruno"]) == 1, "the out-of-hours call rings Bruno"
    assert len(rang["carla"]) == 2, "the holiday call and the plain rule ring Carla"
    for result in (not_in_service, unknown):  # "not in service" is played, then Asterisk hangs up
        assert result.status == 200 and result.remote_hangup


async def test_hangup_voicemail_and_external_destinations_of_a_did(office):
    anna = await office.user("Anna")
    patched = await office.api.patch(f"/api/v1/users/{anna.user_id}", json={"voicemail_enabled": True})
    assert patched.status_code == 200, patched.text
    with ExitStack() as stack:
        far_end = stack.enter_context(Phone("answer", host="127.0.0.3", name="far-end"))
        for name, host, port in (("incoming", CARRIER, 5060), ("outgoing", "127.0.0.3", far_end.port)):
            trunk = await office.api.post("/api/v1/trunks", json={"name": name, "host": host, "port": port})
            assert trunk.status_code == 201, trunk.text
        outgoing = next(t for t in (await office.api.get("/api/v1/trunks")).json()["items"] if t["name"] == "outgoing")
        route = await office.api.post("/api/v1/outbound-routes", json={
            "name": "World", "patterns": ["_+X."], "trunks": [outgoing["id"]], "min_permission_level": 10})
        assert route.status_code == 201, route.text
        hang_up = await number(office, "+390212340011", destination={"type": "hangup"})
        mailbox = await number(office, "+390212340012", destination={"type": "voicemail", "user_id": anna.user_id})
        forward = await number(office, "+390212340013", destination={"type": "external", "number": "+442079460001"})

        with await office.apply() as pbx:
            refused = from_carrier(office, hang_up, hangup_after_s=0.3)
            recorded = from_carrier(office, mailbox, hangup_after_s=1.0)
            forwarded = from_carrier(office, forward, hangup_after_s=0.3)
            [invite] = far_end.invites()
            pbx.assert_no_log_problems("extensions.conf", "pjsip.conf")

    assert refused.status >= 400, "hang-up: nobody answers"
    assert recorded.status == 200, "voicemail answers"
    assert forwarded.status == 200 and invite.first_line.startswith("INVITE sip:+442079460001@"), invite.first_line
