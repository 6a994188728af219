"""The welcome e-mail (`POST /users/{id}/welcome-email`, and `"welcome_email": true` on create), sent to a real
SMTP server on 127.0.0.1 (aiosmtpd): the extension and the softphone's provisioning link, never a password or a
PIN; the same authority as revealing the SIP password; a refused mail changes nothing."""

from __future__ import annotations

import email
import email.policy
import re
from dataclasses import dataclass, field

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from problems import locs, problem
from sip_tools import free_tcp_port

USERS = "/api/v1/users"
REFUSED = "nobody@example.com"
SMTP_LOGIN, SMTP_PASSWORD = "centralino", "smtp-Secret-9"


@dataclass
class Mailbox:
    """What the local SMTP server received, and who logged in."""

    messages: list[email.message.EmailMessage] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 - aiosmtpd's name
        if address == REFUSED:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        self.messages.append(email.message_from_bytes(envelope.original_content, policy=email.policy.default))
        return "250 Message accepted"

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        assert isinstance(auth_data, LoginPassword)
        self.logins.append((auth_data.login.decode(), auth_data.password.decode()))
        return AuthResult(success=auth_data.password.decode() == SMTP_PASSWORD, handled=False)

    def only(self) -> email.message.EmailMessage:
        assert len(self.messages) == 1, [m["Subject"] for m in self.messages]
        return self.messages[0]


@pytest.fixture
def mailbox():
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_tcp_port(), authenticator=box.authenticate,
                            auth_require_tls=False)
    controller.start()
    box.port = controller.port
    yield box
    controller.stop()


@pytest.fixture
def settings(settings, mailbox):
    """The service's settings with mail going to the local SMTP server (no TLS on loopback)."""
    return settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": mailbox.port, "smtp_security": "none",
                                       "smtp_username": SMTP_LOGIN, "smtp_from": "PBX <pbx@example.com>",
                                       "smtp_password": type(settings.secret_key)(SMTP_PASSWORD)})


def link_in(message) -> str:
    text = message.get_body(("plain",)).get_content()
    return re.search(r"https?://\S+/provisioning/\S+/accounts", text).group(0)


def send(api, user, headers=None):
    return api.post(f"{USERS}/{user['id']}/welcome-email", headers=headers)


async def softphones(api, user) -> list[dict]:
    response = await api.get("/api/v1/devices", params={"sip_account_id": user["sip_account"]["id"]})
    return response.json()["items"]


async def fetch(api, link: str):
    return await api.client.get(link.removeprefix(api.settings.public_url))


async def test_the_e_mail_carries_the_extension_and_a_softphone_link_that_works_after_the_apply(api, mailbox):
    user = await api.create_user(first_name="Anna", extension="next", email="anna@example.com",
                                 voicemail_enabled=True)

    sent = await send(api, user)
    message = mailbox.only()
    link = link_in(message)
    apply = await api.post("/api/v1/config/apply", json={})
    fetched = await fetch(api, link)

    assert sent.status_code == 200, sent.text
    body = sent.json()
    extension = user["sip_account"]["extension"]
    assert body["to"] == "anna@example.com" and body["extension"] == extension
    assert body["provisioning_link"] == "created" and body["pending_apply"] is True
    assert message["To"] == "anna@example.com" and message["From"] == "PBX <pbx@example.com>"
    assert message["Subject"] == f"Your phone extension {extension}"
    text = message.get_body(("plain",)).get_content()
    assert "Hello Anna," in text and "*97" in text, "voicemail is enabled: the mail says how to reach it"
    assert link in message.get_body(("html",)).get_content(), "the HTML part carries the same link"
    assert apply.status_code == 200, apply.text
    assert fetched.status_code == 200 and "<sip:" in fetched.text, "the link provisions the softphone"
    assert [d["id"] for d in await softphones(api, user)] == [body["softphone_device_id"]]


