"""Office-hours schedules: `default` in every organization, validated intervals, breaks and holidays, and what a
schedule says about a moment (``state_at``)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from app.config_gen.asterisk_schedules import ScheduleInfo
from app.core.context import Context
from app.core.errors import Conflict, FieldErrors, NotFound, ValidationProblem
from app.core.pagination import ListParams, apply_sort, contains, paginate
from app.models.office_hours import (DEFAULT_SCHEDULE, WEEKDAYS, Holiday, OfficeHours, OfficeHoursCreate,
                                     OfficeHoursUpdate, ScheduleState, TimeInterval, Weekday)
from app.services import audit, destinations
from app.services.changes import delete_row, update_row
from app.services.scoping import require_scope_all

RESOURCE = "office_hours"
_DAY_ORDER = {day: index for index, day in enumerate(WEEKDAYS)}


def default_schedule(organization_id: uuid.UUID, timezone: str) -> OfficeHours:
    """The `default` schedule every organization has: Monday to Friday, 09:00–17:00, in its time zone."""
    return OfficeHours(organization_id=organization_id, name=DEFAULT_SCHEDULE, timezone=timezone, is_default=True,
                       weekly=[{"day": day.value, "start": "09:00", "end": "17:00"} for day in WEEKDAYS[:5]])


def _query(ctx: Context):
    return select(OfficeHours).where(OfficeHours.organization_id == ctx.principal.organization_id)


async def get(ctx: Context, schedule_id: uuid.UUID) -> OfficeHours:
    """A schedule of the caller's organization, or 404."""
    schedule = (await ctx.session.execute(ctx.locked(_query(ctx).where(OfficeHours.id == schedule_id),
                                                     OfficeHours))).scalar_one_or_none()
    if schedule is None:
        raise NotFound("Office-hours schedule not found")
    return schedule


async def list_schedules(ctx: Context, params: ListParams) -> tuple[list[OfficeHours], int]:
    """The organization's schedules; ``q`` searches names."""
    query = _query(ctx)
    if params.q:
        query = query.where(contains(OfficeHours.name, params.q))
    query = apply_sort(query, params, {"name": OfficeHours.name, "timezone": OfficeHours.timezone,
                                       "created_at": OfficeHours.created_at}, "name", OfficeHours.id)
    return await paginate(ctx.session, query, params)


async def _check_name_free(ctx: Context, name: str, exclude: uuid.UUID | None = None) -> None:
    query = select(OfficeHours.id).where(OfficeHours.organization_id == ctx.principal.organization_id,
                                         func.lower(OfficeHours.name) == name.lower())
    if exclude is not None:
        query = query.where(OfficeHours.id != exclude)
    if (await ctx.session.execute(query.limit(1))).first() is not None:
        raise Conflict.field(["body", "name"], f"A schedule named '{name}' already exists", "schedule-name-taken")


# --- validation ---------------------------------------------------------------------------------------------

def _span(item: TimeInterval) -> tuple[int, int]:
    return _minute(item.start), _minute(item.end)


