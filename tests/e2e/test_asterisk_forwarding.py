"""Users' forwarding rules proven on a real Asterisk 22: the rules and statuses are set through the API, applied,
and sipp phones and carriers show where each call went. A status change is pushed over a real AMI connection to
the running Asterisk and changes the route of the very next call, without an apply.

Asterisk is found through ASTERISK_PREFIX or PATH (see tests/asterisk_tools.py); without it these tests skip
locally and fail under CI.
"""

from __future__ import annotations

import tempfile
from contextlib import ExitStack
from pathlib import Path

import pytest
from asterisk_office import Office, asterisk_port, office, settings  # noqa: F401 (fixtures)
from asterisk_tools import Asterisk, Phone, call
from sip_tools import free_tcp_port

pytestmark = pytest.mark.registrar

CARRIER, FAR_END = "127.0.0.2", "127.0.0.3"
MOBILE = "+393471234567"
AMI_USER, AMI_SECRET = "centralino", "ami-Secret-1"


async def rules(office: Office, who) -> dict:
    body = (await office.api.get(f"/api/v1/users/{who.user_id}/forwarding")).json()
    return {k: v for k, v in body.items() if k not in ("user_id", "is_default")}


async def save(office: Office, who, document: dict) -> None:
    saved = await office.api.put(f"/api/v1/users/{who.user_id}/forwarding", json=document)
    assert saved.status_code == 200, saved.text


async def patch_user(office: Office, who, **fields) -> None:
    patched = await office.api.patch(f"/api/v1/users/{who.user_id}", json=fields)
    assert patched.status_code == 200, patched.text


def user(who) -> dict:
    return {"type": "user", "user_id": who.user_id}


async def applied_with_ami(office: Office, settings, monkeypatch) -> Asterisk:
    """Apply with the service pointed at Asterisk's manager interface, and the Asterisk that offers it."""
    ami_port = free_tcp_port()
    monkeypatch.setattr(settings, "asterisk_ami_url", f"ami://{AMI_USER}:{AMI_SECRET}@127.0.0.1:{ami_port}")
    await office.apply()
    return Asterisk(with_manager(office.api.settings.config_dir / "default" / "current" / "asterisk", ami_port))


def with_manager(conf_dir: Path, port: int) -> Path:
    """The applied files plus a manager.conf (the operator's part: the product never writes AMI users)."""
    combined = Path(tempfile.mkdtemp(prefix="conf-"))
    for item in conf_dir.iterdir():
        if item.is_file():
            (combined / item.name).symlink_to(item.resolve())
    (combined / "manager.conf").write_text(
        f"[general]\nenabled = yes\nport = {port}\nbindaddr = 127.0.0.1\n\n"
        f"[{AMI_USER}]\nsecret = {AMI_SECRET}\nread = system\nwrite = system\n")
    return combined


async def carrier_and_mobile_route(office: Office, far_end: Phone) -> None:
    """A trunk calls come in on (from 127.0.0.2) and one calls go out on (to the far end on 127.0.0.3)."""
    for name, host, port in (("incoming", CARRIER, 5060), ("outgoing", FAR_END, far_end.port)):
        trunk = await office.api.post("/api/v1/trunks", json={"name": name, "host": host, "port": port})
        assert trunk.status_code == 201, trunk.text
    outgoing = next(t for t in (await office.api.get("/api/v1/trunks")).json()["items"] if t["name"] == "outgoing")
    route = await office.api.post("/api/v1/outbound-routes", json={
        "name": "Mobiles", "patterns": ["_+X."], "trunks": [outgoing["id"]], "min_permission_level": 10})
    assert route.status_code == 201, route.text


async def test_no_answer_goes_to_voicemail_and_busy_to_another_extension(office):
    anna, bruno, carla, dario = [await office.user(n) for n in ("Anna", "Bruno", "Carla", "Dario")]
    await patch_user(office, anna, voicemail_enabled=True)
    document = await rules(office, anna)
    document["available"]["internal"].update(no_answer_seconds=5, busy=user(carla))
    await save(office, anna, document)
    await patch_user(office, dario, voicemail_enabled=True)
    busy_rules = await rules(office, bruno)
    busy_rules["available"]["internal"]["busy"] = user(carla)
    await save(office, bruno, busy_rules)

    with await office.apply() as pbx, ExitStack() as stack:
        phones = office.phones(stack, anna=(anna, "ring"), bruno=(bruno, "busy"), carla=(carla, "answer"))
        unanswered = office.dial(dario, anna.number, hangup_after_s=0.5)
        busy = office.dial(dario, bruno.number, hangup_after_s=0.3)
        cancels, carla_rang = phones["anna"].received("CANCEL"), phones["carla"].invites()
        pbx.assert_no_log_problems("extensions.conf")

    assert unanswered.answered, "voicemail answers after Anna's phone rang"
    assert unanswered.answered_at - unanswered.started_at >= 4.5, "after the 5 s no-answer time"
    assert len(cancels) >= 1
    assert busy.answered and len(carla_rang) == 1, "Bruno is busy: Carla takes the call"