async def test_no_password_pin_or_link_leaves_by_any_other_way(api, mailbox):
    created = await api.post(USERS, json={"first_name": "Anna", "extension": "next", "email": "anna@example.com",
                                          "voicemail_enabled": True})
    user = created.json()
    pin = (await api.get(f"{USERS}/{user['id']}/voicemail/pin")).json()["pin"]

    sent = await send(api, user)
    raw = mailbox.only().as_string()
    token = link_in(mailbox.only()).split("/provisioning/")[1].split("/")[0]
    audit = (await api.get("/api/v1/audit-log", params={"resource_id": user["id"]})).text
    device_audit = (await api.get("/api/v1/audit-log", params={"action": "device.create"})).text

    assert created.json()["sip_password"] not in raw, "never the SIP password in clear"
    assert pin not in raw, "never the voicemail PIN"
    assert token not in sent.text and token not in audit and token not in device_audit, "the link is in the mail only"
    assert "user.welcome_email" in audit


async def test_sending_again_gives_a_new_link_and_the_old_one_stops_working(api, mailbox):
    user = await api.create_user(extension="next", email="anna@example.com")

    first = await send(api, user)
    second = await send(api, user)
    await api.post("/api/v1/config/apply", json={})
    old_link, new_link = (link_in(message) for message in mailbox.messages)

    assert first.json()["provisioning_link"] == "created" and second.json()["provisioning_link"] == "rotated"
    assert first.json()["softphone_device_id"] == second.json()["softphone_device_id"]
    assert len(await softphones(api, user)) == 1
    assert (await fetch(api, old_link)).status_code == 404
    assert (await fetch(api, new_link)).status_code == 200


async def test_the_users_language_picks_the_e_mails_language(api, mailbox):
    user = await api.create_user(first_name="Giulia", extension=105, email="giulia@example.com", language="it")

    await send(api, user)

    message = mailbox.only()
    assert message["Subject"] == "Il tuo interno telefonico 105"
    assert "Ciao Giulia," in message.get_body(("plain",)).get_content()
    assert '<html lang="it">' in message.get_body(("html",)).get_content()


async def test_creating_a_user_with_the_opt_in_sends_it_in_the_same_request(api, mailbox):
    created = await api.post(USERS, json={"first_name": "Bruno", "email": "bruno@example.com", "extension": "next",
                                          "welcome_email": True})

    assert created.status_code == 201, created.text
    welcome = created.json()["welcome_email"]
    assert welcome["to"] == "bruno@example.com" and welcome["provisioning_link"] == "created"
    assert mailbox.only()["To"] == "bruno@example.com"
    without = await api.create_user(email="carla@example.com", extension="next")
    assert without["welcome_email"] is None and len(mailbox.messages) == 1, "the e-mail is opt-in"


async def test_a_refused_mail_creates_and_changes_nothing(api, mailbox):
    refused_create = await api.post(USERS, json={"first_name": "Nobody", "email": REFUSED, "extension": 150,
                                                 "welcome_email": True})
    user = await api.create_user(extension="next", email=REFUSED)
    refused_send = await send(api, user)

    body = problem(refused_create, 502)
    assert "550" in body["detail"] and "recipient" in body["detail"]
    assert (await api.get(USERS, params={"email": REFUSED})).json()["total"] == 1, "only the second user exists"
    assert (await api.get("/api/v1/sip-accounts", params={"q": "150"})).json()["total"] == 0
    problem(refused_send, 502)
    assert await softphones(api, user) == [], "no softphone registered for a mail that never left"
    assert mailbox.messages == []


async def test_the_smtp_login_uses_the_configured_credentials_and_a_refused_login_is_a_502(api, mailbox):
    user = await api.create_user(extension="next", email="anna@example.com")
    assert (await send(api, user)).status_code == 200
    api.settings.smtp_password = type(api.settings.secret_key)("wrong")

    refused = await send(api, user)

    assert mailbox.logins[0] == (SMTP_LOGIN, SMTP_PASSWORD)
    assert set(mailbox.logins[1:]) == {(SMTP_LOGIN, "wrong")}, "smtplib tries each offered mechanism"
    body = problem(refused, 502)
    assert "refused the login" in body["detail"] and "wrong" not in body["detail"]


