"""The whole product path with real programs on 127.0.0.1: accounts created through the API,
applied, and the live files read by Kamailio (REGISTERs from sipp) and by baresip
(its accounts file fetched through the device's provisioning URL)."""

from __future__ import annotations

import pytest
import sip_tools

pytestmark = pytest.mark.registrar


async def _apply(api) -> dict:
    response = await api.post("/api/v1/config/apply", json={})
    assert response.status_code == 200, response.text
    return response.json()


async def _credentials(api, account_id: str) -> tuple[int, str, str]:
    secret = (await api.get(f"/api/v1/sip-accounts/{account_id}/secret")).json()
    return secret["extension"], secret["auth_username"], secret["password"]


async def test_accounts_created_through_the_api_register_with_kamailio_after_apply(api, tmp_path):
    port = sip_tools.free_udp_port()
    domain = "pbx.centralino.test"
    patched = await api.patch("/api/v1/organization", json={"sip_domain": domain, "sip_proxy": f"127.0.0.1:{port}"})
    assert patched.status_code == 200, patched.text
    anna = await api.create_user(first_name="Anna", last_name="Nowak", extension="next")
    piotr = await api.create_user(first_name="Piotr", last_name="Rossi", extension="next")
    inactive = (await api.post("/api/v1/sip-accounts", json={"active": False})).json()
    await _apply(api)

    live = api.settings.config_dir / "default" / "current" / "kamailio"
    with sip_tools.Kamailio(live, tmp_path / "kamailio", port=port) as kamailio:
        pid = kamailio.pid
        extension, auth_id, password = await _credentials(api, anna["sip_account"]["id"])
        assert sip_tools.sipp_register(port, extension, auth_id, password, domain) == 200
        assert sip_tools.sipp_register(port, extension, auth_id, password + "x", domain) == 403
        ext, auth, pw = await _credentials(api, inactive["id"])
        assert sip_tools.sipp_register(port, ext, auth, pw, domain) == 403

        # A new account goes live with the next apply, without restarting Kamailio.
        newcomer = await api.create_user(first_name="Ewa", extension="next")
        new_credentials = await _credentials(api, newcomer["sip_account"]["id"])
        assert sip_tools.sipp_register(port, *new_credentials, domain) == 403
        await _apply(api)
        assert sip_tools.sipp_register(port, *new_credentials, domain) == 200

        # Deactivating an account and applying refuses its new REGISTERs.
        deactivated = await api.patch(f"/api/v1/sip-accounts/{anna['sip_account']['id']}", json={"active": False})
        assert deactivated.status_code == 200
        assert sip_tools.sipp_register(port, extension, auth_id, password, domain) == 200  # not applied yet
        await _apply(api)
        assert sip_tools.sipp_register(port, extension, auth_id, password, domain) == 403

        # A rotated password: the old one stops working once applied.
        piotr_credentials = await _credentials(api, piotr["sip_account"]["id"])
        rotated = (await api.post(f"/api/v1/sip-accounts/{piotr['sip_account']['id']}/password")).json()
        await _apply(api)
        assert sip_tools.sipp_register(port, *piotr_credentials, domain) == 403
        assert sip_tools.sipp_register(port, piotr_credentials[0], piotr_credentials[1], rotated["password"], domain) == 200
        assert kamailio.pid == pid, "Kamailio was restarted"


async def test_baresip_registers_with_the_accounts_file_fetched_through_its_provisioning_url(api, tmp_path):
    port = sip_tools.free_udp_port()
    domain = "soft.centralino.test"
    await api.patch("/api/v1/organization", json={"sip_domain": domain, "sip_proxy": f"127.0.0.1:{port}"})
    user = await api.create_user(first_name="Laura", last_name="Bianchi", extension="next")
    device = (await api.post("/api/v1/devices", json={
        "vendor": "baresip", "label": "Laura's laptop", "sip_account_id": user["sip_account"]["id"]})).json()
    await _apply(api)
    url = device["provisioning_url"].replace("http://testserver", "") + device["provisioning_filename"]
    fetched = await api.client.get(url)
    assert fetched.status_code == 200, fetched.text

    live = api.settings.config_dir / "default" / "current" / "kamailio"
    with sip_tools.Kamailio(live, tmp_path / "kamailio", port=port):
        log = sip_tools.baresip_register(tmp_path / "baresip", fetched.text)
    assert "200 OK" in log, log
