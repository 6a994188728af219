"""The audit log: an entry per write with before/after, filters, secrets masked, and who may read it."""

from __future__ import annotations

import json
from problems import problem

AUDIT = "/api/v1/audit-log"


async def entries(api, headers=None, **filters) -> list[dict]:
    response = await api.get(AUDIT, params={"limit": 500, **filters}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def my_id(api, headers=None) -> str:
    return (await api.get("/api/v1/auth/me", headers=headers)).json()["id"]


async def test_creating_a_user_records_an_entry_with_the_after_values_and_the_actor(api):
    user = await api.create_user(first_name="Anna", email="anna@example.com")

    found = await entries(api, action="user.create", resource_id=user["id"])

    assert len(found) == 1
    entry = found[0]
    assert entry["resource_type"] == "user"
    assert entry["before"] is None
    assert (entry["after"]["first_name"], entry["after"]["email"]) == ("Anna", "anna@example.com")
    assert (entry["actor_id"], entry["actor_name"], entry["actor_type"]) == (await my_id(api), "admin", "user")


async def test_updating_a_user_records_before_and_after(api):
    user = await api.create_user(first_name="Anna")

    assert (await api.patch(f"/api/v1/users/{user['id']}", json={"first_name": "Anka"})).status_code == 200

    [entry] = await entries(api, action="user.update", resource_id=user["id"])
    assert entry["before"]["first_name"] == "Anna"
    assert entry["after"]["first_name"] == "Anka"


async def test_deleting_a_user_records_what_it_was(api):
    user = await api.create_user(first_name="Anna")

    assert (await api.delete(f"/api/v1/users/{user['id']}")).status_code == 204

    [entry] = await entries(api, action="user.delete", resource_id=user["id"])
    assert entry["before"]["first_name"] == "Anna"
    assert entry["after"] is None


async def test_a_refused_write_leaves_no_entry(api):
    await api.create_user(extension=105)
    count = len(await entries(api))

    assert (await api.post("/api/v1/users", json={"first_name": "Dup", "extension": 105})).status_code == 409

    assert len(await entries(api)) == count


async def test_login_passwords_and_hashes_are_masked_in_the_log(api):
    user, _ = await api.user_with_role("readonly", "all")
    await api.patch(f"/api/v1/users/{user['id']}", json={"access": {"password": "Another-Secret-789"}})

    text = json.dumps(await entries(api, resource_type="user"))

    assert "Password-123" not in text and "Another-Secret-789" not in text
    assert "$argon2" not in text
    [created] = await entries(api, action="user.create", resource_id=user["id"])
    assert created["after"]["password_hash"] == "***"


async def test_the_resource_type_filter_keeps_only_that_type(api):
    await api.create_user(extension="next")
    await api.post("/api/v1/sip-accounts", json={})

    users = await entries(api, resource_type="user")
    accounts = await entries(api, resource_type="sip_account")

    assert users and {e["resource_type"] for e in users} == {"user"}
    assert accounts and {e["resource_type"] for e in accounts} == {"sip_account"}
    assert len(accounts) == 2


async def test_the_action_filter_keeps_only_that_action(api):
    user = await api.create_user()
    await api.patch(f"/api/v1/users/{user['id']}", json={"first_name": "Changed"})

    found = await entries(api, action="user.update")

    assert [e["resource_id"] for e in found] == [user["id"]]
    assert {e["action"] for e in found} == {"user.update"}


async def test_the_actor_filter_keeps_only_that_actors_entries(api):
    admin_user, admin = await api.user_with_role("admin", "all")
    made_by_admin = await api.create_user(headers=admin, first_name="ByAdmin")
    await api.create_user(first_name="ByOwner")

    found = await entries(api, actor_id=admin_user["id"])

    assert [(e["action"], e["resource_id"]) for e in found] == [("user.create", made_by_admin["id"])]
    assert (await entries(api, actor_id=await my_id(api), resource_type="user"))


async def test_entries_are_newest_first(api):
    first = await api.create_user()
    second = await api.create_user()

    found = await entries(api, action="user.create")

    assert [e["resource_id"] for e in found][:2] == [second["id"], first["id"]]


async def test_a_user_role_principal_cannot_read_the_audit_log(api):
    _, headers = await api.user_with_role("user", "own")

    problem(await api.get(AUDIT, headers=headers), 403)


async def test_a_readonly_principal_with_scope_all_reads_the_audit_log(api):
    _, headers = await api.user_with_role("readonly", "all")

    assert (await api.get(AUDIT, headers=headers)).status_code == 200


async def test_the_audit_log_of_another_organization_is_not_visible(api):
    created = await api.post("/api/v1/organizations", json={"name": "Beta", "slug": "beta", "sip_domain": "beta.example.com"})
    assert created.status_code == 201, created.text
    stranger = await api.create_user(headers={**api.headers, "X-Organization": "beta"}, first_name="Stranger")

    assert await entries(api, resource_id=stranger["id"]) == []
    assert len(await entries(api, headers={**api.headers, "X-Organization": "beta"}, resource_id=stranger["id"])) == 1
