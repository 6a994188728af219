"""Cloning a user (`POST /users/{id}/clone`), as 3CX does: the call handling is copied, the person's own things are
not, and a refused clone leaves nothing behind."""

from __future__ import annotations

import io
import wave

from problems import locs, problem

USERS, GROUPS = "/api/v1/users", "/api/v1/groups"


def wav() -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\0\x10" * 800)
    return buffer.getvalue()


async def original(api) -> tuple[dict, dict]:
    """Anna: voicemail with a greeting, forwarding with an exception, keys, options with an outbound PIN, a DID,
    a login, and a manager's membership with its rights in Sales."""
    colleague = await api.create_user(extension="next")
    anna = await api.create_user(extension="next", mobile="+393471234567", voicemail_enabled=True,
                                 email="anna@example.com", language="it",
                                 access={"username": "anna", "password": "Password-123", "role": "user"})
    sales = (await api.post(GROUPS, json={"name": "Sales"})).json()
    for who, role in ((anna, "manager"), (colleague, "member")):
        await api.put(f"{GROUPS}/{sales['id']}/members/{who['id']}", json={"role": role, "rights": {"barge": True}})
    vm = await api.put(f"{USERS}/{anna['id']}/voicemail", json={
        "enabled": True, "pin": "730519", "play_caller_id": True, "email_notification": "attach"})
    assert vm.status_code == 200, vm.text
    assert (await api.post(f"{USERS}/{anna['id']}/voicemail/greetings", content=wav(),
                           headers={**api.headers, "Content-Type": "audio/wav"})).status_code == 201
    rules = (await api.get(f"{USERS}/{anna['id']}/forwarding")).json()
    rules = {k: v for k, v in rules.items() if k not in ("user_id", "is_default")}
    rules["available"]["external"]["no_answer"] = {"type": "mobile"}
    rules["exceptions"] = [{"caller_id": "+3906*", "destination": {"type": "user", "user_id": colleague["id"]}}]
    assert (await api.put(f"{USERS}/{anna['id']}/forwarding", json=rules)).status_code == 200
    assert (await api.put(f"{USERS}/{anna['id']}/keys", json={"count": 4, "keys": [
        {"index": 1, "type": "blf", "user_id": colleague["id"]}, {"index": 2, "type": "pickup"}]})).status_code == 200
    assert (await api.put(f"{USERS}/{anna['id']}/options", json={
        "external_calls_disabled": True, "outbound_pin": "582047"})).status_code == 200
    did = (await api.post("/api/v1/dids", json={"number": "+390212349999"})).json()
    assert (await api.put(f"{USERS}/{anna['id']}/dids/{did['id']}")).status_code == 200
    return anna, colleague


async def test_cloning_copies_the_call_handling_and_rights(api):
    anna, colleague = await original(api)

    cloned = await api.post(f"{USERS}/{anna['id']}/clone", json={
        "first_name": "Bruno", "last_name": "Bianchi", "email": "bruno@example.com", "mobile": "+393479999999"})

    assert cloned.status_code == 201, cloned.text
    bruno = cloned.json()
    url = f"{USERS}/{bruno['id']}"
    anna_now = (await api.get(f"{USERS}/{anna['id']}")).json()
    assert bruno["language"] == "it"
    assert [(g["name"], g["role"]) for g in bruno["groups"]] == [(g["name"], g["role"]) for g in anna_now["groups"]]
    sales = next(g for g in bruno["groups"] if g["name"] == "Sales")
    member = (await api.get(f"{GROUPS}/{sales['id']}/members/{bruno['id']}")).json()
    assert member["role"] == "manager" and member["rights"]["barge"] is True
    vm = (await api.get(f"{url}/voicemail")).json()
    assert (vm["enabled"], vm["play_caller_id"], vm["email_notification"]) == (True, True, "attach")
    rules = (await api.get(f"{url}/forwarding")).json()
    assert rules["available"]["external"]["no_answer"] == {"type": "mobile"}
    assert rules["exceptions"][0]["destination"]["user_id"] == colleague["id"]
    assert (await api.get(f"{url}/keys")).json()["keys"][0] == {"index": 1, "type": "blf",
                                                                "user_id": colleague["id"], "label": None}
    assert (await api.get(f"{url}/options")).json()["external_calls_disabled"] is True


async def test_cloning_gives_the_clone_a_new_voicemail_pin_and_new_secrets(api):
    anna, _ = await original(api)

    bruno = (await api.post(f"{USERS}/{anna['id']}/clone", json={"first_name": "Bruno",
                                                                "mobile": "+393479999999"})).json()

    pin = (await api.get(f"{USERS}/{bruno['id']}/voicemail/pin")).json()["pin"]
    assert pin != "730519"
    assert bruno["outbound_pin"] not in (None, "582047") and bruno["sip_password"]
    assert bruno["sip_account"]["extension"] != anna["sip_account"]["extension"]


async def test_a_clone_never_gets_the_dids_login_greetings_or_e_mail(api):
    anna, _ = await original(api)

    bruno = (await api.post(f"{USERS}/{anna['id']}/clone", json={"first_name": "Bruno",
                                                                "mobile": "+393479999999"})).json()

    assert bruno["access"] is None and bruno["email"] is None
    assert (await api.get(f"{USERS}/{bruno['id']}/voicemail")).json()["greetings"] == []
    assert (await api.get("/api/v1/dids", params={"user_id": bruno["id"]})).json()["items"] == []


async def test_a_refused_clone_leaves_nothing_behind(api):
    anna, _ = await original(api)
    before = (await api.get(USERS)).json()["total"]

    no_mobile = await api.post(f"{USERS}/{anna['id']}/clone", json={"first_name": "Bruno"})
    taken = await api.post(f"{USERS}/{anna['id']}/clone", json={
        "first_name": "Carla", "mobile": "+393479999999", "extension": anna["sip_account"]["extension"]})

    assert {tuple(loc) for loc in locs(problem(no_mobile, 422))} == {("body", "mobile")}
    assert taken.status_code == 409
    assert (await api.get(USERS)).json()["total"] == before


async def test_a_user_login_cannot_clone(api):
    anna, _ = await original(api)
    _me, headers = await api.user_with_role("user", extension="next")

    refused = await api.post(f"{USERS}/{anna['id']}/clone", json={"first_name": "X"}, headers=headers)

    assert refused.status_code == 404, "a colleague outside scope 'own' is not even visible"
