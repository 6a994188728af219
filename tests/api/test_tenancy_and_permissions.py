"""Management scope (self-service users) and tenant isolation between organizations."""

from __future__ import annotations
from problems import problem


async def create_organization(api, slug: str) -> dict:
    response = await api.post("/api/v1/organizations", json={"name": slug.title(), "slug": slug,
                                                             "sip_domain": f"{slug}.example.com"})
    assert response.status_code == 201, response.text
    return response.json()


# --- a user-role principal (scope "own") --------------------------------------------------------------------

async def test_a_user_role_principal_sees_only_itself_in_the_user_list(api):
    await api.create_user(first_name="Colleague")
    me, headers = await api.user_with_role("user", "own")

    response = await api.get("/api/v1/users", headers=headers)

    assert response.status_code == 200, response.text
    assert response.json()["total"] == 1
    assert [u["id"] for u in response.json()["items"]] == [me["id"]]


async def test_a_user_role_principal_gets_404_for_another_users_id(api):
    colleague = await api.create_user(first_name="Colleague")
    _, headers = await api.user_with_role("user", "own")

    read = await api.get(f"/api/v1/users/{colleague['id']}", headers=headers)
    patch = await api.patch(f"/api/v1/users/{colleague['id']}", json={"first_name": "Hacked"}, headers=headers)

    problem(read, 404)
    problem(patch, 404)
    assert (await api.get(f"/api/v1/users/{colleague['id']}")).json()["first_name"] == "Colleague"


async def test_a_user_role_principal_cannot_create_users_nor_sip_accounts(api):
    _, headers = await api.user_with_role("user", "own")
    users_before = (await api.get("/api/v1/users")).json()["total"]

    user = await api.post("/api/v1/users", json={"first_name": "Sneaky"}, headers=headers)
    account = await api.post("/api/v1/sip-accounts", json={}, headers=headers)

    problem(user, 403)
    problem(account, 403)
    assert (await api.get("/api/v1/users")).json()["total"] == users_before
    assert (await api.get("/api/v1/sip-accounts")).json()["total"] == 0


async def test_a_user_role_principal_sees_only_its_own_sip_account(api):
    await api.create_user(extension="next")
    me, headers = await api.user_with_role("user", "own", extension="next")

    listed = (await api.get("/api/v1/sip-accounts", headers=headers)).json()

    assert [a["id"] for a in listed["items"]] == [me["sip_account"]["id"]]


async def test_a_user_role_principal_changes_its_own_first_name(api):
    me, headers = await api.user_with_role("user", "own")

    response = await api.patch(f"/api/v1/users/{me['id']}", json={"first_name": "Renamed"}, headers=headers)

    assert response.status_code == 200, response.text
    assert (await api.get(f"/api/v1/users/{me['id']}")).json()["first_name"] == "Renamed"


async def test_a_user_role_principal_changes_its_own_password_and_logs_in_with_it(api):
    me, headers = await api.user_with_role("user", "own")

    response = await api.patch(f"/api/v1/users/{me['id']}", json={"access": {"password": "New-Password-456"}},
                               headers=headers)

    assert response.status_code == 200, response.text
    username = me["access"]["username"]
    assert (await api.client.post("/api/v1/auth/token", data={"username": username, "password": "Password-123"})).status_code == 401
    await api.login(username, "New-Password-456")


async def test_a_user_role_principal_cannot_change_its_own_role(api):
    me, headers = await api.user_with_role("user", "own")

    role = await api.patch(f"/api/v1/users/{me['id']}", json={"access": {"role": "owner"}}, headers=headers)
    scope = await api.patch(f"/api/v1/users/{me['id']}", json={"access": {"scope": "all"}}, headers=headers)

    problem(role, 403)
    problem(scope, 403)
    assert (await api.get(f"/api/v1/users/{me['id']}")).json()["access"] == {
        "username": me["access"]["username"], "role": "user", "scope": "own"}


async def test_a_user_role_principal_cannot_delete_itself_or_change_its_extension(api):
    me, headers = await api.user_with_role("user", "own", extension="next")

    delete = await api.delete(f"/api/v1/users/{me['id']}", headers=headers)
    renumber = await api.patch(f"/api/v1/sip-accounts/{me['sip_account']['id']}", json={"extension": 150}, headers=headers)

    problem(delete, 403)
    problem(renumber, 403)


async def test_a_user_role_principal_reveals_its_own_sip_password_but_not_a_colleagues(api):
    colleague = await api.create_user(extension="next")
    me, headers = await api.user_with_role("user", "own", extension="next")
    mine = me["sip_account"]["id"]

    own = await api.get(f"/api/v1/sip-accounts/{mine}/secret", headers=headers)
    other = await api.get(f"/api/v1/sip-accounts/{colleague['sip_account']['id']}/secret", headers=headers)

    assert own.status_code == 200, own.text
    problem(other, 404)
    assert colleague["sip_password"] not in other.text


# --- organizations are isolated -----------------------------------------------------------------------------

async def test_a_principal_of_one_organization_gets_404_for_another_organizations_user(api):
    await create_organization(api, "beta")
    in_beta = {**api.headers, "X-Organization": "beta"}
    stranger = await api.create_user(headers=in_beta, first_name="Stranger", extension="next")
    _, admin_of_default = await api.user_with_role("admin", "all")

    read = await api.get(f"/api/v1/users/{stranger['id']}", headers=admin_of_default)
    patch = await api.patch(f"/api/v1/users/{stranger['id']}", json={"first_name": "X"}, headers=admin_of_default)
    delete = await api.delete(f"/api/v1/users/{stranger['id']}", headers=admin_of_default)
    account = await api.get(f"/api/v1/sip-accounts/{stranger['sip_account']['id']}", headers=admin_of_default)
    listed = (await api.get("/api/v1/users", params={"q": "Stranger"}, headers=admin_of_default)).json()

    for response in (read, patch, delete, account):
        problem(response, 404)
    assert listed["total"] == 0
    assert (await api.get(f"/api/v1/users/{stranger['id']}", headers=in_beta)).json()["first_name"] == "Stranger"


async def test_numbering_is_per_organization(api):
    await create_organization(api, "beta")
    await api.create_user(extension="next")

    in_beta = await api.create_user(headers={**api.headers, "X-Organization": "beta"}, extension="next")

    assert in_beta["sip_account"]["extension"] == 100


async def test_the_platform_admin_sees_only_the_organization_it_acts_on(api):
    await create_organization(api, "beta")
    in_beta = {**api.headers, "X-Organization": "beta"}
    stranger = await api.create_user(headers=in_beta, first_name="Stranger")

    home = await api.get(f"/api/v1/users/{stranger['id']}")
    me_in_beta = (await api.get("/api/v1/auth/me", headers=in_beta)).json()

    problem(home, 404)
    assert (me_in_beta["organization"], me_in_beta["home_organization"]) == ("beta", "default")


async def test_a_non_platform_admin_sending_x_organization_of_another_organization_is_403(api):
    await create_organization(api, "beta")
    _, owner_headers = await api.user_with_role("owner", "all")

    response = await api.get("/api/v1/users", headers={**owner_headers, "X-Organization": "beta"})

    problem(response, 403)


async def test_x_organization_naming_an_unknown_organization_is_404_for_a_platform_admin(api):
    response = await api.get("/api/v1/users", headers={**api.headers, "X-Organization": "no-such-org"})

    problem(response, 404)
