"""Devices (phones) and their provisioning URLs."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Query, Response

from app.core.context import Context, require
from app.core.http import IfMatch, check_if_match, set_etag
from app.core.pagination import ListParamsDep
from app.models.devices import (Device, DeviceCreate, DevicePage, DeviceRead, DeviceUpdate, DeviceUpdated,
                                DeviceWithUrl, mac_warnings)
from app.models.enums import DeviceVendor
from app.routers.common import (CREATE_ERRORS, DELETE_ERRORS, ITEM_ERRORS, READ_ERRORS, WRITE_ERRORS, api_router,
                                created)
from app.services import devices
from app.services.idempotency import IdempotencyDep

router = api_router("/devices", "devices")
Readers = Annotated[Context, Depends(require("devices.read"))]
Writers = Annotated[Context, Depends(require("devices.write"))]


def _read(device: Device, model: type[DeviceRead] = DeviceRead, **extra) -> DeviceRead:
    """The representation of a stored device (built from the row, not validated again)."""
    return model.model_construct(
        id=device.id, vendor=DeviceVendor(device.vendor), mac=device.mac, model=device.model, label=device.label,
        sip_account_id=device.sip_account_id, provisioning_filename=devices.filename_of(device),
        created_at=device.created_at, updated_at=device.updated_at, **extra)


@router.post("", status_code=201, response_model=DeviceWithUrl, summary="Register a device", responses=CREATE_ERRORS,
             operation_id="devices_create")
async def create_device(payload: DeviceCreate, ctx: Writers, response: Response,
                        idem: IdempotencyDep) -> DeviceWithUrl:
    """Register a phone (MAC normalized) or softphone. Its secret provisioning URL is in this response only;
    the device fetches `<url><provisioning_filename>` from the last applied configuration. Linking it to a
    SIP account needs the authority to reveal that account's password (its file carries it)."""
    async def create():
        device, token = await devices.create(ctx, payload)
        created(response, ctx.settings, f"/api/v1/devices/{device.id}", device)
        return _read(device, DeviceWithUrl, provisioning_url=devices.provisioning_url(ctx.settings, token),
                     warnings=mac_warnings(device.vendor, device.mac))

    return await idem.run(ctx, 201, create, response)


@router.get("", response_model=DevicePage, summary="List devices", responses=READ_ERRORS, operation_id="devices_list")
async def list_devices(ctx: Readers, params: ListParamsDep, vendor: Annotated[DeviceVendor | None, Query()] = None,
                       sip_account_id: uuid.UUID | None = None) -> DevicePage:
    """Devices within the caller's scope; `q` searches label, MAC and model."""
    rows, total = await devices.list_devices(ctx, params, vendor=vendor, sip_account_id=sip_account_id)
    return DevicePage.model_construct(items=[_read(d) for d in rows], total=total, limit=params.limit,
                                      offset=params.offset)


@router.get("/{device_id}", response_model=DeviceRead, summary="Get a device", responses=ITEM_ERRORS,
            operation_id="devices_get")
async def get_device(device_id: uuid.UUID, ctx: Readers, response: Response) -> DeviceRead:
    """One device (without its provisioning URL, which is a secret)."""
    device = await devices.get(ctx, device_id)
    set_etag(response, device)
    return _read(device)


@router.patch("/{device_id}", response_model=DeviceUpdated, summary="Change a device", responses=WRITE_ERRORS,
              operation_id="devices_update")
async def update_device(device_id: uuid.UUID, payload: DeviceUpdate, ctx: Writers, response: Response,
                        if_match: IfMatch = None) -> DeviceUpdated:
    """Partial update: label, model, MAC, vendor, SIP account. Giving the device another SIP account rotates its
    provisioning URL (the new one is in this response only; the old one stops working) and needs the authority
    to reveal that account's password."""
    device = await devices.get(ctx, device_id)
    check_if_match(if_match, device)
    device, token = await devices.update(ctx, device, payload)
    set_etag(response, device)
    return _read(device, DeviceUpdated,
                 provisioning_url=devices.provisioning_url(ctx.settings, token) if token is not None else None,
                 warnings=mac_warnings(device.vendor, device.mac))


@router.delete("/{device_id}", status_code=204, summary="Delete a device", responses=DELETE_ERRORS,
               operation_id="devices_delete")
async def delete_device(device_id: uuid.UUID, ctx: Writers, if_match: IfMatch = None) -> Response:
    """Forget a device; its file disappears at the next apply."""
    device = await devices.get(ctx, device_id)
    check_if_match(if_match, device)
    await devices.delete(ctx, device)
    return Response(status_code=204)


@router.post("/{device_id}/provisioning-url", response_model=DeviceWithUrl, summary="Rotate the provisioning URL",
             responses=WRITE_ERRORS, operation_id="devices_rotate_provisioning_url")
async def rotate_provisioning_url(device_id: uuid.UUID, ctx: Writers, response: Response) -> DeviceWithUrl:
    """A new secret URL, shown once; the old one answers 404 from now on. For a device carrying a SIP account
    this needs the authority to reveal that account's password."""
    device = await devices.get(ctx, device_id)
    token = await devices.rotate_token(ctx, device)
    set_etag(response, device)
    return _read(device, DeviceWithUrl, provisioning_url=devices.provisioning_url(ctx.settings, token))
