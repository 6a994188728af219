"""Scope 'groups': a principal manages itself and the users of the groups where it is a manager — every
user-owned resource is narrowed (lists and totals included), the rest is 404, and what it creates lands in
its groups."""

from __future__ import annotations

import pytest

from problems import locs, problem

GROUPS = "/api/v1/groups"


@pytest.fixture
async def team(api):
    """Sales (led by a 'manager' role with scope 'groups') with two members; Support with one outsider."""
    sales = (await api.post(GROUPS, json={"name": "Sales"})).json()
    support = (await api.post(GROUPS, json={"name": "Support"})).json()
    lead, lead_headers = await api.user_with_role("manager", "groups", extension="next")
    await api.put(f"{GROUPS}/{sales['id']}/members/{lead['id']}", json={"role": "manager"})
    anna = await api.create_user(first_name="Anna", groups=["Sales"], extension="next")
    bruno = await api.create_user(first_name="Bruno", groups=["Sales"])
    olga = await api.create_user(first_name="Olga", groups=["Support"], extension="next")
    return {"sales": sales, "support": support, "lead": lead, "headers": lead_headers, "anna": anna,
            "bruno": bruno, "olga": olga}


async def test_a_group_manager_lists_itself_and_its_groups_users_with_the_right_total(api, team):
    listed = (await api.get("/api/v1/users", headers=team["headers"])).json()

    assert sorted(u["first_name"] for u in listed["items"]) == ["Anna", "Bruno", "Test"]
    assert listed["total"] == 3


async def test_a_group_manager_gets_404_for_a_user_outside_its_groups(api, team):
    olga, headers = team["olga"], team["headers"]

    read = await api.get(f"/api/v1/users/{olga['id']}", headers=headers)
    patch = await api.patch(f"/api/v1/users/{olga['id']}", json={"first_name": "X"}, headers=headers)
    account = await api.get(f"/api/v1/sip-accounts/{olga['sip_account']['id']}", headers=headers)

    for response in (read, patch, account):
        problem(response, 404)


async def test_a_group_manager_sees_only_its_groups_sip_accounts_and_devices(api, team):
    for user in (team["anna"], team["olga"]):
        created = await api.post("/api/v1/devices", json={
            "vendor": "yealink", "mac": f"00:15:65:00:00:{user['sip_account']['extension'] % 100:02d}",
            "sip_account_id": user["sip_account"]["id"]})
        assert created.status_code == 201, created.text

    accounts = (await api.get("/api/v1/sip-accounts", headers=team["headers"])).json()
    devices = (await api.get("/api/v1/devices", headers=team["headers"])).json()

    assert sorted(a["extension"] for a in accounts["items"]) == sorted(
        [team["lead"]["sip_account"]["extension"], team["anna"]["sip_account"]["extension"]])
    assert accounts["total"] == 2
    assert [d["sip_account_id"] for d in devices["items"]] == [team["anna"]["sip_account"]["id"]]
    assert devices["total"] == 1


async def test_a_plain_member_with_scope_groups_manages_only_itself(api, team):
    member, headers = await api.user_with_role("manager", "groups")
    await api.put(f"{GROUPS}/{team['sales']['id']}/members/{member['id']}", json={"role": "member"})

    listed = (await api.get("/api/v1/users", headers=headers)).json()

    assert [u["id"] for u in listed["items"]] == [member["id"]]


async def test_a_group_manager_changes_its_users_but_not_their_login(api, team):
    anna, headers = team["anna"], team["headers"]

    renamed = await api.patch(f"/api/v1/users/{anna['id']}", json={"first_name": "Anja"}, headers=headers)
    promoted = await api.patch(f"/api/v1/users/{anna['id']}", json={"access": {
        "username": "anja", "password": "Password-123", "role": "admin", "scope": "all"}}, headers=headers)

    assert renamed.json()["first_name"] == "Anja"
    problem(promoted, 403)


async def test_a_group_manager_creates_users_only_into_groups_it_manages(api, team):
    headers = team["headers"]

    into_sales = await api.post("/api/v1/users", json={"first_name": "Cleo", "groups": ["Sales"]}, headers=headers)
    into_support = await api.post("/api/v1/users", json={"first_name": "Dora", "groups": ["Support"]},
                                  headers=headers)
    nowhere = await api.post("/api/v1/users", json={"first_name": "Emil"}, headers=headers)

    assert into_sales.status_code == 201, into_sales.text
    assert [g["name"] for g in into_sales.json()["groups"]] == ["Sales"]
    assert "You do not manage: Support" in problem(into_support, 403)["detail"]
    assert locs(problem(nowhere, 422)) == [["body", "groups"]]
    names = {u["first_name"] for u in (await api.get("/api/v1/users", params={"limit": 100})).json()["items"]}
    assert "Dora" not in names and "Emil" not in names


