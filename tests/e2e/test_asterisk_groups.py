"""Groups and rights proven on a real Asterisk 22: groups and memberships are made through the API, applied,
and the live Asterisk files are loaded by a private instance on 127.0.0.1. Scripted sipp phones register,
call, subscribe and use the feature codes; what reaches which phone is read from their SIP traces.

Asterisk is found through ASTERISK_PREFIX or PATH (see tests/asterisk_tools.py); without it these tests skip
locally and fail under CI.
"""

from __future__ import annotations

from contextlib import ExitStack

import pytest
from asterisk_office import GROUPS, Office, asterisk_port, office, settings  # noqa: F401 (fixtures)
from asterisk_tools import Phone, Subscription, asterisk_prefix, subscribe, wait_until

pytestmark = pytest.mark.registrar

RING = 5  # seconds: the shortest ring_timeout the API accepts keeps these calls short


def first_invite_at(phone: Phone) -> float:
    return wait_until(lambda: phone.invites(), 15, f"an INVITE at {phone.trace_path}")[0].timestamp


# --- Dialable groups -------------------------------------------------------------------------------------


async def test_a_ring_all_group_rings_every_member_at_once_then_its_no_answer_destination(office):
    anna, bruno, carla, dario = [await office.user(n) for n in ("Anna", "Bruno", "Carla", "Dario")]
    group = await office.group(extension="next", ring_strategy="ring_all", ring_timeout=RING,
                               no_answer_destination={"type": "user", "user_id": carla.user_id})
    await office.member(group, anna)
    await office.member(group, bruno)

    with await office.apply() as pbx, ExitStack() as stack:
        phones = office.phones(stack, anna=(anna, "ring"), bruno=(bruno, "ring"), carla=(carla, "answer"))
        result = office.dial(dario, str(group["extension"]), hangup_after_s=0.5)
        pbx.assert_no_log_problems("extensions.conf", "pjsip.conf")
        anna_at, bruno_at, carla_at = (first_invite_at(phones[n]) for n in ("anna", "bruno", "carla"))

    assert result.status == 200, "the no-answer destination (Carla) answered"
    assert abs(anna_at - bruno_at) < 1.0, "both members ring at once"
    assert carla_at - anna_at >= RING - 0.5, "the destination rings only after the group's ring time"


async def test_a_hunt_group_rings_members_one_after_another_in_member_order(office):
    anna, bruno, dario = [await office.user(n) for n in ("Anna", "Bruno", "Dario")]
    group = await office.group(extension="next", ring_strategy="hunt", ring_timeout=RING)
    await office.api.put(f"{GROUPS}/{group['id']}/members/{anna.user_id}", json={"position": 0})
    await office.api.put(f"{GROUPS}/{group['id']}/members/{bruno.user_id}", json={"position": 1})

    with await office.apply(), ExitStack() as stack:
        phones = office.phones(stack, anna=(anna, "ring"), bruno=(bruno, "answer"))
        result = office.dial(dario, str(group["extension"]), hangup_after_s=0.5)
        anna_at, bruno_at = first_invite_at(phones["anna"]), first_invite_at(phones["bruno"])
        anna_cancelled = phones["anna"].received("CANCEL")

    assert result.status == 200, "Bruno, second in line, answered"
    assert bruno_at - anna_at >= RING - 0.5, "Bruno rings only after Anna's turn is over"
    assert anna_cancelled, "Anna stops ringing when her turn ends"


