"""Office-hours schedules: `default` in every organization, named schedules with a time zone, several intervals a
day, breaks inside them and holidays; what is refused and why; ETags, audit, tenancy and permissions."""

from __future__ import annotations

import uuid

from problems import locs, problem

from app.models import DestinationReference

HOURS = "/api/v1/office-hours"
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday"]


def interval(day: str, start: str, end: str) -> dict:
    return {"day": day, "start": start, "end": end}


async def create_schedule(api, headers=None, **fields) -> dict:
    body = {"name": f"S-{uuid.uuid4().hex[:6]}", "timezone": "Europe/Warsaw", **fields}
    response = await api.post(HOURS, json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def default_schedule(api, headers=None) -> dict:
    listed = (await api.get(HOURS, params={"q": "default"}, headers=headers)).json()["items"]
    return next(s for s in listed if s["is_default"])


async def schedule_count(api) -> int:
    return (await api.get(HOURS)).json()["total"]


# --- default -------------------------------------------------------------------------------------------------

async def test_every_organization_has_a_default_schedule_monday_to_friday_nine_to_five(api):
    default = await default_schedule(api)

    assert default["name"] == "default"
    assert default["timezone"] == "UTC"  # the organization's time zone
    assert default["weekly"] == [interval(day, "09:00", "17:00") for day in WEEKDAYS]
    assert default["breaks"] == [] and default["holidays"] == []


async def test_a_new_organization_gets_its_own_default_schedule_in_its_time_zone(api):
    created = await api.post("/api/v1/organizations", json={"name": "Beta", "slug": "beta", "timezone": "Asia/Tokyo",
                                                            "sip_domain": "beta.example.com"})
    assert created.status_code == 201, created.text
    in_beta = {**api.headers, "X-Organization": "beta"}

    home, beta = await default_schedule(api), await default_schedule(api, in_beta)

    assert home["id"] != beta["id"]
    assert beta["timezone"] == "Asia/Tokyo"
    problem(await api.get(f"{HOURS}/{beta['id']}"), 404)


async def test_default_cannot_be_renamed_nor_deleted_but_its_hours_can_change(api):
    default = await default_schedule(api)

    renamed = await api.patch(f"{HOURS}/{default['id']}", json={"name": "Standard"})
    deleted = await api.delete(f"{HOURS}/{default['id']}")
    changed = await api.patch(f"{HOURS}/{default['id']}", json={"name": "default", "timezone": "Europe/Rome",
                                                               "weekly": [interval("monday", "08:00", "12:00")]})

    assert locs(problem(renamed, 409)) == [["body", "name"]]
    assert "'default' schedule cannot be renamed" in renamed.json()["detail"]
    assert "'default' schedule cannot be deleted" in problem(deleted, 409)["detail"]
    assert changed.status_code == 200, changed.text
    assert (changed.json()["name"], changed.json()["timezone"]) == ("default", "Europe/Rome")


# --- create, read, list --------------------------------------------------------------------------------------

async def test_creating_a_schedule_returns_it_with_location_and_etag_in_week_and_date_order(api):
    response = await api.post(HOURS, json={
        "name": "Support", "timezone": "America/New_York",
        "weekly": [interval("tuesday", "14:00", "18:00"), interval("monday", "09:00", "12:00"),
                   interval("tuesday", "08:00", "12:00"), interval("saturday", "10:00", "24:00")],
        "breaks": [interval("tuesday", "10:00", "10:15")],
        "holidays": [{"date": "2026-12-25", "name": "Christmas", "recurring_yearly": True},
                     {"date": "2026-11-26", "name": "Thanksgiving"}]})

    assert response.status_code == 201, response.text
    schedule = response.json()
    assert response.headers["Location"].endswith(f"{HOURS}/{schedule['id']}")
    assert response.headers["ETag"]
    assert schedule["weekly"] == [interval("monday", "09:00", "12:00"), interval("tuesday", "08:00", "12:00"),
                                  interval("tuesday", "14:00", "18:00"), interval("saturday", "10:00", "24:00")]
    assert schedule["holidays"] == [
        {"date": "2026-11-26", "name": "Thanksgiving", "recurring_yearly": False},
        {"date": "2026-12-25", "name": "Christmas", "recurring_yearly": True}]
    assert schedule["is_default"] is False
    fetched = await api.get(f"{HOURS}/{schedule['id']}")
    assert fetched.json() == schedule and fetched.headers["ETag"] == response.headers["ETag"]


async def test_a_schedule_without_a_time_zone_takes_the_organizations(api):
    await api.patch("/api/v1/organization", json={"timezone": "Europe/Warsaw"})

    schedule = await create_schedule(api, timezone=None)

    assert schedule["timezone"] == "Europe/Warsaw"
    assert schedule["weekly"] == []  # closed all week until given hours


async def test_lists_page_sort_and_search_by_name(api):
    for name in ("Support", "Sales", "Night line"):
        await create_schedule(api, name=name)

    everything = (await api.get(HOURS, params={"sort": "-name"})).json()
    searched = (await api.get(HOURS, params={"q": "s"})).json()
    page = (await api.get(HOURS, params={"limit": 2, "offset": 1, "sort": "name"})).json()
    bad_sort = await api.get(HOURS, params={"sort": "weekly"})

    assert [s["name"] for s in everything["items"]] == ["default", "Support", "Sales", "Night line"]
    assert {s["name"] for s in searched["items"]} == {"Support", "Sales"}
    assert ([s["name"] for s in page["items"]], page["total"], page["limit"], page["offset"]) == (
        ["Sales", "Support"], 4, 2, 1)
    assert locs(problem(bad_sort, 422)) == [["query", "sort"]]


async def test_a_name_is_unique_in_the_organization_whatever_its_case(api):
    await create_schedule(api, name="Support")
    other = await create_schedule(api, name="Sales")

    created = await api.post(HOURS, json={"name": "SUPPORT"})
    renamed = await api.patch(f"{HOURS}/{other['id']}", json={"name": "support"})

    assert locs(problem(created, 409)) == [["body", "name"]]
    assert "A schedule named 'SUPPORT' already exists" in created.json()["detail"]
    assert locs(problem(renamed, 409)) == [["body", "name"]]


async def test_a_post_repeated_with_the_same_idempotency_key_creates_one_schedule(api):
    headers = {**api.headers, "Idempotency-Key": f"hours-{uuid.uuid4()}"}
    body = {"name": "Retried", "weekly": [interval("monday", "09:00", "17:00")]}

    first = await api.post(HOURS, json=body, headers=headers)
    second = await api.post(HOURS, json=body, headers=headers)

    assert (first.status_code, second.status_code) == (201, 201)
    assert second.json() == first.json()
    assert await schedule_count(api) == 2


# --- what is refused -----------------------------------------------------------------------------------------

async def test_an_unknown_time_zone_is_refused_naming_the_field(api):
    created = await api.post(HOURS, json={"name": "Mars", "timezone": "Mars/Olympus_Mons"})
    default = await default_schedule(api)
    patched = await api.patch(f"{HOURS}/{default['id']}", json={"timezone": "CEST"})

    assert locs(problem(created, 422)) == [["body", "timezone"]]
    assert "IANA time zone" in created.json()["errors"][0]["msg"]
    assert locs(problem(patched, 422)) == [["body", "timezone"]]
    assert (await default_schedule(api))["timezone"] == "UTC"


async def test_an_interval_that_ends_before_it_starts_is_refused_naming_its_end(api):
    response = await api.post(HOURS, json={"name": "Backwards", "weekly": [
        interval("monday", "09:00", "12:00"), interval("monday", "13:00", "17:00"),
        interval("tuesday", "17:00", "09:00")]})

    body = problem(response, 422)
    assert locs(body) == [["body", "weekly", 2, "end"]]
    assert "must be later than start (17:00)" in body["errors"][0]["msg"]


async def test_an_empty_interval_is_refused_too(api):
    response = await api.post(HOURS, json={"name": "Blink", "weekly": [interval("friday", "12:00", "12:00")]})

    assert locs(problem(response, 422)) == [["body", "weekly", 0, "end"]]


async def test_overlapping_intervals_of_a_day_are_refused_naming_the_later_one(api):
    response = await api.post(HOURS, json={"name": "Overlap", "weekly": [
        interval("monday", "13:00", "17:00"), interval("tuesday", "11:00", "15:00"),
        interval("monday", "09:00", "13:30")]})

    body = problem(response, 422)
    assert locs(body) == [["body", "weekly", 0, "start"]]
    assert "overlaps monday 09:00–13:30 (item 2)" in body["errors"][0]["msg"]


async def test_an_interval_inside_a_long_one_overlaps_it_even_after_another_one(api):
    response = await api.post(HOURS, json={"name": "Nested", "weekly": [
        interval("monday", "09:00", "17:00"), interval("monday", "10:00", "11:00"),
        interval("monday", "12:00", "13:00")]})

    body = problem(response, 422)
    assert locs(body) == [["body", "weekly", 1, "start"], ["body", "weekly", 2, "start"]]
    assert all("overlaps monday 09:00–17:00 (item 0)" in e["msg"] for e in body["errors"])


async def test_intervals_that_touch_do_not_overlap(api):
    schedule = await create_schedule(api, weekly=[interval("monday", "09:00", "12:00"),
                                                  interval("monday", "12:00", "17:00")])

    assert len(schedule["weekly"]) == 2


async def test_times_must_be_hh_mm_and_only_an_end_may_be_midnight(api):
    response = await api.post(HOURS, json={"name": "Clock", "weekly": [
        {"day": "monday", "start": "9:00", "end": "17:00"}, {"day": "tuesday", "start": "24:00", "end": "24:00"},
        {"day": "someday", "start": "09:00", "end": "17:60"}]})

    assert sorted(locs(problem(response, 422))) == [
        ["body", "weekly", 0, "start"], ["body", "weekly", 1, "start"], ["body", "weekly", 2, "day"],
        ["body", "weekly", 2, "end"]]


async def test_a_break_outside_the_open_hours_is_refused_naming_it(api):
    response = await api.post(HOURS, json={
        "name": "Lunch", "weekly": [interval("monday", "09:00", "13:00"), interval("monday", "14:00", "17:00")],
        "breaks": [interval("monday", "11:00", "11:30"), interval("monday", "12:30", "14:30"),
                   interval("sunday", "12:00", "12:30")]})

    body = problem(response, 422)
    assert locs(body) == [["body", "breaks", 1], ["body", "breaks", 2]]
    assert "within one open interval of monday (open: 09:00–13:00, 14:00–17:00)" in body["errors"][0]["msg"]
    assert "(open: none)" in body["errors"][1]["msg"]


async def test_breaks_are_checked_like_intervals(api):
    response = await api.post(HOURS, json={
        "name": "Breaks", "weekly": [interval("monday", "09:00", "17:00")],
        "breaks": [interval("monday", "12:00", "11:00"), interval("monday", "12:00", "13:00"),
                   interval("monday", "12:30", "12:45")]})

    assert locs(problem(response, 422)) == [["body", "breaks", 0, "end"], ["body", "breaks", 2, "start"]]


async def test_shrinking_the_open_hours_under_a_break_is_refused_naming_weekly(api):
    schedule = await create_schedule(api, weekly=[interval("monday", "09:00", "17:00")],
                                     breaks=[interval("monday", "12:00", "12:30")])

    shrunk = await api.patch(f"{HOURS}/{schedule['id']}", json={"weekly": [interval("monday", "13:00", "17:00")]})
    both = await api.patch(f"{HOURS}/{schedule['id']}", json={"weekly": [interval("monday", "13:00", "17:00")],
                                                              "breaks": []})

    body = problem(shrunk, 422)
    assert locs(body) == [["body", "weekly"]]
    assert "break on monday 12:00–12:30" in body["errors"][0]["msg"]
    assert both.status_code == 200, both.text


async def test_a_duplicate_holiday_date_is_refused_naming_the_second(api):
    response = await api.post(HOURS, json={"name": "Holidays", "holidays": [
        {"date": "2026-12-24", "name": "Christmas Eve"}, {"date": "2026-05-01", "name": "Labour Day",
                                                         "recurring_yearly": True},
        {"date": "2026-12-24", "name": "Wigilia"}, {"date": "2027-05-01", "name": "May Day"},
        {"date": "2030-05-01", "name": "Again", "recurring_yearly": True}]})

    body = problem(response, 422)
    assert locs(body) == [["body", "holidays", 2, "date"], ["body", "holidays", 3, "date"],
                          ["body", "holidays", 4, "date"]]
    assert "2026-12-24 is already a holiday (item 0: Christmas Eve)" in body["errors"][0]["msg"]
    assert "(item 1: Labour Day)" in body["errors"][1]["msg"]


async def test_the_same_day_in_different_years_is_two_holidays(api):
    schedule = await create_schedule(api, holidays=[{"date": "2026-04-06", "name": "Easter Monday"},
                                                    {"date": "2027-04-06", "name": "Not Easter"}])

    assert len(schedule["holidays"]) == 2


async def test_every_error_is_reported_at_once(api):
    response = await api.post(HOURS, json={
        "name": "Everything wrong", "weekly": [interval("monday", "10:00", "09:00")],
        "breaks": [interval("friday", "12:00", "13:00")],
        "holidays": [{"date": "2026-01-01", "name": "A"}, {"date": "2026-01-01", "name": "B"}]})

    assert locs(problem(response, 422)) == [["body", "weekly", 0, "end"], ["body", "breaks", 0],
                                            ["body", "holidays", 1, "date"]]


async def test_null_unknown_fields_and_control_characters_are_refused(api):
    default = await default_schedule(api)

    nulls = await api.patch(f"{HOURS}/{default['id']}", json={"weekly": None, "name": None})
    unknown = await api.post(HOURS, json={"name": "Typo", "weeekly": []})
    injected = await api.post(HOURS, json={"name": "Evil\n[internal]", "holidays": [
        {"date": "2026-01-01", "name": "x\nexten => s,1,Hangup()"}]})

    assert sorted(locs(problem(nulls, 422))) == [["body", "name"], ["body", "weekly"]]
    assert locs(problem(unknown, 422)) == [["body", "weeekly"]]
    assert sorted(locs(problem(injected, 422))) == [["body", "holidays", 0, "name"], ["body", "name"]]


async def test_nothing_is_saved_when_a_request_fails(api):
    schedule = await create_schedule(api, name="Kept", weekly=[interval("monday", "09:00", "17:00")])
    before = await schedule_count(api)

    refused_create = await api.post(HOURS, json={"name": "Half", "weekly": [interval("monday", "10:00", "09:00")]})
    refused_patch = await api.patch(f"{HOURS}/{schedule['id']}", json={
        "name": "Renamed", "weekly": [interval("monday", "09:00", "12:00")],
        "holidays": [{"date": "2026-01-01", "name": "A"}, {"date": "2026-01-01", "name": "B"}]})

    problem(refused_create, 422)
    problem(refused_patch, 422)
    assert await schedule_count(api) == before
    kept = await api.get(f"{HOURS}/{schedule['id']}")
    assert kept.json() == schedule and kept.headers["ETag"]


# --- changes, ETags, deletion --------------------------------------------------------------------------------

async def test_a_patch_changes_only_what_it_names(api):
    schedule = await create_schedule(api, weekly=[interval("monday", "09:00", "17:00")],
                                     holidays=[{"date": "2026-12-25", "name": "Christmas", "recurring_yearly": True}])

    response = await api.patch(f"{HOURS}/{schedule['id']}", json={"breaks": [interval("monday", "12:00", "12:30")]})

    changed = response.json()
    assert response.status_code == 200, response.text
    assert changed["breaks"] == [interval("monday", "12:00", "12:30")]
    assert (changed["weekly"], changed["holidays"], changed["name"]) == (
        schedule["weekly"], schedule["holidays"], schedule["name"])


async def test_a_stale_if_match_is_412_and_changes_nothing(api):
    schedule = await create_schedule(api)
    url = f"{HOURS}/{schedule['id']}"
    etag = (await api.get(url)).headers["ETag"]
    first_read = {**api.headers, "If-Match": etag}

    changed = await api.patch(url, json={"timezone": "Europe/Rome"}, headers=first_read)
    stale_patch = await api.patch(url, json={"timezone": "Asia/Tokyo"}, headers=first_read)
    stale_delete = await api.delete(url, headers=first_read)

    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    problem(stale_patch, 412)
    problem(stale_delete, 412)
    assert (await api.get(url)).json()["timezone"] == "Europe/Rome"
    assert (await api.delete(url, headers={**api.headers, "If-Match": changed.headers["ETag"]})).status_code == 204
    problem(await api.get(url), 404)


async def test_deleting_a_schedule_that_something_uses_is_409_listing_the_referrers(api):
    schedule = await create_schedule(api, name="Support")
    group = (await api.post("/api/v1/groups", json={"name": "Night desk"})).json()
    organization_id = uuid.UUID((await api.get("/api/v1/organization")).json()["id"])
    # What an inbound rule records when it uses a schedule (here a group stands in as the referrer).
    async with api.app.state.sessionmaker() as session:
        session.add(DestinationReference(
            organization_id=organization_id, referrer_type="group", referrer_id=uuid.UUID(group["id"]),
            field="office_hours_id", target_type="office_hours", target_id=uuid.UUID(schedule["id"])))
        await session.commit()

    response = await api.delete(f"{HOURS}/{schedule['id']}")

    body = problem(response, 409)
    assert "Schedule 'Support' is still a destination of" in body["detail"]
    assert body["referrers"] == [{"type": "group", "id": group["id"], "name": "Night desk",
                                  "field": "office_hours_id"}]
    assert (await api.get(f"{HOURS}/{schedule['id']}")).status_code == 200


async def test_writes_are_audited_and_make_the_configuration_pending(api):
    schedule = await create_schedule(api, name="Audited")
    await api.patch(f"{HOURS}/{schedule['id']}", json={"weekly": [interval("monday", "09:00", "17:00")]})
    await api.delete(f"{HOURS}/{schedule['id']}")

    entries = (await api.get("/api/v1/audit-log", params={"resource_id": schedule["id"]})).json()["items"]

    assert [e["action"] for e in reversed(entries)] == ["office_hours.create", "office_hours.update",
                                                        "office_hours.delete"]
    update = next(e for e in entries if e["action"] == "office_hours.update")
    assert (update["before"]["weekly"], update["after"]["weekly"]) == ([], [interval("monday", "09:00", "17:00")])
    assert (await api.get("/api/v1/config/status")).json()["pending"] is True


# --- evaluation ----------------------------------------------------------------------------------------------

async def test_the_state_of_a_schedule_at_a_moment_is_read_on_its_own_wall_clock(api):
    schedule = await create_schedule(api, timezone="Europe/Warsaw", weekly=[interval("monday", "09:00", "17:00")],
                                     breaks=[interval("monday", "12:00", "12:30")],
                                     holidays=[{"date": "2026-12-21", "name": "Office party"}])
    url = f"{HOURS}/{schedule['id']}/state"

    async def state(at: str) -> str:
        response = await api.get(url, params={"at": at})
        assert response.status_code == 200, response.text
        return response.json()["state"]

    assert await state("2026-11-23T08:30:00Z") == "open"  # 09:30 in Warsaw (CET, UTC+1)
    assert await state("2026-11-23T07:30:00Z") == "closed"  # 08:30 in Warsaw
    assert await state("2026-11-23T11:15:00Z") == "break"
    assert await state("2026-12-21T10:00:00+01:00") == "holiday"
    body = (await api.get(url, params={"at": "2026-11-23T08:30:00Z"})).json()
    assert body["local_time"].startswith("2026-11-23T09:30:00") and body["timezone"] == "Europe/Warsaw"
    assert (await api.get(url)).json()["state"] in ("open", "closed", "break", "holiday")
    assert locs(problem(await api.get(url, params={"at": "2026-11-23T08:30:00"}), 422)) == [["query", "at"]]


# --- tenancy and permissions ---------------------------------------------------------------------------------

async def test_another_organizations_schedule_is_404_for_every_verb(api):
    created = await api.post("/api/v1/organizations", json={"name": "Beta", "slug": "beta",
                                                            "sip_domain": "beta.example.com"})
    assert created.status_code == 201
    theirs = await create_schedule(api, headers={**api.headers, "X-Organization": "beta"}, name="Theirs")
    url = f"{HOURS}/{theirs['id']}"

    for response in (await api.get(url), await api.patch(url, json={"timezone": "UTC"}), await api.delete(url),
                     await api.get(f"{url}/state")):
        assert "Office-hours schedule not found" in problem(response, 404)["detail"]
    assert "Theirs" not in [s["name"] for s in (await api.get(HOURS)).json()["items"]]
    assert (await api.get(url, headers={**api.headers, "X-Organization": "beta"})).json()["timezone"] == "Europe/Warsaw"


async def test_a_readonly_user_reads_schedules_but_cannot_write_them(api):
    schedule = await create_schedule(api, name="Visible")
    _, reader = await api.user_with_role("readonly", scope="all")
    url = f"{HOURS}/{schedule['id']}"

    assert (await api.get(url, headers=reader)).status_code == 200
    assert (await api.get(HOURS, headers=reader)).json()["total"] == 2
    problem(await api.post(HOURS, json={"name": "Nope"}, headers=reader), 403)
    problem(await api.patch(url, json={"timezone": "UTC"}, headers=reader), 403)
    problem(await api.delete(url, headers=reader), 403)
    assert (await api.get(url)).json() == schedule


async def test_a_user_without_office_hours_permissions_cannot_even_read(api):
    _, user = await api.user_with_role("user")

    problem(await api.get(HOURS, headers=user), 403)
    assert (await api.get(HOURS, headers={})).status_code == 401


async def test_an_admin_with_scope_own_cannot_change_organization_wide_schedules(api):
    _, admin = await api.user_with_role("admin", scope="own")

    response = await api.post(HOURS, json={"name": "Mine"}, headers=admin)

    assert "needs management scope 'all'" in problem(response, 403)["detail"]
