"""Trunks and outbound routes: write-only encrypted trunk passwords with an audited reveal, dial patterns checked
against Asterisk's syntax, ordered trunks of the same organization, and trunks that routes use kept alive."""

from __future__ import annotations

import uuid

from problems import locs, problem
from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine

TRUNKS = "/api/v1/trunks"
ROUTES = "/api/v1/outbound-routes"


async def create_trunk(api, headers=None, **fields) -> dict:
    body = {"name": f"t-{uuid.uuid4().hex[:6]}", "host": "sip.carrier.example", **fields}
    response = await api.post(TRUNKS, json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def create_route(api, trunks: list[dict], headers=None, **fields) -> dict:
    body = {"name": f"R-{uuid.uuid4().hex[:6]}", "patterns": ["_0X."], "trunks": [t["id"] for t in trunks], **fields}
    response = await api.post(ROUTES, json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def in_beta(api) -> dict[str, str]:
    created = await api.post("/api/v1/organizations", json={"name": "Beta", "slug": "beta",
                                                            "sip_domain": "beta.example.com"})
    assert created.status_code == 201, created.text
    return {**api.headers, "X-Organization": "beta"}


# --- trunks ------------------------------------------------------------------------------------------------

async def test_creating_a_trunk_returns_it_with_location_and_etag_and_never_the_password(api):
    response = await api.post(TRUNKS, json={
        "name": "telco-1", "host": "SIP.Carrier.example", "port": 5080, "transport": "tcp", "username": "4822100200",
        "password": "s3cret-Line", "register": True, "from_domain": "carrier.example", "codecs": ["alaw", "g722"],
        "max_channels": 30, "match": ["203.0.113.0/24", "198.51.100.7"], "caller_id": "+48221002000"})

    assert response.status_code == 201, response.text
    trunk = response.json()
    assert response.headers["Location"].endswith(f"{TRUNKS}/{trunk['id']}")
    assert response.headers["ETag"]
    assert "password" not in trunk and "s3cret-Line" not in response.text
    assert trunk == {**trunk, "name": "telco-1", "host": "sip.carrier.example", "port": 5080, "transport": "tcp",
                     "username": "4822100200", "has_password": True, "register": True,
                     "from_domain": "carrier.example", "codecs": ["alaw", "g722"], "max_channels": 30,
                     "match": ["203.0.113.0/24", "198.51.100.7"], "caller_id": "+48221002000"}
    fetched = await api.get(f"{TRUNKS}/{trunk['id']}")
    assert fetched.json() == trunk and fetched.headers["ETag"] == response.headers["ETag"]


async def test_a_trunk_has_documented_defaults(api):
    trunk = await create_trunk(api, name="plain", host="192.0.2.10")

    assert {k: trunk[k] for k in ("port", "transport", "username", "has_password", "register", "codecs",
                                  "max_channels", "match", "caller_id", "from_domain")} == {
        "port": 5060, "transport": "udp", "username": None, "has_password": False, "register": False,
        "codecs": ["alaw", "ulaw"], "max_channels": None, "match": [], "caller_id": None, "from_domain": None}


async def test_the_password_is_encrypted_at_rest_and_revealed_only_through_the_audited_secret(api):
    trunk = await create_trunk(api, username="user1", password="s3cret-Line")

    engine = create_async_engine(api.settings.database_url)
    try:
        async with engine.connect() as connection:
            from app.models import Trunk
            stored = (await connection.execute(select(Trunk.password_encrypted).where(
                Trunk.id == uuid.UUID(trunk["id"])))).scalar_one()
    finally:
        await engine.dispose()
    revealed = await api.get(f"{TRUNKS}/{trunk['id']}/secret")
    entries = (await api.get("/api/v1/audit-log", params={"resource_id": trunk["id"]})).json()["items"]

    assert "s3cret-Line" not in stored
    assert revealed.status_code == 200, revealed.text
    assert revealed.json() == {"id": trunk["id"], "name": trunk["name"], "username": "user1",
                               "password": "s3cret-Line"}
    assert {"trunk.create", "trunk.secret_reveal"} <= {e["action"] for e in entries}
    create_entry = next(e for e in entries if e["action"] == "trunk.create")
    assert create_entry["after"]["password_encrypted"] == "***"
    assert "s3cret-Line" not in str(entries)


async def test_revealing_needs_trunk_secrets_read_and_reading_needs_trunks_read(api):
    trunk = await create_trunk(api, username="user1", password="s3cret-Line")
    _admin, admin = await api.user_with_role("readonly", scope="all")
    _user, selfservice = await api.user_with_role("user")

    assert "trunk_secrets.read" in problem(await api.get(f"{TRUNKS}/{trunk['id']}/secret", headers=admin),
                                           403)["detail"]
    assert (await api.get(f"{TRUNKS}/{trunk['id']}", headers=admin)).status_code == 200
    problem(await api.get(TRUNKS, headers=selfservice), 403)
    problem(await api.post(TRUNKS, json={"name": "x", "host": "h.example"}, headers=admin), 403)
    problem(await api.get(TRUNKS, headers={}), 401)


async def test_a_new_password_replaces_the_old_one_and_null_removes_it(api):
    trunk = await create_trunk(api, username="user1", password="first-Pass1")

    changed = await api.patch(f"{TRUNKS}/{trunk['id']}", json={"password": "second-Pass2"})
    after_change = (await api.get(f"{TRUNKS}/{trunk['id']}/secret")).json()["password"]
    removed = await api.patch(f"{TRUNKS}/{trunk['id']}", json={"password": None})

    assert changed.status_code == 200 and "second-Pass2" not in changed.text
    assert after_change == "second-Pass2"
    assert removed.json()["has_password"] is False
    assert (await api.get(f"{TRUNKS}/{trunk['id']}/secret")).json()["password"] is None


async def test_a_trunk_name_is_unique_in_the_organization_whatever_its_case(api):
    await create_trunk(api, name="telco")

    body = problem(await api.post(TRUNKS, json={"name": "TELCO", "host": "h.example"}), 409)

    assert locs(body) == [["body", "name"]]
    assert "already exists" in body["detail"]


async def test_bad_trunk_fields_are_422_naming_each_field_and_nothing_is_saved(api):
    response = await api.post(TRUNKS, json={
        "name": "bad name", "host": "sip.example;evil=1", "port": 70000, "transport": "sctp",
        "username": "a b", "password": "with space", "codecs": ["ulaw", "mp3"], "max_channels": 0,
        "match": ["not an address!"], "caller_id": "+48 22", "from_domain": "a\nb"})

    found = locs(problem(response, 422))
    for field in (["body", "name"], ["body", "host"], ["body", "port"], ["body", "transport"], ["body", "username"],
                  ["body", "password"], ["body", "codecs", 1], ["body", "max_channels"], ["body", "match", 0],
                  ["body", "caller_id"], ["body", "from_domain"]):
        assert field in found, (field, found)
    assert (await api.get(TRUNKS)).json()["total"] == 0


async def test_config_injection_in_any_trunk_text_is_refused(api):
    for field in ("name", "host", "username", "password", "from_domain", "caller_id"):
        body = {"name": "telco", "host": "h.example", "username": "u", field: "legit\nconfig injection"}
        assert [["body", field]] == locs(problem(await api.post(TRUNKS, json=body), 422)), field


async def test_registering_needs_a_username_and_password_and_a_duplicate_codec_is_422(api):
    without = await api.post(TRUNKS, json={"name": "reg", "host": "h.example", "register": True})
    doubled = await api.post(TRUNKS, json={"name": "dup", "host": "h.example", "codecs": ["ulaw", "ulaw"]})
    orphan_password = await api.post(TRUNKS, json={"name": "pw", "host": "h.example", "password": "s3cret-Line"})

    assert locs(problem(without, 422)) == [["body", "register"]]
    assert locs(problem(doubled, 422)) == [["body", "codecs", 1]]
    assert locs(problem(orphan_password, 422)) == [["body", "username"]]


async def test_patching_a_trunk_is_a_merge_with_if_match(api):
    created = await api.post(TRUNKS, json={"name": "telco", "host": "h.example", "username": "u",
                                           "password": "s3cret-Line"})
    trunk, etag = created.json(), created.headers["ETag"]

    changed = await api.patch(f"{TRUNKS}/{trunk['id']}", json={"register": True, "max_channels": 4},
                              headers={**api.headers, "If-Match": etag})
    stale = await api.patch(f"{TRUNKS}/{trunk['id']}", json={"port": 5070}, headers={**api.headers, "If-Match": etag})
    null = await api.patch(f"{TRUNKS}/{trunk['id']}", json={"host": None})
    unregister = await api.patch(f"{TRUNKS}/{trunk['id']}", json={"username": None})

    assert changed.status_code == 200, changed.text
    assert (changed.json()["register"], changed.json()["max_channels"], changed.json()["host"]) == (True, 4,
                                                                                                    "h.example")
    assert changed.headers["ETag"] != etag
    problem(stale, 412)
    assert locs(problem(null, 422)) == [["body", "host"]]
    assert ["body", "register"] in locs(problem(unregister, 422))
    assert (await api.get(f"{TRUNKS}/{trunk['id']}")).json()["port"] == 5060


async def test_trunks_list_with_search_sort_and_pages(api):
    for name, host in (("b-line", "two.example"), ("a-line", "one.example"), ("c-line", "three.example")):
        await create_trunk(api, name=name, host=host)

    listed = (await api.get(TRUNKS, params={"limit": 2})).json()
    searched = (await api.get(TRUNKS, params={"q": "three"})).json()
    by_host = (await api.get(TRUNKS, params={"sort": "-host"})).json()

    assert [t["name"] for t in listed["items"]] == ["a-line", "b-line"] and listed["total"] == 3
    assert [t["name"] for t in searched["items"]] == ["c-line"]
    assert [t["host"] for t in by_host["items"]] == ["two.example", "three.example", "one.example"]


async def test_another_organizations_trunk_is_404(api):
    beta = await in_beta(api)
    foreign = await create_trunk(api, headers=beta, username="u", password="s3cret-Line")

    for response in (await api.get(f"{TRUNKS}/{foreign['id']}"), await api.get(f"{TRUNKS}/{foreign['id']}/secret"),
                     await api.patch(f"{TRUNKS}/{foreign['id']}", json={"port": 5070}),
                     await api.delete(f"{TRUNKS}/{foreign['id']}")):
        problem(response, 404)
    assert (await api.get(TRUNKS)).json()["total"] == 0


async def test_idempotency_key_on_create_returns_the_first_trunk(api):
    headers = {**api.headers, "Idempotency-Key": "trunk-1"}
    first = await api.post(TRUNKS, json={"name": "telco", "host": "h.example"}, headers=headers)
    again = await api.post(TRUNKS, json={"name": "telco", "host": "h.example"}, headers=headers)

    assert first.status_code == again.status_code == 201
    assert first.json() == again.json() and again.json()["register"] is False
    assert (await api.get(TRUNKS)).json()["total"] == 1


# --- outbound routes -----------------------------------------------------------------------------------------

async def test_creating_a_route_returns_it_with_its_trunks_in_failover_order(api):
    first, second = await create_trunk(api), await create_trunk(api)

    response = await api.post(ROUTES, json={
        "name": "International", "patterns": ["_00X.", "_+X."], "strip": 2, "prepend": "+",
        "trunks": [second["id"], first["id"]], "caller_id_mode": "did", "min_permission_level": 50, "priority": 10})

    assert response.status_code == 201, response.text
    route = response.json()
    assert response.headers["Location"].endswith(f"{ROUTES}/{route['id']}") and response.headers["ETag"]
    assert route == {**route, "name": "International", "patterns": ["_00X.", "_+X."], "strip": 2, "prepend": "+",
                     "trunks": [second["id"], first["id"]], "caller_id_mode": "did", "min_permission_level": 50,
                     "priority": 10, "emergency": False}
    assert (await api.get(f"{ROUTES}/{route['id']}")).json() == route


async def test_a_route_has_documented_defaults(api):
    route = await create_route(api, [await create_trunk(api)])

    assert {k: route[k] for k in ("strip", "prepend", "caller_id_mode", "min_permission_level", "priority",
                                  "emergency")} == {"strip": 0, "prepend": "", "caller_id_mode": "user",
                                                    "min_permission_level": 0, "priority": 100, "emergency": False}


async def test_patterns_asterisk_would_misread_are_422_naming_the_index(api):
    trunk = await create_trunk(api)
    cases = {"_0[1-9": "never closed", "_0.X": "must be last", "_0ABC": "'A'", "12a": "'a'", "_.": "match everything",
             "_0xx": "upper case", "_[]": "empty", "_0[9-1]": "ascending", "0 1": "' '", "_": "at least one",
             "_0]": "closes no"}

    for pattern, message in cases.items():
        response = await api.post(ROUTES, json={"name": "R", "patterns": ["_00X.", pattern],
                                                "trunks": [trunk["id"]]})
        body = problem(response, 422)
        assert locs(body) == [["body", "patterns", 1]], pattern
        assert message in body["errors"][0]["msg"], (pattern, body["errors"][0]["msg"])
    assert (await api.get(ROUTES)).json()["total"] == 0


async def test_good_patterns_are_accepted(api):
    trunk = await create_trunk(api)

    route = await create_route(api, [trunk], patterns=["112", "+48221234567", "*67", "_0[1-9]XXXXXXXX", "_NXXXXXX",
                                                       "_Z!", "_[+0]0X.", "_[13-5*#]X"])

    assert len(route["patterns"]) == 8


async def test_strip_may_not_exceed_what_a_pattern_fixes(api):
    trunk = await create_trunk(api)

    too_long = await api.post(ROUTES, json={"name": "R", "patterns": ["_00X.", "_0."], "strip": 2,
                                            "trunks": [trunk["id"]]})
    route = await create_route(api, [trunk], patterns=["_00X."], strip=2)
    shrink = await api.patch(f"{ROUTES}/{route['id']}", json={"patterns": ["_00X.", "_1."]})

    body = problem(too_long, 422)
    assert locs(body) == [["body", "strip"]]
    assert "pattern 1 ('_0.')" in body["errors"][0]["msg"]
    assert locs(problem(shrink, 422)) == [["body", "patterns", 1]]


async def test_bad_prepend_level_priority_mode_and_duplicates_are_422(api):
    trunk = await create_trunk(api)

    response = await api.post(ROUTES, json={"name": "R", "patterns": ["_0X.", "_0X."], "prepend": "00a",
                                            "trunks": [trunk["id"], trunk["id"]], "caller_id_mode": "mobile",
                                            "min_permission_level": 101, "priority": -1})

    found = locs(problem(response, 422))
    for field in (["body", "prepend"], ["body", "caller_id_mode"], ["body", "min_permission_level"],
                  ["body", "priority"]):
        assert field in found, (field, found)
    business = await api.post(ROUTES, json={"name": "R", "patterns": ["_0X.", "_0X."],
                                            "trunks": [trunk["id"], trunk["id"]]})
    assert locs(problem(business, 422)) == [["body", "patterns", 1], ["body", "trunks", 1]]


async def test_a_route_needs_a_trunk_of_its_own_organization(api):
    beta = await in_beta(api)
    ours, foreign = await create_trunk(api), await create_trunk(api, headers=beta)

    empty = await api.post(ROUTES, json={"name": "R", "patterns": ["_0X."], "trunks": []})
    missing = await api.post(ROUTES, json={"name": "R", "patterns": ["_0X."]})
    cross = await api.post(ROUTES, json={"name": "R", "patterns": ["_0X."],
                                         "trunks": [ours["id"], foreign["id"], str(uuid.uuid4())]})

    assert locs(problem(empty, 422)) == [["body", "trunks"]]
    assert locs(problem(missing, 422)) == [["body", "trunks"]]
    body = problem(cross, 422)
    assert locs(body) == [["body", "trunks", 1], ["body", "trunks", 2]]
    assert "No such trunk in this organization" in body["errors"][0]["msg"]
    assert (await api.get(ROUTES)).json()["total"] == 0


async def test_deleting_a_trunk_that_routes_use_is_409_listing_them(api):
    first, second = await create_trunk(api, name="first"), await create_trunk(api, name="second")
    route = await create_route(api, [first, second], name="Mobile")

    refused = await api.delete(f"{TRUNKS}/{second['id']}")

    body = problem(refused, 409)
    assert body["referrers"] == [{"type": "outbound_route", "id": route["id"], "name": "Mobile",
                                  "field": "trunks.1"}]
    assert "Trunk 'second'" in body["detail"]
    # Once the route stops using it, it goes; deleting a route frees its trunks too.
    assert (await api.patch(f"{ROUTES}/{route['id']}", json={"trunks": [first["id"]]})).status_code == 200
    assert (await api.delete(f"{TRUNKS}/{second['id']}")).status_code == 204
    assert (await api.delete(f"{ROUTES}/{route['id']}")).status_code == 204
    assert (await api.delete(f"{TRUNKS}/{first['id']}")).status_code == 204


async def test_routes_are_listed_in_the_order_calls_try_them(api):
    trunk = await create_trunk(api)
    for name, priority in (("Late", 30), ("Early", 10), ("Middle", 20), ("Also early", 10)):
        await create_route(api, [trunk], name=name, priority=priority)

    listed = (await api.get(ROUTES)).json()
    by_name = (await api.get(ROUTES, params={"sort": "-name", "limit": 2})).json()
    searched = (await api.get(ROUTES, params={"q": "early"})).json()

    assert [r["name"] for r in listed["items"]] == ["Also early", "Early", "Middle", "Late"]
    assert [r["name"] for r in by_name["items"]] == ["Middle", "Late"] and by_name["total"] == 4
    assert searched["total"] == 2


async def test_patching_a_route_with_if_match_and_nulls(api):
    trunk = await create_trunk(api)
    created = await api.post(ROUTES, json={"name": "R", "patterns": ["_0X."], "trunks": [trunk["id"]]})
    route, etag = created.json(), created.headers["ETag"]

    changed = await api.patch(f"{ROUTES}/{route['id']}", json={"emergency": True, "priority": 1},
                              headers={**api.headers, "If-Match": etag})
    stale = await api.delete(f"{ROUTES}/{route['id']}", headers={**api.headers, "If-Match": etag})
    null = await api.patch(f"{ROUTES}/{route['id']}", json={"trunks": None, "patterns": None})

    assert (changed.json()["emergency"], changed.json()["priority"]) == (True, 1)
    problem(stale, 412)
    assert sorted(locs(problem(null, 422))) == [["body", "patterns"], ["body", "trunks"]]


async def test_a_route_name_is_unique_and_another_organizations_route_is_404(api):
    trunk = await create_trunk(api)
    await create_route(api, [trunk], name="Local")
    beta = await in_beta(api)
    foreign = await create_route(api, [await create_trunk(api, headers=beta)], headers=beta)

    assert locs(problem(await api.post(ROUTES, json={"name": "local", "patterns": ["1"],
                                                     "trunks": [trunk["id"]]}), 409)) == [["body", "name"]]
    problem(await api.get(f"{ROUTES}/{foreign['id']}"), 404)
    problem(await api.patch(f"{ROUTES}/{foreign['id']}", json={"priority": 1}), 404)
    problem(await api.delete(f"{ROUTES}/{foreign['id']}"), 404)


async def test_route_permissions_and_audit(api):
    trunk = await create_trunk(api)
    route = await create_route(api, [trunk])
    _reader, reader = await api.user_with_role("readonly", scope="all")

    assert (await api.get(ROUTES, headers=reader)).status_code == 200
    problem(await api.patch(f"{ROUTES}/{route['id']}", json={"priority": 1}, headers=reader), 403)
    problem(await api.post(ROUTES, json={}, headers={}), 401)
    await api.patch(f"{ROUTES}/{route['id']}", json={"priority": 5})
    entries = (await api.get("/api/v1/audit-log", params={"resource_id": route["id"]})).json()["items"]
    status = (await api.get("/api/v1/config/status")).json()

    assert {"outbound_route.create", "outbound_route.update"} <= {e["action"] for e in entries}
    assert status["pending"] is True