async def test_a_queue_group_offers_the_call_to_its_members_then_goes_to_the_no_answer_destination(office):
    anna, carla, dario = [await office.user(n) for n in ("Anna", "Carla", "Dario")]
    group = await office.group(extension="next", ring_strategy="queue", ring_timeout=RING,
                               no_answer_destination={"type": "user", "user_id": carla.user_id})
    await office.member(group, anna)

    with await office.apply() as pbx, ExitStack() as stack:
        phones = office.phones(stack, anna=(anna, "ring"), carla=(carla, "answer"))
        assert "(PJSIP/" + anna.number + ")" in pbx.cli("queue show")
        # The queue answers its caller at once (callers wait in line): Dario stays on past the queue's time.
        office.dial(dario, str(group["extension"]), hangup_after_s=RING + 3, timeout_s=30)
        anna_at, carla_at = first_invite_at(phones["anna"]), first_invite_at(phones["carla"])
        carla_answered = phones["carla"].wait_for("ACK")

    assert carla_at - anna_at >= RING - 1.5, "Carla gets the call once the queue's time is up"
    assert carla_answered, "Carla answered the queued call"


async def test_a_group_without_an_active_member_goes_straight_to_its_destination(office):
    carla, dario, gone = [await office.user(n) for n in ("Carla", "Dario", "Gone")]
    group = await office.group(extension="next", ring_timeout=60,
                               no_answer_destination={"type": "user", "user_id": carla.user_id})
    await office.member(group, gone)
    users = (await office.api.get("/api/v1/sip-accounts", params={"q": gone.number})).json()["items"]
    deactivated = await office.api.patch(f"/api/v1/sip-accounts/{users[0]['id']}", json={"active": False})
    assert deactivated.status_code == 200, deactivated.text

    with await office.apply(), ExitStack() as stack:
        phones = office.phones(stack, carla=(carla, "answer"))
        result = office.dial(dario, str(group["extension"]), hangup_after_s=0.5)
        carla_at = first_invite_at(phones["carla"])

    assert result.status == 200
    assert carla_at - result.started_at < 3, "no 60 s of ringing nobody"


# --- Presence ----------------------------------------------------------------------------------------------


async def test_blf_subscriptions_follow_show_presence_and_see_members_in_a_shared_group(office):
    anna, bruno, carla, dario = [await office.user(n) for n in ("Anna", "Bruno", "Carla", "Dario")]
    # Carla and Dario are only in a group of their own; Dario there does not see the members.
    await office.leave_default(carla, dario)
    apart = await office.group()
    await office.member(apart, carla)
    await office.member(apart, dario, see_members=False)

    with await office.apply(), ExitStack() as stack:
        phones = office.phones(stack, bruno=(bruno, "ring"), carla=(carla, "ring"))
        refused = subscribe(office.port, carla.number, subscriber=anna.number, auth_id=anna.auth_id,
                            password=anna.password)
        blind = subscribe(office.port, carla.number, subscriber=dario.number, auth_id=dario.auth_id,
                          password=dario.password)
        with Subscription(office.port, bruno.number, subscriber=anna.number, auth_id=anna.auth_id,
                          password=anna.password, hold_s=3) as watching:
            watching.wait_notify()
            ringing = office.call(carla, bruno.number, cancel_after_s=1.5).start()
            early = watching.wait_notify(lambda n: "early" in n.body)
            ringing.wait()
        assert phones["bruno"].invites()

    assert refused.status >= 400 and not refused.notified, "Carla does not show her presence to Anna"
    assert blind.status >= 400 and not blind.notified, "Dario does not see his group's members"
    assert f"{bruno.number}@" in early.body or bruno.number in early.body


# --- Pickup, barge, intercom, park ---------------------------------------------------------------------------


async def test_a_member_with_operate_calls_picks_up_a_ringing_colleague_and_one_without_cannot(office):
    anna, bruno, carla, dario = [await office.user(n) for n in ("Anna", "Bruno", "Carla", "Dario")]
    team = await office.group()
    await office.member(team, anna)
    await office.member(team, bruno, operate_calls=True)
    await office.member(team, carla)

    with await office.apply(), ExitStack() as stack:
        phones = office.phones(stack, anna=(anna, "ring"))
        ringing = office.call(dario, anna.number, hangup_after_s=0.5).start()
        phones["anna"].wait_for("INVITE")
        without_right = office.dial(carla, "*8", hangup_after_s=0.5)
        picked = office.dial(bruno, "*8", hangup_after_s=1.0)
        caller = ringing.wait()
        anna_cancelled = phones["anna"].received("CANCEL")

    assert without_right.status == 403
    assert picked.status == 200
    assert caller.status == 200, "Dario's call was answered by Bruno's pickup"
    assert anna_cancelled, "Anna's phone stops ringing"


