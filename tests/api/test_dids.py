"""DIDs: numbers parsed and stored in E.164, unique across every organization, the free pool, and a user's
numbers (assigning one writes its inbound rule)."""

from __future__ import annotations

import asyncio

from problems import locs, problem

DIDS = "/api/v1/dids"
RULES = "/api/v1/inbound-rules"


async def add_did(api, number="+48 22 123 45 67", headers=None, **fields) -> dict:
    response = await api.post(DIDS, json={"number": number, **fields}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def test_a_number_is_stored_in_e164_and_joins_the_free_pool(api):
    did = await add_did(api, "+48 (22) 123-45-67", description="Reception")

    assert did["number"] == "+48221234567"
    assert (did["assigned"], did["inbound_rule_id"], did["user_id"]) == (False, None, None)
    pool = (await api.get(DIDS, params={"assigned": "false"})).json()
    assert [d["number"] for d in pool["items"]] == ["+48221234567"]


async def test_a_malformed_or_invalid_number_is_422_naming_the_field(api):
    for bad in ("not a number", "+48 12", "+999 123 456 789", ""):
        body = problem(await api.post(DIDS, json={"number": bad}), 422)
        assert ["body", "number"] in locs(body), (bad, body)
    assert (await api.get(DIDS)).json()["total"] == 0


async def test_a_number_another_organization_has_is_409_without_naming_it(api):
    created = await api.post("/api/v1/organizations", json={"name": "Beta", "slug": "beta",
                                                            "sip_domain": "beta.example.com"})
    assert created.status_code == 201, created.text
    await add_did(api, "+390212345678", headers={**api.headers, "X-Organization": "beta"})

    body = problem(await api.post(DIDS, json={"number": "+39 02 1234 5678"}), 409)

    assert locs(body) == [["body", "number"]] and "beta" not in body["detail"].lower()


async def test_two_organizations_racing_for_one_number_get_one_201(api):
    created = await api.post("/api/v1/organizations", json={"name": "Beta", "slug": "beta",
                                                            "sip_domain": "beta.example.com"})
    assert created.status_code == 201, created.text
    beta = {**api.headers, "X-Organization": "beta"}
    answers = await asyncio.gather(api.post(DIDS, json={"number": "+442071838750"}),
                                   api.post(DIDS, json={"number": "+442071838750"}, headers=beta))
    assert sorted(a.status_code for a in answers) == [201, 409]


async def test_assigning_a_did_to_a_user_creates_its_inbound_rule_and_unassigning_removes_it(api):
    anna = await api.create_user(first_name="Anna", extension="next")
    did = await add_did(api)

    assigned = await api.put(f"/api/v1/users/{anna['id']}/dids/{did['id']}")

    assert assigned.status_code == 200, assigned.text
    assert (assigned.json()["assigned"], assigned.json()["user_id"]) == (True, anna["id"])
    rule = (await api.get(f"{RULES}/{assigned.json()['inbound_rule_id']}")).json()
    assert rule["destination"] == {"type": "user", "user_id": anna["id"]} and rule["number"] == did["number"]
    mine = (await api.get(f"/api/v1/users/{anna['id']}/dids")).json()
    assert [d["id"] for d in mine["items"]] == [did["id"]]
    assert (await api.get(DIDS, params={"assigned": "false"})).json()["total"] == 0

    removed = await api.delete(f"/api/v1/users/{anna['id']}/dids/{did['id']}")

    assert removed.status_code == 204
    assert (await api.get(f"/api/v1/users/{anna['id']}/dids")).json()["total"] == 0
    assert (await api.get(DIDS, params={"assigned": "false"})).json()["total"] == 1
    problem(await api.get(f"{RULES}/{rule['id']}"), 404)


async def test_assigning_a_routed_did_to_another_user_repoints_its_rule(api):
    anna = await api.create_user(first_name="Anna", extension="next")
    bruno = await api.create_user(first_name="Bruno", extension="next")
    did = await add_did(api)
    first = (await api.put(f"/api/v1/users/{anna['id']}/dids/{did['id']}")).json()

    moved = (await api.put(f"/api/v1/users/{bruno['id']}/dids/{did['id']}")).json()

    assert moved["inbound_rule_id"] == first["inbound_rule_id"] and moved["user_id"] == bruno["id"]
    problem(await api.delete(f"/api/v1/users/{anna['id']}/dids/{did['id']}"), 404)


async def test_a_user_without_an_active_extension_cannot_get_a_did(api):
    nobody = await api.create_user(first_name="No", last_name="Phone")
    did = await add_did(api)

    body = problem(await api.put(f"/api/v1/users/{nobody['id']}/dids/{did['id']}"), 422)

    assert "active SIP account" in body["errors"][0]["msg"]
    assert (await api.get(f"{DIDS}/{did['id']}")).json()["assigned"] is False


async def test_deleting_a_did_deletes_its_rule_and_is_audited(api):
    anna = await api.create_user(extension="next")
    did = await add_did(api)
    rule_id = (await api.put(f"/api/v1/users/{anna['id']}/dids/{did['id']}")).json()["inbound_rule_id"]

    assert (await api.delete(f"{DIDS}/{did['id']}")).status_code == 204

    problem(await api.get(f"{RULES}/{rule_id}"), 404)
    actions = [e["action"] for e in (await api.get("/api/v1/audit-log")).json()["items"]]
    assert {"did.delete", "inbound_rule.delete", "did.create"} <= set(actions)


async def test_a_did_of_another_organization_is_404(api):
    created = await api.post("/api/v1/organizations", json={"name": "Beta", "slug": "beta",
                                                            "sip_domain": "beta.example.com"})
    assert created.status_code == 201
    theirs = await add_did(api, "+33142278186", headers={**api.headers, "X-Organization": "beta"})
    anna = await api.create_user(extension="next")

    problem(await api.get(f"{DIDS}/{theirs['id']}"), 404)
    problem(await api.patch(f"{DIDS}/{theirs['id']}", json={"description": "mine"}), 404)
    problem(await api.put(f"/api/v1/users/{anna['id']}/dids/{theirs['id']}"), 404)


async def test_changing_numbers_needs_scope_all_and_reading_them_needs_dids_read(api):
    did = await add_did(api)
    _, manager = await api.user_with_role("manager", "groups")
    _, user = await api.user_with_role("user", "own")

    problem(await api.post(DIDS, json={"number": "+48221234568"}, headers=manager), 403)
    problem(await api.patch(f"{DIDS}/{did['id']}", json={"description": "x"}, headers=manager), 403)
    assert (await api.get(DIDS, headers=manager)).status_code == 200
    problem(await api.get(DIDS, headers=user), 403)


async def test_a_stale_if_match_is_412_and_a_number_cannot_be_patched(api):
    did = await add_did(api)
    read = await api.get(f"{DIDS}/{did['id']}")
    await api.patch(f"{DIDS}/{did['id']}", json={"description": "first"})

    problem(await api.patch(f"{DIDS}/{did['id']}", json={"description": "second"},
                            headers={**api.headers, "If-Match": read.headers["ETag"]}), 412)
    body = problem(await api.patch(f"{DIDS}/{did['id']}", json={"number": "+48221234568"}), 422)
    assert ["body", "number"] in locs(body)


async def test_an_unknown_trunk_is_422_naming_the_field(api):
    body = problem(await api.post(DIDS, json={"number": "+48221234567",
                                              "trunk_id": "00000000-0000-4000-8000-000000000000"}), 422)
    assert locs(body) == [["body", "trunk_id"]]


async def test_filtering_dids_by_a_user_outside_the_callers_scope_is_404(api):
    outsider = await api.create_user(extension="next")
    did = await add_did(api)
    assert (await api.put(f"/api/v1/users/{outsider['id']}/dids/{did['id']}")).status_code == 200
    _, manager = await api.user_with_role("manager", "own")

    problem(await api.get(DIDS, params={"user_id": outsider["id"]}, headers=manager), 404)
    problem(await api.get(f"/api/v1/users/{outsider['id']}/dids", headers=manager), 404)
