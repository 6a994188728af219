"""Nobody reaches a SIP password or manages a stronger user through a side door."""

from __future__ import annotations

from problems import problem

APPLY = "/api/v1/config/apply"


async def _owner(api) -> dict:
    return (await api.get("/api/v1/users", params={"q": "admin"})).json()["items"][0]


async def test_a_manager_with_scope_own_cannot_read_files_or_diffs_of_a_revision(api):
    victim = await api.create_user(extension="next")
    device = await api.post("/api/v1/devices", json={"vendor": "baresip", "sip_account_id": victim["sip_account"]["id"]})
    assert (await api.post(APPLY, json={})).status_code == 200
    _, manager = await api.user_with_role("manager", "own")
    path = f"provisioning/baresip/{device.json()['id']}/accounts"
    problem(await api.get(f"/api/v1/config/revisions/1/files/{path}", headers=manager), 403)
    problem(await api.get("/api/v1/config/revisions/1/diff/1", headers=manager), 403)


async def test_the_hashes_of_secret_files_are_hidden_from_readers_without_secret_access(api):
    await api.create_user(extension="next", voicemail_enabled=True)
    await api.post(APPLY, json={})
    _, readonly = await api.user_with_role("readonly", "all")
    files = (await api.get("/api/v1/config/revisions/1", headers=readonly)).json()["files"]
    assert files["asterisk/voicemail.conf"] is None and files["kamailio/subscriber"] is None
    assert len(files["asterisk/extensions.conf"]) == 64
    owner_view = (await api.get("/api/v1/config/revisions/1")).json()["files"]
    assert len(owner_view["asterisk/voicemail.conf"]) == 64


async def test_an_admin_cannot_read_the_owners_digest_or_phone_file_through_revisions_or_diffs(api):
    owner, owner_headers = await api.user_with_role("owner", "all", extension="next")
    owner_phone = (await api.post("/api/v1/devices", json={
        "vendor": "baresip", "sip_account_id": owner["sip_account"]["id"]}, headers=owner_headers)).json()
    staff = await api.create_user(extension="next")
    staff_phone = (await api.post("/api/v1/devices", json={
        "vendor": "baresip", "sip_account_id": staff["sip_account"]["id"]})).json()
    assert (await api.post(APPLY, json={})).status_code == 200
    _, admin = await api.user_with_role("admin", "all")
    files = "/api/v1/config/revisions/1/files"

    problem(await api.get(f"{files}/asterisk/pjsip.conf", headers=admin), 403)
    problem(await api.get(f"{files}/provisioning/baresip/{owner_phone['id']}/accounts", headers=admin), 403)
    assert (await api.get(f"{files}/provisioning/baresip/{staff_phone['id']}/accounts", headers=admin)).status_code == 200
    assert (await api.get(f"{files}/asterisk/pjsip.conf", headers=owner_headers)).status_code == 200
    # Nor through hashes, nor a dry run's diff after the owner's password changes.
    assert (await api.get("/api/v1/config/revisions/1", headers=admin)).json()["files"]["asterisk/pjsip.conf"] is None
    assert (await api.post(f"/api/v1/sip-accounts/{owner['sip_account']['id']}/password",
                           headers=owner_headers)).status_code == 200
    dry_run = (await api.post(APPLY, json={"dry_run": True}, headers=admin)).json()
    assert {f["path"]: f["diff"] for f in dry_run["files"]}["asterisk/pjsip.conf"] is None
    # An admin API key, which has no user of its own, is held to the same rule.
    key = (await api.post("/api/v1/api-keys", json={"name": "crm", "role": "admin"})).json()["key"]
    problem(await api.get(f"{files}/asterisk/pjsip.conf", headers={"Authorization": f"Bearer {key}"}), 403)


async def test_users_write_alone_cannot_create_a_sip_account_through_a_user(api):
    assert (await api.post("/api/v1/roles", json={"name": "hr", "permissions": ["users.read", "users.write"]})).status_code == 201
    _, hr = await api.user_with_role("hr", "all")
    body = problem(await api.post("/api/v1/users", json={"first_name": "X", "extension": "next"}, headers=hr), 403)
    assert "sip_accounts.write" in body["detail"]
    assert (await api.post("/api/v1/users", json={"first_name": "X"}, headers=hr)).status_code == 201


