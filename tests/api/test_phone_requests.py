"""What phones ask the provisioning server for, in the exact names and cases they use: Snom's index files, MACs
in upper or lower case; and never another device's file, whatever the case."""

from __future__ import annotations

import base64
import json
import re
from urllib.parse import urlsplit
from xml.etree import ElementTree

SNOM_MAC = "00:04:13:A1:1F:A7"


async def phone(api, vendor: str, mac: str | None, model: str | None = None) -> dict:
    user = await api.create_user(extension="next")
    created = await api.post("/api/v1/devices", json={"vendor": vendor, "mac": mac, "model": model,
                                                      "sip_account_id": user["sip_account"]["id"]})
    assert created.status_code == 201, created.text
    return created.json()


def base(device: dict) -> str:
    return urlsplit(device["provisioning_url"]).path


async def applied(api) -> None:
    assert (await api.post("/api/v1/config/apply", json={})).status_code == 200


async def test_a_snom_d735_finds_its_settings_by_the_requests_it_makes(api):
    snom = await phone(api, "snom", SNOM_MAC, model="D735")
    await applied(api)

    # A Snom phone pointed at a setting server URL without a file name asks for these, in this order.
    general = await api.client.get(f"{base(snom)}snomD735.htm")
    specific = await api.client.get(f"{base(snom)}snomD735-000413A11FA7.htm")
    listed = [f.get("url") for f in ElementTree.fromstring(specific.content).iter("file")]
    settings = await api.client.get(urlsplit(listed[0]).path)

    assert general.status_code == 200 and specific.status_code == 200
    assert [f.get("url") for f in ElementTree.fromstring(general.content).iter("file")] == listed
    assert listed == [f"{snom['provisioning_url']}000413a11fa7.xml"], "the settings, behind the same secret URL"
    assert settings.status_code == 200 and ElementTree.fromstring(settings.content).find("phone-settings") is not None


async def test_a_snom_index_for_another_model_or_another_phones_mac_is_a_404(api):
    snom = await phone(api, "snom", SNOM_MAC, model="D735")
    await phone(api, "snom", "00:04:13:A1:1F:A8", model="D735")
    await applied(api)

    assert (await api.client.get(f"{base(snom)}snomD385.htm")).status_code == 404
    assert (await api.client.get(f"{base(snom)}snomD735-000413A11FA8.htm")).status_code == 404
    assert (await api.client.get(f"{base(snom)}000413a11fa8.xml")).status_code == 404


async def test_files_are_found_whatever_the_case_of_the_mac_and_keep_one_name_on_disk(api):
    yealink = await phone(api, "yealink", "80:5e:c0:11:22:33")
    grandstream = await phone(api, "grandstream", "00:0b:82:11:22:33")
    polycom = await phone(api, "polycom", "00:04:f2:aa:bb:cc")
    await applied(api)

    for device, asked in ((yealink, "805EC0112233.cfg"), (yealink, "805ec0112233.cfg"),
                          (grandstream, "cfg000B82112233.xml"), (polycom, "0004F2AABBCC.cfg"),
                          (polycom, "phone0004F2AABBCC.cfg")):
        response = await api.client.get(f"{base(device)}{asked}")
        assert response.status_code == 200, asked
    live = api.settings.config_dir / "default" / "current" / "provisioning"
    assert {"805ec0112233.cfg", "cfg000b82112233.xml", "0004f2aabbcc.cfg"} <= {p.name for p in live.iterdir()}
    assert not any(p.name != p.name.lower() for p in live.iterdir()), "one canonical (lower-case) name on disk"


async def test_a_device_never_gets_another_devices_file_in_any_case(api):
    mine = await phone(api, "yealink", "80:5e:c0:11:22:33")
    await phone(api, "yealink", "80:5e:c0:11:22:44")
    await applied(api)

    for asked in ("805ec0112244.cfg", "805EC0112244.cfg", "805Ec0112244.CFG"):
        assert (await api.client.get(f"{base(mine)}{asked}")).status_code == 404, asked


