"""A user's options and restrictions through the API (`/users/{id}/options`): defaults, the write-only outbound
PIN, and that a user cannot lift its own restrictions."""

from __future__ import annotations

from problems import locs, problem

USERS = "/api/v1/users"
DEFAULTS = {"disabled": False, "external_calls_disabled": False, "lan_only": False,
            "block_outbound_outside_office_hours": False, "record_calls": False, "call_screening": False,
            "allow_conferences": True, "missed_call_email": False}


def url(user: dict) -> str:
    return f"{USERS}/{user['id']}/options"


async def test_a_new_user_has_no_restrictions(api):
    user = await api.create_user(extension="next")

    body = (await api.get(url(user))).json()

    assert body == {**DEFAULTS, "user_id": user["id"], "outbound_pin_set": False}


async def test_options_are_stored_and_the_outbound_pin_is_write_only(api):
    user = await api.create_user(extension="next")
    first = await api.get(url(user))

    saved = await api.put(url(user), json={**DEFAULTS, "external_calls_disabled": True, "outbound_pin": "582047"},
                          headers={**api.headers, "If-Match": first.headers["ETag"]})
    kept = await api.put(url(user), json={**DEFAULTS, "record_calls": True})
    removed = await api.put(url(user), json={**DEFAULTS, "outbound_pin": None})

    assert saved.status_code == 200, saved.text
    assert saved.json()["external_calls_disabled"] is True and saved.json()["outbound_pin_set"] is True
    assert "582047" not in saved.text and "582047" not in (await api.get("/api/v1/audit-log")).text
    assert kept.json()["outbound_pin_set"] is True, "omitted: the PIN stays"
    assert removed.json()["outbound_pin_set"] is False, "null removes it"


async def test_a_trivial_outbound_pin_is_refused_naming_the_field(api):
    user = await api.create_user(extension="next")

    refused = await api.put(url(user), json={**DEFAULTS, "outbound_pin": "1111"})

    assert {tuple(loc) for loc in locs(problem(refused, 422))} == {("body", "outbound_pin")}


async def test_a_user_cannot_lift_its_own_restrictions(api):
    me, headers = await api.user_with_role("user", extension="next")

    refused = await api.put(url(me), json=DEFAULTS, headers=headers)
    readable = await api.get(url(me), headers=headers)

    assert problem(refused, 403) and readable.status_code == 200


async def test_changing_options_makes_the_configuration_pending(api):
    user = await api.create_user(extension="next")
    assert (await api.post("/api/v1/config/apply", json={})).status_code == 200

    await api.put(url(user), json={**DEFAULTS, "disabled": True})

    assert (await api.get("/api/v1/config/status")).json()["pending"]


async def test_missed_call_e_mails_need_the_users_e_mail_address(api):
    without = await api.create_user(extension="next")
    with_address = await api.create_user(extension="next", email="anna@example.com")

    refused = await api.put(url(without), json={**DEFAULTS, "missed_call_email": True})
    saved = await api.put(url(with_address), json={**DEFAULTS, "missed_call_email": True})

    assert {tuple(loc) for loc in locs(problem(refused, 422))} == {("body", "missed_call_email")}
    assert saved.status_code == 200 and saved.json()["missed_call_email"] is True
