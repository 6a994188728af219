"""Devices and their secret provisioning URLs."""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid

from sqlalchemy import select

from app.config_gen import writer
from app.config_gen.escaping import xml_attribute
from app.config_gen.provisioning import device_files, provisioning_filename
from app.core.context import Context
from app.core.errors import Conflict, FieldErrors, Forbidden, NotFound
from app.core.pagination import ListParams, apply_sort, contains, paginate
from app.core.settings import Settings
from app.models import Device, Organization, SipAccount
from app.models.devices import HARDWARE_VENDORS, DeviceCreate, DeviceUpdate, model_problem
from app.models.enums import DeviceVendor
from app.services import audit
from app.services.changes import delete_row, touch, update_row
from app.services.config import organization_dir
from app.services.scoping import require_scope_all, restrict_to_own
from app.services.sip_accounts import check_holder_authority

RESOURCE = "device"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(24)


async def _check_account(ctx: Context, account_id: uuid.UUID | None, errors: FieldErrors) -> None:
    """A device may carry an account only for a principal who could reveal that account's password.

    Its provisioning file holds the password in clear, so linking is a reveal:
    the same permission and the same holder authority (an admin cannot route the
    owner's password into a file it can fetch).
    """
    if account_id is None:
        return
    if not ctx.principal.can("sip_secrets.read"):
        raise Forbidden("Linking a device to a SIP account needs the permission sip_secrets.read")
    account = (await ctx.session.execute(select(SipAccount).where(
        SipAccount.id == account_id, SipAccount.organization_id == ctx.principal.organization_id))).scalar_one_or_none()
    if account is None:
        errors.add(["body", "sip_account_id"], "No such SIP account in this organization", "not_found")
        return
    await check_holder_authority(ctx, account, "put on a device the SIP account of")


async def _check_mac_free(ctx: Context, mac: str | None, exclude: uuid.UUID | None = None) -> None:
    if mac is None:
        return
    query = select(Device.id).where(Device.organization_id == ctx.principal.organization_id, Device.mac == mac)
    if exclude is not None:
        query = query.where(Device.id != exclude)
    if (await ctx.session.execute(query)).first() is not None:
        msg = f"A device with MAC {mac} already exists"
        raise Conflict.field(["body", "mac"], msg, "mac-taken")


async def create(ctx: Context, payload: DeviceCreate) -> tuple[Device, str]:
    """A device and its provisioning token (returned once)."""
    require_scope_all(ctx.principal, "Creating devices")
    errors = FieldErrors()
    if problem := model_problem(payload.vendor, payload.model):
        errors.add(["body", "model"], problem, "unknown_model")
    await _check_account(ctx, payload.sip_account_id, errors)
    errors.raise_if_any()
    await _check_mac_free(ctx, payload.mac)
    token = new_token()
    device = Device(organization_id=ctx.principal.organization_id, **payload.model_dump(),
                    provisioning_token_hash=hash_token(token))
    ctx.session.add(device)
    await ctx.session.flush()
    await audit.record(ctx, "device.create", RESOURCE, device.id, after=audit.snapshot(device), config_change=True)
    return device, token


def _query(ctx: Context):
    query = select(Device).where(Device.organization_id == ctx.principal.organization_id)
    clause = restrict_to_own(ctx.principal, SipAccount.user_id)
    if clause is not None:
        query = query.join(SipAccount, SipAccount.id == Device.sip_account_id).where(clause)
    return query


async def get(ctx: Context, device_id: uuid.UUID) -> Device:
    device = (await ctx.session.execute(ctx.locked(_query(ctx).where(Device.id == device_id), Device))).scalar_one_or_none()
    if device is None:
        raise NotFound("Device not found")
    return device


async def list_devices(ctx: Context, params: ListParams, *, vendor: str | None,
                       sip_account_id: uuid.UUID | None) -> tuple[list[Device], int]:
    query = _query(ctx)
    if vendor is not None:
        query = query.where(Device.vendor == vendor)
    if sip_account_id is not None:
        query = query.where(Device.sip_account_id == sip_account_id)
    if params.q:
        query = query.where(contains(Device.label, params.q) | contains(Device.mac, params.q.replace(":", ""))
                            | contains(Device.model, params.q))
    query = apply_sort(query, params, {"mac": Device.mac, "label": Device.label, "vendor": Device.vendor,
                                       "created_at": Device.created_at}, "created_at", Device.id)
    return await paginate(ctx.session, query, params)


