"""The dialplan routine of an office-hours schedule, as text: what it checks, in which order, and what it refuses
to write. Whether Asterisk agrees is proven in tests/e2e/test_asterisk_schedules.py."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from app.config_gen.asterisk import render_dialplan
from app.config_gen.asterisk_schedules import (ScheduleHoliday, ScheduleInfo, ScheduleInterval, context_names,
                                               schedule_contexts)

WORKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday")
SUPPORT = ScheduleInfo(
    id="0ff1ce5c-4ed1-4000-8000-000000000001", name="Support", timezone="Europe/Warsaw",
    weekly=(*(ScheduleInterval(day, "09:00", "17:00") for day in WORKDAYS),
            ScheduleInterval("saturday", "14:00", "24:00"), ScheduleInterval("saturday", "10:00", "13:00")),
    breaks=(ScheduleInterval("wednesday", "12:00", "12:30"),),
    holidays=(ScheduleHoliday(dt.date(2026, 12, 25), "Christmas", True),
              ScheduleHoliday(dt.date(2026, 11, 11), "Independence Day")))

EXPECTED = """\
; Office hours 'Support' (Europe/Warsaw): GoSub(schedule-0ff1ce5c,s,1) sets SCHEDULE_STATE to holiday, break, open or closed
[schedule-0ff1ce5c]
exten => s,1,Set(SCHEDULE_STATE=closed)
 same => n,GotoIf($[${IFTIME(*,*,11,nov,Europe/Warsaw?1:0)} & ${STRFTIME(${EPOCH},Europe/Warsaw,%Y)} = 2026]?holiday,1)
 same => n,GotoIfTime(*,*,25,dec,Europe/Warsaw?holiday,1)
 same => n,GotoIfTime(12:00-12:29,wed,*,*,Europe/Warsaw?break,1)
 same => n,GotoIfTime(09:00-16:59,mon&tue&wed&thu&fri,*,*,Europe/Warsaw?open,1)
 same => n,GotoIfTime(10:00-12:59&14:00-23:59,sat,*,*,Europe/Warsaw?open,1)
 same => n,Return()
exten => holiday,1,Set(SCHEDULE_STATE=holiday)
 same => n,Return()
exten => break,1,Set(SCHEDULE_STATE=break)
 same => n,Return()
exten => open,1,Set(SCHEDULE_STATE=open)
 same => n,Return()
"""


def test_a_schedule_renders_holidays_then_breaks_then_open_hours_with_inclusive_end_minutes():
    text = render_dialplan(tuple(schedule_contexts([SUPPORT])))

    assert text.endswith("\n" + EXPECTED)


def test_rendering_is_deterministic_whatever_the_order_of_intervals_and_holidays():
    shuffled = dataclasses.replace(SUPPORT, weekly=tuple(reversed(SUPPORT.weekly)),
                                   holidays=tuple(reversed(SUPPORT.holidays)))

    assert schedule_contexts([shuffled]) == schedule_contexts([SUPPORT])


def test_an_empty_schedule_is_always_closed():
    empty = ScheduleInfo(id="0ff1ce5c-4ed1-4000-8000-000000000002", name="Never", timezone="UTC")

    [context] = schedule_contexts([empty])

    assert context.extensions[0].applications == ("Set(SCHEDULE_STATE=closed)", "Return()")


def test_context_names_grow_until_the_organizations_schedules_differ():
    first = dataclasses.replace(SUPPORT, id="0ff1ce5c-aaaa-4000-8000-000000000001")
    second = dataclasses.replace(SUPPORT, id="0ff1ce5c-bbbb-4000-8000-000000000001")

    assert context_names([first, second]) == {first.id: "schedule-0ff1ce5ca", second.id: "schedule-0ff1ce5cb"}
    assert [c.name for c in schedule_contexts([first, second])] == ["schedule-0ff1ce5ca", "schedule-0ff1ce5cb"]


def test_a_stored_row_converts_to_schedule_info():
    info = ScheduleInfo.from_stored(
        SUPPORT.id, "Support", "Europe/Warsaw", [{"day": "monday", "start": "09:00", "end": "17:00"}], [],
        [{"date": "2026-12-25", "name": "Christmas", "recurring_yearly": True}])

    assert info.weekly == (ScheduleInterval("monday", "09:00", "17:00"),)
    assert info.holidays == (ScheduleHoliday(dt.date(2026, 12, 25), "Christmas", True),)


@pytest.mark.parametrize(("change", "complaint"), [
    ({"timezone": "Europe/Warsaw?open,1)"}, "not an IANA zone name"),
    ({"timezone": "Europe/Warsaw,UTC"}, "not an IANA zone name"),
    ({"name": "Support\n[internal]"}, "control character"),
    ({"weekly": (ScheduleInterval("someday", "09:00", "17:00"),)}, "unknown day"),
    ({"weekly": (ScheduleInterval("monday", "9:00", "17:00"),)}, "not a time of day"),
    ({"breaks": (ScheduleInterval("monday", "12:00", "11:00"),)}, "ends before it starts"),
])
def test_data_the_api_would_refuse_is_not_written(change, complaint):
    with pytest.raises(ValueError, match=complaint):
        schedule_contexts([dataclasses.replace(SUPPORT, **change)])
