"""Office-hours schedules proven on a real Asterisk 22: the contexts of ``asterisk_schedules`` are loaded by a
private instance, and a small test dialplan calls each one with GoSub, then ends the call by what it said.

    open    → the call is answered (200)
    closed  → Hangup(17): 486 Busy Here
    break   → Hangup(1):  404 Not Found
    holiday → Hangup(21): 403 Forbidden

so the caller's final status is the schedule's verdict. Every schedule is built relative to the moment the test
starts, on the wall clock of a time zone where that moment is far from midnight, so the result never depends on
the machine's clock or time zone; each verdict is also checked against ``state_at``, so Python and Asterisk agree.

Asterisk is found through ASTERISK_PREFIX or PATH (see tests/asterisk_tools.py); without it these tests skip
locally and fail under CI.
"""

from __future__ import annotations

import datetime as dt
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from asterisk_tools import Asterisk, call, pjsip_transport, pjsip_user
from sip_tools import free_udp_port

from app.config_gen.asterisk import render_dialplan
from app.config_gen.asterisk_groups import DialplanContext, Extension
from app.config_gen.asterisk_schedules import (ScheduleHoliday, ScheduleInfo, ScheduleInterval, context_names,
                                               schedule_contexts)
from app.services.office_hours import state_at

pytestmark = pytest.mark.registrar

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
ZONES = ("Europe/Warsaw", "America/New_York", "Asia/Tokyo", "America/Los_Angeles", "Asia/Kolkata", "UTC",
         "Australia/Sydney", "Pacific/Auckland")
MARGIN = timedelta(hours=2)  # every window lies at least this far from the local midnight
STATUS = {"open": 200, "closed": 486, "break": 404, "holiday": 403}
VERDICTS = DialplanContext("verdict", (
    Extension("open", ("Answer()", "Hangup()")),
    Extension("closed", ("Hangup(17)",)),
    Extension("break", ("Hangup(1)",)),
    Extension("holiday", ("Hangup(21)",)),
), comment="What the test caller hears for each state")
CALLER, PASSWORD = "100", "caller-pw-1"


def _local(zone: str, now: datetime) -> datetime:
    return now.astimezone(ZoneInfo(zone))


def _safe(zone: str, now: datetime) -> bool:
    local = _local(zone, now)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return MARGIN <= local - midnight <= timedelta(hours=24) - MARGIN


def _hhmm(moment: datetime) -> str:
    return moment.strftime("%H:%M")


class Office:
    """The schedules under test, each with the number that evaluates it and the state it must give now."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        safe = [zone for zone in ZONES if _safe(zone, now)]
        self.zone = safe[0]
        local = _local(self.zone, now)
        # A zone whose wall clock is at least four hours away from the first one's.
        self.elsewhere = next(zone for zone in safe
                              if abs(_local(zone, now).utcoffset() - local.utcoffset()) >= timedelta(hours=4))
        self.today, self.weekday = local.date(), DAYS[local.weekday()]
        self.window = (_hhmm(local - timedelta(hours=1)), _hhmm(local + timedelta(hours=1)))
        self.schedules: dict[str, tuple[ScheduleInfo, str]] = {}

    def add(self, number: str, expected: str, *, zone: str | None = None, weekly=None, breaks=(), holidays=()):
        weekly = weekly if weekly is not None else [(day, "00:00", "24:00") for day in DAYS]
        info = ScheduleInfo(id=str(uuid.uuid4()), name=f"Schedule {number}", timezone=zone or self.zone,
                            weekly=tuple(ScheduleInterval(*i) for i in weekly),
                            breaks=tuple(ScheduleInterval(*b) for b in breaks),
                            holidays=tuple(ScheduleHoliday(*h) for h in holidays))
        self.schedules[number] = (info, expected)

    def dialplan(self) -> str:
        infos = [info for info, _ in self.schedules.values()]
        names = context_names(infos)
        tests = DialplanContext("test", tuple(
            Extension(number, (f"GoSub({names[info.id]},s,1)", "Goto(verdict,${SCHEDULE_STATE},1)"))
            for number, (info, _) in self.schedules.items()))
        return render_dialplan((tests, VERDICTS, *schedule_contexts(infos)))


def _same_day_years_ago(today: dt.date, years: int) -> dt.date:
    """Today's day and month, ``years`` earlier (the 29th of February goes back to a leap year)."""
    back = years
    while True:
        try:
            return today.replace(year=today.year - back)
        except ValueError:
            back += 1