async def test_not_registered_external_calls_reach_the_mobile_through_a_trunk_internal_ones_end(office):
    anna, bruno = [await office.user(n) for n in ("Anna", "Bruno")]
    await patch_user(office, anna, mobile=MOBILE)
    with ExitStack() as stack:
        far_end = stack.enter_context(Phone("answer", host=FAR_END, name="far-end"))
        await carrier_and_mobile_route(office, far_end)
        did = await office.api.post("/api/v1/dids", json={"number": "+390212340021"})
        assert did.status_code == 201, did.text
        assigned = await office.api.put(f"/api/v1/users/{anna.user_id}/dids/{did.json()['id']}")
        assert assigned.status_code in (200, 201), assigned.text
        document = await rules(office, anna)
        document["available"]["external"]["not_registered"] = {"type": "mobile"}
        document["available"]["internal"]["not_registered"] = {"type": "hangup"}
        await save(office, anna, document)

        with await office.apply() as pbx:
            office.phones(stack, bruno=(bruno, "answer"))  # Anna has no phone registered
            from_outside = call(office.port, "+390212340021", caller="+390612345678", password=None, host=CARRIER,
                                hangup_after_s=0.3)
            from_inside = office.dial(bruno, anna.number, hangup_after_s=0.3)
            invites = far_end.invites()
            pbx.assert_no_log_problems("extensions.conf", "pjsip.conf")

    assert from_outside.answered and [i.first_line.split()[1].split("@")[0] for i in invites] == [f"sip:{MOBILE}"]
    assert from_inside.status >= 400, "an internal call follows the internal rule: end call"


async def test_a_status_change_through_the_api_changes_the_next_call_without_an_apply(office, settings, monkeypatch):
    anna, bruno, carla = [await office.user(n) for n in ("Anna", "Bruno", "Carla")]
    document = await rules(office, anna)
    document["dnd"]["internal"]["action"] = {"type": "hangup"}
    document["exceptions"] = [{"caller_id": carla.number, "destination": user(bruno)}]
    await save(office, anna, document)

    with await applied_with_ami(office, settings, monkeypatch) as pbx, ExitStack() as stack:
        phones = office.phones(stack, anna=(anna, "answer"), bruno=(bruno, "answer"))
        available = office.dial(bruno, anna.number, hangup_after_s=0.3)
        changed = await office.api.put(f"/api/v1/users/{anna.user_id}/status", json={"status": "dnd"})
        in_dnd = office.dial(bruno, anna.number, hangup_after_s=0.3)
        excepted = office.dial(carla, anna.number, hangup_after_s=0.3)
        stored = pbx.cli(f"database get centralino status/{anna.user_id}")
        rang = {name: phone.invites() for name, phone in phones.items()}
        pending = (await office.api.get("/api/v1/config/status")).json()["pending"]
        pbx.assert_no_log_problems("extensions.conf")

    assert changed.status_code == 200 and changed.json()["pushed"] is True, changed.text
    assert "Value: dnd" in stored and not pending
    assert available.answered and len(rang["anna"]) == 1, "available: Anna's phone rang once"
    assert in_dnd.status >= 400, "in DND the next internal call ends"
    assert excepted.answered and len(rang["bruno"]) == 1, "the exception wins: Carla's call rings Bruno"


async def test_follow_me_rings_the_steps_in_order_and_not_the_users_phone(office):
    anna, bruno, carla, dario = [await office.user(n) for n in ("Anna", "Bruno", "Carla", "Dario")]
    document = await rules(office, anna)
    document["follow_me"] = {"enabled": True, "then": {"type": "hangup"}, "steps": [
        {"destination": user(bruno), "ring_seconds": 5}, {"destination": user(carla), "ring_seconds": 10}]}
    await save(office, anna, document)

    with await office.apply() as pbx, ExitStack() as stack:
        phones = office.phones(stack, anna=(anna, "answer"), bruno=(bruno, "ring"), carla=(carla, "answer"))
        result = office.dial(dario, anna.number, hangup_after_s=0.3)
        [bruno_invite], [carla_invite] = phones["bruno"].invites(), phones["carla"].invites()
        [bruno_cancel, *_] = phones["bruno"].received("CANCEL")
        anna_rang = phones["anna"].invites()
        pbx.assert_no_log_problems("extensions.conf")

    assert result.answered
    assert anna_rang == [], "with follow-me the user's own phone does not ring"
    assert bruno_invite.timestamp < bruno_cancel.timestamp <= carla_invite.timestamp, "Bruno first, then Carla"
    assert carla_invite.timestamp - bruno_invite.timestamp >= 4.5, "Bruno rang for his 5 s"


