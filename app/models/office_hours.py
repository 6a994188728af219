"""Office-hours schedules: when an organization is open, in a break or on holiday, in its own time zone.

A schedule has a time zone (IANA), open intervals per weekday (several per day), breaks inside
them, and holidays (one-off dates, or dates that recur every year). Every organization has one
named ``default`` (Mon–Fri 09:00–17:00), which cannot be deleted or renamed. Inbound rules,
users' automatic status and the "no outbound calls outside office hours" option use schedules.

Intervals are half-open: ``{"start": "09:00", "end": "17:00"}`` is open from 09:00:00 up to, not
including, 17:00:00; ``"end": "24:00"`` runs to midnight.
"""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum
from typing import Annotated, Any

from pydantic import Field as PydanticField, StringConstraints
from sqlalchemy import UniqueConstraint
from sqlmodel import Field

from app.core.validation import Name, TimeZone, matches
from app.models.base import ApiModel, Page, RequestBody, TenantRow, json_field

DEFAULT_SCHEDULE = "default"
MAX_INTERVALS = 70  # ten a day
MAX_HOLIDAYS = 366


class Weekday(StrEnum):
    """A day of the week."""

    monday = "monday"
    tuesday = "tuesday"
    wednesday = "wednesday"
    thursday = "thursday"
    friday = "friday"
    saturday = "saturday"
    sunday = "sunday"


WEEKDAYS = tuple(Weekday)  # Monday first, as datetime.weekday() counts


class ScheduleState(StrEnum):
    """What a schedule says about a moment: holidays win over breaks, breaks over open hours."""

    open = "open"
    closed = "closed"
    break_ = "break"
    holiday = "holiday"


class OfficeHours(TenantRow, table=True):
    """A named schedule; its intervals and holidays are stored as JSON lists, sorted."""

    __tablename__ = "office_hours"
    __table_args__ = (UniqueConstraint("organization_id", "name"),)

    name: str = Field(max_length=100)
    timezone: str = Field(max_length=64)
    weekly: list[dict[str, Any]] = json_field(default_factory=list)
    breaks: list[dict[str, Any]] = json_field(default_factory=list)
    holidays: list[dict[str, Any]] = json_field(default_factory=list)
    is_default: bool = False


StartTime = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=5, max_length=5),
    matches(r"([01]\d|2[0-3]):[0-5]\d", "must be a time of day as HH:MM (00:00–23:59)"),
    PydanticField(examples=["09:00"]),
]
EndTime = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=5, max_length=5),
    matches(r"([01]\d|2[0-3]):[0-5]\d|24:00", "must be a time of day as HH:MM (00:00–24:00)"),
    PydanticField(examples=["17:00"], description="Exclusive: open until just before this time; 24:00 is midnight"),
]


class TimeInterval(RequestBody):
    """An interval of one weekday, from `start` up to (not including) `end`."""

    day: Weekday
    start: StartTime
    end: EndTime


class Holiday(RequestBody):
    """A closed day: one date, or with `recurring_yearly` the same day and month every year."""

    date: dt.date = PydanticField(examples=["2026-12-24"],
                                  description="With recurring_yearly, only the day and month count")
    name: Name = PydanticField(examples=["Christmas Eve"])
    recurring_yearly: bool = False


_WEEKLY_HELP = "Open intervals; several per day, none overlapping. Empty: closed all week"
_BREAKS_HELP = "Breaks (e.g. lunch), each within one open interval of its day"
_HOLIDAYS_HELP = "Closed days, one-off or every year; a date appears once"
_EXAMPLE_WEEKLY = [{"day": "monday", "start": "09:00", "end": "13:00"},
                   {"day": "monday", "start": "14:00", "end": "17:30"}]
_EXAMPLE_BREAKS = [{"day": "monday", "start": "11:00", "end": "11:15"}]
_EXAMPLE_HOLIDAYS = [{"date": "2026-12-25", "name": "Christmas", "recurring_yearly": True},
                     {"date": "2026-04-06", "name": "Easter Monday", "recurring_yearly": False}]


class OfficeHoursCreate(RequestBody):
    """A new schedule."""

    name: Name = PydanticField(examples=["Support line"])
    timezone: TimeZone | None = PydanticField(default=None, description="IANA time zone; default: the organization's")
    weekly: list[TimeInterval] = PydanticField(default_factory=list, max_length=MAX_INTERVALS,
                                               description=_WEEKLY_HELP, examples=[_EXAMPLE_WEEKLY])
    breaks: list[TimeInterval] = PydanticField(default_factory=list, max_length=MAX_INTERVALS,
                                               description=_BREAKS_HELP, examples=[_EXAMPLE_BREAKS])
    holidays: list[Holiday] = PydanticField(default_factory=list, max_length=MAX_HOLIDAYS,
                                            description=_HOLIDAYS_HELP, examples=[_EXAMPLE_HOLIDAYS])


class OfficeHoursUpdate(RequestBody):
    """JSON merge patch of a schedule; a list given replaces the stored one whole (`default` keeps its name)."""

    name: Name | None = None
    timezone: TimeZone | None = None
    weekly: list[TimeInterval] | None = PydanticField(default=None, max_length=MAX_INTERVALS)
    breaks: list[TimeInterval] | None = PydanticField(default=None, max_length=MAX_INTERVALS)
    holidays: list[Holiday] | None = PydanticField(default=None, max_length=MAX_HOLIDAYS)


class OfficeHoursRead(ApiModel):
    """A schedule; intervals are in week order, holidays by date."""

    id: uuid.UUID
    name: str
    timezone: str = PydanticField(examples=["Europe/Warsaw"])
    weekly: list[TimeInterval]
    breaks: list[TimeInterval]
    holidays: list[Holiday]
    is_default: bool = PydanticField(description="The organization's `default` schedule: not deletable or renamable")
    created_at: dt.datetime
    updated_at: dt.datetime


class OfficeHoursPage(Page[OfficeHoursRead]):
    """A page of schedules."""


class ScheduleStateRead(ApiModel):
    """What a schedule says about one moment."""

    state: ScheduleState = PydanticField(examples=["open"])
    at: dt.datetime = PydanticField(description="The moment asked about, in UTC")
    local_time: dt.datetime = PydanticField(description="The same moment in the schedule's time zone")
    timezone: str = PydanticField(examples=["Europe/Warsaw"])
