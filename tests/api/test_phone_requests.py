"""What phones ask the provisioning server for, in the exact names and cases they use: Snom's index files, MACs
in upper or lower case; and never another device's file, whatever the case."""

from __future__ import annotations

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
