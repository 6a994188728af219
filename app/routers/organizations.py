"""Organizations (platform administrators) and the caller's own organization."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Response

from app.core.context import Context, require
from app.core.http import IfMatch, check_if_match, set_etag
from app.core.pagination import ListParamsDep
from app.models.base import Page
from app.models.organizations import OrganizationCreate, OrganizationRead, OrganizationUpdate
from app.routers.common import CREATE_ERRORS, ITEM_ERRORS, READ_ERRORS, WRITE_ERRORS, api_router
from app.services import organizations
from app.services.idempotency import IdempotencyDep

router = api_router("/organizations", "organizations")
own_router = api_router("/organization", "organizations")
PlatformAdmin = Annotated[Context, Depends(require(platform_admin=True))]


@router.post("", status_code=201, response_model=OrganizationRead, summary="Create an organization",
             responses=CREATE_ERRORS)
async def create_organization(payload: OrganizationCreate, ctx: PlatformAdmin, idem: IdempotencyDep,
                              response: Response) -> OrganizationRead:
    """Create a tenant with its built-in roles. Act in it afterwards with `X-Organization: <slug>`."""
    async def create():
        organization = await organizations.create(ctx, payload)
        set_etag(response, organization)
        return OrganizationRead.model_validate(organization)

    return await idem.run(ctx, 201, create)


@router.get("", response_model=Page[OrganizationRead], summary="List organizations", responses=READ_ERRORS)
async def list_organizations(ctx: PlatformAdmin, params: ListParamsDep) -> Page[OrganizationRead]:
    """Every organization on the platform; `q` searches name and slug."""
    rows, total = await organizations.list_organizations(ctx, params)
    return Page(items=[OrganizationRead.model_validate(o) for o in rows], total=total, limit=params.limit, offset=params.offset)


@router.get("/{organization_id}", response_model=OrganizationRead, summary="Get an organization", responses=ITEM_ERRORS)
async def get_organization(organization_id: uuid.UUID, ctx: PlatformAdmin, response: Response) -> OrganizationRead:
    """One organization, with its ETag."""
    organization = await organizations.get(ctx, organization_id)
    set_etag(response, organization)
    return OrganizationRead.model_validate(organization)


@router.patch("/{organization_id}", response_model=OrganizationRead, summary="Change an organization",
              responses=WRITE_ERRORS)
async def update_organization(organization_id: uuid.UUID, payload: OrganizationUpdate, ctx: PlatformAdmin,
                              response: Response, if_match: IfMatch = None) -> OrganizationRead:
    """Partial update. Narrowing the extension range is refused while accounts lie outside it."""
    organization = await organizations.get(ctx, organization_id)
    check_if_match(if_match, organization)
    organization = await organizations.update(ctx, organization, payload)
    set_etag(response, organization)
    return OrganizationRead.model_validate(organization)


@router.delete("/{organization_id}", status_code=204, summary="Delete an organization", responses=WRITE_ERRORS)
async def delete_organization(organization_id: uuid.UUID, ctx: PlatformAdmin, if_match: IfMatch = None) -> Response:
    """Delete a tenant and everything in it. Your own organization cannot be deleted."""
    organization = await organizations.get(ctx, organization_id)
    check_if_match(if_match, organization)
    await organizations.delete(ctx, organization)
    return Response(status_code=204)


@own_router.get("", response_model=OrganizationRead, summary="Get your organization", responses=ITEM_ERRORS)
async def get_own_organization(ctx: Annotated[Context, Depends(require("organization.read"))],
                               response: Response) -> OrganizationRead:
    """The organization the caller acts on (its own, or the one named by `X-Organization`)."""
    set_etag(response, ctx.organization)
    return OrganizationRead.model_validate(ctx.organization)


@own_router.patch("", response_model=OrganizationRead, summary="Change your organization", responses=WRITE_ERRORS)
async def update_own_organization(payload: OrganizationUpdate,
                                  ctx: Annotated[Context, Depends(require("organization.write", scope_all=True))],
                                  response: Response, if_match: IfMatch = None) -> OrganizationRead:
    """Change the settings of the organization acted on (SIP domain, extension range, defaults)."""
    organization = await organizations.get(ctx, ctx.organization.id)
    check_if_match(if_match, organization)
    organization = await organizations.update(ctx, organization, payload)
    set_etag(response, organization)
    return OrganizationRead.model_validate(organization)
