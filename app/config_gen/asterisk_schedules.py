"""Office-hours schedules in Asterisk: one GoSub routine per schedule that says what "now" is.

The variable contract. After

    same => n,GoSub(schedule-<short id>,s,1)

the channel variable ``SCHEDULE_STATE`` holds one of ``holiday``, ``break``, ``open`` or ``closed``
for the current moment in the schedule's own time zone (Asterisk's ``GotoIfTime``/``IFTIME`` with
their time-zone argument, so daylight-saving changes are Asterisk's tz database's business, not
ours). Holidays are checked first, then breaks, then the open intervals; anything else is
``closed``. The routine only sets that variable and returns: what to do with the call is the
caller's choice (e.g. ``GotoIf($["${SCHEDULE_STATE}" = "open"]?in-hours)``).

Times: the API's intervals are half-open (``09:00``–``17:00`` is open until 16:59:59), while
Asterisk's time ranges include their last minute, so ``end`` is rendered one minute earlier
(``09:00-16:59``; ``24:00`` becomes ``23:59``). A one-off holiday also compares the year
(``STRFTIME(${EPOCH},<zone>,%Y)``); a yearly one only the day and month.

Everything here is a pure function of ``ScheduleInfo`` values; the output is deterministic.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from app.config_gen import escaping
from app.config_gen.asterisk_groups import DialplanContext, Extension, short_ids

STATE_VARIABLE = "SCHEDULE_STATE"
STATES = ("holiday", "break", "open", "closed")
CONTEXT_PREFIX = "schedule"

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_ASTERISK_DAYS = dict(zip(DAYS, ("mon", "tue", "wed", "thu", "fri", "sat", "sun"), strict=True))
_ASTERISK_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_TIME = re.compile(r"([01]\d|2[0-3]):[0-5]\d|24:00")
# An IANA zone name: what Asterisk's GotoIfTime/STRFTIME take, and nothing that ends an argument.
_ZONE = re.compile(r"[A-Za-z0-9_+-]+(?:/[A-Za-z0-9_+-]+)*")


@dataclass(frozen=True, slots=True)
class ScheduleInterval:
    """An open interval or a break of one weekday, ``start`` up to (not including) ``end``, as ``HH:MM``."""

    day: str  # monday … sunday
    start: str
    end: str  # "24:00" is midnight

    @property
    def start_minute(self) -> int:
        return minute_of(self.start)

    @property
    def end_minute(self) -> int:
        return minute_of(self.end)


@dataclass(frozen=True, slots=True)
class ScheduleHoliday:
    """A closed day: that date, or with ``recurring_yearly`` its day and month in every year."""

    date: dt.date
    name: str
    recurring_yearly: bool = False


@dataclass(frozen=True, slots=True)
class ScheduleInfo:
    """What the registrar needs of one office-hours schedule."""

    id: str
    name: str
    timezone: str
    weekly: tuple[ScheduleInterval, ...] = ()
    breaks: tuple[ScheduleInterval, ...] = ()
    holidays: tuple[ScheduleHoliday, ...] = ()

    @classmethod
    def from_stored(cls, id: Any, name: str, timezone: str, weekly: Iterable[Mapping[str, Any]],
                    breaks: Iterable[Mapping[str, Any]], holidays: Iterable[Mapping[str, Any]]) -> ScheduleInfo:
        """From the columns of an ``office_hours`` row (its JSON lists as stored)."""
        return cls(
            id=str(id), name=name, timezone=timezone,
            weekly=tuple(ScheduleInterval(i["day"], i["start"], i["end"]) for i in weekly),
            breaks=tuple(ScheduleInterval(i["day"], i["start"], i["end"]) for i in breaks),
            holidays=tuple(ScheduleHoliday(dt.date.fromisoformat(str(h["date"])), h["name"],
                                           bool(h.get("recurring_yearly", False))) for h in holidays))


def minute_of(text: str) -> int:
    """``"09:30"`` → 570; ``"24:00"`` → 1440."""
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def context_names(schedules: Sequence[ScheduleInfo]) -> dict[str, str]:
    """Each schedule's context name, ``schedule-<short id>``: the shortest prefix (8 hex digits or more) of
    its id that tells the organization's schedules apart. GoSub ``<name>,s,1`` to evaluate a schedule."""
    return {schedule_id: f"{CONTEXT_PREFIX}-{prefix}"
            for schedule_id, prefix in short_ids([s.id for s in schedules]).items()}


def schedule_contexts(schedules: Sequence[ScheduleInfo]) -> list[DialplanContext]:
    """One context per schedule, in the order given.

    ``GoSub(<context>,s,1)`` sets the channel variable ``SCHEDULE_STATE`` to ``holiday``, ``break``,
    ``open`` or ``closed`` for "now" in the schedule's time zone, and returns (see the module's
    docstring; ``context_names`` gives each schedule's context). Raises ``ValueError`` on data the
    API would have refused (unknown day, bad time, a zone name Asterisk would misread).
    """
    names = context_names(schedules)
    return [schedule_context(schedule, names[schedule.id]) for schedule in schedules]


