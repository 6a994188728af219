"""What `GET /users/{id}/sip-credentials` returns registers with the real registrars, in either
`sip_username_mode`: Kamailio (REGISTER from sipp, digest user = `auth_username`) and Asterisk (a sipp phone
registers and calls). The other user name is refused, so the mode is what the files carry, not a coincidence."""

from __future__ import annotations

from contextlib import ExitStack

import pytest
import sip_tools
from asterisk_office import Office, asterisk_port, office, settings  # noqa: F401 (fixtures)
from asterisk_tools import Phone

pytestmark = pytest.mark.registrar

DOMAIN = "pbx.centralino.test"


async def credentials_of(api, user: dict) -> dict:
    response = await api.get(f"/api/v1/users/{user['id']}/sip-credentials")
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize("mode", ["extension", "auth_id"])
async def test_the_credentials_register_with_kamailio_and_the_other_user_name_is_refused(api, tmp_path, mode):
    port = sip_tools.free_udp_port()
    patched = await api.patch("/api/v1/organization", json={"sip_domain": DOMAIN, "sip_proxy": f"127.0.0.1:{port}",
                                                            "sip_username_mode": mode})
    assert patched.status_code == 200, patched.text
    user = await api.create_user(first_name="Anna", extension="next")
    given = await credentials_of(api, user)
    auth_id = (await api.get(f"/api/v1/sip-accounts/{user['sip_account']['id']}/secret")).json()["auth_id"]
    assert (await api.post("/api/v1/config/apply", json={})).status_code == 200

    live = api.settings.config_dir / "default" / "current" / "kamailio"
    with sip_tools.Kamailio(live, tmp_path / "kamailio", port=port):
        accepted = sip_tools.sipp_register(port, given["username"], given["auth_username"], given["password"],
                                           given["domain"])
        other = given["username"] if mode == "auth_id" else auth_id
        refused = sip_tools.sipp_register(port, given["username"], other, given["password"], given["domain"])

    assert given["auth_username"] == (given["username"] if mode == "extension" else auth_id)
    assert accepted == 200, "the credentials as given register"
    assert refused == 403, "the other user name does not"


@pytest.mark.parametrize("mode", ["extension", "auth_id"])
async def test_the_credentials_register_with_asterisk_and_call(office, mode):
    assert (await office.api.patch("/api/v1/organization", json={"sip_username_mode": mode})).status_code == 200
    anna, bruno = [await office.user(n) for n in ("Anna", "Bruno")]
    given = await credentials_of(office.api, {"id": anna.user_id})

    with await office.apply(), ExitStack() as stack:
        phone = stack.enter_context(Phone("answer", name="anna"))
        registered = phone.register(office.port, given["username"], given["auth_username"], given["password"])
        answered = office.dial(bruno, anna.number, hangup_after_s=0.3).answered

    assert given["auth_username"] == anna.auth_id, "office users take the same auth user name from the reveal"
    assert registered == 200 and answered, "registered with the given credentials, the phone takes a call"
