"""IVR menus and their greetings."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Depends, Request, Response

from app.core.context import Context, require
from app.core.errors import HEADER_DOCS
from app.core.http import IfMatch, check_if_match, set_etag
from app.core.pagination import ListParamsDep
from app.models.ivr_menus import (GreetingRead, IvrKey, IvrMenu, IvrMenuCreate, IvrMenuPage, IvrMenuRead, IvrMenuUpdate)
from app.routers.uploads import GREETING_AUDIO, UPLOAD_BODY, read_upload
from app.routers.common import (CREATE_ERRORS, DELETE_ERRORS, ITEM_ERRORS, READ_ERRORS, WRITE_ERRORS, api_router,
                                created)
from app.services import destinations, ivr_menus
from app.services.idempotency import IdempotencyDep

router = api_router("/ivr-menus", "ivr-menus")
Readers = Annotated[Context, Depends(require("ivr_menus.read"))]
Writers = Annotated[Context, Depends(require("ivr_menus.write"))]
GreetingReaders = Annotated[Context, Depends(require("ivr_menus.read", "prompts.read"))]
GreetingWriters = Annotated[Context, Depends(require("ivr_menus.write", "prompts.write"))]

def _greeting(row: Any) -> GreetingRead:
    return GreetingRead.model_construct(duration_ms=row.duration_ms, size_bytes=row.size_bytes, sha256=row.sha256,
                                        uploaded_format=row.uploaded_format, created_at=row.created_at)


def _read(menu: IvrMenu, greeting: Any | None) -> IvrMenuRead:
    return IvrMenuRead.model_construct(
        id=menu.id, name=menu.name, extension=menu.extension,
        options={IvrKey(key): destinations.loaded(d) for key, d in menu.options.items()},
        timeout_seconds=menu.timeout_seconds, timeout_destination=destinations.loaded(menu.timeout_destination),
        invalid_destination=destinations.loaded(menu.invalid_destination), dial_by_extension=menu.dial_by_extension,
        directory=menu.directory, greeting=_greeting(greeting) if greeting is not None else None,
        created_at=menu.created_at, updated_at=menu.updated_at)


async def _read_one(ctx: Context, menu: IvrMenu) -> IvrMenuRead:
    return _read(menu, (await ivr_menus.greetings_of(ctx, [menu.id])).get(menu.id))


@router.post("", status_code=201, response_model=IvrMenuRead, summary="Create an IVR menu", responses=CREATE_ERRORS,
             operation_id="ivr_menus_create")
async def create_menu(payload: IvrMenuCreate, ctx: Writers, idem: IdempotencyDep, response: Response) -> IvrMenuRead:
    """Create an IVR menu: `options` map keys `"0"`–`"9"`, `"*"`, `"#"` to destinations; no key within
    `timeout_seconds` goes to `timeout_destination`, unknown keys (three tries) to `invalid_destination`. A
    destination leading back to this menu through other menus is refused (422 naming the field). Upload the greeting
    with `PUT /ivr-menus/{id}/greeting`."""
    async def create():
        menu = await ivr_menus.create(ctx, payload)
        created(response, ctx.settings, f"/api/v1/ivr-menus/{menu.id}", menu)
        return _read(menu, None)

    return await idem.run(ctx, 201, create, response)


@router.get("", response_model=IvrMenuPage, summary="List IVR menus", responses=READ_ERRORS,
            operation_id="ivr_menus_list")
async def list_menus(ctx: Readers, params: ListParamsDep) -> IvrMenuPage:
    """The organization's IVR menus; `q` searches names and extensions. Sort by `name`, `extension`,
    `created_at`."""
    rows, total = await ivr_menus.list_menus(ctx, params)
    greetings = await ivr_menus.greetings_of(ctx, [m.id for m in rows])
    return IvrMenuPage.model_construct(items=[_read(m, greetings.get(m.id)) for m in rows], total=total,
                                       limit=params.limit, offset=params.offset)


@router.get("/{menu_id}", response_model=IvrMenuRead, summary="Get an IVR menu", responses=ITEM_ERRORS,
            operation_id="ivr_menus_get")
async def get_menu(menu_id: uuid.UUID, ctx: Readers, response: Response) -> IvrMenuRead:
    """One IVR menu, with its ETag and a description of its greeting."""
    menu = await ivr_menus.get(ctx, menu_id)
    set_etag(response, menu)
    return await _read_one(ctx, menu)


@router.patch("/{menu_id}", response_model=IvrMenuRead, summary="Change an IVR menu", responses=WRITE_ERRORS,
              operation_id="ivr_menus_update")
async def update_menu(menu_id: uuid.UUID, payload: IvrMenuUpdate, ctx: Writers, response: Response,
                      if_match: IfMatch = None) -> IvrMenuRead:
    """JSON merge patch; `options`, when given, replaces every option."""
    menu = await ivr_menus.get(ctx, menu_id)
    check_if_match(if_match, menu)
    menu = await ivr_menus.update(ctx, menu, payload)
    set_etag(response, menu)
    return await _read_one(ctx, menu)


@router.delete("/{menu_id}", status_code=204, summary="Delete an IVR menu", responses=DELETE_ERRORS,
               operation_id="ivr_menus_delete")
async def delete_menu(menu_id: uuid.UUID, ctx: Writers, if_match: IfMatch = None) -> Response:
    """Delete an IVR menu and its greeting. A menu that a destination points at cannot be deleted (409; the
    problem lists the referrers)."""
    menu = await ivr_menus.get(ctx, menu_id)
    check_if_match(if_match, menu)
    await ivr_menus.delete(ctx, menu)
    return Response(status_code=204)


@router.get("/{menu_id}/greeting", response_class=Response, summary="Download an IVR menu's greeting",
            responses={**ITEM_ERRORS, **GREETING_AUDIO}, operation_id="ivr_menus_greeting_get")
async def get_greeting(menu_id: uuid.UUID, ctx: GreetingReaders) -> Response:
    """The greeting as stored and played (16-bit PCM, mono, 8 kHz WAV); 404 when the menu has none."""
    menu = await ivr_menus.get(ctx, menu_id)
    found = await ivr_menus.greeting(ctx, menu)
    return Response(content=found.wav, media_type="application/octet-stream",
                    headers={"ETag": f'"{found.sha256[:20]}"', "Content-Disposition": 'inline; filename="greeting.wav"'})


@router.put("/{menu_id}/greeting", response_model=GreetingRead, summary="Upload an IVR menu's greeting",
            responses={**WRITE_ERRORS, 201: {"model": GreetingRead, "description": "The menu had no greeting",
                                             "headers": {"Location": HEADER_DOCS["Location"],
                                                         "ETag": HEADER_DOCS["ETag"]}}},
            openapi_extra=UPLOAD_BODY, operation_id="ivr_menus_greeting_put")
async def put_greeting(menu_id: uuid.UUID, request: Request, ctx: GreetingWriters, response: Response,
                       if_match: IfMatch = None) -> GreetingRead:
    """Upload the greeting as an `audio/wav` body or a multipart form field `file`. Accepted: RIFF/WAVE with
    uncompressed PCM (8/16/24/32-bit) or 32-bit float, any channels, 8–96 kHz, at most 10 MB and 5 minutes (the
    service's request size limit, `CENTRALINO_MAX_BODY_BYTES`, applies first: 413); it is converted to 16-bit PCM,
    mono, 8 kHz. Anything else is a 422 with the reason. 201 when the menu had no greeting, 200 when it is
    replaced."""
    menu = await ivr_menus.get(ctx, menu_id)
    check_if_match(if_match, menu)
    data, loc = await read_upload(request)
    found, was_new = await ivr_menus.put_greeting(ctx, menu, data, loc)
    set_etag(response, menu)
    if was_new:
        response.status_code = 201
        created(response, ctx.settings, f"/api/v1/ivr-menus/{menu.id}/greeting")
        set_etag(response, menu)
    return _greeting(found)


@router.delete("/{menu_id}/greeting", status_code=204, summary="Remove an IVR menu's greeting",
               responses=DELETE_ERRORS, operation_id="ivr_menus_greeting_delete")
async def delete_greeting(menu_id: uuid.UUID, ctx: GreetingWriters, if_match: IfMatch = None) -> Response:
    """Remove the greeting: the menu then waits for a key in silence."""
    menu = await ivr_menus.get(ctx, menu_id)
    check_if_match(if_match, menu)
    await ivr_menus.delete_greeting(ctx, menu)
    return Response(status_code=204)
