"""Every error is RFC 9457 problem+json with the right status; bad input is never a 500; the probes answer."""

from __future__ import annotations

import uuid
from problems import problem, locs


async def test_an_unknown_route_is_404_problem_json(api):
    problem(await api.get("/api/v1/no-such-thing"), 404)


async def test_an_unknown_route_is_404_even_without_credentials(api):
    problem(await api.client.get("/api/v1/no-such-thing"), 404)


async def test_a_wrong_method_is_405_problem_json(api):
    problem(await api.put("/api/v1/users", json={}), 405)


async def test_a_405_lists_every_method_the_path_supports_in_allow(api):
    response = await api.put("/api/v1/users", json={})

    problem(response, 405)
    allowed = {m.strip() for m in response.headers.get("Allow", "").split(",")}
    assert {"GET", "POST"} <= allowed  # RFC 9110 15.5.6: the resource's supported methods


async def test_a_malformed_json_body_is_422_problem_json(api):
    response = await api.client.post("/api/v1/users", content=b'{"first_name": "Anna",',
                                     headers={**api.headers, "Content-Type": "application/json"})

    problem(response, 422)


async def test_a_body_of_the_wrong_json_type_is_422(api):
    problem(await api.post("/api/v1/users", json=["not", "an", "object"]), 422)


async def test_an_invalid_uuid_in_the_path_is_422_naming_it(api):
    response = await api.get("/api/v1/users/not-a-uuid")

    assert ["path", "user_id"] in locs(problem(response, 422))


async def test_a_well_formed_but_unknown_id_is_404(api):
    problem(await api.get(f"/api/v1/users/{uuid.uuid4()}"), 404)
    problem(await api.get(f"/api/v1/sip-accounts/{uuid.uuid4()}"), 404)


async def test_sorting_any_list_by_an_unknown_field_is_422_naming_sort(api):
    for path in ("/api/v1/users", "/api/v1/sip-accounts", "/api/v1/roles", "/api/v1/audit-log", "/api/v1/api-keys",
                 "/api/v1/organizations"):
        response = await api.get(path, params={"sort": "-no_such_field"})

        assert ["query", "sort"] in locs(problem(response, 422)), path


async def test_a_list_limit_of_501_is_422_naming_limit_and_500_is_accepted(api):
    for path in ("/api/v1/users", "/api/v1/sip-accounts", "/api/v1/audit-log"):
        assert ["query", "limit"] in locs(problem(await api.get(path, params={"limit": 501}), 422)), path
        assert (await api.get(path, params={"limit": 500})).status_code == 200, path


async def test_a_negative_offset_is_422(api):
    assert ["query", "offset"] in locs(problem(await api.get("/api/v1/users", params={"offset": -1}), 422))


async def test_an_organization_name_with_a_line_break_or_nul_is_refused_naming_name(api):
    for bad in ("Acme\nCorp", "Acme\x00Corp", "Acme\r\n[section]"):
        response = await api.post("/api/v1/organizations", json={"name": bad, "slug": "acme", "sip_domain": "acme.example.com"})

        assert ["body", "name"] in locs(problem(response, 422)), repr(bad)
    assert {o["slug"] for o in (await api.get("/api/v1/organizations")).json()["items"]} == {"default"}


async def test_a_sip_account_auth_id_with_a_line_break_is_refused(api):
    response = await api.post("/api/v1/sip-accounts", json={"auth_id": "abcd\n[evil]"})

    assert ["body", "auth_id"] in locs(problem(response, 422))


async def test_a_conflict_is_409_problem_json(api):
    await api.create_user(email="anna@example.com")

    problem(await api.post("/api/v1/users", json={"first_name": "A", "email": "anna@example.com"}), 409)


async def test_every_response_carries_a_request_id_and_echoes_the_callers(api):
    response = await api.get("/api/v1/no-such-thing", headers={**api.headers, "X-Request-ID": "trace-123"})

    assert response.headers["X-Request-ID"] == "trace-123"


async def test_healthz_and_readyz_return_200(api):
    healthz = await api.client.get("/healthz")
    readyz = await api.client.get("/readyz")

    assert (healthz.status_code, healthz.json()) == (200, {"status": "ok"})
    assert (readyz.status_code, readyz.json()) == (200, {"status": "ok"})