async def update(ctx: Context, device: Device, payload: DeviceUpdate) -> tuple[Device, str | None]:
    """Change a device; returns it and, when it now carries another account, its new provisioning token.

    A URL handed out before must not serve a file that now holds another password.
    """
    require_scope_all(ctx.principal, "Changing devices")
    changes = payload.model_dump(exclude_unset=True)
    errors = FieldErrors()
    if "vendor" in changes and changes["vendor"] is None:
        errors.add(["body", "vendor"], "must not be null", "null")
    vendor = changes.get("vendor") or device.vendor
    mac = changes["mac"] if "mac" in changes else device.mac
    if vendor in HARDWARE_VENDORS and mac is None:
        errors.add(["body", "mac"], f"a {vendor} phone needs its MAC address", "missing")
    if problem := model_problem(vendor, changes["model"] if "model" in changes else device.model):
        errors.add(["body", "model" if "model" in changes else "vendor"], problem, "unknown_model")
    relinked = changes.get("sip_account_id") not in (None, device.sip_account_id)
    if relinked:
        await _check_account(ctx, changes["sip_account_id"], errors)
    errors.raise_if_any()
    if "mac" in changes:
        await _check_mac_free(ctx, changes["mac"], exclude=device.id)
    token = None
    if relinked:
        token = new_token()
        changes["provisioning_token_hash"] = hash_token(token)
    await update_row(ctx, device, changes, action="device.update", resource=RESOURCE, config_change=True)
    return device, token


async def delete(ctx: Context, device: Device) -> None:
    require_scope_all(ctx.principal, "Deleting devices")
    await delete_row(ctx, device, action="device.delete", resource=RESOURCE, config_change=True)


async def rotate_token(ctx: Context, device: Device) -> str:
    """A new provisioning URL; the old one stops working at once.

    The URL fetches a file with the device's SIP password: the same authority as revealing it.
    """
    require_scope_all(ctx.principal, "Rotating provisioning URLs")
    if device.sip_account_id is not None:
        if not ctx.principal.can("sip_secrets.read"):
            raise Forbidden("The device's file holds a SIP password: a new URL needs the permission sip_secrets.read")
        account = await ctx.session.get(SipAccount, device.sip_account_id)
        if account is not None:
            await check_holder_authority(ctx, account, "fetch the provisioning file (and SIP password) of")
    token = new_token()
    device.provisioning_token_hash = hash_token(token)
    touch(device)
    await ctx.session.flush()
    await audit.record(ctx, "device.provisioning_url_rotate", RESOURCE, device.id, after={"provisioning_token": token})
    return token


def provisioning_url(settings: Settings, token: str) -> str:
    """The device's secret URL prefix, from CENTRALINO_PUBLIC_URL (never from the request's Host header)."""
    return f"{settings.public_url}/provisioning/{token}/"


def filename_of(device: Device) -> str | None:
    return provisioning_filename(device.vendor, device.mac)


# What a Snom phone asks its setting server for first: snom<model>.htm, then snom<model>-<MAC>.htm.
_SNOM_INDEX = re.compile(r"snom(?P<model>[A-Za-z0-9]{2,16})(?:-(?P<mac>[0-9A-Fa-f]{12}))?\.htm")


async def find_by_token(session, token: str) -> tuple[Device, Organization] | None:
    """The device whose provisioning token this is, and its organization."""
    row = (await session.execute(select(Device, Organization).join(Organization, Organization.id == Device.organization_id)
                                 .where(Device.provisioning_token_hash == hash_token(token)))).first()
    return (row[0], row[1]) if row is not None else None


async def provisioning_file(session, settings, token: str, filename: str) -> bytes | None:
    """The device's file from the LAST APPLIED revision, or None (unknown token, wrong file, never applied)."""
    found = await find_by_token(session, token)
    return device_file(settings, *found, token, filename) if found is not None else None


def device_file(settings: Settings, device: Device, organization: Organization, token: str,
                filename: str) -> bytes | None:
    """One of the device's files, or None.

    Names match whatever the case of the MAC in them (phones and firmware differ; the files on disk keep
    one name). A Snom phone's index files (``snom<model>.htm``, ``snom<model>-<MAC>.htm``) are answered
    with a ``<setting-files>`` list naming its settings file behind the same token.
    """
    files = device_files(device.vendor, device.mac, str(device.id))
    path = files.get(filename) or next((p for name, p in files.items() if name.lower() == filename.lower()), None)
    if path is not None:
        return writer.read_live_file(organization_dir(settings, organization), path)
    if device.vendor == DeviceVendor.snom:
        return _snom_index(settings, organization, device, files, token, filename)
    return None


def _snom_index(settings: Settings, organization: Organization, device: Device, files: dict[str, str], token: str,
                filename: str) -> bytes | None:
    asked = _SNOM_INDEX.fullmatch(filename)
    settings_file = provisioning_filename(device.vendor, device.mac)
    if asked is None or settings_file is None:
        return None
    model = (device.model or "").removeprefix("snom").lower()
    if model and asked["model"].lower() != model:
        return None  # another model's file: not this phone's
    if asked["mac"] is not None and asked["mac"].lower() != device.mac:
        return None  # another phone's file
    if writer.read_live_file(organization_dir(settings, organization), files[settings_file]) is None:
        return None  # not applied yet
    url = xml_attribute(f"{provisioning_url(settings, token)}{settings_file}", "settings file URL")
    return ('<?xml version="1.0" encoding="utf-8"?>\n'
            "<!-- Generated by Centralino: the settings of this phone. -->\n"
            f'<setting-files>\n  <file url="{url}"/>\n</setting-files>\n').encode()