def _minute(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def _check_intervals(items: Sequence[TimeInterval], field: str, errors: FieldErrors) -> None:
    """Each interval ends after it starts, and none overlaps another of its day (errors name the item)."""
    by_day: dict[str, list[int]] = defaultdict(list)
    for index, item in enumerate(items):
        start, end = _span(item)
        if end <= start:
            errors.add(["body", field, index, "end"], f"must be later than start ({item.start})", "inverted_interval")
        else:
            by_day[item.day].append(index)
    for indexes in by_day.values():
        latest: int | None = None  # of the intervals so far, the one that ends last
        for current in sorted(indexes, key=lambda i: _span(items[i])):
            start, end = _span(items[current])
            if latest is not None and start < _span(items[latest])[1]:
                other = items[latest]
                errors.add(["body", field, current, "start"],
                           f"overlaps {other.day} {other.start}–{other.end} (item {latest})", "overlapping_interval")
            if latest is None or end > _span(items[latest])[1]:
                latest = current


def _check_breaks_inside(weekly: Sequence[TimeInterval], breaks: Sequence[TimeInterval], errors: FieldErrors,
                         breaks_sent: bool) -> None:
    """Every break lies within one open interval of its day; the error names the break, or `weekly` when only the
    open hours changed."""
    for index, item in enumerate(breaks):
        start, end = _span(item)
        if end <= start:
            continue  # already reported
        open_spans = [_span(w) for w in weekly if w.day == item.day]
        if any(open_start <= start and end <= open_end for open_start, open_end in open_spans):
            continue
        hours = ", ".join(f"{w.start}–{w.end}" for w in weekly if w.day == item.day) or "none"
        if breaks_sent:
            errors.add(["body", "breaks", index], f"must lie within one open interval of {item.day} (open: {hours})",
                       "break_outside_hours")
        else:
            errors.add(["body", "weekly"], f"would leave the break on {item.day} {item.start}–{item.end} outside "
                                           "the open hours; change breaks in the same request", "break_outside_hours")


def _check_holidays(holidays: Sequence[Holiday], errors: FieldErrors) -> None:
    """A date appears once; a one-off date that a yearly holiday already covers is a duplicate too."""
    yearly: dict[tuple[int, int], int] = {}
    for index, holiday in enumerate(holidays):
        if holiday.recurring_yearly:
            yearly.setdefault((holiday.date.month, holiday.date.day), index)
    one_off: dict[date, int] = {}
    for index, holiday in enumerate(holidays):
        day_and_month = (holiday.date.month, holiday.date.day)
        if holiday.recurring_yearly:
            first = yearly[day_and_month]
        else:
            first = yearly.get(day_and_month, one_off.setdefault(holiday.date, index))
        if first != index:
            errors.add(["body", "holidays", index, "date"],
                       f"{holiday.date.isoformat()} is already a holiday (item {first}: {holidays[first].name})",
                       "duplicate_holiday")


def _stored_intervals(items: Sequence[TimeInterval]) -> list[dict[str, str]]:
    ordered = sorted(items, key=lambda i: (_DAY_ORDER[Weekday(i.day)], i.start, i.end))
    return [{"day": str(i.day), "start": i.start, "end": i.end} for i in ordered]


def _stored_holidays(items: Sequence[Holiday]) -> list[dict[str, Any]]:
    ordered = sorted(items, key=lambda h: (h.date, h.recurring_yearly))
    return [{"date": h.date.isoformat(), "name": h.name, "recurring_yearly": h.recurring_yearly} for h in ordered]


def intervals_of(stored: list[dict[str, Any]]) -> list[TimeInterval]:
    """Stored intervals as models (they were validated when saved)."""
    return [TimeInterval.model_construct(day=Weekday(i["day"]), start=i["start"], end=i["end"]) for i in stored]


def holidays_of(stored: list[dict[str, Any]]) -> list[Holiday]:
    """Stored holidays as models."""
    return [Holiday.model_construct(date=date.fromisoformat(h["date"]), name=h["name"],
                                    recurring_yearly=h["recurring_yearly"]) for h in stored]


def _validated(weekly: Sequence[TimeInterval], breaks: Sequence[TimeInterval], holidays: Sequence[Holiday], *,
               sent: set[str]) -> dict[str, Any]:
    """The stored form of the lists, after every rule (all errors at once, each naming its item)."""
    errors = FieldErrors()
    if "weekly" in sent:
        _check_intervals(weekly, "weekly", errors)
    if "breaks" in sent:
        _check_intervals(breaks, "breaks", errors)
    if "weekly" in sent or "breaks" in sent:
        _check_breaks_inside(weekly, breaks, errors, breaks_sent="breaks" in sent)
    if "holidays" in sent:
        _check_holidays(holidays, errors)
    errors.raise_if_any()
    stored = {"weekly": _stored_intervals(weekly), "breaks": _stored_intervals(breaks),
              "holidays": _stored_holidays(holidays)}
    return {field: value for field, value in stored.items() if field in sent}


# --- writes -------------------------------------------------------------------------------------------------

async def create(ctx: Context, payload: OfficeHoursCreate) -> OfficeHours:
    """A new schedule (in the organization's time zone unless it names one); names are unique, whatever the case."""
    require_scope_all(ctx.principal, "Creating office-hours schedules")
    lists = _validated(payload.weekly, payload.breaks, payload.holidays, sent={"weekly", "breaks", "holidays"})
    await _check_name_free(ctx, payload.name)
    schedule = OfficeHours(organization_id=ctx.principal.organization_id, name=payload.name,
                           timezone=payload.timezone or ctx.organization.timezone, **lists)
    ctx.session.add(schedule)
    await ctx.session.flush()
    await audit.record(ctx, "office_hours.create", RESOURCE, schedule.id, after=audit.snapshot(schedule),
                       config_change=True)
    return schedule


async def update(ctx: Context, schedule: OfficeHours, payload: OfficeHoursUpdate) -> OfficeHours:
    """JSON merge patch: a list given replaces the stored one; `default` keeps its name."""
    require_scope_all(ctx.principal, "Changing office-hours schedules")
    changes = payload.model_dump(exclude_unset=True)
    errors = FieldErrors()
    for field, value in changes.items():
        if value is None:
            errors.add(["body", field], "must not be null", "null")
    errors.raise_if_any()
    sent = {field for field in ("weekly", "breaks", "holidays") if field in changes}
    if sent:
        changes.update(_validated(
            payload.weekly if payload.weekly is not None else intervals_of(schedule.weekly),
            payload.breaks if payload.breaks is not None else intervals_of(schedule.breaks),
            payload.holidays if payload.holidays is not None else holidays_of(schedule.holidays), sent=sent))
    if changes.get("name") not in (None, schedule.name):
        if schedule.is_default:
            raise Conflict.field(["body", "name"], f"The '{DEFAULT_SCHEDULE}' schedule cannot be renamed",
                                 "default-schedule")
        await _check_name_free(ctx, changes["name"], exclude=schedule.id)
    await update_row(ctx, schedule, changes, action="office_hours.update", resource=RESOURCE, config_change=True)
    return schedule


async def delete(ctx: Context, schedule: OfficeHours) -> None:
    """Delete a schedule; `default`, and a schedule that an inbound rule (or anything else) uses, cannot go."""
    require_scope_all(ctx.principal, "Deleting office-hours schedules")
    if schedule.is_default:
        raise Conflict(f"The '{DEFAULT_SCHEDULE}' schedule cannot be deleted", slug="default-schedule")
    await destinations.refuse_if_referenced(ctx, RESOURCE, schedule.id, f"Schedule '{schedule.name}'")
    await delete_row(ctx, schedule, action="office_hours.delete", resource=RESOURCE, config_change=True)


# --- evaluation ---------------------------------------------------------------------------------------------

def schedule_info(schedule: OfficeHours) -> ScheduleInfo:
    """What the registrar renders of a schedule."""
    return ScheduleInfo.from_stored(schedule.id, schedule.name, schedule.timezone, schedule.weekly,
                                    schedule.breaks, schedule.holidays)


def state_at(schedule: OfficeHours | ScheduleInfo, when: datetime) -> ScheduleState:
    """What the schedule says about the moment ``when`` (timezone-aware): ``holiday``, ``break``, ``open`` or
    ``closed``, evaluated on the wall clock of the schedule's time zone, as Asterisk does.

    Holidays are checked first (the local date; a yearly one by day and month), then breaks, then the open
    intervals, each from its start up to (not including) its end, to the minute.
    """
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError("state_at needs a timezone-aware datetime")
    info = schedule if isinstance(schedule, ScheduleInfo) else schedule_info(schedule)
    local = when.astimezone(ZoneInfo(info.timezone))
    today, day, minute = local.date(), WEEKDAYS[local.weekday()].value, local.hour * 60 + local.minute
    for holiday in info.holidays:
        if holiday.date == today or (holiday.recurring_yearly and
                                     (holiday.date.month, holiday.date.day) == (today.month, today.day)):
            return ScheduleState.holiday
    for state, intervals in ((ScheduleState.break_, info.breaks), (ScheduleState.open, info.weekly)):
        if any(i.day == day and i.start_minute <= minute < i.end_minute for i in intervals):
            return state
    return ScheduleState.closed


def check_moment(when: datetime, loc: list[str | int]) -> None:
    """422 naming ``loc`` when a moment has no time zone (it would mean a different instant on every server)."""
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValidationProblem.field(loc, "must carry a time zone offset, e.g. 2026-12-24T10:00:00+01:00 or ...Z",
                                      "naive_datetime")