def build(now: datetime) -> Office:
    office = Office(now)
    start, end = office.window
    other_days = [(day, "00:00", "24:00") for day in DAYS if day != office.weekday]
    office.add("201", "open")
    office.add("202", "closed", weekly=other_days)
    office.add("203", "holiday", holidays=[(office.today, "Today, once")])
    office.add("204", "holiday", holidays=[(_same_day_years_ago(office.today, 4), "Every year", True)])
    office.add("205", "open", holidays=[(_same_day_years_ago(office.today, 1), "Last year only")])
    office.add("206", "break", breaks=[(office.weekday, start, end)])
    office.add("207", "open", weekly=[(office.weekday, start, end)])
    office.add("208", "closed", zone=office.elsewhere, weekly=[(office.weekday, start, end)])
    office.add("209", "closed", weekly=[(office.weekday, "00:00", start), (office.weekday, end, "24:00")])
    office.add("210", "holiday", breaks=[(office.weekday, start, end)],
               holidays=[(_same_day_years_ago(office.today, 8), "Holiday beats break", True)])
    return office


@pytest.fixture(scope="module")
def running(tmp_path_factory):
    """One Asterisk with every schedule of ``build``, for the whole module."""
    office = build(datetime.now(UTC))
    port = free_udp_port()
    conf = tmp_path_factory.mktemp("schedules-conf")
    (conf / "pjsip.conf").write_text(pjsip_transport(port) + pjsip_user(CALLER, PASSWORD, context="test"))
    (conf / "extensions.conf").write_text(office.dialplan())
    with Asterisk(conf) as pbx:
        yield office, pbx, port


def verdict(running, number: str) -> int:
    office, pbx, port = running
    info, expected = office.schedules[number]
    assert state_at(info, datetime.now(UTC)) == expected, "the test's own schedule is wrong"
    result = call(port, number, caller=CALLER, password=PASSWORD, hangup_after_s=0.2, timeout_s=15)
    problems = pbx.log_problems("extensions.conf", "pbx_timing", "ast_expr", "func_logic", "func_strings",
                                "app_stack", "pbx_builtins", "pbx.c")
    assert not problems, "Asterisk logged problems:\n" + "\n".join(problems)
    return result.status


def test_a_schedule_open_all_week_says_open(running):
    assert verdict(running, "201") == STATUS["open"]


def test_a_schedule_with_today_left_out_says_closed(running):
    assert verdict(running, "202") == STATUS["closed"]


def test_a_one_off_holiday_today_says_holiday(running):
    assert verdict(running, "203") == STATUS["holiday"]


def test_a_yearly_holiday_dated_in_another_year_says_holiday_today(running):
    assert verdict(running, "204") == STATUS["holiday"]


def test_a_one_off_holiday_on_todays_date_last_year_does_not_count(running):
    assert verdict(running, "205") == STATUS["open"]


def test_a_break_around_now_says_break(running):
    assert verdict(running, "206") == STATUS["break"]


def test_an_interval_around_now_says_open(running):
    assert verdict(running, "207") == STATUS["open"]


def test_the_same_interval_in_a_time_zone_hours_away_says_closed(running):
    assert verdict(running, "208") == STATUS["closed"]


def test_open_before_and_after_but_not_now_says_closed(running):
    assert verdict(running, "209") == STATUS["closed"]


def test_a_holiday_wins_over_a_break(running):
    assert verdict(running, "210") == STATUS["holiday"]
