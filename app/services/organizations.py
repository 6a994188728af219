"""Organizations (tenants); each one is created with the built-in roles."""

from __future__ import annotations

import uuid
from types import SimpleNamespace

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.context import Context
from app.core.errors import Conflict, FieldErrors, Forbidden, NotFound, ValidationProblem
from app.core.pagination import ListParams, apply_sort, contains, paginate
from app.models import Organization
from app.models.organizations import OrganizationCreate, OrganizationUpdate
from app.services import audit, config, numbering
from app.services.changes import delete_row, update_row
from app.services.groups import default_group
from app.services.office_hours import default_schedule
from app.services.roles import builtin_roles_for

RESOURCE = "organization"


async def _check_sip_domain_free(session: AsyncSession, sip_domain: str, exclude: uuid.UUID | None = None) -> None:
    """A SIP domain is a digest realm and an address phones register to: one organization each."""
    query = select(Organization.slug).where(Organization.sip_domain == sip_domain)
    if exclude is not None:
        query = query.where(Organization.id != exclude)
    if (await session.execute(query.limit(1))).first() is not None:
        raise Conflict.field(["body", "sip_domain"], f"SIP domain '{sip_domain}' is used by another organization",
                             "sip-domain-taken")


async def create_with_roles(session: AsyncSession, payload: OrganizationCreate) -> Organization:
    """Insert an organization and its built-in roles (no audit: callers record it)."""
    if (await session.execute(select(Organization.id).where(Organization.slug == payload.slug))).first():
        msg = f"Organization slug '{payload.slug}' is taken"
        raise Conflict.field(["body", "slug"], msg, "slug-taken")
    await _check_sip_domain_free(session, payload.sip_domain)
    organization = Organization(**payload.model_dump())
    session.add(organization)
    await session.flush()
    session.add_all([*builtin_roles_for(organization.id), default_group(organization.id),
                     default_schedule(organization.id, organization.timezone)])
    await session.flush()
    return organization


async def create(ctx: Context, payload: OrganizationCreate) -> Organization:
    organization = await create_with_roles(ctx.session, payload)
    await audit.record(ctx, "organization.create", RESOURCE, organization.id, after=audit.snapshot(organization),
                       organization_id=organization.id, config_change=True)
    return organization


async def list_organizations(ctx: Context, params: ListParams) -> tuple[list[Organization], int]:
    query = select(Organization)
    if params.q:
        query = query.where(contains(Organization.name, params.q) | contains(Organization.slug, params.q))
    query = apply_sort(query, params, {"name": Organization.name, "slug": Organization.slug,
                                       "created_at": Organization.created_at}, "slug", Organization.id)
    return await paginate(ctx.session, query, params)


async def get(ctx: Context, organization_id: uuid.UUID) -> Organization:
    organization = (await ctx.session.execute(ctx.locked(
        select(Organization).where(Organization.id == organization_id)).execution_options(populate_existing=True)
    )).scalar_one_or_none()
    if organization is None:
        raise NotFound("Organization not found")
    return organization


async def update(ctx: Context, organization: Organization, payload: OrganizationUpdate) -> Organization:
    """Change settings; a narrower extension range must still hold every number in use."""
    changes = payload.model_dump(exclude_unset=True)
    _provisioning_credentials(ctx, organization, changes)
    nullable = {"sip_proxy", "parking_extension", "provisioning_username", "provisioning_password_encrypted"}
    for name, value in changes.items():
        if value is None and name not in nullable:
            raise ValidationProblem.field(["body", name], "must not be null", "null")
    low = changes.get("extension_min", organization.extension_min)
    high = changes.get("extension_max", organization.extension_max)
    if low > high:
        raise ValidationProblem.field(["body", "extension_min"], "extension_min must not be greater than extension_max")
    await numbering.lock(ctx.session, organization)
    used = await numbering.taken(ctx.session, organization)
    parking = {key: changes.get(key, getattr(organization, key)) for key in ("parking_extension", "parking_slots")}
    new_lot = set(numbering.parking_numbers(SimpleNamespace(**parking)))
    outside = sorted(number for number, what in used.items() if what != "the parking lot" and not low <= number <= high)
    if outside:
        raise Conflict(f"{len(outside)} number(s) in use lie outside {low}–{high} (e.g. {outside[0]}); "
                       "renumber them first")
    if new_lot:
        errors = FieldErrors()
        if min(new_lot) < low or max(new_lot) > high:
            errors.add(["body", "parking_extension"], f"The parking lot ({min(new_lot)}–{max(new_lot)}) must lie "
                                                      f"within the extension range {low}–{high}")
        errors.raise_if_any()
        clash = sorted(number for number in new_lot if number in used and used[number] != "the parking lot")
        if clash:
            raise Conflict.field(["body", "parking_extension"], f"The parking lot needs {min(new_lot)}–{max(new_lot)}, "
                                 f"but {clash[0]} is in use by {used[clash[0]]}", "extension-in-use")
    if changes.get("sip_domain") not in (None, organization.sip_domain):
        await _check_sip_domain_free(ctx.session, changes["sip_domain"], exclude=organization.id)
    await update_row(ctx, organization, changes, action="organization.update", resource=RESOURCE, config_change=True,
                     organization_id=organization.id)
    return organization


def _provisioning_credentials(ctx: Context, organization: Organization, changes: dict) -> None:
    """Turn the write-only password into its encrypted column; a user needs a password and the other way round
    (null user: no credentials)."""
    if "provisioning_username" not in changes and "provisioning_password" not in changes:
        return
    password = changes.pop("provisioning_password", None)
    username = changes.get("provisioning_username", organization.provisioning_username)
    if username is None:
        if password is not None:
            raise ValidationProblem.field(["body", "provisioning_username"], "A provisioning password needs a "
                                          "provisioning username", "missing")
        changes |= {"provisioning_username": None, "provisioning_password_encrypted": None}
        return
    if password is None and organization.provisioning_password_encrypted is None:
        raise ValidationProblem.field(["body", "provisioning_password"], "A provisioning username needs a "
                                      "provisioning password", "missing")
    if password is not None:
        changes["provisioning_password_encrypted"] = ctx.secret_box.encrypt(password)


async def delete(ctx: Context, organization: Organization) -> None:
    if organization.id == ctx.principal.home_organization.id:
        raise Forbidden("You cannot delete your own organization")
    await config.remove_organization_files(ctx.session, ctx.settings, organization)
    # The organization's own log goes with it; keep the trace in the actor's organization.
    await delete_row(ctx, organization, action="organization.delete", resource=RESOURCE, config_change=False,
                     organization_id=ctx.principal.home_organization.id)
