"""Conference rooms: names, dialable numbers in the shared number space, write-only PINs, who may change them,
and the destinations that point at them."""

from __future__ import annotations

from problems import locs, problem

CONFERENCES = "/api/v1/conferences"
IVR_MENUS = "/api/v1/ivr-menus"


async def create_room(api, headers=None, **fields) -> dict:
    response = await api.post(CONFERENCES, json={"name": "Sales call", **fields}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


# --- creating and reading --------------------------------------------------------------------------------

async def test_creating_a_room_returns_it_with_location_etag_and_whether_pins_are_set(api):
    response = await api.post(CONFERENCES, json={"name": "Sales call", "extension": 800, "pin": "4711",
                                                 "admin_pin": "987654", "max_members": 20, "record": True})

    assert response.status_code == 201, response.text
    room = response.json()
    assert response.headers["Location"].endswith(f"{CONFERENCES}/{room['id']}")
    assert response.headers["ETag"]
    assert {k: room[k] for k in ("name", "extension", "has_pin", "has_admin_pin", "max_members", "record")} == {
        "name": "Sales call", "extension": 800, "has_pin": True, "has_admin_pin": True, "max_members": 20,
        "record": True}


async def test_a_room_without_anything_but_a_name_is_open_not_dialable_and_takes_50(api):
    room = await create_room(api)

    assert (room["extension"], room["has_pin"], room["has_admin_pin"], room["max_members"], room["record"]) == (
        None, False, False, 50, False)


async def test_pins_are_never_readable_not_in_reads_lists_audit_or_idempotent_replays(api):
    headers = {**api.headers, "Idempotency-Key": "room-1"}
    body = {"name": "Board", "pin": "246810", "admin_pin": "13579"}
    first = await api.post(CONFERENCES, json=body, headers=headers)
    replay = await api.post(CONFERENCES, json=body, headers=headers)
    room = first.json()

    read = await api.get(f"{CONFERENCES}/{room['id']}")
    listed = await api.get(CONFERENCES)
    audit = await api.get("/api/v1/audit-log", params={"resource_type": "conference"})

    assert replay.json() == room
    for response in (first, replay, read, listed, audit):
        assert "246810" not in response.text and "13579" not in response.text
    entry = audit.json()["items"][0]
    assert entry["after"]["pin_encrypted"] == "***" and entry["after"]["admin_pin_encrypted"] == "***"


async def test_a_pin_is_4_to_10_digits_and_the_admin_pin_must_differ(api):
    short = await api.post(CONFERENCES, json={"name": "A", "pin": "123"})
    letters = await api.post(CONFERENCES, json={"name": "A", "pin": "12ab"})
    number = await api.post(CONFERENCES, json={"name": "A", "pin": 1234})
    same = await api.post(CONFERENCES, json={"name": "A", "pin": "1234", "admin_pin": "1234"})

    assert locs(problem(short, 422)) == [["body", "pin"]]
    assert locs(problem(letters, 422)) == [["body", "pin"]]
    assert locs(problem(number, 422)) == [["body", "pin"]]
    assert locs(problem(same, 422)) == [["body", "admin_pin"]]
    assert "must be 4 to 10 digits" in letters.json()["errors"][0]["msg"]


async def test_max_members_is_between_2_and_500(api):
    for bad in (1, 501, "10"):
        response = await api.post(CONFERENCES, json={"name": "A", "max_members": bad})
        assert locs(problem(response, 422)) == [["body", "max_members"]], bad


async def test_names_are_unique_in_the_organization_whatever_their_case(api):
    await create_room(api, name="Board")

    response = await api.post(CONFERENCES, json={"name": "board"})

    body = problem(response, 409)
    assert locs(body) == [["body", "name"]]
    assert "A conference named 'board' already exists" in body["detail"]


async def test_a_name_with_a_line_break_is_refused(api):
    response = await api.post(CONFERENCES, json={"name": "Board\n[evil]"})

    assert locs(problem(response, 422)) == [["body", "name"]]


# --- changing ----------------------------------------------------------------------------------------------

async def test_patch_sets_replaces_and_removes_pins_and_honours_if_match(api):
    room = await create_room(api, pin="1111")
    read = await api.get(f"{CONFERENCES}/{room['id']}")
    etag = read.headers["ETag"]

    changed = await api.patch(f"{CONFERENCES}/{room['id']}", json={"pin": None, "admin_pin": "22222"},
                              headers={**api.headers, "If-Match": etag})
    stale = await api.patch(f"{CONFERENCES}/{room['id']}", json={"record": True},
                            headers={**api.headers, "If-Match": etag})

    assert changed.status_code == 200, changed.text
    assert (changed.json()["has_pin"], changed.json()["has_admin_pin"]) == (False, True)
    problem(stale, 412)


async def test_patch_refuses_an_admin_pin_equal_to_the_stored_pin(api):
    room = await create_room(api, pin="1111")

    response = await api.patch(f"{CONFERENCES}/{room['id']}", json={"admin_pin": "1111"})

    assert locs(problem(response, 422)) == [["body", "admin_pin"]]


async def test_patch_refuses_null_for_required_fields(api):
    room = await create_room(api)

    response = await api.patch(f"{CONFERENCES}/{room['id']}", json={"name": None, "max_members": None})

    assert locs(problem(response, 422)) == [["body", "name"], ["body", "max_members"]]


async def test_a_room_keeps_its_own_number_when_patched_with_it_and_can_stop_being_dialable(api):
    room = await create_room(api, extension=800)

    same = await api.patch(f"{CONFERENCES}/{room['id']}", json={"extension": 800, "name": "Renamed"})
    undialable = await api.patch(f"{CONFERENCES}/{room['id']}", json={"extension": None})

    assert same.status_code == 200, same.text
    assert undialable.json()["extension"] is None


# --- the shared number space -------------------------------------------------------------------------------

async def test_a_room_number_taken_by_a_sip_account_or_a_group_is_409_naming_it(api):
    await api.post("/api/v1/sip-accounts", json={"extension": 200})
    await api.post("/api/v1/groups", json={"name": "Sales", "extension": 201})

    on_account = await api.post(CONFERENCES, json={"name": "A", "extension": 200})
    on_group = await api.post(CONFERENCES, json={"name": "B", "extension": 201})

    assert locs(problem(on_account, 409)) == [["body", "extension"]]
    assert "Extension 200 is already in use by a SIP account" in on_account.json()["detail"]
    assert "Extension 201 is already in use by group 'Sales'" in on_group.json()["detail"]
    assert (await api.get(CONFERENCES)).json()["total"] == 0


async def test_accounts_users_groups_and_menus_cannot_take_a_room_number(api):
    await create_room(api, name="Board", extension=300)

    account = await api.post("/api/v1/sip-accounts", json={"extension": 300})
    user = await api.post("/api/v1/users", json={"first_name": "Late", "extension": 300})
    group = await api.post("/api/v1/groups", json={"name": "Sales", "extension": 300})
    menu = await api.post(IVR_MENUS, json={"name": "Main", "extension": 300})

    for response in (account, user, group, menu):
        assert "Extension 300 is already in use by conference 'Board'" in problem(response, 409)["detail"]


async def test_next_free_numbers_skip_rooms_and_a_room_can_take_next(api):
    await create_room(api, name="Board", extension=100)

    room = await create_room(api, name="Other", extension="next")
    announced = (await api.get("/api/v1/sip-accounts/next-free")).json()

    assert room["extension"] == 101
    assert announced == {"extension": 102}


async def test_a_room_number_outside_the_range_is_422(api):
    response = await api.post(CONFERENCES, json={"name": "A", "extension": 1000})

    assert "between 100 and 999" in problem(response, 422)["errors"][0]["msg"]


# --- destinations ------------------------------------------------------------------------------------------

async def test_a_room_that_an_ivr_option_points_at_cannot_be_deleted_until_the_option_changes(api):
    room = await create_room(api, name="Board")
    menu = (await api.post(IVR_MENUS, json={"name": "Main", "options": {
        "3": {"type": "conference", "conference_id": room["id"]}}})).json()

    refused = await api.delete(f"{CONFERENCES}/{room['id']}")
    await api.patch(f"{IVR_MENUS}/{menu['id']}", json={"options": {}})
    deleted = await api.delete(f"{CONFERENCES}/{room['id']}")

    body = problem(refused, 409)
    assert body["referrers"] == [{"type": "ivr_menu", "id": menu["id"], "name": "Main", "field": "options.3"}]
    assert deleted.status_code == 204
    problem(await api.get(f"{CONFERENCES}/{room['id']}"), 404)


async def test_a_destination_may_point_at_a_room_of_its_own_organization_only(api):
    await api.post("/api/v1/organizations", json={"name": "Beta", "slug": "beta", "sip_domain": "beta.example.com"})
    beta = {**api.headers, "X-Organization": "beta"}
    foreign = await create_room(api, headers=beta, name="Theirs")

    response = await api.post(IVR_MENUS, json={"name": "Main", "options": {
        "1": {"type": "conference", "conference_id": foreign["id"]}}})

    body = problem(response, 422)
    assert locs(body) == [["body", "options", "1", "conference_id"]]
    assert "No such conference in this organization" in body["errors"][0]["msg"]


# --- tenancy and permissions -------------------------------------------------------------------------------

async def test_a_room_of_another_organization_is_404(api):
    await api.post("/api/v1/organizations", json={"name": "Beta", "slug": "beta", "sip_domain": "beta.example.com"})
    theirs = await create_room(api, headers={**api.headers, "X-Organization": "beta"}, name="Theirs")

    assert problem(await api.get(f"{CONFERENCES}/{theirs['id']}"), 404)
    assert problem(await api.patch(f"{CONFERENCES}/{theirs['id']}", json={"record": True}), 404)
    assert problem(await api.delete(f"{CONFERENCES}/{theirs['id']}"), 404)
    assert (await api.get(CONFERENCES)).json()["total"] == 0


async def test_anonymous_is_401_readers_read_and_only_writers_with_scope_all_write(api):
    room = await create_room(api)
    _reader, reader = await api.user_with_role("readonly", scope="all")
    _manager, manager = await api.user_with_role("manager", scope="groups")
    _self, selfservice = await api.user_with_role("user")

    assert (await api.client.get(CONFERENCES)).status_code == 401
    assert (await api.get(CONFERENCES, headers=reader)).status_code == 200
    assert (await api.get(f"{CONFERENCES}/{room['id']}", headers=manager)).status_code == 200
    assert "conferences.write" in problem(await api.post(CONFERENCES, json={"name": "X"}, headers=reader), 403)["detail"]
    assert "conferences.read" in problem(await api.get(CONFERENCES, headers=selfservice), 403)["detail"]
    problem(await api.delete(f"{CONFERENCES}/{room['id']}", headers=manager), 403)


async def test_writes_mark_the_configuration_pending(api):
    await api.post("/api/v1/config/apply", json={})

    await create_room(api, pin="1234")

    assert (await api.get("/api/v1/config/status")).json()["pending"] is True


async def test_rooms_are_listed_by_name_and_searchable(api):
    for name, extension in (("Zulu", 802), ("Alpha", 801), ("Mike", None)):
        await create_room(api, name=name, extension=extension)

    names = [r["name"] for r in (await api.get(CONFERENCES)).json()["items"]]
    found = (await api.get(CONFERENCES, params={"q": "802"})).json()

    assert names == ["Alpha", "Mike", "Zulu"]
    assert [r["name"] for r in found["items"]] == ["Zulu"]
    assert not {"pin", "admin_pin", "pin_encrypted"} & found["items"][0].keys()