async def test_starttls_is_required_by_default_and_never_skipped(api, mailbox):
    user = await api.create_user(extension="next", email="anna@example.com")
    api.settings.smtp_security = "starttls"

    body = problem(await send(api, user), 502)

    assert "CENTRALINO_SMTP_SECURITY" in body["detail"], "a server without STARTTLS is not used in plain text"
    assert mailbox.messages == []


async def test_without_mail_settings_it_is_a_503_and_nothing_is_created(api, mailbox):
    user = await api.create_user(extension="next", email="anna@example.com")
    api.settings.smtp_host = None

    on_create = await api.post(USERS, json={"first_name": "Bruno", "email": "bruno@example.com", "extension": 160,
                                            "welcome_email": True})
    on_send = await send(api, user)

    assert "CENTRALINO_SMTP_HOST" in problem(on_create, 503)["detail"]
    assert problem(on_send, 503)["type"].endswith("mail-not-configured")
    assert (await api.get(USERS, params={"email": "bruno@example.com"})).json()["total"] == 0


async def test_without_an_address_or_an_extension_it_is_refused_naming_the_field(api, mailbox):
    no_address = await api.create_user(extension="next")
    no_extension = await api.create_user(email="anna@example.com")

    assert locs(problem(await send(api, no_address), 409)) == [["path", "user_id", "email"]]
    assert locs(problem(await send(api, no_extension), 409)) == [["path", "user_id", "extension"]]
    on_create = await api.post(USERS, json={"first_name": "Bruno", "welcome_email": True})
    assert locs(problem(on_create, 422)) == [["body", "email"], ["body", "extension"]]
    assert mailbox.messages == []


async def test_it_needs_the_authority_of_revealing_the_sip_password(api, mailbox):
    owner, _ = await api.user_with_role("owner", "all", extension="next")
    await api.patch(f"{USERS}/{owner['id']}", json={"email": "owner@example.com"})
    _, admin_headers = await api.user_with_role("admin", scope="all")
    _, readonly_headers = await api.user_with_role("readonly", scope="all")
    role = await api.post("/api/v1/roles", json={"name": "no-secrets", "permissions": ["users.read", "users.write",
                                                                                       "sip_accounts.write"]})
    assert role.status_code == 201, role.text
    _, no_secrets_headers = await api.user_with_role("no-secrets", scope="all")
    member = await api.create_user(extension="next", email="member@example.com")
    me, my_headers = await api.user_with_role("user", extension="next")
    await api.patch(f"{USERS}/{me['id']}", json={"email": "me@example.com"})

    assert (await send(api, member, headers=readonly_headers)).status_code == 403
    no_secrets = problem(await send(api, member, headers=no_secrets_headers), 403)
    assert "sip_secrets.read" in no_secrets["detail"]
    on_create = await api.post(USERS, headers=no_secrets_headers, json={
        "first_name": "X", "email": "x@example.com", "extension": "next", "welcome_email": True})
    assert "sip_secrets.read" in problem(on_create, 403)["detail"]
    assert (await api.get(USERS, params={"email": "x@example.com"})).json()["total"] == 0
    assert (await send(api, owner, headers=admin_headers)).status_code == 403, "an admin cannot reach the owner's"
    assert (await send(api, member, headers=my_headers)).status_code == 404, "scope own: another user is not found"
    assert (await send(api, me, headers=my_headers)).status_code == 200, "a user may send its own"
    assert (await send(api, member, headers=admin_headers)).status_code == 200
    assert [m["To"] for m in mailbox.messages] == ["me@example.com", "member@example.com"]
