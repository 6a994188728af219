"""A user's forwarding rules (`/users/{id}/forwarding`) and presence status (`/users/{id}/status`) through the API:
the defaults, what is refused and why, who may change them, and that a status change is live state."""

from __future__ import annotations

import asyncio
import copy

from problems import locs, problem

USERS = "/api/v1/users"


def refused_fields(response, status: int = 422) -> set[tuple]:
    """The fields a problem+json response names (after checking its status and shape)."""
    return {tuple(loc) for loc in locs(problem(response, status))}


def forwarding_url(user: dict) -> str:
    return f"{USERS}/{user['id']}/forwarding"


async def rules_of(api, user: dict, headers=None) -> dict:
    response = await api.get(forwarding_url(user), headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    return {k: v for k, v in body.items() if k not in ("user_id", "is_default")}


async def pending(api) -> bool:
    return (await api.get("/api/v1/config/status")).json()["pending"]


async def test_a_new_user_gets_the_documented_defaults_voicemail_when_it_has_a_mailbox(api):
    with_mailbox = await api.create_user(extension="next", voicemail_enabled=True)
    without = await api.create_user(extension="next")

    body = (await api.get(forwarding_url(with_mailbox))).json()
    plain = await rules_of(api, without)

    assert body["is_default"] is True and body["user_id"] == with_mailbox["id"]
    available = body["available"]
    assert available["internal"] == {"no_answer_seconds": None, "no_answer": {"type": "voicemail", "user_id": None},
                                     "busy": {"type": "voicemail", "user_id": None},
                                     "not_registered": {"type": "voicemail", "user_id": None}}
    assert body["dnd"]["external"] == {"action": {"type": "voicemail", "user_id": None}}
    assert available["accept_ring_group_calls"] is True and body["dnd"]["accept_ring_group_calls"] is False
    assert plain["away"]["internal"]["action"] == {"type": "hangup"}, "no mailbox: the call ends"
    assert body["follow_me"]["enabled"] is False and body["exceptions"] == []


async def test_the_defaults_put_back_unchanged_are_accepted_and_stored(api):
    user = await api.create_user(extension="next")
    first = await api.get(forwarding_url(user))

    saved = await api.put(forwarding_url(user), json=await rules_of(api, user),
                          headers={**api.headers, "If-Match": first.headers["ETag"]})

    assert saved.status_code == 200, saved.text
    assert saved.json()["is_default"] is False
    assert saved.headers["ETag"] != first.headers["ETag"]


async def test_a_stale_if_match_is_refused_with_412(api):
    user = await api.create_user(extension="next")
    etag = (await api.get(forwarding_url(user))).headers["ETag"]
    document = await rules_of(api, user)
    assert (await api.put(forwarding_url(user), json=document)).status_code == 200

    stale = await api.put(forwarding_url(user), json=document, headers={**api.headers, "If-Match": etag})

    assert stale.status_code == 412


async def test_rules_per_status_and_origin_are_stored_as_sent(api):
    user = await api.create_user(extension="next", mobile="+393471234567", voicemail_enabled=True)
    colleague = await api.create_user(extension="next")
    document = await rules_of(api, user)
    document["available"]["internal"]["no_answer_seconds"] = 200
    document["available"]["external"]["busy"] = {"type": "user", "user_id": colleague["id"]}
    document["available"]["external"]["not_registered"] = {"type": "mobile"}
    document["dnd"]["internal"]["action"] = {"type": "hangup"}
    document["business_trip"]["external"]["action"] = {"type": "external", "number": "+44 20 7946 0001"}
    document["follow_me"] = {"enabled": True, "then": {"type": "voicemail"},
                             "steps": [{"destination": {"type": "mobile"}, "ring_seconds": 15},
                                       {"destination": {"type": "user", "user_id": colleague["id"]}}]}
    document["exceptions"] = [{"caller_id": "+3906*", "destination": {"type": "hangup"},
                               "window": {"days": ["monday"], "start": "09:00", "end": "13:00"}}]

    saved = await api.put(forwarding_url(user), json=document)

    assert saved.status_code == 200, saved.text
    stored = await rules_of(api, user)
    assert stored["available"]["internal"]["no_answer_seconds"] == 200
    assert stored["business_trip"]["external"]["action"] == {"type": "external", "number": "+442079460001"}
    assert stored["follow_me"]["steps"][1] == {"destination": {"type": "user", "user_id": colleague["id"]},
                                               "ring_seconds": 20}
    assert stored["exceptions"][0]["window"] == {"days": ["monday"], "start": "09:00", "end": "13:00"}


async def test_a_mobile_action_needs_a_mobile_number_and_voicemail_a_mailbox(api):
    user = await api.create_user(extension="next")
    document = await rules_of(api, user)
    document["available"]["external"]["no_answer"] = {"type": "mobile"}
    document["dnd"]["internal"]["action"] = {"type": "voicemail"}

    refused = await api.put(forwarding_url(user), json=document)

    assert refused_fields(refused) == {("body", "available", "external", "no_answer", "type"),
                             ("body", "dnd", "internal", "action", "type")}
    assert "mobile" in refused.text and "voicemail" in refused.text


async def test_a_forwarding_to_oneself_is_refused_naming_the_field(api):
    user = await api.create_user(extension="next")
    account = user["sip_account"]["id"]
    document = await rules_of(api, user)
    document["available"]["internal"]["busy"] = {"type": "user", "user_id": user["id"]}
    document["lunch"]["internal"]["busy"] = {"type": "extension", "sip_account_id": account}

    refused = await api.put(forwarding_url(user), json=document)

    assert refused_fields(refused) == {("body", "available", "internal", "busy", "user_id"),
                             ("body", "lunch", "internal", "busy", "sip_account_id")}


async def test_unknown_statuses_bad_ring_times_and_broken_windows_are_refused(api):
    user = await api.create_user(extension="next")
    document = await rules_of(api, user)
    bad = copy.deepcopy(document)
    bad["holiday"] = bad.pop("lunch")
    bad["available"]["internal"]["no_answer_seconds"] = 2
    bad["exceptions"] = [{"caller_id": "anonymous", "destination": {"type": "hangup"},
                          "window": {"days": ["someday"], "start": "17:00", "end": "09:00"}}]

    refused = await api.put(forwarding_url(user), json=bad)

    found = refused_fields(refused)
    assert ("body", "holiday") in found and ("body", "lunch") in found
    assert ("body", "available", "internal", "no_answer_seconds") in found
    assert ("body", "exceptions", 0, "caller_id") in found
    assert any(loc[:4] == ("body", "exceptions", 0, "window") for loc in found)
    assert (await rules_of(api, user)) == document, "nothing was saved"


async def test_a_target_in_another_organization_is_refused(api):
    created = await api.post("/api/v1/organizations", json={"name": "Other", "slug": "other",
                                                            "sip_domain": "other.example.com"})
    assert created.status_code == 201, created.text
    stranger = await api.create_user(headers={**api.headers, "X-Organization": "other"}, extension="next")
    user = await api.create_user(extension="next")
    document = await rules_of(api, user)
    document["away"]["external"]["action"] = {"type": "user", "user_id": stranger["id"]}

    refused = await api.put(forwarding_url(user), json=document)

    assert refused_fields(refused) == {("body", "away", "external", "action", "user_id")}


async def test_a_user_named_in_anothers_rules_cannot_be_deleted_until_they_change(api):
    user = await api.create_user(extension="next")
    colleague = await api.create_user(extension="next")
    document = await rules_of(api, user)
    document["available"]["internal"]["no_answer"] = {"type": "user", "user_id": colleague["id"]}
    assert (await api.put(forwarding_url(user), json=document)).status_code == 200

    refused = await api.delete(f"{USERS}/{colleague['id']}")
    deleted_owner = await api.delete(f"{USERS}/{user['id']}")
    then_deleted = await api.delete(f"{USERS}/{colleague['id']}")

    assert problem(refused, 409)["type"].endswith("/in-use")
    assert refused.json()["referrers"][0]["field"] == "available.internal.no_answer"
    assert deleted_owner.status_code == 204, "a user's own rules go with it"
    assert then_deleted.status_code == 204


async def test_auto_status_needs_a_schedule_of_the_organization(api):
    user = await api.create_user(extension="next")
    document = await rules_of(api, user)
    document["auto_status"] = {"enabled": True}
    missing = await api.put(forwarding_url(user), json=document)
    document["auto_status"] = {"enabled": True, "office_hours_id": "00000000-0000-0000-0000-000000000001"}
    unknown = await api.put(forwarding_url(user), json=document)

    assert ("body", "auto_status") in refused_fields(missing)
    assert refused_fields(unknown) == {("body", "auto_status", "office_hours_id")}


async def test_a_user_changes_its_own_rules_but_not_someone_elses(api):
    me, headers = await api.user_with_role("user", extension="next")
    other = await api.create_user(extension="next")
    document = await rules_of(api, me, headers=headers)
    document["dnd"]["internal"]["action"] = {"type": "hangup"}

    mine = await api.put(forwarding_url(me), json=document, headers=headers)
    theirs = await api.put(forwarding_url(other), json=document, headers=headers)
    read_theirs = await api.get(forwarding_url(other), headers=headers)

    assert mine.status_code == 200, mine.text
    assert theirs.status_code == 404 and read_theirs.status_code == 404, "outside scope 'own': not even visible"


async def test_changing_rules_makes_the_configuration_pending_and_is_audited(api):
    user = await api.create_user(extension="next")
    assert (await api.post("/api/v1/config/apply", json={})).status_code == 200
    document = await rules_of(api, user)
    document["dnd"]["internal"]["action"] = {"type": "hangup"}

    assert (await api.put(forwarding_url(user), json=document)).status_code == 200

    assert await pending(api)
    entries = (await api.get("/api/v1/audit-log", params={"action": "user.forwarding.replace"})).json()["items"]
    assert [e["resource_id"] for e in entries] == [user["id"]]


# --- status ----------------------------------------------------------------------------------------------------

async def test_a_status_change_is_live_state_not_a_configuration_change(api):
    user = await api.create_user(extension="next")
    assert (await api.post("/api/v1/config/apply", json={})).status_code == 200

    changed = await api.put(f"{USERS}/{user['id']}/status", json={"status": "dnd"})
    patched = await api.patch(f"{USERS}/{user['id']}", json={"status": "lunch"})

    assert changed.status_code == 200, changed.text
    assert changed.json() == {"status": "dnd", "effective_status": "dnd", "pushed": False}
    assert patched.status_code == 200 and patched.json()["status"] == "lunch"
    assert not await pending(api), "no apply is needed for a status"
    assert (await api.get(f"{USERS}/{user['id']}/status")).json()["status"] == "lunch"


async def test_an_unknown_status_is_refused_naming_the_field(api):
    user = await api.create_user(extension="next")

    refused = await api.put(f"{USERS}/{user['id']}/status", json={"status": "holiday"})

    assert refused_fields(refused) == {("body", "status")}


async def test_auto_status_makes_an_available_user_dnd_outside_hours(api):
    never = await api.post("/api/v1/office-hours", json={"name": "Never open", "timezone": "UTC", "weekly": []})
    assert never.status_code == 201, never.text
    user = await api.create_user(extension="next")
    document = await rules_of(api, user)
    document["auto_status"] = {"enabled": True, "office_hours_id": never.json()["id"]}
    assert (await api.put(forwarding_url(user), json=document)).status_code == 200

    available = (await api.get(f"{USERS}/{user['id']}/status")).json()
    await api.put(f"{USERS}/{user['id']}/status", json={"status": "lunch"})
    lunch = (await api.get(f"{USERS}/{user['id']}/status")).json()

    assert available == {"status": "available", "effective_status": "dnd", "pushed": None}
    assert lunch["effective_status"] == "lunch", "only 'available' follows the schedule"


async def test_a_user_sets_its_own_status_but_not_a_colleagues(api):
    me, headers = await api.user_with_role("user", extension="next")
    colleague = await api.create_user(extension="next")

    mine = await api.put(f"{USERS}/{me['id']}/status", json={"status": "away"}, headers=headers)
    theirs = await api.put(f"{USERS}/{colleague['id']}/status", json={"status": "away"}, headers=headers)

    assert mine.status_code == 200 and theirs.status_code == 404


async def test_a_status_change_is_pushed_to_asterisk_over_ami(api, settings, monkeypatch):
    """A fake manager interface on loopback takes the login and the DBPut the dialplan reads."""
    received: list[str] = []

    async def manager(reader, writer):
        writer.write(b"Asterisk Call Manager/9.0.0\r\n")
        while True:
            block = b""
            while not block.endswith(b"\r\n\r\n"):
                line = await reader.readline()
                if not line:
                    writer.close()
                    return
                block += line
            text = block.decode()
            received.append(text)
            action_id = next(line.split(": ", 1)[1] for line in text.splitlines() if line.startswith("ActionID"))
            writer.write(f"Response: Success\r\nActionID: {action_id}\r\n\r\n".encode())

    server = await asyncio.start_server(manager, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    monkeypatch.setattr(settings, "asterisk_ami_url", f"ami://centralino:s3cret@127.0.0.1:{port}")
    user = await api.create_user(extension="next")
    try:
        changed = await api.put(f"{USERS}/{user['id']}/status", json={"status": "business_trip"})
    finally:
        server.close()

    assert changed.json()["pushed"] is True
    login, put = received[0], received[1]
    assert "Action: Login" in login and "Username: centralino" in login and "Secret: s3cret" in login
    assert "Action: DBPut" in put and "Family: centralino" in put
    assert f"Key: status/{user['id']}" in put and "Val: business_trip" in put


async def test_an_unreachable_manager_interface_does_not_fail_the_change(api, settings, monkeypatch):
    from sip_tools import free_udp_port

    monkeypatch.setattr(settings, "asterisk_ami_url", f"ami://u:p@127.0.0.1:{free_udp_port()}")
    user = await api.create_user(extension="next")

    changed = await api.put(f"{USERS}/{user['id']}/status", json={"status": "dnd"})

    assert changed.status_code == 200 and changed.json()["pushed"] is False
    assert (await api.get(f"{USERS}/{user['id']}/status")).json()["status"] == "dnd"
