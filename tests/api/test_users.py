"""Users: creation with an extension, validation, uniqueness, lists, If-Match and Idempotency-Key."""

from __future__ import annotations

import uuid

import pytest
from problems import problem, locs


async def user_count(api) -> int:
    response = await api.get("/api/v1/users", params={"limit": 1})
    assert response.status_code == 200, response.text
    return response.json()["total"]


# --- creation with an extension ----------------------------------------------------------------------------

async def test_extension_next_numbers_users_from_100_and_reuses_the_number_a_deleted_user_freed(api):
    first = await api.create_user(extension="next")
    second = await api.create_user(extension="next")
    assert (first["sip_account"]["extension"], second["sip_account"]["extension"]) == (100, 101)

    assert (await api.delete(f"/api/v1/users/{first['id']}")).status_code == 204
    third = await api.create_user(extension="next")

    assert third["sip_account"]["extension"] == 100
    assert third["sip_password"] and third["sip_password"] != first["sip_password"]


async def test_the_sip_password_is_shown_once_in_the_create_response_and_never_in_reads(api):
    created = await api.create_user(extension="next")
    password = created["sip_password"]
    assert isinstance(password, str) and len(password) >= 16

    single = await api.get(f"/api/v1/users/{created['id']}")
    listed = await api.get("/api/v1/users")
    account = await api.get(f"/api/v1/sip-accounts/{created['sip_account']['id']}")

    for response in (single, listed, account):
        assert response.status_code == 200, response.text
        assert password not in response.text
    assert "sip_password" not in single.json()
    assert "password" not in account.json()


async def test_a_user_created_without_an_extension_has_no_sip_account_and_no_password(api):
    created = await api.create_user()

    assert created["sip_account"] is None
    assert created["sip_password"] is None


async def test_a_user_created_with_extension_105_gets_exactly_that_number(api):
    created = await api.create_user(extension=105)

    assert created["sip_account"]["extension"] == 105
    account = (await api.get(f"/api/v1/sip-accounts/{created['sip_account']['id']}")).json()
    assert account["user_id"] == created["id"]


async def test_extensions_99_and_1000_are_refused_on_user_create_with_a_message_naming_the_range(api):
    before = await user_count(api)

    for extension in (99, 1000):
        response = await api.post("/api/v1/users", json={"first_name": "Anna", "extension": extension})

        body = problem(response, 422)
        assert "Extension must be between 100 and 999" in body["detail"], extension
        assert ["body", "extension"] in locs(body), extension
    assert await user_count(api) == before


async def test_a_user_create_with_a_taken_extension_is_409_naming_the_number_and_creates_nobody(api):
    await api.create_user(extension=105)
    before = await user_count(api)

    response = await api.post("/api/v1/users", json={"first_name": "Bartek", "last_name": "Second", "extension": 105})

    body = problem(response, 409)
    assert "Extension 105 is already in use" in body["detail"]
    assert await user_count(api) == before
    assert (await api.get("/api/v1/users", params={"q": "Bartek"})).json()["total"] == 0


# --- field validation ---------------------------------------------------------------------------------------

async def test_a_bad_email_and_a_malformed_mobile_are_both_reported_in_one_422(api):
    response = await api.post("/api/v1/users", json={"first_name": "Anna", "email": "not-an-email", "mobile": "12ab"})

    body = problem(response, 422)
    assert ["body", "email"] in locs(body)
    assert ["body", "mobile"] in locs(body)


async def test_mobile_and_caller_id_are_stored_in_e164(api):
    created = await api.create_user(mobile="+48 22 123 45 67", caller_id="+48 (22) 123-45-68")

    assert created["mobile"] == "+48221234567"
    assert created["caller_id"] == "+48221234568"
    again = (await api.get(f"/api/v1/users/{created['id']}")).json()
    assert (again["mobile"], again["caller_id"]) == ("+48221234567", "+48221234568")


async def test_a_mobile_set_by_patch_is_stored_in_e164(api):
    created = await api.create_user()

    response = await api.patch(f"/api/v1/users/{created['id']}", json={"mobile": "+39 06 6982 1234"})

    assert response.status_code == 200, response.text
    assert response.json()["mobile"] == "+390669821234"


