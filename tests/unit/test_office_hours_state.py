"""What a schedule says about a moment (``state_at``): holidays first, then breaks, then the open intervals, on the
wall clock of the schedule's time zone, across daylight-saving changes."""

from __future__ import annotations

import datetime as dt
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.config_gen.asterisk_schedules import ScheduleHoliday, ScheduleInfo, ScheduleInterval
from app.models.office_hours import OfficeHours
from app.services.office_hours import default_schedule, state_at

WORKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday")


def schedule(timezone: str = "Europe/Warsaw", weekly=(), breaks=(), holidays=()) -> ScheduleInfo:
    return ScheduleInfo(id="0ff1ce00-0000-4000-8000-000000000001", name="Test", timezone=timezone,
                        weekly=tuple(ScheduleInterval(*i) for i in weekly),
                        breaks=tuple(ScheduleInterval(*b) for b in breaks),
                        holidays=tuple(ScheduleHoliday(*h) for h in holidays))


NINE_TO_FIVE = schedule(weekly=[(day, "09:00", "17:00") for day in WORKDAYS],
                        breaks=[("wednesday", "12:00", "12:30")],
                        holidays=[(dt.date(2026, 12, 25), "Christmas", True), (dt.date(2026, 11, 11), "Independence")])


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.mark.parametrize(("moment", "expected"), [
    (utc(2026, 11, 23, 7, 59), "closed"),     # Monday 08:59 in Warsaw (UTC+1 in November): not open yet
    (utc(2026, 11, 23, 8, 0), "open"),        # 09:00 local: the first open minute
    (utc(2026, 11, 23, 15, 59), "open"),      # 16:59 local
    (utc(2026, 11, 23, 16, 0), "closed"),     # 17:00 local: the end is not included
    (utc(2026, 11, 25, 11, 0), "break"),      # Wednesday 12:00 local
    (utc(2026, 11, 25, 11, 30), "open"),      # 12:30 local: the break is over
    (utc(2026, 11, 28, 10, 0), "closed"),     # Saturday
    (utc(2026, 11, 11, 10, 0), "holiday"),    # a one-off holiday on a Wednesday
    (utc(2027, 11, 11, 10, 0), "open"),       # the same day a year later is a Thursday like any other
    (utc(2026, 12, 25, 10, 0), "holiday"),    # yearly…
    (utc(2031, 12, 25, 10, 0), "holiday"),    # …every year
])
def test_a_nine_to_five_schedule_in_warsaw(moment, expected):
    assert state_at(NINE_TO_FIVE, moment) == expected


def test_holidays_win_over_breaks_and_breaks_over_open_hours():
    busy = schedule(weekly=[("wednesday", "09:00", "17:00")], breaks=[("wednesday", "12:00", "13:00")],
                    holidays=[(dt.date(2026, 11, 25), "Closed")])
    noon = datetime(2026, 11, 25, 12, 15, tzinfo=ZoneInfo("Europe/Warsaw"))

    assert state_at(busy, noon) == "holiday"
    assert state_at(busy, noon + timedelta(days=7)) == "break"
    assert state_at(busy, noon + timedelta(days=7, hours=1)) == "open"


def test_opening_hours_follow_the_wall_clock_across_the_spring_change():
    # Warsaw moves from UTC+1 to UTC+2 on Sunday 2026-03-29 at 02:00 local (01:00 UTC).
    monday_before, monday_after = utc(2026, 3, 23, 8, 30), utc(2026, 3, 30, 8, 30)

    assert state_at(NINE_TO_FIVE, monday_before) == "open"     # 09:30 CET
    assert state_at(NINE_TO_FIVE, monday_after) == "open"      # 10:30 CEST
    assert state_at(NINE_TO_FIVE, utc(2026, 3, 23, 7, 30)) == "closed"  # 08:30 CET
    assert state_at(NINE_TO_FIVE, utc(2026, 3, 30, 7, 30)) == "open"    # 09:30 CEST: an hour earlier in UTC
    assert state_at(NINE_TO_FIVE, utc(2026, 3, 30, 15, 0)) == "closed"  # 17:00 CEST


def test_a_night_shift_through_the_missing_hour_and_the_repeated_hour():
    night = schedule(weekly=[("sunday", "02:00", "03:00")])

    # 2026-03-29: 02:00–03:00 local does not exist; 00:59 UTC is 01:59 CET, 01:00 UTC is already 03:00 CEST.
    assert state_at(night, utc(2026, 3, 29, 0, 59)) == "closed"
    assert state_at(night, utc(2026, 3, 29, 1, 0)) == "closed"
    # 2026-10-25: 02:00–03:00 local happens twice (CEST, then CET): open both times.
    assert state_at(night, utc(2026, 10, 25, 0, 30)) == "open"   # 02:30 CEST
    assert state_at(night, utc(2026, 10, 25, 1, 30)) == "open"   # 02:30 CET
    assert state_at(night, utc(2026, 10, 25, 2, 0)) == "closed"  # 03:00 CET


def test_the_same_instant_is_open_in_one_time_zone_and_closed_in_another():
    hours = [(day, "09:00", "17:00") for day in WORKDAYS]
    instant = utc(2026, 11, 23, 15, 0)  # Monday: 16:00 in Warsaw, 10:00 in New York, 00:00 Tuesday in Tokyo

    assert state_at(schedule("Europe/Warsaw", hours), instant) == "open"
    assert state_at(schedule("America/New_York", hours), instant) == "open"
    assert state_at(schedule("Asia/Tokyo", hours), instant) == "closed"
    assert state_at(schedule("Asia/Tokyo", hours), instant + timedelta(hours=9)) == "open"  # Tuesday 09:00


def test_a_holiday_is_the_local_date_not_the_utc_one():
    tokyo = schedule("Asia/Tokyo", [(day, "00:00", "24:00") for day in WORKDAYS],
                     holidays=[(dt.date(2026, 11, 24), "Local holiday")])

    assert state_at(tokyo, utc(2026, 11, 23, 15, 30)) == "holiday"  # already the 24th in Tokyo
    assert state_at(tokyo, utc(2026, 11, 23, 14, 30)) == "open"     # still the 23rd there


def test_an_interval_to_midnight_includes_the_last_minute():
    late = schedule("UTC", [("friday", "18:00", "24:00")])

    assert state_at(late, utc(2026, 11, 27, 23, 59, 59)) == "open"
    assert state_at(late, utc(2026, 11, 28, 0, 0)) == "closed"


def test_a_yearly_holiday_on_the_29th_of_february_only_falls_in_leap_years():
    leap = schedule("UTC", [(day, "00:00", "24:00") for day in ("sunday", "monday", "tuesday", "wednesday",
                                                                 "thursday", "friday", "saturday")],
                    holidays=[(dt.date(2028, 2, 29), "Leap day", True)])

    assert state_at(leap, utc(2032, 2, 29, 12)) == "holiday"
    assert state_at(leap, utc(2031, 3, 1, 12)) == "open"


def test_a_stored_row_is_evaluated_like_its_schedule_info():
    row = default_schedule(organization_id=uuid.uuid4(), timezone="Europe/Warsaw")

    assert isinstance(row, OfficeHours)
    assert state_at(row, utc(2026, 11, 23, 8, 0)) == "open"
    assert state_at(row, utc(2026, 11, 22, 8, 0)) == "closed"  # Sunday


def test_a_moment_without_a_time_zone_is_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        state_at(NINE_TO_FIVE, datetime(2026, 11, 23, 9, 0))