async def test_devices_write_alone_cannot_link_a_device_to_an_account(api):
    victim = await api.create_user(extension="next")
    assert (await api.post("/api/v1/roles", json={"name": "installer",
                                                  "permissions": ["devices.read", "devices.write"]})).status_code == 201
    _, installer = await api.user_with_role("installer", "all")
    problem(await api.post("/api/v1/devices", json={"vendor": "baresip", "sip_account_id": victim["sip_account"]["id"]},
                           headers=installer), 403)
    unlinked = await api.post("/api/v1/devices", json={"vendor": "baresip", "label": "spare"}, headers=installer)
    assert unlinked.status_code == 201
    problem(await api.patch(f"/api/v1/devices/{unlinked.json()['id']}",
                            json={"sip_account_id": victim["sip_account"]["id"]}, headers=installer), 403)


async def test_a_claimed_pooled_account_gets_a_new_password_shown_once(api):
    former = await api.create_user(extension="next")
    old_password = former["sip_password"]
    await api.delete(f"/api/v1/users/{former['id']}")
    newcomer = await api.create_user()
    claimed = await api.post("/api/v1/sip-accounts/claim", json={"user_id": newcomer["id"]})
    assert claimed.status_code == 200, claimed.text
    assert claimed.json()["password"] and claimed.json()["password"] != old_password
    secret = (await api.get(f"/api/v1/sip-accounts/{claimed.json()['id']}/secret")).json()
    assert secret["password"] == claimed.json()["password"]


async def test_reassigning_an_account_by_patch_rotates_its_password(api):
    first = await api.create_user(extension="next")
    second = await api.create_user()
    account_id = first["sip_account"]["id"]
    await api.patch(f"/api/v1/sip-accounts/{account_id}", json={"user_id": None})
    moved = await api.patch(f"/api/v1/sip-accounts/{account_id}", json={"user_id": second["id"]})
    assert moved.status_code == 200
    secret = (await api.get(f"/api/v1/sip-accounts/{account_id}/secret")).json()
    assert secret["password"] != first["sip_password"]


async def test_a_manager_cannot_change_the_owner_or_touch_the_owners_sip_account(api):
    owner = await _owner(api)
    account = (await api.post("/api/v1/sip-accounts", json={"user_id": owner["id"]})).json()
    _, manager = await api.user_with_role("manager", "all")
    problem(await api.patch(f"/api/v1/users/{owner['id']}", json={"email": "attacker@example.com"}, headers=manager), 403)
    problem(await api.get(f"/api/v1/sip-accounts/{account['id']}/secret", headers=manager), 403)
    problem(await api.post(f"/api/v1/sip-accounts/{account['id']}/password", headers=manager), 403)
    problem(await api.patch(f"/api/v1/sip-accounts/{account['id']}", json={"user_id": None}, headers=manager), 403)
    # ... while users without more rights than the manager stay manageable.
    plain = await api.create_user(extension="next")
    assert (await api.patch(f"/api/v1/users/{plain['id']}", json={"first_name": "Ok"}, headers=manager)).status_code == 200


async def test_the_registrar_files_hold_trunk_passwords_so_reading_them_needs_trunk_secrets_read(api):
    trunk = await api.post("/api/v1/trunks", json={"name": "carrier", "host": "sip.carrier.example",
                                                   "username": "acct", "password": "Trunk-Secret-123"})
    assert trunk.status_code == 201, trunk.text
    assert (await api.post(APPLY, json={})).status_code == 200
    role = await api.post("/api/v1/roles", json={"name": "auditor", "permissions": [
        "config.read", "sip_secrets.read", "users.read", "trunks.read"]})
    assert role.status_code == 201, role.text
    _, auditor = await api.user_with_role("auditor", "all")

    problem(await api.get(f"/api/v1/trunks/{trunk.json()['id']}/secret", headers=auditor), 403)
    problem(await api.get("/api/v1/config/revisions/1/files/asterisk/pjsip.conf", headers=auditor), 403)
    owner_view = await api.get("/api/v1/config/revisions/1/files/asterisk/pjsip.conf")
    assert owner_view.status_code == 200 and "Trunk-Secret-123" in owner_view.text
