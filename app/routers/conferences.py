"""Conference rooms."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Response

from app.core.context import Context, require
from app.core.http import IfMatch, check_if_match, set_etag
from app.core.pagination import ListParamsDep
from app.models.conferences import Conference, ConferenceCreate, ConferencePage, ConferenceRead, ConferenceUpdate
from app.routers.common import CREATE_ERRORS, DELETE_ERRORS, ITEM_ERRORS, READ_ERRORS, WRITE_ERRORS, api_router, created
from app.services import conferences
from app.services.idempotency import IdempotencyDep

router = api_router("/conferences", "conferences")
Readers = Annotated[Context, Depends(require("conferences.read"))]
Writers = Annotated[Context, Depends(require("conferences.write"))]


def _read(conference: Conference) -> ConferenceRead:
    return ConferenceRead.model_construct(
        id=conference.id, name=conference.name, extension=conference.extension,
        has_pin=conference.pin_encrypted is not None, has_admin_pin=conference.admin_pin_encrypted is not None,
        max_members=conference.max_members, record=conference.record, created_at=conference.created_at,
        updated_at=conference.updated_at)


@router.post("", status_code=201, response_model=ConferenceRead, summary="Create a conference room",
             responses=CREATE_ERRORS, operation_id="conferences_create")
async def create_conference(payload: ConferenceCreate, ctx: Writers, idem: IdempotencyDep,
                            response: Response) -> ConferenceRead:
    """Create a conference room. With `extension` (a free number of the organization's range, or `"next"`) it is
    dialable; `pin` and `admin_pin` (4–10 digits) are write-only: reads only say whether they are set."""
    async def create():
        conference = await conferences.create(ctx, payload)
        created(response, ctx.settings, f"/api/v1/conferences/{conference.id}", conference)
        return _read(conference)

    return await idem.run(ctx, 201, create, response)


@router.get("", response_model=ConferencePage, summary="List conference rooms", responses=READ_ERRORS,
            operation_id="conferences_list")
async def list_conferences(ctx: Readers, params: ListParamsDep) -> ConferencePage:
    """The organization's conference rooms; `q` searches names and extensions. Sort by `name`, `extension`,
    `created_at`."""
    rows, total = await conferences.list_conferences(ctx, params)
    return ConferencePage.model_construct(items=[_read(c) for c in rows], total=total, limit=params.limit,
                                          offset=params.offset)


@router.get("/{conference_id}", response_model=ConferenceRead, summary="Get a conference room",
            responses=ITEM_ERRORS, operation_id="conferences_get")
async def get_conference(conference_id: uuid.UUID, ctx: Readers, response: Response) -> ConferenceRead:
    """One conference room, with its ETag (never its PINs)."""
    conference = await conferences.get(ctx, conference_id)
    set_etag(response, conference)
    return _read(conference)


@router.patch("/{conference_id}", response_model=ConferenceRead, summary="Change a conference room",
              responses=WRITE_ERRORS, operation_id="conferences_update")
async def update_conference(conference_id: uuid.UUID, payload: ConferenceUpdate, ctx: Writers, response: Response,
                            if_match: IfMatch = None) -> ConferenceRead:
    """JSON merge patch. A new `pin`/`admin_pin` replaces the stored one; `null` removes it."""
    conference = await conferences.get(ctx, conference_id)
    check_if_match(if_match, conference)
    conference = await conferences.update(ctx, conference, payload)
    set_etag(response, conference)
    return _read(conference)


@router.delete("/{conference_id}", status_code=204, summary="Delete a conference room", responses=DELETE_ERRORS,
               operation_id="conferences_delete")
async def delete_conference(conference_id: uuid.UUID, ctx: Writers, if_match: IfMatch = None) -> Response:
    """Delete a conference room. A room that a destination points at cannot be deleted (409; the problem lists
    the referrers)."""
    conference = await conferences.get(ctx, conference_id)
    check_if_match(if_match, conference)
    await conferences.delete(ctx, conference)
    return Response(status_code=204)
