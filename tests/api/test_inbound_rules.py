"""Inbound rules: one per DID, destinations that must exist in the organization, an office-hours schedule with
its out-of-hours and holiday destinations, scope 'all' only, and targets that cannot vanish under a rule."""

from __future__ import annotations

from problems import locs, problem

DIDS = "/api/v1/dids"
RULES = "/api/v1/inbound-rules"


async def did(api, number="+48221234567") -> dict:
    response = await api.post(DIDS, json={"number": number})
    assert response.status_code == 201, response.text
    return response.json()


async def default_schedule(api) -> dict:
    listed = (await api.get("/api/v1/office-hours", params={"q": "default"})).json()["items"]
    return next(s for s in listed if s["name"] == "default")


async def test_a_rule_routes_a_did_and_the_did_leaves_the_free_pool(api):
    anna = await api.create_user(first_name="Anna", extension="next")
    number = await did(api)

    created = await api.post(RULES, json={"name": "Main", "did_id": number["id"],
                                          "destination": {"type": "user", "user_id": anna["id"]}})

    assert created.status_code == 201, created.text
    assert created.headers["Location"].endswith(created.json()["id"]) and created.headers["ETag"]
    assert created.json()["number"] == "+48221234567"
    assert (await api.get(DIDS, params={"assigned": "false"})).json()["total"] == 0


async def test_a_second_rule_for_a_did_is_409_naming_the_did(api):
    number = await did(api)
    body = {"name": "Main", "did_id": number["id"], "destination": {"type": "hangup"}}
    assert (await api.post(RULES, json=body)).status_code == 201

    conflict = problem(await api.post(RULES, json={**body, "name": "Again"}), 409)

    assert locs(conflict) == [["body", "did_id"]]


async def test_a_destination_in_another_organization_is_422_and_nothing_is_saved(api):
    created = await api.post("/api/v1/organizations", json={"name": "Beta", "slug": "beta",
                                                            "sip_domain": "beta.example.com"})
    assert created.status_code == 201
    theirs = await api.create_user(headers={**api.headers, "X-Organization": "beta"}, extension="next")
    number = await did(api)

    body = problem(await api.post(RULES, json={"name": "Main", "did_id": number["id"],
                                               "destination": {"type": "user", "user_id": theirs["id"]}}), 422)

    assert locs(body) == [["body", "destination", "user_id"]]
    assert (await api.get(RULES)).json()["total"] == 0


async def test_a_schedule_needs_an_out_of_hours_destination_and_out_of_hours_needs_a_schedule(api):
    number = await did(api)
    schedule = await default_schedule(api)

    without_target = problem(await api.post(RULES, json={
        "name": "Main", "did_id": number["id"], "destination": {"type": "hangup"},
        "office_hours_id": schedule["id"]}), 422)
    without_schedule = problem(await api.post(RULES, json={
        "name": "Main", "did_id": number["id"], "destination": {"type": "hangup"},
        "out_of_hours_destination": {"type": "not_configured"}}), 422)

    assert locs(without_target) == [["body", "out_of_hours_destination"]]
    assert locs(without_schedule) == [["body", "out_of_hours_destination"]]


async def test_dropping_the_schedule_drops_its_destinations(api):
    anna = await api.create_user(extension="next", voicemail_enabled=True)
    number = await did(api)
    schedule = await default_schedule(api)
    rule = (await api.post(RULES, json={
        "name": "Main", "did_id": number["id"], "destination": {"type": "user", "user_id": anna["id"]},
        "office_hours_id": schedule["id"], "out_of_hours_destination": {"type": "voicemail", "user_id": anna["id"]},
        "holiday_destination": {"type": "hangup"}})).json()

    patched = await api.patch(f"{RULES}/{rule['id']}", json={"office_hours_id": None})

    assert patched.status_code == 200, patched.text
    assert (patched.json()["out_of_hours_destination"], patched.json()["holiday_destination"]) == (None, None)


async def test_targets_and_schedules_a_rule_uses_cannot_be_deleted_under_it(api):
    anna = await api.create_user(first_name="Anna", extension="next")
    number = await did(api)
    schedule = (await api.post("/api/v1/office-hours", json={"name": "Shop", "timezone": "Europe/Rome"})).json()
    group = (await api.post("/api/v1/groups", json={"name": "Sales", "extension": "next"})).json()
    await api.post(RULES, json={"name": "Main", "did_id": number["id"],
                                "destination": {"type": "group", "group_id": group["id"]},
                                "office_hours_id": schedule["id"],
                                "out_of_hours_destination": {"type": "user", "user_id": anna["id"]}})

    for url in (f"/api/v1/users/{anna['id']}", f"/api/v1/groups/{group['id']}", f"/api/v1/office-hours/{schedule['id']}"):
        body = problem(await api.delete(url), 409)
        assert body["referrers"][0]["type"] == "inbound_rule" and body["referrers"][0]["name"] == "Main", url


async def test_inbound_rules_need_scope_all_even_to_read(api):
    _, manager = await api.user_with_role("manager", "groups")
    _, readonly = await api.user_with_role("readonly", "all")

    problem(await api.get(RULES, headers=manager), 403)
    assert (await api.get(RULES, headers=readonly)).status_code == 200
    number = await did(api)
    problem(await api.post(RULES, json={"name": "x", "did_id": number["id"], "destination": {"type": "hangup"}},
                           headers=readonly), 403)


async def test_a_rule_of_another_organization_is_404(api):
    created = await api.post("/api/v1/organizations", json={"name": "Beta", "slug": "beta",
                                                            "sip_domain": "beta.example.com"})
    assert created.status_code == 201
    beta = {**api.headers, "X-Organization": "beta"}
    number = (await api.post(DIDS, json={"number": "+33142278186"}, headers=beta)).json()
    theirs = (await api.post(RULES, json={"name": "B", "did_id": number["id"], "destination": {"type": "hangup"}},
                             headers=beta)).json()

    problem(await api.get(f"{RULES}/{theirs['id']}"), 404)
    body = problem(await api.post(RULES, json={"name": "Mine", "did_id": number["id"],
                                               "destination": {"type": "hangup"}}), 422)
    assert locs(body) == [["body", "did_id"]]


async def test_an_external_destination_takes_a_valid_number_and_stores_it_in_e164(api):
    number = await did(api)
    bad = problem(await api.post(RULES, json={"name": "Out", "did_id": number["id"],
                                              "destination": {"type": "external", "number": "12"}}), 422)
    good = await api.post(RULES, json={"name": "Out", "did_id": number["id"],
                                       "destination": {"type": "external", "number": "+39 02 9988 7766"}})

    assert ["body", "destination", "external", "number"] in locs(bad)
    assert good.status_code == 201 and good.json()["destination"] == {"type": "external", "number": "+390299887766"}