async def test_barge_listen_and_whisper_work_only_for_members_with_the_right_towards_that_group(office):
    anna, bruno, carla, dario, emma = [await office.user(n) for n in ("Anna", "Bruno", "Carla", "Dario", "Emma")]
    team = await office.group()
    await office.member(team, anna, role="manager")  # a manager holds every right by default
    await office.member(team, bruno)
    await office.member(team, carla)

    with await office.apply() as pbx, ExitStack() as stack:
        office.phones(stack, bruno=(bruno, "answer"), emma=(emma, "answer"))
        with office.call(dario, bruno.number, hangup_after_s=20) as talking, \
                office.call(dario, emma.number, hangup_after_s=20) as outside:
            assert talking.wait_status() == 200 and outside.wait_status() == 200
            refused = {code: office.dial(carla, f"{code}{bruno.number}") for code in ("*31", "*32", "*33")}
            not_a_member = office.dial(anna, f"*33{emma.number}")
            with office.call(anna, f"*33{bruno.number}", hangup_after_s=20) as barging:
                assert barging.wait_status() == 200
                pbx.wait_cli("core show channels concise", r"!ChanSpy!PJSIP/" + bruno.number + "-")
            listened = office.dial(anna, f"*31{bruno.number}", hangup_after_s=0.5)
            whispered = office.dial(anna, f"*32{bruno.number}", hangup_after_s=0.5)

    assert {code: r.status for code, r in refused.items()} == {"*31": 403, "*32": 403, "*33": 403}
    assert not_a_member.status == 403, "Emma is in no group where Anna may barge"
    assert listened.status == 200 and whispered.status == 200


async def test_intercom_auto_answers_only_when_the_caller_has_the_right(office):
    anna, bruno, carla = [await office.user(n) for n in ("Anna", "Bruno", "Carla")]
    team = await office.group()
    await office.member(team, anna, intercom=True)
    await office.member(team, bruno)
    await office.member(team, carla)

    with await office.apply(), ExitStack() as stack:
        phones = office.phones(stack, bruno=(bruno, "answer"))
        allowed = office.dial(anna, f"*90{bruno.number}", hangup_after_s=0.5)
        refused = office.dial(carla, f"*90{bruno.number}", hangup_after_s=0.5)
        [invite] = phones["bruno"].invites()

    assert allowed.status == 200 and refused.status == 403
    assert "answer-after=0" in (invite.header("Call-Info") or "")
    assert "alert-autoanswer" in (invite.header("Alert-Info") or "")


async def test_only_members_with_the_park_right_park_calls_in_the_lot(office):
    patched = await office.api.patch("/api/v1/organization", json={"parking_extension": 700, "parking_slots": 3})
    assert patched.status_code == 200, patched.text
    anna, carla = [await office.user(n) for n in ("Anna", "Carla")]
    team = await office.group()
    await office.member(team, anna, park=True)
    await office.member(team, carla)

    with await office.apply() as pbx:
        refused = office.dial(carla, "700", hangup_after_s=0.5)
        with office.call(anna, "700", hangup_after_s=20) as parking:
            assert parking.wait_status() == 200
            pbx.wait_cli("parking show default", r"Space\s*:\s*701")

    assert refused.status == 403


def test_a_missing_asterisk_skips_locally_and_fails_under_ci(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("ASTERISK_PREFIX", str(tmp_path / "nowhere"))
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="Asterisk 22 not found"):
        asterisk_prefix()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="must not be skipped"):
        asterisk_prefix()
