"""Groups: DEFAULT in every organization, dialable groups in the shared number space, memberships with rights,
users' groups, and the destinations that point at groups."""

from __future__ import annotations

import asyncio
import uuid

from problems import locs, problem

GROUPS = "/api/v1/groups"


async def create_group(api, headers=None, **fields) -> dict:
    response = await api.post(GROUPS, json={"name": f"G-{uuid.uuid4().hex[:6]}", **fields}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def default_group(api, headers=None) -> dict:
    listed = (await api.get(GROUPS, params={"q": "DEFAULT"}, headers=headers)).json()["items"]
    return next(g for g in listed if g["is_default"])


async def put_member(api, group: dict, user: dict, headers=None, **membership):
    return await api.put(f"{GROUPS}/{group['id']}/members/{user['id']}", json=membership, headers=headers)


# --- DEFAULT -----------------------------------------------------------------------------------------------

async def test_every_organization_has_a_default_group_that_new_users_join_as_members(api):
    user = await api.create_user(first_name="Newcomer")

    default = await default_group(api)
    members = (await api.get(f"{GROUPS}/{default['id']}/members")).json()

    assert default["name"] == "DEFAULT" and default["extension"] is None
    assert user["groups"] == [{"id": default["id"], "name": "DEFAULT", "role": "member"}]
    newcomer = next(m for m in members["items"] if m["user_id"] == user["id"])
    assert newcomer["role"] == "member"
    assert newcomer["rights"] == {"see_members": True, "see_calls": False, "show_presence": True,
                                  "show_calls": False, "operate_calls": False, "barge": False, "intercom": False,
                                  "park": False, "control_ivr": False, "manage_phonebook": False}


async def test_a_new_organization_gets_its_own_default_group(api):
    created = await api.post("/api/v1/organizations", json={"name": "Beta", "slug": "beta",
                                                            "sip_domain": "beta.example.com"})
    assert created.status_code == 201, created.text
    in_beta = {**api.headers, "X-Organization": "beta"}

    home, beta = await default_group(api), await default_group(api, in_beta)

    assert home["id"] != beta["id"]
    problem(await api.get(f"{GROUPS}/{beta['id']}"), 404)


async def test_default_cannot_be_renamed_nor_deleted(api):
    default = await default_group(api)

    renamed = await api.patch(f"{GROUPS}/{default['id']}", json={"name": "Everyone"})
    deleted = await api.delete(f"{GROUPS}/{default['id']}")

    assert locs(problem(renamed, 409)) == [["body", "name"]]
    assert "DEFAULT group cannot be renamed" in renamed.json()["detail"]
    assert "DEFAULT group cannot be deleted" in problem(deleted, 409)["detail"]
    assert (await api.get(f"{GROUPS}/{default['id']}")).json()["name"] == "DEFAULT"


async def test_default_may_be_made_dialable_and_keeps_its_name_when_patched_with_it(api):
    default = await default_group(api)

    response = await api.patch(f"{GROUPS}/{default['id']}", json={"name": "DEFAULT", "extension": 600})

    assert response.status_code == 200, response.text
    assert response.json()["extension"] == 600


# --- groups and the number space ---------------------------------------------------------------------------

async def test_creating_a_dialable_group_returns_it_with_location_and_etag(api):
    response = await api.post(GROUPS, json={"name": "Sales", "extension": 500, "ring_strategy": "hunt",
                                            "ring_timeout": 15})

    assert response.status_code == 201, response.text
    group = response.json()
    assert response.headers["Location"].endswith(f"{GROUPS}/{group['id']}")
    assert response.headers["ETag"]
    assert (group["name"], group["extension"], group["ring_strategy"], group["ring_timeout"]) == ("Sales", 500, "hunt", 15)
    assert group["no_answer_destination"] == {"type": "hangup"}
    assert group["member_count"] == 0 and group["is_default"] is False


async def test_a_group_name_is_unique_in_the_organization_whatever_its_case(api):
    await create_group(api, name="Sales")

    response = await api.post(GROUPS, json={"name": "sales"})

    body = problem(response, 409)
    assert locs(body) == [["body", "name"]]
    assert "A group named 'sales' already exists" in body["detail"]


async def test_a_group_extension_taken_by_a_sip_account_is_409_naming_the_account(api):
    await api.post("/api/v1/sip-accounts", json={"extension": 200})

    response = await api.post(GROUPS, json={"name": "Sales", "extension": 200})

    body = problem(response, 409)
    assert locs(body) == [["body", "extension"]]
    assert "Extension 200 is already in use by a SIP account" in body["detail"]
    assert (await api.get(GROUPS, params={"q": "Sales"})).json()["total"] == 0


async def test_a_sip_account_on_a_group_extension_is_409_naming_the_group(api):
    await create_group(api, name="Sales", extension=200)

    account = await api.post("/api/v1/sip-accounts", json={"extension": 200})
    user = await api.post("/api/v1/users", json={"first_name": "Late", "extension": 200})

    assert "Extension 200 is already in use by group 'Sales'" in problem(account, 409)["detail"]
    assert "Extension 200 is already in use by group 'Sales'" in problem(user, 409)["detail"]


async def test_moving_a_sip_account_onto_a_group_number_is_409(api):
    await create_group(api, name="Sales", extension=201)
    account = (await api.post("/api/v1/sip-accounts", json={"extension": 202})).json()

    response = await api.patch(f"/api/v1/sip-accounts/{account['id']}", json={"extension": 201})

    assert "in use by group 'Sales'" in problem(response, 409)["detail"]


async def test_a_group_extension_outside_the_range_is_422_naming_the_range(api):
    response = await api.post(GROUPS, json={"name": "Sales", "extension": 1000})

    body = problem(response, 422)
    assert locs(body) == [["body", "extension"]]
    assert "between 100 and 999" in body["errors"][0]["msg"]


async def test_next_free_and_extension_next_skip_group_numbers(api):
    await create_group(api, name="Sales", extension=100)
    await create_group(api, name="Support", extension=101)

    announced = (await api.get("/api/v1/sip-accounts/next-free")).json()
    user = await api.create_user(extension="next")
    group = await create_group(api, extension="next")

    assert announced == {"extension": 102}
    assert user["sip_account"]["extension"] == 102
    assert group["extension"] == 103


async def test_a_group_number_is_freed_when_it_stops_being_dialable(api):
    group = await create_group(api, extension=100)

    await api.patch(f"{GROUPS}/{group['id']}", json={"extension": None})

    assert (await api.get("/api/v1/sip-accounts/next-free")).json() == {"extension": 100}


async def test_concurrent_accounts_and_groups_racing_for_one_number_get_one_201(api):
    racers = [api.post(GROUPS, json={"name": f"Racer {i}", "extension": 300}) for i in range(5)]
    racers += [api.post("/api/v1/sip-accounts", json={"extension": 300}) for _ in range(5)]

    responses = await asyncio.gather(*racers)

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * 9, [r.text for r in responses]


async def test_concurrent_next_numbers_for_groups_and_accounts_are_all_distinct(api):
    racers = [api.post(GROUPS, json={"name": f"Racer {i}", "extension": "next"}) for i in range(8)]
    racers += [api.post("/api/v1/sip-accounts", json={}) for _ in range(8)]

    responses = await asyncio.gather(*racers)

    assert [r.status_code for r in responses] == [201] * 16, [r.text for r in responses if r.status_code != 201]
    assert sorted(r.json()["extension"] for r in responses) == list(range(100, 116))


async def test_the_parking_lot_reserves_its_numbers(api):
    response = await api.patch("/api/v1/organization", json={"parking_extension": 700, "parking_slots": 5})
    assert response.status_code == 200, response.text

    group = await api.post(GROUPS, json={"name": "Sales", "extension": 703})
    account = await api.post("/api/v1/sip-accounts", json={"extension": 705})

    assert "in use by the parking lot" in problem(group, 409)["detail"]
    assert "in use by the parking lot" in problem(account, 409)["detail"]
    assert (await api.post("/api/v1/sip-accounts", json={"extension": 706})).status_code == 201


async def test_a_parking_lot_over_used_numbers_is_409_naming_the_field(api):
    await api.post("/api/v1/sip-accounts", json={"extension": 702})

    response = await api.patch("/api/v1/organization", json={"parking_extension": 700, "parking_slots": 5})

    assert locs(problem(response, 409)) == [["body", "parking_extension"]]
    assert (await api.get("/api/v1/organization")).json()["parking_extension"] is None


# --- destinations --------------------------------------------------------------------------------------------

async def test_a_no_answer_destination_to_an_unknown_target_is_422_naming_the_field(api):
    response = await api.post(GROUPS, json={"name": "Sales", "no_answer_destination": {
        "type": "user", "user_id": str(uuid.uuid4())}})

    assert locs(problem(response, 422)) == [["body", "no_answer_destination", "user_id"]]


async def test_a_no_answer_destination_of_an_unknown_type_is_422(api):
    response = await api.post(GROUPS, json={"name": "Sales", "no_answer_destination": {"type": "fax"}})

    assert ["body", "no_answer_destination"] in [loc[:2] for loc in locs(problem(response, 422))]


async def test_a_no_answer_destination_to_a_group_that_is_not_dialable_is_422(api):
    quiet = await create_group(api, name="Quiet")

    response = await api.post(GROUPS, json={"name": "Sales", "no_answer_destination": {
        "type": "group", "group_id": quiet["id"]}})

    assert "not dialable" in problem(response, 422)["errors"][0]["msg"]


async def test_a_group_cannot_be_its_own_no_answer_destination(api):
    group = await create_group(api, extension=500)

    response = await api.patch(f"{GROUPS}/{group['id']}", json={"no_answer_destination": {
        "type": "group", "group_id": group["id"]}})

    assert locs(problem(response, 422)) == [["body", "no_answer_destination", "group_id"]]


async def test_deleting_a_group_that_a_destination_points_at_is_409_listing_the_referrers(api):
    support = await create_group(api, name="Support", extension=501)
    sales = await create_group(api, name="Sales", extension=500, no_answer_destination={
        "type": "group", "group_id": support["id"]})

    deleted = await api.delete(f"{GROUPS}/{support['id']}")
    undialable = await api.patch(f"{GROUPS}/{support['id']}", json={"extension": None})

    body = problem(deleted, 409)
    assert body["referrers"] == [{"type": "group", "id": sales["id"], "name": "Sales",
                                  "field": "no_answer_destination"}]
    problem(undialable, 409)
    assert (await api.get(f"{GROUPS}/{support['id']}")).json()["extension"] == 501
    # Once nothing points at it, it goes.
    await api.patch(f"{GROUPS}/{sales['id']}", json={"no_answer_destination": {"type": "hangup"}})
    assert (await api.delete(f"{GROUPS}/{support['id']}")).status_code == 204


async def test_deleting_a_user_or_account_that_a_destination_points_at_is_409(api):
    user = await api.create_user(first_name="Ola", last_name="Nowak", extension=110, voicemail_enabled=True)
    group = await create_group(api, name="Sales", no_answer_destination={"type": "voicemail", "user_id": user["id"]})
    await create_group(api, name="Support", no_answer_destination={
        "type": "extension", "sip_account_id": user["sip_account"]["id"]})

    user_deleted = await api.delete(f"/api/v1/users/{user['id']}")
    account_deleted = await api.delete(f"/api/v1/sip-accounts/{user['sip_account']['id']}")

    assert problem(user_deleted, 409)["referrers"][0]["name"] == "Sales"
    assert problem(account_deleted, 409)["referrers"][0]["name"] == "Support"
    assert (await api.get(f"/api/v1/users/{user['id']}")).status_code == 200
    await api.delete(f"{GROUPS}/{group['id']}")
    assert (await api.get(f"{GROUPS}/{group['id']}")).status_code == 404


# --- memberships --------------------------------------------------------------------------------------------

async def test_a_manager_gets_every_right_by_default_and_a_member_the_documented_two(api):
    group = await create_group(api)
    boss, worker = await api.create_user(extension="next"), await api.create_user()

    as_manager = await put_member(api, group, boss, role="manager")
    as_member = await put_member(api, group, worker)

    assert as_manager.status_code == 201, as_manager.text
    assert as_manager.headers["Location"].endswith(f"{GROUPS}/{group['id']}/members/{boss['id']}")
    assert set(as_manager.json()["rights"].values()) == {True}
    assert [r for r, on in as_member.json()["rights"].items() if on] == ["see_members", "show_presence"]
    assert as_manager.json()["extension"] == boss["sip_account"]["extension"]
    fetched = await api.get(f"{GROUPS}/{group['id']}/members/{boss['id']}")
    assert fetched.json() == as_manager.json()


async def test_putting_a_membership_again_replaces_it_and_answers_200(api):
    group = await create_group(api)
    user = await api.create_user()
    await put_member(api, group, user, rights={"barge": True})

    replaced = await put_member(api, group, user, position=3, rights={"park": True})

    assert replaced.status_code == 200
    rights = replaced.json()["rights"]
    assert (rights["park"], rights["barge"], replaced.json()["position"]) == (True, False, 3)
    assert (await api.get(f"{GROUPS}/{group['id']}")).json()["member_count"] == 1


async def test_a_membership_has_an_etag_and_a_stale_if_match_is_412(api):
    group = await create_group(api)
    user = await api.create_user()
    joined = await put_member(api, group, user)
    url = f"{GROUPS}/{group['id']}/members/{user['id']}"
    read = await api.get(url)
    assert joined.status_code == 201 and joined.headers["ETag"] == read.headers["ETag"]

    first_read = {**api.headers, "If-Match": read.headers["ETag"]}
    changed = await put_member(api, group, user, headers=first_read, role="manager")
    stale_put = await put_member(api, group, user, headers=first_read)
    stale_delete = await api.delete(url, headers=first_read)

    assert changed.status_code == 200 and changed.headers["ETag"] != read.headers["ETag"]
    problem(stale_put, 412)
    problem(stale_delete, 412)
    assert (await api.get(url)).json()["role"] == "manager"
    assert (await api.delete(url, headers={**api.headers, "If-Match": changed.headers["ETag"]})).status_code == 204


async def test_if_match_on_a_membership_that_does_not_exist_is_412_and_nobody_joins(api):
    group = await create_group(api)
    user = await api.create_user()

    problem(await put_member(api, group, user, headers={**api.headers, "If-Match": '"whatever"'}), 412)

    assert (await api.get(f"{GROUPS}/{group['id']}")).json()["member_count"] == 0


async def test_an_unknown_right_is_422_naming_it(api):
    group = await create_group(api)
    user = await api.create_user()

    response = await put_member(api, group, user, rights={"fly": True})

    assert locs(problem(response, 422)) == [["body", "rights", "fly"]]


async def test_an_unknown_role_is_422(api):
    group = await create_group(api)
    user = await api.create_user()

    assert locs(problem(await put_member(api, group, user, role="boss"), 422)) == [["body", "role"]]


async def test_a_member_from_another_organization_is_404_and_nothing_is_saved(api):
    created = await api.post("/api/v1/organizations", json={"name": "Beta", "slug": "beta",
                                                            "sip_domain": "beta.example.com"})
    assert created.status_code == 201
    stranger = await api.create_user(headers={**api.headers, "X-Organization": "beta"})
    group = await create_group(api)

    response = await put_member(api, group, stranger)

    assert "User not found" in problem(response, 404)["detail"]
    assert (await api.get(f"{GROUPS}/{group['id']}")).json()["member_count"] == 0


async def test_members_are_listed_in_hunt_order(api):
    group = await create_group(api)
    first, second, third = [await api.create_user(last_name=n) for n in ("C", "A", "B")]
    for user, position in ((first, 2), (second, 0), (third, 1)):
        await put_member(api, group, user, position=position)

    listed = (await api.get(f"{GROUPS}/{group['id']}/members")).json()

    assert [m["last_name"] for m in listed["items"]] == ["A", "B", "C"]
    assert listed["total"] == 3


async def test_removing_a_member_and_removing_a_non_member(api):
    group = await create_group(api)
    user = await api.create_user()
    await put_member(api, group, user)

    removed = await api.delete(f"{GROUPS}/{group['id']}/members/{user['id']}")
    again = await api.delete(f"{GROUPS}/{group['id']}/members/{user['id']}")

    assert removed.status_code == 204
    assert "not a member" in problem(again, 404)["detail"]
    problem(await api.get(f"{GROUPS}/{group['id']}/members/{user['id']}"), 404)


async def test_deleting_a_group_removes_its_memberships_but_not_its_users(api):
    group = await create_group(api)
    user = await api.create_user()
    await put_member(api, group, user)

    assert (await api.delete(f"{GROUPS}/{group['id']}")).status_code == 204

    assert [g["name"] for g in (await api.get(f"/api/v1/users/{user['id']}")).json()["groups"]] == ["DEFAULT"]


async def test_membership_changes_are_audited(api):
    group = await create_group(api, name="Sales")
    user = await api.create_user()
    await put_member(api, group, user, role="manager")
    await api.delete(f"{GROUPS}/{group['id']}/members/{user['id']}")

    entries = (await api.get("/api/v1/audit-log", params={"resource_id": group["id"]})).json()["items"]

    assert {"group.create", "group.member_add", "group.member_remove"} <= {e["action"] for e in entries}


# --- users' groups ------------------------------------------------------------------------------------------

async def test_a_user_created_with_groups_joins_them_by_id_or_name_and_not_default(api):
    sales, support = await create_group(api, name="Sales"), await create_group(api, name="Support")

    user = await api.create_user(groups=["sales", support["id"]])

    assert sorted((g["name"], g["role"]) for g in user["groups"]) == [("Sales", "member"), ("Support", "member")]
    fetched = (await api.get(f"/api/v1/users/{user['id']}")).json()
    assert fetched["groups"] == user["groups"]
    assert {g["id"] for g in fetched["groups"]} == {sales["id"], support["id"]}


async def test_an_unknown_group_on_create_is_422_naming_its_index_and_creates_nothing(api):
    await create_group(api, name="Sales")

    response = await api.post("/api/v1/users", json={"first_name": "Ghost", "groups": ["Sales", "Nowhere"],
                                                      "extension": 150})

    body = problem(response, 422)
    assert locs(body) == [["body", "groups", 1]]
    assert "No group 'Nowhere'" in body["errors"][0]["msg"]
    assert (await api.get("/api/v1/users", params={"q": "Ghost"})).json()["total"] == 0
    assert (await api.get("/api/v1/sip-accounts/next-free")).json() == {"extension": 100}


async def test_patching_groups_sets_them_exactly_and_keeps_the_role_where_the_user_stays(api):
    sales, support = await create_group(api, name="Sales"), await create_group(api, name="Support")
    user = await api.create_user(groups=["Sales"])
    await put_member(api, sales, user, role="manager")

    response = await api.patch(f"/api/v1/users/{user['id']}", json={"groups": ["Sales", "Support"]})
    left = await api.patch(f"/api/v1/users/{user['id']}", json={"groups": [support["id"]]})

    assert sorted((g["name"], g["role"]) for g in response.json()["groups"]) == [("Sales", "manager"),
                                                                                   ("Support", "member")]
    assert [g["name"] for g in left.json()["groups"]] == ["Support"]


async def test_patching_groups_to_null_is_422_and_an_empty_list_leaves_every_group(api):
    user = await api.create_user()

    null = await api.patch(f"/api/v1/users/{user['id']}", json={"groups": None})
    empty = await api.patch(f"/api/v1/users/{user['id']}", json={"groups": []})

    assert locs(problem(null, 422)) == [["body", "groups"]]
    assert empty.json()["groups"] == []


async def test_the_user_list_shows_each_users_groups(api):
    await create_group(api, name="Sales")
    await api.create_user(last_name="Alpha", groups=["Sales"])
    await api.create_user(last_name="Beta")

    items = (await api.get("/api/v1/users", params={"sort": "last_name"})).json()["items"]
    groups = {u["last_name"]: [g["name"] for g in u["groups"]] for u in items}

    assert groups["Alpha"] == ["Sales"] and groups["Beta"] == ["DEFAULT"]