async def test_a_forwarding_loop_ends_in_the_last_users_voicemail(office):
    anna, bruno, carla = [await office.user(n) for n in ("Anna", "Bruno", "Carla")]
    await patch_user(office, bruno, voicemail_enabled=True)
    for who, other in ((anna, bruno), (bruno, anna)):
        document = await rules(office, who)
        document["available"]["internal"]["not_registered"] = user(other)
        await save(office, who, document)

    with await office.apply() as pbx:  # neither Anna nor Bruno has a phone registered: A → B → A → …
        result = call(office.port, anna.number, caller=carla.number, auth_id=carla.auth_id, password=carla.password,
                      hangup_after_s=0.3, timeout_s=20)
        hops = pbx.log_text()
        pbx.assert_no_log_problems("extensions.conf")

    assert result.answered, "the hop limit ends the loop in Bruno's voicemail"
    assert "maximum" not in hops.lower()


async def test_a_status_that_logs_the_user_out_of_queues_leaves_it_out_of_queue_calls(office):
    anna, bruno, dario = [await office.user(n) for n in ("Anna", "Bruno", "Dario")]
    group = await office.group(extension="next", ring_strategy="queue", ring_timeout=30)
    await office.member(group, anna)
    await office.member(group, bruno)
    document = await rules(office, anna)
    document["away"]["logout_from_queues"] = True
    await save(office, anna, document)
    changed = await office.api.put(f"/api/v1/users/{anna.user_id}/status", json={"status": "away"})
    assert changed.status_code == 200, changed.text

    with await office.apply() as pbx, ExitStack() as stack:
        phones = office.phones(stack, anna=(anna, "answer"), bruno=(bruno, "answer"))
        # Twice: with round-robin memory, a logged-in Anna would get one of two calls. The queue answers its
        # caller at once; Dario stays on long enough for a member to be offered the call.
        for _ in range(2):
            office.dial(dario, str(group["extension"]), hangup_after_s=3)
        members = pbx.cli("queue show")
        rang = {name: phone.invites() for name, phone in phones.items()}
        pbx.assert_no_log_problems("extensions.conf", "queues.conf")

    assert len(rang["bruno"]) == 2 and rang["anna"] == [], "only Bruno is offered queue calls"
    anna_line = next(line for line in members.splitlines() if f"PJSIP/{anna.number})" in line)
    assert "paused" in anna_line.lower(), members


async def test_a_status_key_on_the_phone_changes_the_next_call_and_the_api_reads_it_back(office, settings,
                                                                                          monkeypatch):
    anna, bruno = [await office.user(n) for n in ("Anna", "Bruno")]
    document = await rules(office, anna)
    document["dnd"]["internal"]["action"] = {"type": "hangup"}
    await save(office, anna, document)

    with await applied_with_ami(office, settings, monkeypatch) as pbx, ExitStack() as stack:
        phones = office.phones(stack, anna=(anna, "answer"))
        before = (await office.api.get(f"/api/v1/users/{anna.user_id}/status")).json()
        pressed = office.dial(anna, "*283")  # the key "change_status: dnd"
        after = (await office.api.get(f"/api/v1/users/{anna.user_id}/status")).json()
        in_dnd = office.dial(bruno, anna.number, hangup_after_s=0.3)
        rang = phones["anna"].invites()
        pbx.assert_no_log_problems("extensions.conf")

    assert before["status"] == "available" and pressed.answered, "the phone's key is answered: done"
    assert after["status"] == "dnd" and after["effective_status"] == "dnd", "the API reads the phone's change"
    assert in_dnd.status >= 400 and rang == [], "the next call follows DND: Anna's phone does not ring"


async def test_the_agent_key_logs_the_user_out_of_its_queues_and_back_in(office):
    anna, bruno, dario = [await office.user(n) for n in ("Anna", "Bruno", "Dario")]
    group = await office.group(extension="next", ring_strategy="queue", ring_timeout=30)
    await office.member(group, anna)
    await office.member(group, bruno)

    with await office.apply() as pbx, ExitStack() as stack:
        phones = office.phones(stack, anna=(anna, "answer"), bruno=(bruno, "answer"))
        logged_out = office.dial(anna, "*29")
        for _ in range(2):
            office.dial(dario, str(group["extension"]), hangup_after_s=3)
        while_out = {name: len(phone.invites()) for name, phone in phones.items()}
        logged_in = office.dial(anna, "*29")
        for _ in range(2):
            office.dial(dario, str(group["extension"]), hangup_after_s=3)
        after = {name: len(phone.invites()) - while_out[name] for name, phone in phones.items()}
        pbx.assert_no_log_problems("extensions.conf", "queues.conf")

    assert logged_out.answered and logged_in.answered
    assert while_out == {"anna": 0, "bruno": 2}, "logged out: only Bruno is offered queue calls"
    assert after["anna"] >= 1, "back in: the round robin offers Anna a call again"
