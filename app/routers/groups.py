"""Groups and their members."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Query, Response

from app.core.context import Context, require
from app.core.errors import HEADER_DOCS
from app.core.http import IfMatch, check_if_match, set_etag
from app.core.pagination import ListParamsDep
from app.models.groups import (Group, GroupCreate, GroupPage, GroupRead, GroupRights, GroupRole, GroupUpdate,
                               MemberPage, MemberRead, MembershipIn, RingStrategy)
from app.routers.common import (CREATE_ERRORS, DELETE_ERRORS, ITEM_ERRORS, READ_ERRORS, WRITE_ERRORS, api_router,
                                created)
from app.services import destinations, groups
from app.services.idempotency import IdempotencyDep

router = api_router("/groups", "groups")
Readers = Annotated[Context, Depends(require("groups.read"))]
Writers = Annotated[Context, Depends(require("groups.write"))]


def _read(group: Group, members: int) -> GroupRead:
    return GroupRead.model_validate({
        "id": group.id, "name": group.name, "extension": group.extension,
        "ring_strategy": RingStrategy(group.ring_strategy), "ring_timeout": group.ring_timeout,
        "no_answer_destination": destinations.loaded(group.no_answer_destination), "is_default": group.is_default,
        "member_count": members, "created_at": group.created_at, "updated_at": group.updated_at})


def _member(row, response: Response | None = None) -> MemberRead:
    member, first_name, last_name, extension = row
    if response is not None:
        set_etag(response, groups.member_tag(member))
    return MemberRead.model_construct(
        user_id=member.user_id, first_name=first_name, last_name=last_name, extension=extension,
        role=GroupRole(member.role), position=member.position,
        rights=GroupRights.model_construct(**groups.rights_of(member)), updated_at=member.updated_at)


@router.post("", status_code=201, response_model=GroupRead, summary="Create a group", responses=CREATE_ERRORS,
             operation_id="groups_create")
async def create_group(payload: GroupCreate, ctx: Writers, idem: IdempotencyDep, response: Response) -> GroupRead:
    """Create a group. With `extension` (a free number of the organization's range, or `"next"`) it is dialable:
    it rings its members by `ring_strategy`, then goes to `no_answer_destination`."""
    async def create():
        group = await groups.create(ctx, payload)
        created(response, ctx.settings, f"/api/v1/groups/{group.id}", group)
        return _read(group, 0)

    return await idem.run(ctx, 201, create, response)


@router.get("", response_model=GroupPage, summary="List groups", responses=READ_ERRORS, operation_id="groups_list")
async def list_groups(ctx: Readers, params: ListParamsDep,
                      dialable: Annotated[bool | None, Query(description="Only groups with (true) or without "
                                                                         "(false) an extension")] = None) -> GroupPage:
    """The organization's groups with their member counts; `q` searches names. Sort by `name`, `extension`,
    `created_at`."""
    rows, total = await groups.list_groups(ctx, params, dialable=dialable)
    return GroupPage.model_construct(items=[_read(g, n) for g, n in rows], total=total, limit=params.limit,
                                     offset=params.offset)


@router.get("/{group_id}", response_model=GroupRead, summary="Get a group", responses=ITEM_ERRORS,
            operation_id="groups_get")
async def get_group(group_id: uuid.UUID, ctx: Readers, response: Response) -> GroupRead:
    """One group, with its ETag."""
    group = await groups.get(ctx, group_id)
    set_etag(response, group)
    return _read(group, await groups.member_count(ctx, group))


@router.patch("/{group_id}", response_model=GroupRead, summary="Change a group", responses=WRITE_ERRORS,
              operation_id="groups_update")
async def update_group(group_id: uuid.UUID, payload: GroupUpdate, ctx: Writers, response: Response,
                       if_match: IfMatch = None) -> GroupRead:
    """JSON merge patch. DEFAULT cannot be renamed (409); a group that another destination rings keeps its
    extension (409 listing the referrers)."""
    group = await groups.get(ctx, group_id)
    check_if_match(if_match, group)
    group = await groups.update(ctx, group, payload)
    set_etag(response, group)
    return _read(group, await groups.member_count(ctx, group))


@router.delete("/{group_id}", status_code=204, summary="Delete a group", responses=DELETE_ERRORS,
               operation_id="groups_delete")
async def delete_group(group_id: uuid.UUID, ctx: Writers, if_match: IfMatch = None) -> Response:
    """Delete a group and its memberships. DEFAULT, and a group that a destination rings, cannot be deleted
    (409; the problem lists the referrers)."""
    group = await groups.get(ctx, group_id)
    check_if_match(if_match, group)
    await groups.delete(ctx, group)
    return Response(status_code=204)


@router.get("/{group_id}/members", response_model=MemberPage, summary="List a group's members",
            responses=ITEM_ERRORS, operation_id="groups_members_list")
async def list_members(group_id: uuid.UUID, ctx: Readers, params: ListParamsDep) -> MemberPage:
    """The members with their role, rights and hunt position; `q` searches names. Sort by `position`,
    `last_name`, `extension`, `role`."""
    group = await groups.get(ctx, group_id)
    rows, total = await groups.list_members(ctx, group, params)
    return MemberPage.model_construct(items=[_member(r) for r in rows], total=total, limit=params.limit,
                                      offset=params.offset)


_MEMBER_JOINED = {201: {"model": MemberRead, "description": "The user joined the group",
                        "headers": {"Location": HEADER_DOCS["Location"], "ETag": HEADER_DOCS["ETag"]}}}


@router.get("/{group_id}/members/{user_id}", response_model=MemberRead, summary="Get a member",
            responses=ITEM_ERRORS, operation_id="groups_members_get")
async def get_member(group_id: uuid.UUID, user_id: uuid.UUID, ctx: Readers, response: Response) -> MemberRead:
    """One member's role, rights and hunt position, with the membership's ETag (404 when the user is not a
    member, or not in scope)."""
    group = await groups.get(ctx, group_id)
    return _member(await groups.member_row(ctx, group, user_id), response)


@router.put("/{group_id}/members/{user_id}", response_model=MemberRead, summary="Add or change a member",
            responses={**WRITE_ERRORS, **_MEMBER_JOINED}, operation_id="groups_members_put")
async def put_member(group_id: uuid.UUID, user_id: uuid.UUID, payload: MembershipIn, ctx: Writers,
                     response: Response, if_match: IfMatch = None) -> MemberRead:
    """Make the user a member with this role and these rights (201 when it joins, 200 when its membership is
    replaced). Rights not given take the role's default: a manager gets all ten; a member sees the members and
    shows its presence. A group manager (scope `groups`) adds only members, to groups it manages. With `If-Match`
    the membership must be unchanged since it was read."""
    group = await groups.get(ctx, group_id)
    member, joined = await groups.put_member(ctx, group, user_id, payload, if_match)
    if joined:
        response.status_code = 201
        created(response, ctx.settings, f"/api/v1/groups/{group.id}/members/{user_id}")
    return _member(await groups.member_row(ctx, group, user_id), response)


@router.delete("/{group_id}/members/{user_id}", status_code=204, summary="Remove a member",
               responses=DELETE_ERRORS, operation_id="groups_members_delete")
async def delete_member(group_id: uuid.UUID, user_id: uuid.UUID, ctx: Writers,
                        if_match: IfMatch = None) -> Response:
    """The user leaves the group (with `If-Match`, only if the membership is unchanged since it was read)."""
    group = await groups.get(ctx, group_id)
    await groups.remove_member(ctx, group, user_id, if_match)
    return Response(status_code=204)
