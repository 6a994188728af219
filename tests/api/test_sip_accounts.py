"""SIP accounts: numbering in the range, the pool, generated credentials, secrets at rest and their reveal."""

from __future__ import annotations

import json
import sqlite3

import asyncpg
from problems import problem, locs

ACCOUNTS = "/api/v1/sip-accounts"


async def create_account(api, **fields) -> dict:
    response = await api.post(ACCOUNTS, json=fields)
    assert response.status_code == 201, response.text
    return response.json()


async def set_range(api, low: int, high: int) -> None:
    response = await api.patch("/api/v1/organization", json={"extension_min": low, "extension_max": high})
    assert response.status_code == 200, response.text


async def database_rows(api) -> str:
    """Every row of every table, read straight from the database (not through the API), as one text."""
    url = api.settings.database_url
    dump = []
    if url.startswith("sqlite"):
        connection = sqlite3.connect(url.split(":///", 1)[1])
        try:
            tables = [r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            for table in tables:
                dump.extend(repr(row) for row in connection.execute(f'SELECT * FROM "{table}"'))
        finally:
            connection.close()
    else:
        connection = await asyncpg.connect(url.replace("+asyncpg", ""))
        try:
            tables = [r["tablename"] for r in await connection.fetch(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")]
            for table in tables:
                dump.extend(repr(dict(row)) for row in await connection.fetch(f'SELECT * FROM "{table}"'))
        finally:
            await connection.close()
    assert dump, "the database dump is empty: the test would prove nothing"
    return "\n".join(dump)


async def stored_password_column(api, account_id: str) -> str:
    url = api.settings.database_url
    if url.startswith("sqlite"):
        connection = sqlite3.connect(url.split(":///", 1)[1])
        try:
            row = connection.execute("SELECT password_encrypted FROM sip_accounts WHERE id = ?",
                                     (account_id.replace("-", ""),)).fetchone()
            if row is None:  # a UUID stored with dashes
                row = connection.execute("SELECT password_encrypted FROM sip_accounts WHERE id = ?", (account_id,)).fetchone()
        finally:
            connection.close()
        assert row is not None
        return row[0]
    connection = await asyncpg.connect(url.replace("+asyncpg", ""))
    try:
        value = await connection.fetchval("SELECT password_encrypted FROM sip_accounts WHERE id::text = $1", account_id)
    finally:
        await connection.close()
    assert value is not None
    return value


# --- numbering ---------------------------------------------------------------------------------------------

async def test_an_account_without_extension_gets_the_lowest_free_number_which_next_free_announces(api):
    assert (await api.get(f"{ACCOUNTS}/next-free")).json() == {"extension": 100}
    await create_account(api)
    await create_account(api, extension=102)

    announced = (await api.get(f"{ACCOUNTS}/next-free")).json()["extension"]
    created = await create_account(api)

    assert announced == 101
    assert created["extension"] == 101
    assert (await api.get(f"{ACCOUNTS}/next-free")).json() == {"extension": 103}


async def test_extensions_99_and_1000_are_refused_with_a_message_naming_the_range(api):
    for extension in (99, 1000):
        response = await api.post(ACCOUNTS, json={"extension": extension})

        body = problem(response, 422)
        assert "Extension must be between 100 and 999" in body["detail"], extension
        assert ["body", "extension"] in locs(body), extension
    assert (await api.get(ACCOUNTS)).json()["total"] == 0
    assert (await create_account(api, extension=999))["extension"] == 999


async def test_the_range_message_follows_the_organizations_own_range(api):
    await set_range(api, 200, 299)

    response = await api.post(ACCOUNTS, json={"extension": 150})

    assert "Extension must be between 200 and 299" in problem(response, 422)["detail"]


async def test_moving_an_account_outside_the_range_is_refused_naming_the_range(api):
    account = await create_account(api)

    response = await api.patch(f"{ACCOUNTS}/{account['id']}", json={"extension": 1000})

    assert "Extension must be between 100 and 999" in problem(response, 422)["detail"]


async def test_a_duplicate_extension_is_409_naming_the_number(api):
    await create_account(api, extension=105)

    response = await api.post(ACCOUNTS, json={"extension": 105})

    assert "Extension 105 is already in use" in problem(response, 409)["detail"]
    assert (await api.get(ACCOUNTS)).json()["total"] == 1


async def test_moving_an_account_onto_a_taken_extension_is_409_naming_the_number(api):
    await create_account(api, extension=105)
    other = await create_account(api, extension=106)

    response = await api.patch(f"{ACCOUNTS}/{other['id']}", json={"extension": 105})

    assert "Extension 105 is already in use" in problem(response, 409)["detail"]


async def test_next_free_is_409_naming_the_range_when_the_range_is_full(api):
    await set_range(api, 100, 102)
    for _ in range(3):
        await api.create_user(extension="next")  # assigned accounts: none is left in the pool either

    next_free = await api.get(f"{ACCOUNTS}/next-free")
    another = await api.post(ACCOUNTS, json={})
    user = await api.post("/api/v1/users", json={"first_name": "Late", "extension": "next"})

    assert "No free extension in range 100–102" in problem(next_free, 409)["detail"]
    assert "No free extension in range 100–102" in problem(another, 409)["detail"]
    assert "No free extension in range 100–102" in problem(user, 409)["detail"]
    assert (await api.get("/api/v1/users", params={"q": "Late"})).json()["total"] == 0


async def test_extension_next_takes_over_a_pooled_account_when_the_range_is_full(api):
    await set_range(api, 100, 100)
    pooled = await create_account(api)

    user = await api.create_user(extension="next")

    assert user["sip_account"]["id"] == pooled["id"]
    assert user["sip_password"] != pooled["password"]  # a former holder's phone must not keep working


async def test_permission_levels_101_and_minus_1_are_refused_naming_the_field(api):
    for level in (101, -1):
        response = await api.post(ACCOUNTS, json={"permission_level": level})

        assert ["body", "permission_level"] in locs(problem(response, 422)), level
    assert (await api.get(ACCOUNTS)).json()["total"] == 0
    assert (await create_account(api, permission_level=100))["permission_level"] == 100


async def test_a_permission_level_outside_0_to_100_is_refused_on_patch_too(api):
    account = await create_account(api)

    response = await api.patch(f"{ACCOUNTS}/{account['id']}", json={"permission_level": 101})

    assert ["body", "permission_level"] in locs(problem(response, 422))


async def test_permission_level_defaults_to_the_organizations_level(api):
    assert (await create_account(api))["permission_level"] == 10
    assert (await api.patch("/api/v1/organization", json={"default_permission_level": 30})).status_code == 200

    assert (await create_account(api))["permission_level"] == 30
    assert (await create_account(api, permission_level=0))["permission_level"] == 0


# --- credentials ---------------------------------------------------------------------------------------------

async def test_auth_id_and_a_strong_password_are_generated_and_the_password_is_shown_only_at_creation(api):
    first = await create_account(api)
    second = await create_account(api)

    for account in (first, second):
        assert account["auth_id"]
        assert len(account["password"]) >= 16
    assert first["auth_id"] != second["auth_id"]
    assert first["password"] != second["password"]
    read = await api.get(f"{ACCOUNTS}/{first['id']}")
    assert "password" not in read.json()
    assert first["password"] not in read.text


async def test_a_weak_caller_chosen_password_is_refused_naming_password(api):
    for weak in ("password", "12345678", "abcdefghijklmnop", "Short1!", "Has space 1234Ab", "Quote\"1234Abcd"):
        response = await api.post(ACCOUNTS, json={"password": weak})

        assert ["body", "password"] in locs(problem(response, 422)), weak
    assert (await api.get(ACCOUNTS)).json()["total"] == 0


async def test_a_strong_caller_chosen_password_is_accepted_and_revealed_as_given(api):
    account = await create_account(api, password="Correct-Horse-42-Battery")

    revealed = (await api.get(f"{ACCOUNTS}/{account['id']}/secret")).json()

    assert revealed["password"] == "Correct-Horse-42-Battery"


async def test_rotating_the_password_returns_a_new_one_once(api):
    account = await create_account(api)

    rotated = await api.post(f"{ACCOUNTS}/{account['id']}/password")

    assert rotated.status_code == 200, rotated.text
    new_password = rotated.json()["password"]
    assert len(new_password) >= 16 and new_password != account["password"]
    read = await api.get(f"{ACCOUNTS}/{account['id']}")
    assert new_password not in read.text and "password" not in read.json()
    assert (await api.get(f"{ACCOUNTS}/{account['id']}/secret")).json()["password"] == new_password


async def test_setting_a_weak_password_through_rotation_is_refused_and_keeps_the_old_one(api):
    account = await create_account(api)

    response = await api.post(f"{ACCOUNTS}/{account['id']}/password", json={"password": "weak"})

    assert ["body", "password"] in locs(problem(response, 422))
    assert (await api.get(f"{ACCOUNTS}/{account['id']}/secret")).json()["password"] == account["password"]


# --- secrets at rest, in reads and in the audit log ---------------------------------------------------------

async def test_the_sip_password_is_not_stored_in_clear_anywhere_in_the_database(api):
    account = await create_account(api)
    user = await api.create_user(extension="next")

    column = await stored_password_column(api, account["id"])
    everything = await database_rows(api)

    assert column and column != account["password"] and account["password"] not in column
    assert account["password"] not in everything
    assert user["sip_password"] not in everything


async def test_the_sip_password_is_absent_from_get_list_and_the_audit_log(api):
    account = await create_account(api)
    user = await api.create_user(extension="next")
    rotated = (await api.post(f"{ACCOUNTS}/{account['id']}/password")).json()["password"]
    assert (await api.get(f"{ACCOUNTS}/{account['id']}/secret")).status_code == 200

    texts = [
        (await api.get(f"{ACCOUNTS}/{account['id']}")).text,
        (await api.get(ACCOUNTS)).text,
        (await api.get(f"/api/v1/users/{user['id']}")).text,
        (await api.get("/api/v1/users")).text,
        (await api.get("/api/v1/audit-log", params={"limit": 500})).text,
    ]

    for secret in (account["password"], rotated, user["sip_password"]):
        for text in texts:
            assert secret not in text


async def test_revealing_the_secret_returns_the_credentials_and_is_audited(api):
    account = await create_account(api)

    revealed = await api.get(f"{ACCOUNTS}/{account['id']}/secret")

    assert revealed.status_code == 200, revealed.text
    body = revealed.json()
    assert (body["password"], body["auth_id"], body["extension"]) == (account["password"], account["auth_id"], account["extension"])
    entries = (await api.get("/api/v1/audit-log", params={"action": "sip_account.secret_reveal"})).json()["items"]
    assert [e["resource_id"] for e in entries] == [account["id"]]
    assert account["password"] not in json.dumps(entries)


async def test_a_readonly_principal_reads_an_account_but_cannot_reveal_its_secret(api):
    account = await create_account(api)
    _, readonly = await api.user_with_role("readonly", "all")

    read = await api.get(f"{ACCOUNTS}/{account['id']}", headers=readonly)
    reveal = await api.get(f"{ACCOUNTS}/{account['id']}/secret", headers=readonly)

    assert read.status_code == 200, read.text
    problem(reveal, 403)
    assert account["password"] not in reveal.text
    audited = (await api.get("/api/v1/audit-log", params={"action": "sip_account.secret_reveal"})).json()
    assert audited["total"] == 0


# --- the pool -------------------------------------------------------------------------------------------------

async def test_claim_gives_a_user_the_lowest_unassigned_account(api):
    await create_account(api, extension=120)
    lowest = await create_account(api, extension=110)
    user = await api.create_user()

    response = await api.post(f"{ACCOUNTS}/claim", json={"user_id": user["id"]})

    assert response.status_code == 200, response.text
    assert (response.json()["id"], response.json()["user_id"]) == (lowest["id"], user["id"])
    assert (await api.get(f"/api/v1/users/{user['id']}")).json()["sip_account"]["extension"] == 110


async def test_claim_is_409_no_free_sip_account_when_the_pool_is_empty(api):
    await api.create_user(extension="next")  # an assigned account is not in the pool
    user = await api.create_user()

    response = await api.post(f"{ACCOUNTS}/claim", json={"user_id": user["id"]})

    assert "No free SIP account" in problem(response, 409)["detail"]


async def test_deleting_a_user_returns_its_account_to_the_pool(api):
    user = await api.create_user(extension="next")
    account_id = user["sip_account"]["id"]

    assert (await api.delete(f"/api/v1/users/{user['id']}")).status_code == 204

    account = (await api.get(f"{ACCOUNTS}/{account_id}")).json()
    assert account["user_id"] is None
    pool = (await api.get(ACCOUNTS, params={"assigned": "false"})).json()
    assert [a["id"] for a in pool["items"]] == [account_id]


async def test_a_pooled_account_can_be_claimed_by_another_user_after_its_user_was_deleted(api):
    former = await api.create_user(extension="next")
    assert (await api.delete(f"/api/v1/users/{former['id']}")).status_code == 204
    newcomer = await api.create_user()

    claimed = await api.post(f"{ACCOUNTS}/claim", json={"user_id": newcomer["id"]})

    assert claimed.status_code == 200, claimed.text
    assert claimed.json()["id"] == former["sip_account"]["id"]
    assert claimed.json()["user_id"] == newcomer["id"]
