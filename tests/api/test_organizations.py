"""Organizations: platform administrators manage tenants; everyone reads its own."""

from __future__ import annotations
from problems import problem, locs

ORGS = "/api/v1/organizations"


def beta(**fields) -> dict:
    return {"name": "Beta", "slug": "beta", "sip_domain": "beta.example.com", **fields}


async def test_get_organization_returns_the_callers_own_with_the_documented_defaults(api):
    response = await api.get("/api/v1/organization")

    assert response.status_code == 200, response.text
    own = response.json()
    assert own["slug"] == "default"
    assert (own["extension_min"], own["extension_max"], own["default_permission_level"]) == (100, 999, 10)
    assert response.headers["ETag"]


async def test_a_plain_user_reads_its_own_organization(api):
    _, headers = await api.user_with_role("user", "own")

    assert (await api.get("/api/v1/organization", headers=headers)).json()["slug"] == "default"


async def test_a_platform_admin_creates_and_lists_organizations(api):
    created = await api.post(ORGS, json=beta(extension_min=200, extension_max=299, timezone="Europe/Warsaw"))

    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["slug"], body["extension_min"], body["extension_max"], body["timezone"]) == ("beta", 200, 299, "Europe/Warsaw")
    listed = (await api.get(ORGS)).json()
    assert {o["slug"] for o in listed["items"]} == {"default", "beta"}
    assert (await api.get(f"{ORGS}/{body['id']}")).json()["slug"] == "beta"


async def test_a_new_organization_has_the_built_in_roles_and_its_own_range(api):
    assert (await api.post(ORGS, json=beta(extension_min=200, extension_max=299))).status_code == 201
    in_beta = {**api.headers, "X-Organization": "beta"}

    roles = (await api.get("/api/v1/roles", headers=in_beta)).json()["items"]
    account = await api.post("/api/v1/sip-accounts", json={}, headers=in_beta)

    assert {r["name"] for r in roles} == {"owner", "admin", "manager", "user", "readonly"}
    assert account.json()["extension"] == 200


async def test_a_plain_admin_can_neither_list_nor_create_organizations(api):
    _, admin = await api.user_with_role("admin", "all")

    problem(await api.get(ORGS, headers=admin), 403)
    problem(await api.post(ORGS, json=beta(), headers=admin), 403)
    assert {o["slug"] for o in (await api.get(ORGS)).json()["items"]} == {"default"}


async def test_an_owner_who_is_not_a_platform_admin_cannot_create_organizations(api):
    _, owner = await api.user_with_role("owner", "all")

    problem(await api.post(ORGS, json=beta(), headers=owner), 403)


async def test_a_duplicate_slug_is_409(api):
    assert (await api.post(ORGS, json=beta())).status_code == 201

    body = problem(await api.post(ORGS, json=beta(name="Beta Two")), 409)
    assert ["body", "slug"] in locs(body)
    problem(await api.post(ORGS, json=beta(slug="default")), 409)


async def test_an_invalid_slug_or_an_inverted_range_is_422(api):
    problem(await api.post(ORGS, json=beta(slug="Not A Slug")), 422)
    problem(await api.post(ORGS, json=beta(extension_min=500, extension_max=400)), 422)


async def test_narrowing_the_range_below_existing_accounts_is_409(api):
    await api.create_user(extension=150)

    response = await api.patch("/api/v1/organization", json={"extension_min": 100, "extension_max": 120})

    problem(response, 409)
    own = (await api.get("/api/v1/organization")).json()
    assert (own["extension_min"], own["extension_max"]) == (100, 999)


async def test_narrowing_the_range_around_existing_accounts_is_allowed(api):
    await api.create_user(extension=150)

    response = await api.patch("/api/v1/organization", json={"extension_min": 150, "extension_max": 159})

    assert response.status_code == 200, response.text
    assert (await api.get("/api/v1/sip-accounts/next-free")).json() == {"extension": 151}


async def test_an_admin_cannot_change_the_organizations_settings(api):
    _, admin = await api.user_with_role("admin", "all")

    problem(await api.patch("/api/v1/organization", json={"extension_max": 500}, headers=admin), 403)


async def test_a_stale_if_match_on_the_organization_is_412(api):
    stale = (await api.get("/api/v1/organization")).headers["ETag"]
    assert (await api.patch("/api/v1/organization", json={"default_permission_level": 20})).status_code == 200

    response = await api.patch("/api/v1/organization", json={"default_permission_level": 30},
                               headers={**api.headers, "If-Match": stale})

    problem(response, 412)
    assert (await api.get("/api/v1/organization")).json()["default_permission_level"] == 20


async def test_a_platform_admin_cannot_delete_its_own_organization(api):
    own = (await api.get("/api/v1/organization")).json()

    problem(await api.delete(f"{ORGS}/{own['id']}"), 403)


async def test_deleting_an_organization_removes_its_users(api):
    created = (await api.post(ORGS, json=beta())).json()
    await api.create_user(headers={**api.headers, "X-Organization": "beta"}, extension="next")

    assert (await api.delete(f"{ORGS}/{created['id']}")).status_code == 204

    problem(await api.get(f"{ORGS}/{created['id']}"), 404)
    problem(await api.get("/api/v1/users", headers={**api.headers, "X-Organization": "beta"}), 404)
