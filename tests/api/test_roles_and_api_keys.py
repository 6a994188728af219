"""The permission catalogue, built-in and custom roles, and API keys for CRMs and scripts."""

from __future__ import annotations
from problems import problem, locs

ROLES = "/api/v1/roles"
KEYS = "/api/v1/api-keys"


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def role_named(api, name: str) -> dict:
    items = (await api.get(ROLES, params={"limit": 500})).json()["items"]
    [role] = [r for r in items if r["name"] == name]
    return role


async def create_key(api, headers=None, **fields) -> dict:
    response = await api.post(KEYS, json={"name": "Odoo CRM", **fields}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


# --- permissions and roles ----------------------------------------------------------------------------------

async def test_the_permission_catalogue_lists_every_permission_with_a_description(api):
    response = await api.get("/api/v1/permissions")

    assert response.status_code == 200, response.text
    catalogue = {p["name"]: p["description"] for p in response.json()}
    assert {"users.read", "users.write", "sip_accounts.read", "sip_accounts.write", "sip_secrets.read", "roles.write",
            "audit.read", "api_keys.write", "organization.write"} <= catalogue.keys()
    assert all(catalogue.values())


async def test_every_organization_has_the_five_built_in_roles(api):
    roles = (await api.get(ROLES)).json()["items"]

    assert {r["name"] for r in roles if r["builtin"]} == {"owner", "admin", "manager", "user", "readonly"}


async def test_a_built_in_role_cannot_be_changed_or_deleted(api):
    readonly = await role_named(api, "readonly")

    changed = await api.patch(f"{ROLES}/{readonly['id']}", json={"permissions": ["users.write"]})
    deleted = await api.delete(f"{ROLES}/{readonly['id']}")

    problem(changed, 403)
    problem(deleted, 403)
    assert (await role_named(api, "readonly"))["permissions"] == readonly["permissions"]


async def test_a_custom_role_is_created_read_changed_and_deleted(api):
    created = await api.post(ROLES, json={"name": "helpdesk", "description": "First line",
                                          "permissions": ["users.read", "sip_accounts.read"]})
    assert created.status_code == 201, created.text
    role = created.json()
    assert (role["builtin"], sorted(role["permissions"])) == (False, ["sip_accounts.read", "users.read"])

    changed = await api.patch(f"{ROLES}/{role['id']}", json={"permissions": ["users.read"]})
    assert changed.status_code == 200, changed.text
    assert (await api.get(f"{ROLES}/{role['id']}")).json()["permissions"] == ["users.read"]

    assert (await api.delete(f"{ROLES}/{role['id']}")).status_code == 204
    problem(await api.get(f"{ROLES}/{role['id']}"), 404)


async def test_a_custom_role_gives_exactly_its_permissions(api):
    assert (await api.post(ROLES, json={"name": "helpdesk", "permissions": ["users.read"]})).status_code == 201
    _, headers = await api.user_with_role("helpdesk", "all")

    assert (await api.get("/api/v1/users", headers=headers)).status_code == 200
    problem(await api.get("/api/v1/sip-accounts", headers=headers), 403)
    problem(await api.post("/api/v1/users", json={"first_name": "X"}, headers=headers), 403)


async def test_an_unknown_permission_is_refused_naming_its_index(api):
    response = await api.post(ROLES, json={"name": "broken", "permissions": ["users.read", "users.fly"]})

    body = problem(response, 422)
    assert ["body", "permissions", 1] in locs(body)
    assert "users.fly" in body["detail"]
    assert "broken" not in {r["name"] for r in (await api.get(ROLES)).json()["items"]}


async def test_a_duplicate_role_name_is_409(api):
    assert (await api.post(ROLES, json={"name": "helpdesk", "permissions": []})).status_code == 201

    problem(await api.post(ROLES, json={"name": "helpdesk", "permissions": []}), 409)


async def test_a_custom_role_in_use_cannot_be_deleted(api):
    role = (await api.post(ROLES, json={"name": "helpdesk", "permissions": ["users.read"]})).json()
    await api.user_with_role("helpdesk", "all")

    problem(await api.delete(f"{ROLES}/{role['id']}"), 409)
    assert (await api.get(f"{ROLES}/{role['id']}")).status_code == 200


async def test_a_custom_role_held_by_an_api_key_cannot_be_deleted(api):
    role = (await api.post(ROLES, json={"name": "crm", "permissions": ["users.read"]})).json()
    await create_key(api, role="crm")

    problem(await api.delete(f"{ROLES}/{role['id']}"), 409)


async def test_an_admin_cannot_create_a_role_with_a_permission_it_lacks(api):
    _, admin = await api.user_with_role("admin", "all")

    response = await api.post(ROLES, json={"name": "sneaky", "permissions": ["organization.write"]}, headers=admin)

    problem(response, 403)


# --- API keys ---------------------------------------------------------------------------------------------

async def test_an_api_key_is_shown_once_and_works_as_a_bearer_token(api):
    key = await create_key(api, role="admin")
    assert key["key"].startswith("cnt_") and key["key"].startswith(key["key_prefix"])
    assert key["last_used_at"] is None

    used = await api.get("/api/v1/users", headers=bearer(key["key"]))
    me = (await api.get("/api/v1/auth/me", headers=bearer(key["key"]))).json()

    assert used.status_code == 200, used.text
    assert (me["kind"], me["role"]) == ("api_key", "admin")
    listed = await api.get(KEYS)
    single = await api.get(f"{KEYS}/{key['id']}")
    assert key["key"] not in listed.text and key["key"] not in single.text
    assert "key" not in single.json()
    assert single.json()["last_used_at"] is not None
    assert [k["last_used_at"] is not None for k in listed.json()["items"]] == [True]


async def test_a_revoked_api_key_gets_401(api):
    key = await create_key(api, role="admin")
    assert (await api.get("/api/v1/users", headers=bearer(key["key"]))).status_code == 200

    assert (await api.delete(f"{KEYS}/{key['id']}")).status_code == 204

    response = await api.get("/api/v1/users", headers=bearer(key["key"]))
    problem(response, 401)
    assert "WWW-Authenticate" in response.headers
    assert (await api.get(KEYS)).json()["total"] == 0
    assert (await api.get(KEYS, params={"include_revoked": "true"})).json()["items"][0]["revoked_at"] is not None


async def test_an_api_key_bound_to_readonly_reads_but_cannot_write(api):
    key = await create_key(api, role="readonly")

    read = await api.get("/api/v1/users", headers=bearer(key["key"]))
    write = await api.post("/api/v1/users", json={"first_name": "ViaKey"}, headers=bearer(key["key"]))

    assert read.status_code == 200, read.text
    problem(write, 403)


async def test_an_api_key_with_an_unknown_role_is_refused_naming_role(api):
    response = await api.post(KEYS, json={"name": "Odoo", "role": "wizard"})

    assert ["body", "role"] in locs(problem(response, 422))


async def test_a_manager_cannot_create_an_api_key_at_all(api):
    _, manager = await api.user_with_role("manager", "all")

    problem(await api.post(KEYS, json={"name": "Mine", "role": "owner"}, headers=manager), 403)
    problem(await api.post(KEYS, json={"name": "Mine", "role": "manager"}, headers=manager), 403)


async def test_an_admin_cannot_create_an_api_key_with_the_owner_role(api):
    _, admin = await api.user_with_role("admin", "all")

    escalating = await api.post(KEYS, json={"name": "Escalate", "role": "owner"}, headers=admin)
    equal = await api.post(KEYS, json={"name": "Fine", "role": "admin"}, headers=admin)

    assert "organization.write" in problem(escalating, 403)["detail"]
    assert equal.status_code == 201, equal.text
    assert [k["name"] for k in (await api.get(KEYS)).json()["items"]] == ["Fine"]


async def test_an_admin_with_scope_all_cannot_give_a_user_the_owner_role(api):
    _, admin = await api.user_with_role("admin", "all")

    response = await api.post("/api/v1/users", json={"first_name": "Boss", "access": {
        "username": "boss", "password": "Password-123", "role": "owner", "scope": "all"}}, headers=admin)

    problem(response, 403)
    assert (await api.get("/api/v1/users", params={"q": "boss"})).json()["total"] == 0


async def test_an_admin_cannot_take_over_the_owners_login_by_resetting_its_password(api):
    owner_id = (await api.get("/api/v1/auth/me")).json()["id"]
    _, admin = await api.user_with_role("admin", "all")

    response = await api.patch(f"/api/v1/users/{owner_id}", json={"access": {"password": "Taken-Over-123"}},
                               headers=admin)

    problem(response, 403)
    taken_over = await api.client.post("/api/v1/auth/token", data={"username": "admin", "password": "Taken-Over-123"})
    assert taken_over.status_code == 401


async def test_a_manager_cannot_reset_the_password_of_an_admin(api):
    admin_user, _ = await api.user_with_role("admin", "all")
    _, manager = await api.user_with_role("manager", "all")

    response = await api.patch(f"/api/v1/users/{admin_user['id']}", json={"access": {"password": "Taken-Over-123"}},
                               headers=manager)

    problem(response, 403)


async def test_an_api_key_cannot_mint_a_key_with_more_rights_than_its_own(api):
    key = await create_key(api, role="admin")

    response = await api.post(KEYS, json={"name": "Escalate", "role": "owner"}, headers=bearer(key["key"]))

    problem(response, 403)


async def test_a_changed_role_applies_to_its_holders_next_request_and_not_later(api):
    role = (await api.post(ROLES, json={"name": "helpdesk", "permissions": ["users.read"]})).json()
    _, helper = await api.user_with_role("helpdesk", "all")
    assert (await api.get("/api/v1/users", headers=helper)).status_code == 200

    await api.patch(f"{ROLES}/{role['id']}", json={"permissions": ["sip_accounts.read"]})

    problem(await api.get("/api/v1/users", headers=helper), 403)
    assert (await api.get("/api/v1/sip-accounts", headers=helper)).status_code == 200


async def test_changed_organization_settings_apply_to_the_next_request(api):
    _, admin = await api.user_with_role("admin", "all")
    assert (await api.post("/api/v1/sip-accounts", json={"extension": 1500}, headers=admin)).status_code == 422

    await api.patch("/api/v1/organization", json={"extension_max": 1999})

    assert (await api.post("/api/v1/sip-accounts", json={"extension": 1500}, headers=admin)).status_code == 201