@pytest.mark.parametrize("field", ["first_name", "last_name"])
async def test_a_name_with_a_line_break_or_nul_is_refused_naming_the_field(api, field):
    before = await user_count(api)

    for bad in ("Anna\x00Nowak", "Anna\nNowak", "Anna\r[section]"):
        response = await api.post("/api/v1/users", json={"first_name": "Anna", "last_name": "Nowak", field: bad})

        assert ["body", field] in locs(problem(response, 422)), repr(bad)
    assert await user_count(api) == before


@pytest.mark.parametrize("field", ["first_name", "last_name"])
async def test_a_name_with_a_line_break_is_refused_on_patch_too(api, field):
    created = await api.create_user()

    response = await api.patch(f"/api/v1/users/{created['id']}", json={field: "legitimate name\nconfig injection"})

    assert ["body", field] in locs(problem(response, 422))


# --- e-mail uniqueness --------------------------------------------------------------------------------------

async def test_an_email_already_used_in_the_organization_is_409_also_when_it_differs_only_in_case(api):
    await api.create_user(email="anna@example.com")
    before = await user_count(api)

    for duplicate in ("anna@example.com", "Anna@Example.COM"):
        response = await api.post("/api/v1/users", json={"first_name": "Other", "email": duplicate})

        assert "anna@example.com" in problem(response, 409)["detail"], duplicate
    assert await user_count(api) == before


async def test_changing_an_email_to_one_already_used_is_409(api):
    await api.create_user(email="anna@example.com")
    other = await api.create_user(email="bartek@example.com")

    response = await api.patch(f"/api/v1/users/{other['id']}", json={"email": "ANNA@example.com"})

    problem(response, 409)
    assert (await api.get(f"/api/v1/users/{other['id']}")).json()["email"] == "bartek@example.com"


async def test_the_same_email_in_another_organization_is_fine(api):
    await api.create_user(email="anna@example.com")
    created = await api.post("/api/v1/organizations", json={"name": "Beta", "slug": "beta", "sip_domain": "beta.example.com"})
    assert created.status_code == 201, created.text

    in_beta = await api.create_user(headers={**api.headers, "X-Organization": "beta"}, email="anna@example.com")

    assert in_beta["email"] == "anna@example.com"


# --- lists --------------------------------------------------------------------------------------------------

async def test_lists_sort_descending_page_with_limit_and_offset_and_report_the_total(api):
    for last_name in ("Bravo", "Alpha", "Charlie"):
        await api.create_user(first_name="Sortable", last_name=last_name)

    descending = (await api.get("/api/v1/users", params={"q": "Sortable", "sort": "-last_name"})).json()
    page = (await api.get("/api/v1/users", params={"q": "Sortable", "sort": "last_name", "limit": 1, "offset": 1})).json()

    assert [u["last_name"] for u in descending["items"]] == ["Charlie", "Bravo", "Alpha"]
    assert descending["total"] == 3
    assert [u["last_name"] for u in page["items"]] == ["Bravo"]
    assert (page["total"], page["limit"], page["offset"]) == (3, 1, 1)


async def test_q_finds_a_user_by_part_of_the_email(api):
    wanted = await api.create_user(email="zofia.kowalska@example.com")
    await api.create_user(email="jan.nowak@example.com")

    found = (await api.get("/api/v1/users", params={"q": "zofia.kow"})).json()

    assert [u["id"] for u in found["items"]] == [wanted["id"]]
    assert found["total"] == 1


async def test_a_list_limit_of_501_is_refused_naming_limit(api):
    response = await api.get("/api/v1/users", params={"limit": 501})

    assert ["query", "limit"] in locs(problem(response, 422))


async def test_sorting_users_by_an_unknown_field_is_refused_naming_sort(api):
    response = await api.get("/api/v1/users", params={"sort": "password_hash"})

    assert ["query", "sort"] in locs(problem(response, 422))


# --- If-Match ------------------------------------------------------------------------------------------------

