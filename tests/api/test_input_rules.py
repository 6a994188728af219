"""Bad input is refused with a 422 naming the field (or a 413 for a body too large), never a 500, and data
that a renderer would refuse later is refused when saved."""

from __future__ import annotations

import pytest

from problems import locs, problem

USERS = "/api/v1/users"


# --- request size --------------------------------------------------------------------------------------------

async def test_a_body_larger_than_the_limit_is_413_before_it_is_read_with_or_without_a_token(api):
    body = b'{"first_name": "' + b"x" * (api.settings.max_body_bytes + 10) + b'"}'
    for headers in (api.headers, {}):
        response = await api.client.post(USERS, content=body, headers={**headers, "Content-Type": "application/json"})

        problem(response, 413)


async def test_a_chunked_body_passing_the_limit_is_413_too(api):
    chunk = b"x" * 65536

    async def stream():
        yield b'{"first_name": "'
        for _ in range(api.settings.max_body_bytes // len(chunk) + 2):
            yield chunk
        yield b'"}'

    response = await api.client.post(USERS, content=stream(), headers={**api.headers, "Content-Type": "application/json"})

    problem(response, 413)


async def test_a_body_just_under_the_limit_is_read_and_validated(api):
    body = b'{"first_name": "' + b"x" * (api.settings.max_body_bytes - 100) + b'"}'

    response = await api.client.post(USERS, content=body, headers={**api.headers, "Content-Type": "application/json"})

    assert ["body", "first_name"] in locs(problem(response, 422))


# --- characters no field can hold -------------------------------------------------------------------------------

@pytest.mark.parametrize("raw", [b'{"first_name": "A\\u0000B"}', b'{"first_name": "\\ud800"}',
                                 b'{"first_name": "ok", "access": {"username": "x\\udfff"}}'])
async def test_nul_and_lone_surrogates_in_a_json_body_are_422_naming_the_field(api, raw):
    response = await api.client.post(USERS, content=raw, headers={**api.headers, "Content-Type": "application/json"})

    body = problem(response, 422)
    assert body["errors"][0]["loc"][:2] == ["body", "access" if b"access" in raw else "first_name"]


async def test_a_body_that_is_not_utf8_is_422(api):
    response = await api.client.post(USERS, content=b'{"first_name": "\xff\xfe"}',
                                     headers={**api.headers, "Content-Type": "application/json"})

    assert locs(problem(response, 422)) == [["body"]]


async def test_nul_in_a_query_parameter_is_422_naming_it(api):
    response = await api.get(USERS, params={"q": "an\x00na"})

    assert ["query", "q"] in locs(problem(response, 422))


async def test_control_characters_in_a_header_are_422_naming_it(api):
    response = await api.get(USERS, headers={**api.headers, "X-Organization": "default\x00"})

    assert ["header", "x-organization"] in locs(problem(response, 422))


async def test_an_over_long_value_is_422_naming_the_field(api):
    for path, body, field in ((USERS, {"first_name": "x" * 101}, "first_name"),
                              ("/api/v1/api-keys", {"name": "CRM", "role": "r" * 101}, "role"),
                              ("/api/v1/roles", {"name": "helpdesk", "permissions": ["p" * 65]}, "permissions")):
        body_ = problem(await api.post(path, json=body), 422)

        assert body_["errors"][0]["loc"][:2] == ["body", field], path


async def test_validation_messages_speak_of_characters(api):
    short = problem(await api.post(USERS, json={"first_name": ""}), 422)
    long = problem(await api.post(USERS, json={"first_name": "x" * 101}), 422)

    assert "at least 1 character" in short["errors"][0]["msg"]
    assert "at most 100 characters" in long["errors"][0]["msg"]


async def test_a_pattern_is_explained_in_words_not_as_a_regular_expression(api):
    body = problem(await api.post(USERS, json={"first_name": "A", "access": {"username": "anna nowak",
                                                                            "password": "Password-123"}}), 422)

    message = body["errors"][0]["msg"]
    assert "letters, digits" in message and "^" not in message and "{" not in message


async def test_an_unknown_field_is_refused_rather_than_silently_ignored(api):
    body = problem(await api.post(USERS, json={"first_name": "Anna", "extention": 105}), 422)

    assert ["body", "extention"] in locs(body)


# --- strict numbers --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("value", [" 100", "0100", "100", 100.0, True, [100]])
async def test_an_extension_must_be_a_json_integer_or_next(api, value):
    for path, body in ((USERS, {"first_name": "A", "extension": value}), ("/api/v1/sip-accounts", {"extension": value})):
        response = await api.post(path, json=body)

        assert ["body", "extension"] in locs(problem(response, 422)), (path, value)
    assert (await api.get("/api/v1/sip-accounts")).json()["total"] == 0


async def test_next_and_an_integer_extension_are_accepted(api):
    assert (await api.create_user(extension="next"))["sip_account"]["extension"] == 100
    assert (await api.create_user(extension=105))["sip_account"]["extension"] == 105


@pytest.mark.parametrize("value", ["10", 10.0, True])
async def test_permission_levels_and_organization_numbers_are_json_integers(api, value):
    assert ["body", "permission_level"] in locs(problem(await api.post("/api/v1/sip-accounts",
                                                                       json={"permission_level": value}), 422))
    assert ["body", "ring_timeout"] in locs(problem(await api.patch("/api/v1/organization",
                                                                    json={"ring_timeout": value}), 422))


@pytest.mark.parametrize("mac", ["00:15:65:AA:BB:CC", "00-15-65-aa-bb-cc", "0015.65aa.bbcc", "001565AABBCC"])
async def test_a_mac_in_a_usual_written_form_is_accepted_and_normalized(api, mac):
    response = await api.post("/api/v1/devices", json={"vendor": "yealink", "mac": mac})

    assert response.status_code == 201, response.text
    assert response.json()["mac"] == "001565aabbcc"


@pytest.mark.parametrize("mac", ["0:0:1:5:6:5aabbcc", "00:15:65-AA:BB:CC", "00:15:65:AA:BB:CC ", "0015:65aa:bbcc",
                                 "00 15 65 AA BB CC", "00:15:65:AA:BB", "01:15:65:AA:BB:CC"])
async def test_anything_else_that_looks_like_a_mac_is_refused_naming_the_field(api, mac):
    response = await api.post("/api/v1/devices", json={"vendor": "yealink", "mac": mac})

    assert ["body", "mac"] in locs(problem(response, 422)), mac


# --- saved data always renders -----------------------------------------------------------------------------------

@pytest.mark.parametrize("field,value", [("sip_domain", "-pbx.example.com"), ("sip_domain", "pbx..example.com"),
                                         ("sip_domain", "pbx_example.com"), ("sip_proxy", "proxy.example.com:0"),
                                         ("sip_proxy", "...:5060"), ("sip_proxy", "proxy.example.com:99999"),
                                         ("sip_proxy", "-proxy-:5060")])
async def test_sip_domain_and_proxy_follow_the_renderers_host_name_rule(api, field, value):
    response = await api.patch("/api/v1/organization", json={field: value})

    assert ["body", field] in locs(problem(response, 422))
    assert (await api.post("/api/v1/config/apply", json={"dry_run": True})).status_code == 200


async def test_a_sip_domain_is_stored_in_lower_case_and_renders(api):
    response = await api.patch("/api/v1/organization", json={"sip_domain": "PBX.Example.COM",
                                                             "sip_proxy": "Edge.Example.com:5070"})

    assert (response.json()["sip_domain"], response.json()["sip_proxy"]) == ("pbx.example.com", "edge.example.com:5070")
    assert (await api.post("/api/v1/config/apply", json={})).status_code == 200


async def test_a_sip_domain_belongs_to_one_organization_only(api):
    taken = (await api.get("/api/v1/organization")).json()["sip_domain"]

    created = await api.post("/api/v1/organizations", json={"name": "Acme", "slug": "acme", "sip_domain": taken})
    other = await api.post("/api/v1/organizations", json={"name": "Beta", "slug": "beta",
                                                          "sip_domain": "beta.example.com"})
    moved = await api.patch(f"/api/v1/organizations/{other.json()['id']}", json={"sip_domain": taken.upper()})

    assert ["body", "sip_domain"] in locs(problem(created, 409))
    assert ["body", "sip_domain"] in locs(problem(moved, 409))
    assert problem(moved, 409)["type"].endswith("/sip-domain-taken")
