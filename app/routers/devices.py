"""Devices (phones) and their provisioning URLs."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Query, Request, Response

from app.core.context import Context, require
from app.core.http import IfMatch, check_if_match, set_etag
from app.core.pagination import ListParamsDep
from app.models.base import Page
from app.models.devices import Device, DeviceCreate, DeviceRead, DeviceUpdate, DeviceWithUrl, Vendor
from app.routers.common import CREATE_ERRORS, ITEM_ERRORS, READ_ERRORS, WRITE_ERRORS, api_router
from app.services import devices
from app.services.idempotency import IdempotencyDep

router = api_router("/devices", "devices")
Readers = Annotated[Context, Depends(require("devices.read"))]
Writers = Annotated[Context, Depends(require("devices.write"))]


def _read(device: Device) -> DeviceRead:
    return DeviceRead(id=device.id, vendor=device.vendor, mac=device.mac, model=device.model, label=device.label,
                      sip_account_id=device.sip_account_id, provisioning_filename=devices.filename_of(device),
                      created_at=device.created_at, updated_at=device.updated_at)


def _with_url(request: Request, device: Device, token: str) -> DeviceWithUrl:
    url = str(request.url_for("provisioning_file", token=token, filename="x")).removesuffix("x")
    return DeviceWithUrl(**_read(device).model_dump(), provisioning_url=url)


@router.post("", status_code=201, response_model=DeviceWithUrl, summary="Register a device", responses=CREATE_ERRORS)
async def create_device(payload: DeviceCreate, ctx: Writers, request: Request, response: Response,
                        idem: IdempotencyDep) -> DeviceWithUrl:
    """Register a phone (MAC normalized) or softphone. Its secret provisioning URL is in this response only;
    the device fetches `<url><provisioning_filename>` from the last applied configuration."""
    async def create():
        device, token = await devices.create(ctx, payload)
        set_etag(response, device)
        return _with_url(request, device, token)

    return await idem.run(ctx, 201, create)


@router.get("", response_model=Page[DeviceRead], summary="List devices", responses=READ_ERRORS)
async def list_devices(ctx: Readers, params: ListParamsDep, vendor: Annotated[Vendor | None, Query()] = None,
                       sip_account_id: uuid.UUID | None = None) -> Page[DeviceRead]:
    """Devices within the caller's scope; `q` searches label, MAC and model."""
    rows, total = await devices.list_devices(ctx, params, vendor=vendor, sip_account_id=sip_account_id)
    return Page(items=[_read(d) for d in rows], total=total, limit=params.limit, offset=params.offset)


@router.get("/{device_id}", response_model=DeviceRead, summary="Get a device", responses=ITEM_ERRORS)
async def get_device(device_id: uuid.UUID, ctx: Readers, response: Response) -> DeviceRead:
    """One device (without its provisioning URL, which is a secret)."""
    device = await devices.get(ctx, device_id)
    set_etag(response, device)
    return _read(device)


@router.patch("/{device_id}", response_model=DeviceRead, summary="Change a device", responses=WRITE_ERRORS)
async def update_device(device_id: uuid.UUID, payload: DeviceUpdate, ctx: Writers, response: Response,
                        if_match: IfMatch = None) -> DeviceRead:
    """Partial update: label, model, MAC, vendor, SIP account."""
    device = await devices.get(ctx, device_id)
    check_if_match(if_match, device)
    device = await devices.update(ctx, device, payload)
    set_etag(response, device)
    return _read(device)


@router.delete("/{device_id}", status_code=204, summary="Delete a device", responses=WRITE_ERRORS)
async def delete_device(device_id: uuid.UUID, ctx: Writers, if_match: IfMatch = None) -> Response:
    """Forget a device; its file disappears at the next apply."""
    device = await devices.get(ctx, device_id)
    check_if_match(if_match, device)
    await devices.delete(ctx, device)
    return Response(status_code=204)


@router.post("/{device_id}/provisioning-url", response_model=DeviceWithUrl, summary="Rotate the provisioning URL",
             responses=WRITE_ERRORS)
async def rotate_provisioning_url(device_id: uuid.UUID, ctx: Writers, request: Request,
                                  response: Response) -> DeviceWithUrl:
    """A new secret URL, shown once; the old one answers 404 from now on."""
    device = await devices.get(ctx, device_id)
    token = await devices.rotate_token(ctx, device)
    set_etag(response, device)
    return _with_url(request, device, token)
