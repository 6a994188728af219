"""Changing many users at once (`POST /users/bulk-update`): by ids or a filter, within the caller's scope, all or
nothing, with the refused users named."""

from __future__ import annotations

from problems import locs, problem

USERS, BULK = "/api/v1/users", "/api/v1/users/bulk-update"
RECEPTION = {"type": "external", "number": "+390612345678"}
TO_RECEPTION = {"internal": {"action": RECEPTION}, "external": {"action": RECEPTION}}


async def test_one_change_reaches_every_user_named(api):
    a, b, c = [await api.create_user(extension="next") for _ in range(3)]

    done = await api.post(BULK, json={"user_ids": [a["id"], b["id"]], "changes": {
        "language": "it", "options": {"record_calls": True}, "forwarding": {"dnd": TO_RECEPTION}}})

    assert done.status_code == 200, done.text
    assert done.json() == {"updated": 2, "user_ids": [a["id"], b["id"]]}
    for user, changed in ((a, True), (b, True), (c, False)):
        body = (await api.get(f"{USERS}/{user['id']}")).json()
        assert (body["language"] == "it") is changed
        assert (await api.get(f"{USERS}/{user['id']}/options")).json()["record_calls"] is changed
        rules = (await api.get(f"{USERS}/{user['id']}/forwarding")).json()
        assert (rules["dnd"]["internal"]["action"] == RECEPTION) is changed
        assert rules["available"]["internal"]["no_answer_seconds"] is None, "the other blocks stay"


async def test_a_filter_chooses_the_users(api):
    with_extension = await api.create_user(extension="next")
    without = await api.create_user()

    done = await api.post(BULK, json={"filter": {"has_extension": False}, "changes": {"multiple_calls": False}})

    assert with_extension["id"] not in done.json()["user_ids"] and without["id"] in done.json()["user_ids"]
    assert (await api.get(f"{USERS}/{without['id']}")).json()["multiple_calls"] is False
    assert (await api.get(f"{USERS}/{with_extension['id']}")).json()["multiple_calls"] is True


async def test_one_refused_user_changes_nobody_and_is_named(api):
    fine = await api.create_user(extension="next", mobile="+393471234567")
    no_mobile = await api.create_user(extension="next")

    refused = await api.post(BULK, json={"user_ids": [fine["id"], no_mobile["id"]], "changes": {
        "language": "de", "forwarding": {"away": {"internal": {"action": {"type": "mobile"}},
                                                  "external": {"action": {"type": "mobile"}}}}}})

    found = {tuple(loc) for loc in locs(problem(refused, 422))}
    assert found == {("users", no_mobile["id"], "away", "internal", "action"),
                     ("users", no_mobile["id"], "away", "external", "action")}
    assert (await api.get(f"{USERS}/{fine['id']}")).json()["language"] == "en", "all or nothing"
    assert (await api.get(f"{USERS}/{fine['id']}/forwarding")).json()["is_default"] is True


async def test_an_unknown_id_a_target_elsewhere_or_an_empty_change_is_refused(api):
    user = await api.create_user(extension="next")

    unknown = await api.post(BULK, json={"user_ids": [user["id"], "00000000-0000-0000-0000-000000000009"],
                                         "changes": {"language": "it"}})
    nowhere = await api.post(BULK, json={"user_ids": [user["id"]], "changes": {"forwarding": {"dnd": {
        "internal": {"action": {"type": "user", "user_id": "00000000-0000-0000-0000-000000000009"}},
        "external": {"action": {"type": "hangup"}}}}}})
    empty = await api.post(BULK, json={"user_ids": [user["id"]], "changes": {}})
    both = await api.post(BULK, json={"user_ids": [user["id"]], "filter": {}, "changes": {"language": "it"}})

    assert {tuple(loc) for loc in locs(problem(unknown, 422))} == {("body", "user_ids", 1)}
    assert {tuple(loc) for loc in locs(problem(nowhere, 422))} == {
        ("body", "changes", "forwarding", "dnd", "internal", "action", "user_id")}
    assert {tuple(loc) for loc in locs(problem(empty, 422))} == {("body", "changes")}
    assert problem(both, 422)


async def test_scope_applies_users_outside_it_are_unknown_and_stronger_ones_refused(api):
    _me, headers = await api.user_with_role("user", extension="next")
    colleague = await api.create_user(extension="next")
    _admin, admin_headers = await api.user_with_role("admin", scope="all")
    owner = (await api.get("/api/v1/auth/me")).json()

    outside = await api.post(BULK, json={"user_ids": [colleague["id"]], "changes": {"language": "it"}},
                             headers=headers)
    stronger = await api.post(BULK, json={"user_ids": [colleague["id"], owner["id"]], "changes": {"language": "it"}},
                              headers=admin_headers)

    assert {tuple(loc) for loc in locs(problem(outside, 422))} == {("body", "user_ids", 0)}
    assert {tuple(loc) for loc in locs(problem(stronger, 403))} == {("users", owner["id"])}
    assert (await api.get(f"{USERS}/{colleague['id']}")).json()["language"] == "en"


async def test_a_bulk_status_change_is_not_a_configuration_change(api):
    users = [await api.create_user(extension="next") for _ in range(2)]
    assert (await api.post("/api/v1/config/apply", json={})).status_code == 200

    done = await api.post(BULK, json={"user_ids": [u["id"] for u in users], "changes": {"status": "away"}})

    assert done.status_code == 200
    assert not (await api.get("/api/v1/config/status")).json()["pending"]
    assert {(await api.get(f"{USERS}/{u['id']}/status")).json()["status"] for u in users} == {"away"}


async def test_a_bulk_update_runs_the_same_number_of_sql_statements_for_3_users_or_40(api):
    from sqlalchemy import event

    counts = []
    for count, language in ((3, "it"), (40, "de")):
        users = [await api.create_user(extension="next") for _ in range(count)]
        statements = {"n": 0}

        def count_one(*_args, **_kwargs):
            statements["n"] += 1

        event.listen(api.app.state.engine.sync_engine, "before_cursor_execute", count_one)
        try:
            done = await api.post(BULK, json={"user_ids": [u["id"] for u in users], "changes": {
                "language": language, "options": {"call_screening": True}, "forwarding": {"dnd": TO_RECEPTION}}})
        finally:
            event.remove(api.app.state.engine.sync_engine, "before_cursor_execute", count_one)
        assert done.status_code == 200, done.text
        counts.append(statements["n"])
    assert counts[0] == counts[1], f"statements grew with the users: {counts}"
