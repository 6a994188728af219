"""A user's phone keys through the API (`/users/{id}/keys`): what is refused and why, and that the keys reach the
phone's provisioning file after an apply."""

from __future__ import annotations

from urllib.parse import urlsplit

from problems import locs, problem

USERS, GROUPS = "/api/v1/users", "/api/v1/groups"


def url(user: dict) -> str:
    return f"{USERS}/{user['id']}/keys"


def refused_fields(response) -> set[tuple]:
    return {tuple(loc) for loc in locs(problem(response, 422))}


async def team(api, *members: dict, **rights) -> dict:
    group = await api.post(GROUPS, json={"name": "Reception"})
    assert group.status_code == 201, group.text
    for member in members:
        joined = await api.put(f"{GROUPS}/{group.json()['id']}/members/{member['id']}",
                               json={"role": "member", "rights": rights})
        assert joined.status_code in (200, 201), joined.text
    return group.json()


async def test_a_new_user_has_no_keys_and_saved_keys_are_read_back(api):
    anna, bruno = await api.create_user(extension="next"), await api.create_user(extension="next")
    empty = (await api.get(url(anna))).json()
    document = {"count": 6, "keys": [{"index": 1, "type": "line"},
                                     {"index": 2, "type": "blf", "user_id": bruno["id"], "label": "Bruno"},
                                     {"index": 3, "type": "speed_dial", "number": "+390612345678"},
                                     {"index": 4, "type": "pickup"}]}

    saved = await api.put(url(anna), json=document)

    assert empty == {"user_id": anna["id"], "count": 0, "keys": []}
    assert saved.status_code == 200, saved.text
    assert saved.json()["keys"][1] == {"index": 2, "type": "blf", "user_id": bruno["id"], "label": "Bruno"}
    assert saved.json()["keys"][2]["label"] is None


async def test_a_blf_key_needs_a_colleague_whose_presence_the_user_sees(api):
    anna, bruno = await api.create_user(extension="next", groups=[]), await api.create_user(extension="next", groups=[])
    blf = {"count": 2, "keys": [{"index": 1, "type": "blf", "user_id": bruno["id"]}]}

    hidden = await api.put(url(anna), json=blf)
    await team(api, anna, bruno, see_members=True, show_presence=True)
    seen = await api.put(url(anna), json=blf)

    assert refused_fields(hidden) == {("body", "keys", 0, "user_id")} and "presence" in hidden.text
    assert seen.status_code == 200, seen.text


async def test_keys_beyond_count_twice_at_one_position_or_of_unknown_types_are_refused(api):
    anna = await api.create_user(extension="next")

    beyond = await api.put(url(anna), json={"count": 2, "keys": [{"index": 3, "type": "line"}]})
    twice = await api.put(url(anna), json={"count": 2, "keys": [{"index": 1, "type": "line"},
                                                                {"index": 1, "type": "pickup"}]})
    unknown = await api.put(url(anna), json={"count": 2, "keys": [{"index": 1, "type": "fax"}]})
    bad_number = await api.put(url(anna), json={"count": 2, "keys": [{"index": 1, "type": "speed_dial",
                                                                      "number": "call me"}]})

    for refused in (beyond, twice, unknown, bad_number):
        problem(refused, 422)
    assert ("body", "keys", 0, "speed_dial", "number") in refused_fields(bad_number)


async def test_a_park_key_needs_a_parking_lot_and_a_blf_key_not_oneself(api):
    anna = await api.create_user(extension="next")

    park = await api.put(url(anna), json={"count": 1, "keys": [{"index": 1, "type": "park"}]})
    itself = await api.put(url(anna), json={"count": 1, "keys": [{"index": 1, "type": "blf", "user_id": anna["id"]}]})

    assert refused_fields(park) == {("body", "keys", 0, "type")}
    assert refused_fields(itself) == {("body", "keys", 0, "user_id")}


async def test_keys_reach_the_phone_file_after_an_apply(api):
    anna, bruno = await api.create_user(extension="next"), await api.create_user(extension="next")
    await team(api, anna, bruno, see_members=True, show_presence=True)
    phone = await api.post("/api/v1/devices", json={"vendor": "yealink", "mac": "80:5e:c0:11:22:33",
                                                    "sip_account_id": anna["sip_account"]["id"]})
    assert phone.status_code == 201, phone.text
    saved = await api.put(url(anna), json={"count": 3, "keys": [
        {"index": 2, "type": "blf", "user_id": bruno["id"], "label": "Bruno"}]})
    assert saved.status_code == 200, saved.text
    assert (await api.post("/api/v1/config/apply", json={})).status_code == 200

    path = urlsplit(phone.json()["provisioning_url"]).path.rstrip("/")
    fetched = await api.client.get(f"{path}/{phone.json()['provisioning_filename']}")

    assert fetched.status_code == 200, fetched.text
    assert "linekey.2.type = 16\n" in fetched.text
    assert f"linekey.2.value = {bruno['sip_account']['extension']}\n" in fetched.text
    assert "linekey.2.label = Bruno\n" in fetched.text


async def test_status_and_queue_login_keys_dial_their_feature_codes_on_the_phone(api, monkeypatch):
    monkeypatch.setattr(api.settings, "asterisk_ami_url", "ami://centralino:secret@127.0.0.1:5038")
    anna = await api.create_user(extension="next")
    phone = await api.post("/api/v1/devices", json={"vendor": "yealink", "mac": "80:5e:c0:11:22:34",
                                                    "sip_account_id": anna["sip_account"]["id"]})
    saved = await api.put(url(anna), json={"count": 2, "keys": [
        {"index": 1, "type": "change_status", "status": "dnd", "label": "DND"},
        {"index": 2, "type": "agent_login"}]})
    assert saved.status_code == 200, saved.text
    assert (await api.post("/api/v1/config/apply", json={})).status_code == 200

    path = urlsplit(phone.json()["provisioning_url"]).path.rstrip("/")
    fetched = (await api.client.get(f"{path}/{phone.json()['provisioning_filename']}")).text

    assert "linekey.1.value = *283\n" in fetched and "linekey.1.label = DND\n" in fetched, "*28 + the 3rd status"
    assert "linekey.2.value = *29\n" in fetched


async def test_a_status_key_needs_the_manager_interface_so_the_service_sees_the_change(api):
    anna = await api.create_user(extension="next")

    refused = await api.put(url(anna), json={"count": 1, "keys": [
        {"index": 1, "type": "change_status", "status": "away"}]})
    unknown_status = await api.put(url(anna), json={"count": 1, "keys": [
        {"index": 1, "type": "change_status", "status": "sleeping"}]})

    assert refused_fields(refused) == {("body", "keys", 0, "type")}
    assert "CENTRALINO_ASTERISK_AMI_URL" in refused.json()["detail"]
    assert ("body", "keys", 0, "change_status", "status") in refused_fields(unknown_status)