def schedule_context(schedule: ScheduleInfo, name: str) -> DialplanContext:
    """The routine of one schedule (see ``schedule_contexts``)."""
    zone = _zone(schedule)
    label = escaping.refuse_control_characters(schedule.name, "schedule name")
    checks = [f"Set({STATE_VARIABLE}=closed)"]
    checks += [_holiday_check(holiday, zone) for holiday in sorted(schedule.holidays, key=_holiday_order)]
    checks += [f"GotoIfTime({times},{days},*,*,{zone}?break,1)" for times, days in _by_days(schedule.breaks)]
    checks += [f"GotoIfTime({times},{days},*,*,{zone}?open,1)" for times, days in _by_days(schedule.weekly)]
    checks.append("Return()")
    extensions = [Extension("s", tuple(checks))]
    extensions += [Extension(state, (f"Set({STATE_VARIABLE}={state})", "Return()"))
                   for state in STATES if state != "closed"]
    return DialplanContext(name, tuple(extensions), comment=(
        f"Office hours '{label}' ({zone}): GoSub({name},s,1) sets {STATE_VARIABLE} to holiday, break, open or "
        "closed"))


def _zone(schedule: ScheduleInfo) -> str:
    return checked_zone(schedule.timezone, f"schedule {schedule.name!r}")


def checked_zone(zone: str, what: str) -> str:
    """An IANA zone name as GotoIfTime/IFTIME take it; ``ValueError`` for anything Asterisk would misread."""
    if not _ZONE.fullmatch(zone):
        raise ValueError(f"{what}: time zone {zone!r} is not an IANA zone name")
    return zone


def time_range(start: str, end: str) -> str:
    """The half-open API interval ``start``–``end`` as Asterisk's inclusive range (``09:00-16:59``)."""
    for text in (start, end):
        if not _TIME.fullmatch(text):
            raise ValueError(f"{text!r} is not a time of day HH:MM")
    if not minute_of(start) < minute_of(end):
        raise ValueError(f"interval {start}-{end} ends before it starts")
    return f"{_hhmm(minute_of(start))}-{_hhmm(minute_of(end) - 1)}"


def weekdays(days: Iterable[str]) -> str:
    """Weekday names (``monday``…) as GotoIfTime's ``mon&fri``, in week order."""
    wanted = set(days)
    unknown = wanted - set(DAYS)
    if unknown:
        raise ValueError(f"unknown day {sorted(unknown)[0]!r}")
    return "&".join(_ASTERISK_DAYS[day] for day in DAYS if day in wanted)


def _holiday_order(holiday: ScheduleHoliday) -> tuple[int, int, int, bool]:
    return holiday.date.month, holiday.date.day, holiday.date.year, holiday.recurring_yearly


def _holiday_check(holiday: ScheduleHoliday, zone: str) -> str:
    day, month = holiday.date.day, _ASTERISK_MONTHS[holiday.date.month - 1]
    if holiday.recurring_yearly:
        return f"GotoIfTime(*,*,{day},{month},{zone}?holiday,1)"
    return (f"GotoIf($[${{IFTIME(*,*,{day},{month},{zone}?1:0)}} & "
            f"${{STRFTIME(${{EPOCH}},{zone},%Y)}} = {holiday.date.year}]?holiday,1)")


def _by_days(intervals: Iterable[ScheduleInterval]) -> list[tuple[str, str]]:
    """``(times, weekdays)`` pairs for GotoIfTime: the days with the same ranges share one check."""
    ranges: dict[str, list[tuple[int, int]]] = {day: [] for day in DAYS}
    for interval in intervals:
        if interval.day not in ranges:
            raise ValueError(f"unknown day {interval.day!r} in a schedule")
        for text in (interval.start, interval.end):
            if not _TIME.fullmatch(text):
                raise ValueError(f"{text!r} is not a time of day HH:MM")
        start, end = interval.start_minute, interval.end_minute
        if not start < end:
            raise ValueError(f"interval {interval.start}-{interval.end} on {interval.day} ends before it starts")
        ranges[interval.day].append((start, end))
    grouped: dict[str, list[str]] = {}
    for day in DAYS:
        if ranges[day]:
            times = "&".join(f"{_hhmm(start)}-{_hhmm(end - 1)}" for start, end in sorted(ranges[day]))
            grouped.setdefault(times, []).append(_ASTERISK_DAYS[day])
    return [(times, "&".join(days)) for times, days in grouped.items()]


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"
