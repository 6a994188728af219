"""Organizations (platform administrators) and the caller's own organization."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Response

from app.core.context import Context, require
from app.core.http import IfMatch, check_if_match, set_etag
from app.core.pagination import ListParamsDep
from app.models.enums import SipUsernameMode
from app.models.organizations import (Organization, OrganizationCreate, OrganizationPage, OrganizationRead,
                                      OrganizationUpdate)
from app.routers.common import (CREATE_ERRORS, DELETE_ERRORS, ITEM_ERRORS, READ_ERRORS, WRITE_ERRORS, api_router,
                                created)
from app.services import organizations
from app.services.idempotency import IdempotencyDep

router = api_router("/organizations", "organizations")
own_router = api_router("/organization", "organizations")
PlatformAdmin = Annotated[Context, Depends(require(platform_admin=True))]


def _read(organization: Organization) -> OrganizationRead:
    return OrganizationRead.model_construct(
        id=organization.id, slug=organization.slug, name=organization.name, sip_domain=organization.sip_domain,
        sip_proxy=organization.sip_proxy, sip_username_mode=SipUsernameMode(organization.sip_username_mode),
        provisioning_username=organization.provisioning_username,
        extension_min=organization.extension_min,
        extension_max=organization.extension_max, default_permission_level=organization.default_permission_level,
        timezone=organization.timezone, ring_timeout=organization.ring_timeout,
        parking_extension=organization.parking_extension, parking_slots=organization.parking_slots,
        created_at=organization.created_at, updated_at=organization.updated_at)


@router.post("", status_code=201, response_model=OrganizationRead, summary="Create an organization",
             responses=CREATE_ERRORS, operation_id="organizations_create")
async def create_organization(payload: OrganizationCreate, ctx: PlatformAdmin, idem: IdempotencyDep,
                              response: Response) -> OrganizationRead:
    """Create a tenant with its built-in roles. Act in it afterwards with `X-Organization: <slug>`.
    Its `sip_domain` must not be used by another organization (409)."""
    async def create():
        organization = await organizations.create(ctx, payload)
        created(response, ctx.settings, f"/api/v1/organizations/{organization.id}", organization)
        return _read(organization)

    return await idem.run(ctx, 201, create, response)


@router.get("", response_model=OrganizationPage, summary="List organizations", responses=READ_ERRORS,
            operation_id="organizations_list")
async def list_organizations(ctx: PlatformAdmin, params: ListParamsDep) -> OrganizationPage:
    """Every organization on the platform; `q` searches name and slug."""
    rows, total = await organizations.list_organizations(ctx, params)
    return OrganizationPage.model_construct(items=[_read(o) for o in rows], total=total, limit=params.limit,
                                            offset=params.offset)


@router.get("/{organization_id}", response_model=OrganizationRead, summary="Get an organization",
            responses=ITEM_ERRORS, operation_id="organizations_get")
async def get_organization(organization_id: uuid.UUID, ctx: PlatformAdmin, response: Response) -> OrganizationRead:
    """One organization, with its ETag."""
    organization = await organizations.get(ctx, organization_id)
    set_etag(response, organization)
    return _read(organization)


@router.patch("/{organization_id}", response_model=OrganizationRead, summary="Change an organization",
              responses=WRITE_ERRORS, operation_id="organizations_update")
async def update_organization(organization_id: uuid.UUID, payload: OrganizationUpdate, ctx: PlatformAdmin,
                              response: Response, if_match: IfMatch = None) -> OrganizationRead:
    """Partial update. Narrowing the extension range is refused while accounts lie outside it."""
    organization = await organizations.get(ctx, organization_id)
    check_if_match(if_match, organization)
    organization = await organizations.update(ctx, organization, payload)
    set_etag(response, organization)
    return _read(organization)


@router.delete("/{organization_id}", status_code=204, summary="Delete an organization", responses=DELETE_ERRORS,
               operation_id="organizations_delete")
async def delete_organization(organization_id: uuid.UUID, ctx: PlatformAdmin, if_match: IfMatch = None) -> Response:
    """Delete a tenant and everything in it (its applied files too). Your own organization cannot be deleted."""
    organization = await organizations.get(ctx, organization_id)
    check_if_match(if_match, organization)
    await organizations.delete(ctx, organization)
    return Response(status_code=204)


@own_router.get("", response_model=OrganizationRead, summary="Get your organization", responses=ITEM_ERRORS,
                operation_id="organization_get")
async def get_own_organization(ctx: Annotated[Context, Depends(require("organization.read"))],
                               response: Response) -> OrganizationRead:
    """The organization the caller acts on (its own, or the one named by `X-Organization`)."""
    set_etag(response, ctx.organization)
    return _read(ctx.organization)


@own_router.patch("", response_model=OrganizationRead, summary="Change your organization", responses=WRITE_ERRORS,
                  operation_id="organization_update")
async def update_own_organization(payload: OrganizationUpdate,
                                  ctx: Annotated[Context, Depends(require("organization.write", scope_all=True))],
                                  response: Response, if_match: IfMatch = None) -> OrganizationRead:
    """Change the settings of the organization acted on (SIP domain, extension range, defaults)."""
    organization = await organizations.get(ctx, ctx.organization.id)
    check_if_match(if_match, organization)
    organization = await organizations.update(ctx, organization, payload)
    set_etag(response, organization)
    return _read(organization)