async def test_a_stale_if_match_is_412_on_patch_and_delete_and_changes_nothing(api):
    created = await api.create_user(first_name="Anna")
    read = await api.get(f"/api/v1/users/{created['id']}")
    stale = read.headers["ETag"]
    assert (await api.patch(f"/api/v1/users/{created['id']}", json={"first_name": "Anka"})).status_code == 200

    patched = await api.patch(f"/api/v1/users/{created['id']}", json={"first_name": "Ania"},
                              headers={**api.headers, "If-Match": stale})
    deleted = await api.delete(f"/api/v1/users/{created['id']}", headers={**api.headers, "If-Match": stale})

    problem(patched, 412)
    problem(deleted, 412)
    assert (await api.get(f"/api/v1/users/{created['id']}")).json()["first_name"] == "Anka"


async def test_a_current_if_match_lets_patch_and_delete_through(api):
    created = await api.create_user(first_name="Anna")
    etag = (await api.get(f"/api/v1/users/{created['id']}")).headers["ETag"]

    patched = await api.patch(f"/api/v1/users/{created['id']}", json={"first_name": "Anka"},
                              headers={**api.headers, "If-Match": etag})
    assert patched.status_code == 200, patched.text
    assert patched.headers["ETag"] != etag
    deleted = await api.delete(f"/api/v1/users/{created['id']}", headers={**api.headers, "If-Match": patched.headers["ETag"]})

    assert deleted.status_code == 204, deleted.text
    assert (await api.get(f"/api/v1/users/{created['id']}")).status_code == 404


# --- Idempotency-Key ----------------------------------------------------------------------------------------

async def test_a_post_repeated_with_the_same_idempotency_key_creates_one_user_and_returns_the_same_body(api):
    headers = {**api.headers, "Idempotency-Key": f"create-{uuid.uuid4()}"}
    body = {"first_name": "Retried", "last_name": "Once", "extension": "next"}
    before = await user_count(api)

    first = await api.post("/api/v1/users", json=body, headers=headers)
    second = await api.post("/api/v1/users", json=body, headers=headers)

    assert (first.status_code, second.status_code) == (201, 201), second.text
    assert second.json()["id"] == first.json()["id"]
    assert second.json() == first.json()
    assert await user_count(api) == before + 1


async def test_an_idempotency_key_reused_with_a_different_body_is_refused(api):
    headers = {**api.headers, "Idempotency-Key": f"create-{uuid.uuid4()}"}
    assert (await api.post("/api/v1/users", json={"first_name": "One"}, headers=headers)).status_code == 201
    before = await user_count(api)

    response = await api.post("/api/v1/users", json={"first_name": "Two"}, headers=headers)

    problem(response, 422)
    assert await user_count(api) == before


async def test_an_idempotency_key_never_replays_a_response_from_another_organization(api):
    created = await api.post("/api/v1/organizations", json={"name": "Beta", "slug": "beta", "sip_domain": "beta.example.com"})
    assert created.status_code == 201, created.text
    key = f"row-{uuid.uuid4()}"
    body = {"first_name": "Imported", "last_name": "Row1"}
    first = await api.post("/api/v1/users", json=body, headers={**api.headers, "Idempotency-Key": key})
    assert first.status_code == 201, first.text
    in_beta = {**api.headers, "X-Organization": "beta"}

    second = await api.post("/api/v1/users", json=body, headers={**in_beta, "Idempotency-Key": key})

    # Either a new user in beta or a refusal of the reused key; never the default organization's user.
    assert second.status_code in (201, 422), second.text
    assert second.json().get("id") != first.json()["id"]
    if second.status_code == 201:
        assert (await api.get(f"/api/v1/users/{second.json()['id']}", headers=in_beta)).status_code == 200


async def test_the_etag_of_a_create_response_is_accepted_as_if_match(api):
    created = await api.post("/api/v1/users", json={"first_name": "Anna"})
    assert created.status_code == 201, created.text

    response = await api.patch(f"/api/v1/users/{created.json()['id']}", json={"first_name": "Anka"},
                               headers={**api.headers, "If-Match": created.headers["ETag"]})

    assert response.status_code == 200, response.text
