"""A user's SIP credentials in one call (`GET /users/{id}/sip-credentials`), as an Odoo integrator or an SPA uses
them; the organization's `sip_username_mode` decides what phones authenticate with, in the API and in every file
an apply writes. The password is a secret: the same authority and audit as a reveal."""

from __future__ import annotations

from urllib.parse import urlsplit

from problems import problem

USERS = "/api/v1/users"


def credentials(api, user, headers=None):
    return api.get(f"{USERS}/{user['id']}/sip-credentials", headers=headers)


async def test_one_call_gives_the_credentials_and_odoos_fields(api, monkeypatch):
    monkeypatch.setattr(api.settings, "websocket_url", "wss://pbx.example.com:8089/ws")
    created = await api.post(USERS, json={"first_name": "Anna", "extension": 105})
    user = created.json()

    response = await credentials(api, user)

    assert response.status_code == 200, response.text
    body = response.json()
    password = created.json()["sip_password"]
    assert {k: body[k] for k in ("extension", "username", "auth_username", "password", "transport", "active")} == {
        "extension": 105, "username": "105", "auth_username": "105", "password": password, "transport": "udp",
        "active": True}, "a new organization authenticates with the extension"
    assert body["domain"] == body["proxy"] == "pbx.local"
    assert body["websocket_url"] == "wss://pbx.example.com:8089/ws"
    assert body["odoo"] == {"voip_username": "105", "voip_secret": password, "pbx_ip": "pbx.local",
                            "ws_server": "wss://pbx.example.com:8089/ws", "mode": "prod"}


async def test_in_auth_id_mode_phones_authenticate_with_the_auth_id_and_odoo_gets_no_block(api):
    user = await api.create_user(extension=106)
    assert (await api.patch("/api/v1/organization", json={"sip_username_mode": "auth_id"})).status_code == 200
    account = (await api.get(f"/api/v1/sip-accounts/{user['sip_account']['id']}/secret")).json()

    body = (await credentials(api, user)).json()

    assert body["username"] == "106" and body["auth_username"] == account["auth_id"] != "106"
    assert account["auth_username"] == account["auth_id"], "the reveal says the same"
    assert body["odoo"] is None


async def test_a_webrtc_account_is_told_its_websocket_transport(api, monkeypatch):
    monkeypatch.setattr(api.settings, "websocket_url", "ws://127.0.0.1:8088/ws")
    user = await api.create_user(extension="next")
    changed = await api.patch(f"/api/v1/sip-accounts/{user['sip_account']['id']}", json={"phone_type": "webrtc"})
    assert changed.status_code == 200, changed.text

    assert (await credentials(api, user)).json()["transport"] == "ws"


async def test_a_user_without_a_sip_account_gets_a_404_that_says_so(api):
    user = await api.create_user()

    body = problem(await credentials(api, user), 404)

    assert "no SIP account" in body["detail"]


async def test_every_read_is_audited_and_needs_the_authority_of_a_reveal(api):
    owner, _ = await api.user_with_role("owner", "all", extension="next")
    _, admin = await api.user_with_role("admin", "all")
    _, readonly = await api.user_with_role("readonly", "all")
    me, mine = await api.user_with_role("user", extension="next")
    colleague = await api.create_user(extension="next")

    assert (await credentials(api, colleague, headers=admin)).status_code == 200
    assert (await credentials(api, me, headers=mine)).status_code == 200, "one's own"
    assert (await credentials(api, owner, headers=admin)).status_code == 403, "an admin cannot reach the owner's"
    assert (await credentials(api, colleague, headers=readonly)).status_code == 403, "no sip_secrets.read"
    assert (await credentials(api, colleague, headers=mine)).status_code == 404, "scope own"
    entries = (await api.get("/api/v1/audit-log", params={"action": "sip_account.secret_reveal"})).json()["items"]
    assert sorted(e["resource_id"] for e in entries) == sorted(
        [colleague["sip_account"]["id"], me["sip_account"]["id"]])
    assert all(e["after"]["via"] == "sip-credentials" for e in entries)


async def test_every_file_an_apply_writes_follows_the_username_mode(api):
    user = await api.create_user(extension=107)
    phone = (await api.post("/api/v1/devices", json={"vendor": "yealink", "mac": "80:5e:c0:11:22:35",
                                                     "sip_account_id": user["sip_account"]["id"]})).json()
    auth_id = (await api.get(f"/api/v1/sip-accounts/{user['sip_account']['id']}/secret")).json()["auth_id"]

    async def files() -> tuple[str, str, str]:
        assert (await api.post("/api/v1/config/apply", json={})).status_code == 200
        live = api.settings.config_dir / "default" / "current"
        path = urlsplit(phone["provisioning_url"]).path.rstrip("/")
        yealink = (await api.client.get(f"{path}/{phone['provisioning_filename']}")).text
        return (live / "asterisk" / "pjsip.conf").read_text(), (live / "kamailio" / "subscriber").read_text(), yealink

    pjsip, subscriber, yealink = await files()
    assert "username=107\n" in pjsip and "\n1:107:pbx.local:" in subscriber
    assert "account.1.auth_name = 107\n" in yealink
    assert (await api.patch("/api/v1/organization", json={"sip_username_mode": "auth_id"})).status_code == 200
    pjsip, subscriber, yealink = await files()
    assert f"username={auth_id}\n" in pjsip and f"\n1:{auth_id}:pbx.local:" in subscriber
    assert f"account.1.auth_name = {auth_id}\n" in yealink