async def test_a_group_manager_moves_users_only_between_groups_it_manages(api, team):
    anna, headers = team["anna"], team["headers"]

    moved = await api.patch(f"/api/v1/users/{anna['id']}", json={"groups": ["Sales", "Support"]}, headers=headers)

    assert "You do not manage: Support" in problem(moved, 403)["detail"]
    assert [g["name"] for g in (await api.get(f"/api/v1/users/{anna['id']}")).json()["groups"]] == ["Sales"]


async def test_a_group_manager_adds_members_but_neither_managers_nor_outsiders(api, team):
    headers, sales = team["headers"], team["sales"]
    newcomer = await api.create_user(first_name="Newcomer", groups=["Sales"])
    second_sales_group = (await api.post(GROUPS, json={"name": "Sales North"})).json()
    await api.put(f"{GROUPS}/{second_sales_group['id']}/members/{team['lead']['id']}", json={"role": "manager"})

    as_member = await api.put(f"{GROUPS}/{second_sales_group['id']}/members/{newcomer['id']}", json={},
                              headers=headers)
    as_manager = await api.put(f"{GROUPS}/{sales['id']}/members/{team['anna']['id']}", json={"role": "manager"},
                               headers=headers)
    outsider = await api.put(f"{GROUPS}/{sales['id']}/members/{team['olga']['id']}", json={}, headers=headers)
    elsewhere = await api.put(f"{GROUPS}/{team['support']['id']}/members/{team['anna']['id']}", json={},
                              headers=headers)

    assert as_member.status_code == 201, as_member.text
    assert "not managers" in problem(as_manager, 403)["detail"]
    problem(outsider, 404)
    assert "You do not manage group 'Support'" in problem(elsewhere, 403)["detail"]


async def test_a_group_manager_cannot_remove_or_demote_a_fellow_manager(api, team):
    co_lead = await api.create_user(first_name="Co", groups=["Sales"])
    await api.put(f"{GROUPS}/{team['sales']['id']}/members/{co_lead['id']}", json={"role": "manager"})
    url = f"{GROUPS}/{team['sales']['id']}/members/{co_lead['id']}"

    demoted = await api.put(url, json={"role": "member"}, headers=team["headers"])
    removed = await api.delete(url, headers=team["headers"])

    problem(demoted, 403)
    problem(removed, 403)
    assert (await api.get(url)).json()["role"] == "manager"


async def test_a_group_manager_sees_only_the_members_in_its_scope_of_another_group(api, team):
    await api.put(f"{GROUPS}/{team['support']['id']}/members/{team['anna']['id']}", json={})

    members = (await api.get(f"{GROUPS}/{team['support']['id']}/members", headers=team["headers"])).json()

    assert [m["first_name"] for m in members["items"]] == ["Anna"]
    assert members["total"] == 1


async def test_a_group_manager_cannot_create_change_or_delete_groups(api, team):
    headers, sales = team["headers"], team["sales"]

    created = await api.post(GROUPS, json={"name": "Mine"}, headers=headers)
    changed = await api.patch(f"{GROUPS}/{sales['id']}", json={"ring_timeout": 30}, headers=headers)
    deleted = await api.delete(f"{GROUPS}/{sales['id']}", headers=headers)

    for response in (created, changed, deleted):
        assert "needs management scope 'all'" in problem(response, 403)["detail"]


async def test_a_user_with_scope_own_cannot_change_its_own_groups_nor_memberships(api, team):
    me, headers = await api.user_with_role("user", "own")

    joined = await api.patch(f"/api/v1/users/{me['id']}", json={"groups": ["Sales"]}, headers=headers)
    put = await api.put(f"{GROUPS}/{team['sales']['id']}/members/{me['id']}", json={}, headers=headers)

    problem(joined, 403)
    problem(put, 403)
    assert [g["name"] for g in (await api.get(f"/api/v1/users/{me['id']}")).json()["groups"]] == ["DEFAULT"]


async def test_a_managers_reach_ends_when_it_stops_managing_the_group(api, team):
    await api.put(f"{GROUPS}/{team['sales']['id']}/members/{team['lead']['id']}", json={"role": "member"})

    anna = await api.get(f"/api/v1/users/{team['anna']['id']}", headers=team["headers"])

    problem(anna, 404)