async def credentials(api, **body):
    response = await api.patch("/api/v1/organization", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def digest_authorization(challenge: str, user: str, password: str, uri: str, method: str = "GET") -> str:
    """An RFC 7616 Digest answer (MD5, qop=auth), as a phone computes it."""
    import hashlib

    params = dict(re.findall(r'(\w+)="?([^",]+)"?', challenge.removeprefix("Digest ")))
    md5 = lambda text: hashlib.md5(text.encode()).hexdigest()  # noqa: E731, S324
    ha1, ha2 = md5(f"{user}:{params['realm']}:{password}"), md5(f"{method}:{uri}")
    response = md5(f"{ha1}:{params['nonce']}:00000001:0a4f113b:auth:{ha2}")
    return (f'Digest username="{user}", realm="{params["realm"]}", nonce="{params["nonce"]}", uri="{uri}", '
            f'qop=auth, nc=00000001, cnonce="0a4f113b", response="{response}", algorithm=MD5')


async def test_with_provisioning_credentials_a_phone_must_also_authenticate_by_digest_or_basic(api):
    yealink = await phone(api, "yealink", "80:5e:c0:11:22:33")
    await applied(api)
    read = await credentials(api, provisioning_username="phones", provisioning_password="Provisioning-Secret-1")
    path = f"{base(yealink)}805ec0112233.cfg"

    challenged = await api.client.get(path)
    digest = challenged.headers.get_list("www-authenticate")[0]
    by_digest = await api.client.get(path, headers={
        "Authorization": digest_authorization(digest, "phones", "Provisioning-Secret-1", path)})
    basic = base64.b64encode(b"phones:Provisioning-Secret-1").decode()
    by_basic = await api.client.get(path, headers={"Authorization": f"Basic {basic}"})
    wrong = base64.b64encode(b"phones:wrong-password-123").decode()
    refused = await api.client.get(path, headers={"Authorization": f"Basic {wrong}"})
    other_uri = await api.client.get(path, headers={
        "Authorization": digest_authorization(digest, "phones", "Provisioning-Secret-1", "/elsewhere")})

    assert read["provisioning_username"] == "phones" and "Provisioning-Secret-1" not in json.dumps(read)
    assert challenged.status_code == 401
    assert [c.split()[0] for c in challenged.headers.get_list("www-authenticate")] == ["Digest", "Basic"]
    assert by_digest.status_code == 200 and "account.1.user_name" in by_digest.text
    assert by_basic.status_code == 200
    assert refused.status_code == 401 and other_uri.status_code == 401
    audit = (await api.get("/api/v1/audit-log", params={"action": "organization.update"})).text
    assert "Provisioning-Secret-1" not in audit


async def test_provisioning_credentials_come_in_pairs_and_null_removes_them(api):
    yealink = await phone(api, "yealink", "80:5e:c0:11:22:33")
    await applied(api)

    alone = await api.patch("/api/v1/organization", json={"provisioning_password": "Provisioning-Secret-1"})
    colon = await api.patch("/api/v1/organization", json={"provisioning_username": "a:b",
                                                          "provisioning_password": "Provisioning-Secret-1"})
    await credentials(api, provisioning_username="phones", provisioning_password="Provisioning-Secret-1")
    removed = await credentials(api, provisioning_username=None)

    assert alone.status_code == 422 and colon.status_code == 422
    assert removed["provisioning_username"] is None
    assert (await api.client.get(f"{base(yealink)}805ec0112233.cfg")).status_code == 200, "the token alone again"


async def test_a_model_the_vendor_does_not_make_is_refused_naming_the_field(api):
    user = await api.create_user(extension="next")
    account = user["sip_account"]["id"]

    wrong = await api.post("/api/v1/devices", json={"vendor": "snom", "mac": SNOM_MAC, "model": "T54W",
                                                    "sip_account_id": account})
    right = await api.post("/api/v1/devices", json={"vendor": "yealink", "mac": "80:5e:c0:11:22:33", "model": "T54W",
                                                    "sip_account_id": account})
    moved = await api.patch(f"/api/v1/devices/{right.json()['id']}", json={"vendor": "snom"})

    assert [e["loc"] for e in wrong.json()["errors"]] == [["body", "model"]] and wrong.status_code == 422
    assert right.status_code == 201 and right.json()["warnings"] == []
    assert moved.status_code == 422 and [e["loc"] for e in moved.json()["errors"]] == [["body", "vendor"]]


async def test_a_mac_with_another_vendors_prefix_warns_but_is_accepted(api):
    user = await api.create_user(extension="next")

    oem = await api.post("/api/v1/devices", json={"vendor": "snom", "mac": "80:5e:c0:11:22:33", "model": "D735",
                                                  "sip_account_id": user["sip_account"]["id"]})

    assert oem.status_code == 201
    [warning] = oem.json()["warnings"]
    assert "805ec0112233" in warning and "000413" in warning
