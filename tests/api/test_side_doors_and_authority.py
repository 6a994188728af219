"""Every path to a SIP password needs the authority to reveal it; nobody manages what is stronger than them;
scope 'own' narrows everything; links come from the settings, never from the request."""

from __future__ import annotations

from problems import problem

APPLY = "/api/v1/config/apply"
DEVICES = "/api/v1/devices"


async def owner_account(api) -> dict:
    """The bootstrap owner, with a SIP account of its own."""
    owner = (await api.get("/api/v1/users", params={"q": "admin"})).json()["items"][0]
    response = await api.post("/api/v1/sip-accounts", json={"user_id": owner["id"]})
    assert response.status_code == 201, response.text
    return response.json()


# --- the owner's password through a device ----------------------------------------------------------------

async def test_an_admin_cannot_put_the_owners_account_on_a_device(api):
    account = await owner_account(api)
    _, admin = await api.user_with_role("admin", "all")

    refused = await api.post(DEVICES, json={"vendor": "baresip", "sip_account_id": account["id"]}, headers=admin)

    problem(refused, 403)
    assert (await api.get(DEVICES)).json()["total"] == 0


async def test_an_admin_cannot_move_a_device_onto_the_owners_account(api):
    account = await owner_account(api)
    _, admin = await api.user_with_role("admin", "all")
    device = (await api.post(DEVICES, json={"vendor": "baresip", "label": "spare"}, headers=admin)).json()

    problem(await api.patch(f"{DEVICES}/{device['id']}", json={"sip_account_id": account["id"]}, headers=admin), 403)


async def test_an_admin_cannot_rotate_the_url_of_a_device_carrying_the_owners_account(api):
    account = await owner_account(api)
    device = (await api.post(DEVICES, json={"vendor": "baresip", "sip_account_id": account["id"]})).json()
    _, admin = await api.user_with_role("admin", "all")

    problem(await api.post(f"{DEVICES}/{device['id']}/provisioning-url", headers=admin), 403)


async def test_an_admin_cannot_create_a_sip_account_for_the_owner_and_read_its_password(api):
    owner = (await api.get("/api/v1/users", params={"q": "admin"})).json()["items"][0]
    _, admin = await api.user_with_role("admin", "all")
    assert (await api.post("/api/v1/sip-accounts", json={})).status_code == 201  # a pooled account to claim

    problem(await api.post("/api/v1/sip-accounts", json={"user_id": owner["id"]}, headers=admin), 403)
    problem(await api.post("/api/v1/sip-accounts/claim", json={"user_id": owner["id"]}, headers=admin), 403)


async def test_an_admin_still_manages_the_devices_of_users_it_may_manage(api):
    _, admin = await api.user_with_role("admin", "all")
    colleague = await api.create_user(extension="next")

    linked = await api.post(DEVICES, json={"vendor": "baresip", "sip_account_id": colleague["sip_account"]["id"]},
                            headers=admin)

    assert linked.status_code == 201, linked.text
    assert (await api.post(f"{DEVICES}/{linked.json()['id']}/provisioning-url", headers=admin)).status_code == 200


async def test_giving_a_device_another_account_rotates_its_url_and_the_old_one_stops_serving(api):
    first = await api.create_user(extension="next")
    second = await api.create_user(extension="next")
    created = (await api.post(DEVICES, json={"vendor": "baresip", "sip_account_id": first["sip_account"]["id"]})).json()
    await api.post(APPLY, json={})
    old_url = created["provisioning_url"] + created["provisioning_filename"]
    assert (await api.client.get(old_url)).status_code == 200

    moved = await api.patch(f"{DEVICES}/{created['id']}", json={"sip_account_id": second["sip_account"]["id"]})
    await api.post(APPLY, json={})

    assert moved.status_code == 200, moved.text
    new_url = moved.json()["provisioning_url"]
    assert new_url and new_url != created["provisioning_url"]
    problem(await api.client.get(old_url), 404)
    served = await api.client.get(new_url + created["provisioning_filename"])
    assert served.status_code == 200 and f"sip:{second['sip_account']['extension']}@" in served.text


async def test_a_change_that_keeps_the_account_keeps_the_url(api):
    user = await api.create_user(extension="next")
    created = (await api.post(DEVICES, json={"vendor": "baresip", "sip_account_id": user["sip_account"]["id"]})).json()

    renamed = await api.patch(f"{DEVICES}/{created['id']}", json={"label": "Desk"})

    assert renamed.status_code == 200 and renamed.json()["provisioning_url"] is None
    await api.post(APPLY, json={})
    assert (await api.client.get(created["provisioning_url"] + "accounts")).status_code == 200


