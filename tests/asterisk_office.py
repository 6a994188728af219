"""An organization built through the API, applied, and loaded into a private Asterisk with sipp phones.

The end-to-end tests of groups, numbers and routing share it: ``office`` (a fixture) creates users with SIP
accounts, groups and memberships through the API, applies, and returns the live Asterisk directory; the
``settings`` fixture here binds the generated UDP transport to a free loopback port.
"""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass

import pytest
from asterisk_tools import Asterisk, Call, Phone, call
from sip_tools import free_udp_port

GROUPS = "/api/v1/groups"


@pytest.fixture
def asterisk_port() -> int:
    return free_udp_port()


@pytest.fixture
def settings(settings, asterisk_port):
    """The generated pjsip.conf binds its UDP transport to a free loopback port, with no WebSocket transport."""
    return settings.model_copy(update={"asterisk_udp_bind": f"127.0.0.1:{asterisk_port}", "asterisk_wss_bind": None})


@dataclass
class Extension:
    """A user of the organization with its SIP credentials."""

    user_id: str
    number: str
    auth_id: str
    password: str


class Office:
    """The organization under test, built through the API, then applied and loaded into a private Asterisk."""

    def __init__(self, api, port: int) -> None:
        self.api, self.port = api, port

    async def user(self, name: str) -> Extension:
        user = await self.api.create_user(first_name=name, extension="next")
        secret = (await self.api.get(f"/api/v1/sip-accounts/{user['sip_account']['id']}/secret")).json()
        return Extension(user["id"], str(secret["extension"]), secret["auth_username"], secret["password"])

    async def group(self, **fields) -> dict:
        response = await self.api.post(GROUPS, json={"name": f"G{fields.get('extension', '')}", **fields})
        assert response.status_code == 201, response.text
        return response.json()

    async def member(self, group: dict, who: Extension, role: str = "member", **rights: bool) -> None:
        response = await self.api.put(f"{GROUPS}/{group['id']}/members/{who.user_id}",
                                      json={"role": role, "rights": rights})
        assert response.status_code in (200, 201), response.text

    async def leave_default(self, *who: Extension) -> None:
        listed = (await self.api.get(GROUPS, params={"q": "DEFAULT"})).json()["items"]
        default = next(g for g in listed if g["is_default"])
        for extension in who:
            left = await self.api.delete(f"{GROUPS}/{default['id']}/members/{extension.user_id}")
            assert left.status_code == 204, left.text

    async def apply(self) -> Asterisk:
        applied = await self.api.post("/api/v1/config/apply", json={})
        assert applied.status_code == 200, applied.text
        return Asterisk(self.api.settings.config_dir / "default" / "current" / "asterisk")

    def phones(self, stack: ExitStack, **modes: tuple[Extension, str]) -> dict[str, Phone]:
        """Start a sipp phone per extension, in the given mode, and register it."""
        phones = {}
        for name, (extension, mode) in modes.items():
            phone = stack.enter_context(Phone(mode, name=name))
            assert phone.register(self.port, extension.number, extension.auth_id, extension.password) == 200
            phones[name] = phone
        return phones

    def call(self, caller: Extension, number: str, **options) -> Call:
        return Call(self.port, number, caller=caller.number, auth_id=caller.auth_id, password=caller.password,
                    **options)

    def dial(self, caller: Extension, number: str, **options):
        return call(self.port, number, caller=caller.number, auth_id=caller.auth_id, password=caller.password,
                    **options)


@pytest.fixture
def office(api, asterisk_port) -> Office:
    return Office(api, asterisk_port)
