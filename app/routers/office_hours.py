"""Office-hours schedules."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import Depends, Query, Response

from app.core.context import Context, require
from app.core.http import IfMatch, check_if_match, set_etag
from app.core.pagination import ListParamsDep
from app.models.office_hours import (OfficeHours, OfficeHoursCreate, OfficeHoursPage, OfficeHoursRead,
                                     OfficeHoursUpdate, ScheduleStateRead)
from app.routers.common import (CREATE_ERRORS, DELETE_ERRORS, ITEM_ERRORS, READ_ERRORS, WRITE_ERRORS, api_router,
                                created, responses)
from app.services import office_hours
from app.services.idempotency import IdempotencyDep

router = api_router("/office-hours", "office-hours")
Readers = Annotated[Context, Depends(require("office_hours.read"))]
Writers = Annotated[Context, Depends(require("office_hours.write"))]


def _read(schedule: OfficeHours) -> OfficeHoursRead:
    return OfficeHoursRead.model_construct(
        id=schedule.id, name=schedule.name, timezone=schedule.timezone,
        weekly=office_hours.intervals_of(schedule.weekly), breaks=office_hours.intervals_of(schedule.breaks),
        holidays=office_hours.holidays_of(schedule.holidays), is_default=schedule.is_default,
        created_at=schedule.created_at, updated_at=schedule.updated_at)


@router.post("", status_code=201, response_model=OfficeHoursRead, summary="Create an office-hours schedule",
             responses=CREATE_ERRORS, operation_id="office_hours_create")
async def create_schedule(payload: OfficeHoursCreate, ctx: Writers, idem: IdempotencyDep,
                          response: Response) -> OfficeHoursRead:
    """Create a named schedule: open intervals per weekday (several per day), breaks inside them, and holidays
    (one-off, or every year with `recurring_yearly`), in an IANA `timezone` (default: the organization's).
    An interval that ends before it starts, overlaps another of its day, or a break outside the open hours is
    422 naming the item; a name already used in the organization (whatever its case) is 409."""
    async def create():
        schedule = await office_hours.create(ctx, payload)
        created(response, ctx.settings, f"/api/v1/office-hours/{schedule.id}", schedule)
        return _read(schedule)

    return await idem.run(ctx, 201, create, response)


@router.get("", response_model=OfficeHoursPage, summary="List office-hours schedules", responses=READ_ERRORS,
            operation_id="office_hours_list")
async def list_schedules(ctx: Readers, params: ListParamsDep) -> OfficeHoursPage:
    """The organization's schedules, `default` among them; `q` searches names. Sort by `name`, `timezone`,
    `created_at`."""
    rows, total = await office_hours.list_schedules(ctx, params)
    return OfficeHoursPage.model_construct(items=[_read(s) for s in rows], total=total, limit=params.limit,
                                           offset=params.offset)


@router.get("/{schedule_id}", response_model=OfficeHoursRead, summary="Get an office-hours schedule",
            responses=ITEM_ERRORS, operation_id="office_hours_get")
async def get_schedule(schedule_id: uuid.UUID, ctx: Readers, response: Response) -> OfficeHoursRead:
    """One schedule, with its ETag."""
    schedule = await office_hours.get(ctx, schedule_id)
    set_etag(response, schedule)
    return _read(schedule)


@router.patch("/{schedule_id}", response_model=OfficeHoursRead, summary="Change an office-hours schedule",
              responses=WRITE_ERRORS, operation_id="office_hours_update")
async def update_schedule(schedule_id: uuid.UUID, payload: OfficeHoursUpdate, ctx: Writers, response: Response,
                          if_match: IfMatch = None) -> OfficeHoursRead:
    """JSON merge patch; `weekly`, `breaks` or `holidays` given replace the stored list whole. The `default`
    schedule cannot be renamed (409)."""
    schedule = await office_hours.get(ctx, schedule_id)
    check_if_match(if_match, schedule)
    schedule = await office_hours.update(ctx, schedule, payload)
    set_etag(response, schedule)
    return _read(schedule)


@router.delete("/{schedule_id}", status_code=204, summary="Delete an office-hours schedule",
               responses=DELETE_ERRORS, operation_id="office_hours_delete")
async def delete_schedule(schedule_id: uuid.UUID, ctx: Writers, if_match: IfMatch = None) -> Response:
    """Delete a schedule. The `default` schedule, and one that an inbound rule uses, cannot be deleted (409; the
    problem lists the referrers)."""
    schedule = await office_hours.get(ctx, schedule_id)
    check_if_match(if_match, schedule)
    await office_hours.delete(ctx, schedule)
    return Response(status_code=204)


@router.get("/{schedule_id}/state", response_model=ScheduleStateRead, summary="Evaluate a schedule at a moment",
            responses=responses(401, 403, 404, 422), operation_id="office_hours_state")
async def schedule_state(
        schedule_id: uuid.UUID, ctx: Readers,
        at: Annotated[datetime | None, Query(description="The moment, with its offset (e.g. "
                                                         "`2026-12-24T10:00:00+01:00`); default: now")] = None,
) -> ScheduleStateRead:
    """Whether the schedule is `open`, `closed`, in a `break` or on a `holiday` at `at` (default now), on the
    wall clock of its time zone: holidays first, then breaks, then the open intervals — what calls meet."""
    schedule = await office_hours.get(ctx, schedule_id)
    if at is None:
        at = datetime.now(UTC)
    office_hours.check_moment(at, ["query", "at"])
    return ScheduleStateRead(state=office_hours.state_at(schedule, at), at=at.astimezone(UTC),
                             local_time=at.astimezone(ZoneInfo(schedule.timezone)), timezone=schedule.timezone)