async def test_linking_a_device_first_time_rotates_its_url_too(api):
    user = await api.create_user(extension="next")
    created = (await api.post(DEVICES, json={"vendor": "baresip", "label": "spare"})).json()

    linked = await api.patch(f"{DEVICES}/{created['id']}", json={"sip_account_id": user["sip_account"]["id"]})
    await api.post(APPLY, json={})

    problem(await api.client.get(created["provisioning_url"] + "accounts"), 404)
    assert (await api.client.get(linked.json()["provisioning_url"] + "accounts")).status_code == 200


# --- authority over stronger roles and keys ----------------------------------------------------------------

async def test_an_admin_cannot_change_or_delete_a_role_with_permissions_it_does_not_hold(api):
    strong = (await api.post("/api/v1/roles", json={"name": "settings", "permissions": ["organization.write",
                                                                                     "users.read"]})).json()
    _, admin = await api.user_with_role("admin", "all")

    problem(await api.patch(f"/api/v1/roles/{strong['id']}", json={"description": "mine now"}, headers=admin), 403)
    problem(await api.delete(f"/api/v1/roles/{strong['id']}", headers=admin), 403)
    weak = (await api.post("/api/v1/roles", json={"name": "reader", "permissions": ["users.read"]})).json()
    assert (await api.patch(f"/api/v1/roles/{weak['id']}", json={"description": "ok"}, headers=admin)).status_code == 200


async def test_an_admin_cannot_revoke_an_api_key_stronger_than_itself(api):
    owners_key = (await api.post("/api/v1/api-keys", json={"name": "Owner's CRM", "role": "owner"})).json()
    _, admin = await api.user_with_role("admin", "all")

    problem(await api.delete(f"/api/v1/api-keys/{owners_key['id']}", headers=admin), 403)
    assert (await api.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {owners_key['key']}"})).status_code == 200
    weaker = (await api.post("/api/v1/api-keys", json={"name": "Reports", "role": "readonly"})).json()
    assert (await api.delete(f"/api/v1/api-keys/{weaker['id']}", headers=admin)).status_code == 204


# --- scope 'own' narrows everything ------------------------------------------------------------------------

async def test_scope_own_cannot_list_api_keys_revisions_or_files_of_every_extension(api):
    await api.create_user(extension="next")
    await api.post("/api/v1/api-keys", json={"name": "CRM"})
    await api.post(APPLY, json={})
    _, reader = await api.user_with_role("readonly", "own")

    for path in ("/api/v1/api-keys", "/api/v1/config/revisions", "/api/v1/config/revisions/1",
                 "/api/v1/config/revisions/1/files/asterisk/extensions.conf", "/api/v1/config/revisions/1/diff/1"):
        problem(await api.get(path, headers=reader), 403)
    assert (await api.get("/api/v1/config/status", headers=reader)).status_code == 200


# --- links from the settings --------------------------------------------------------------------------------

async def test_provisioning_urls_and_locations_come_from_the_public_url_not_the_host_header(api):
    api.settings.public_url = "https://pbx-api.example.com"
    spoofed = {**api.headers, "Host": "attacker.example", "X-Forwarded-Host": "attacker.example"}

    device = await api.post(DEVICES, json={"vendor": "baresip"}, headers=spoofed)
    user = await api.post("/api/v1/users", json={"first_name": "Anna"}, headers=spoofed)

    assert device.json()["provisioning_url"].startswith("https://pbx-api.example.com/provisioning/")
    assert device.headers["Location"] == f"https://pbx-api.example.com/api/v1/devices/{device.json()['id']}"
    assert user.headers["Location"] == f"https://pbx-api.example.com/api/v1/users/{user.json()['id']}"
    assert "attacker" not in device.text + user.text


async def test_every_create_answers_201_with_location_and_an_etag_where_the_resource_has_one(api):
    creations = {
        "/api/v1/users": {"first_name": "Anna"},
        "/api/v1/sip-accounts": {},
        DEVICES: {"vendor": "baresip"},
        "/api/v1/roles": {"name": "helpdesk", "permissions": ["users.read"]},
        "/api/v1/api-keys": {"name": "CRM"},
        "/api/v1/organizations": {"name": "Acme", "slug": "acme", "sip_domain": "acme.example.com"},
    }
    for path, body in creations.items():
        response = await api.post(path, json=body)

        assert response.status_code == 201, (path, response.text)
        assert response.headers["Location"].endswith(f"{path}/{response.json()['id']}"), path
        fetched = await api.get(response.headers["Location"].removeprefix(api.settings.public_url))
        assert fetched.status_code == 200, path


async def test_an_idempotent_replay_repeats_the_location(api):
    headers = {**api.headers, "Idempotency-Key": "create-anna-1"}
    first = await api.post("/api/v1/users", json={"first_name": "Anna"}, headers=headers)
    again = await api.post("/api/v1/users", json={"first_name": "Anna"}, headers=headers)

    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.headers["Location"] == first.headers["Location"] and again.json() == first.json()
