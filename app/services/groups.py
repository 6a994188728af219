"""Groups and memberships: DEFAULT in every organization, dialable groups in the shared number space,
members with a role and rights; the groups a user belongs to."""

from __future__ import annotations

import uuid
from collections import defaultdict
from types import SimpleNamespace

from sqlalchemy import delete as delete_rows, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.context import Context
from app.core.errors import Conflict, FieldErrors, Forbidden, NotFound, PreconditionFailed
from app.core.http import check_if_match
from app.core.pagination import ListParams, apply_sort, contains, paginate
from app.models import Group, GroupMember, SipAccount, User
from app.models.groups import (DEFAULT_GROUP, DEFAULT_RIGHTS, RIGHTS, GroupCreate, GroupRole, GroupUpdate,
                               MembershipIn, UserGroupRead)
from app.services import audit, destinations, numbering
from app.services.changes import delete_row, touch, update_row
from app.services.roles import check_authority_over
from app.services.scoping import managed_group_ids, require_scope_all, restrict_to_own, user_in_scope_query

RESOURCE = "group"


def default_group(organization_id: uuid.UUID) -> Group:
    """The DEFAULT group every organization has (new users join it unless told otherwise)."""
    return Group(organization_id=organization_id, name=DEFAULT_GROUP, is_default=True)


def _query(ctx: Context):
    return select(Group).where(Group.organization_id == ctx.principal.organization_id)


async def get(ctx: Context, group_id: uuid.UUID) -> Group:
    group = (await ctx.session.execute(ctx.locked(_query(ctx).where(Group.id == group_id), Group))).scalar_one_or_none()
    if group is None:
        raise NotFound("Group not found")
    return group


async def list_groups(ctx: Context, params: ListParams, *, dialable: bool | None) -> tuple[list[tuple[Group, int]], int]:
    """Groups with their member counts (one query for the page, one for the total)."""
    members = (select(GroupMember.group_id, func.count().label("members")).group_by(GroupMember.group_id)
               .subquery())
    query = (select(Group, func.coalesce(members.c.members, 0))
             .outerjoin(members, members.c.group_id == Group.id)
             .where(Group.organization_id == ctx.principal.organization_id))
    if dialable is not None:
        query = query.where(Group.extension.is_not(None) if dialable else Group.extension.is_(None))
    if params.q:
        query = query.where(contains(Group.name, params.q))
    query = apply_sort(query, params, {"name": Group.name, "extension": Group.extension,
                                       "created_at": Group.created_at}, "name", Group.id)
    rows, total = await paginate(ctx.session, query, params, scalars=False)
    return [(group, count) for group, count in rows], total


async def member_count(ctx: Context, group: Group) -> int:
    return (await ctx.session.execute(
        select(func.count()).select_from(GroupMember).where(GroupMember.group_id == group.id))).scalar_one()


async def _check_name_free(ctx: Context, name: str, exclude: uuid.UUID | None = None) -> None:
    query = select(Group.id).where(Group.organization_id == ctx.principal.organization_id,
                                   func.lower(Group.name) == name.lower())
    if exclude is not None:
        query = query.where(Group.id != exclude)
    if (await ctx.session.execute(query.limit(1))).first() is not None:
        raise Conflict.field(["body", "name"], f"A group named '{name}' already exists", "group-name-taken")


async def _number(ctx: Context, wanted: int | str, group_id: uuid.UUID | None, errors: FieldErrors) -> int | None:
    """The group's extension: a free number of the range (409 when taken), or the lowest free one."""
    org = ctx.organization
    if wanted != "next":
        numbering.check_range(org, wanted, errors, ["body", "extension"])
        errors.raise_if_any()
    await numbering.lock(ctx.session, org)
    if wanted == "next":
        return await numbering.lowest_free(ctx.session, org)
    await numbering.check_free(ctx.session, org, wanted, ["body", "extension"], exclude_group=group_id)
    return wanted


async def create(ctx: Context, payload: GroupCreate) -> Group:
    """A new group; dialable when it has an extension (taken from the organization's number space)."""
    require_scope_all(ctx.principal, "Creating groups")
    group_id = uuid.uuid4()
    errors = FieldErrors()
    await destinations.check(ctx, payload.no_answer_destination, ["body", "no_answer_destination"], errors)
    errors.raise_if_any()
    await _check_name_free(ctx, payload.name)
    extension = await _number(ctx, payload.extension, group_id, errors) if payload.extension is not None else None
    group = Group(id=group_id, organization_id=ctx.principal.organization_id, name=payload.name, extension=extension,
                  ring_strategy=payload.ring_strategy, ring_timeout=payload.ring_timeout,
                  no_answer_destination=destinations.stored(payload.no_answer_destination))
    ctx.session.add(group)
    await ctx.session.flush()
    await destinations.record(ctx, RESOURCE, group.id, {"no_answer_destination": payload.no_answer_destination})
    await audit.record(ctx, "group.create", RESOURCE, group.id, after=audit.snapshot(group), config_change=True)
    return group


async def update(ctx: Context, group: Group, payload: GroupUpdate) -> Group:
    """JSON merge patch; DEFAULT keeps its name, a group other destinations ring stays dialable."""
    require_scope_all(ctx.principal, "Changing groups")
    changes = payload.model_dump(exclude_unset=True)
    errors = FieldErrors()
    for required in ("name", "ring_strategy", "ring_timeout", "no_answer_destination"):
        if required in changes and changes[required] is None:
            errors.add(["body", required], "must not be null", "null")
    if payload.no_answer_destination is not None:
        await destinations.check(ctx, payload.no_answer_destination, ["body", "no_answer_destination"], errors,
                                 itself=(RESOURCE, group.id))
    errors.raise_if_any()
    if changes.get("name") not in (None, group.name):
        if group.is_default:
            raise Conflict.field(["body", "name"], f"The {DEFAULT_GROUP} group cannot be renamed", "default-group")
        await _check_name_free(ctx, changes["name"], exclude=group.id)
    if "extension" in changes:
        if changes["extension"] is None:
            await destinations.refuse_if_referenced(ctx, RESOURCE, group.id, f"Group '{group.name}' (dialable)")
        elif changes["extension"] != group.extension:
            changes["extension"] = await _number(ctx, changes["extension"], group.id, errors)
    if payload.no_answer_destination is not None:
        changes["no_answer_destination"] = destinations.stored(payload.no_answer_destination)
        await destinations.record(ctx, RESOURCE, group.id, {"no_answer_destination": payload.no_answer_destination})
    await update_row(ctx, group, changes, action="group.update", resource=RESOURCE, config_change=True)
    return group


async def delete(ctx: Context, group: Group) -> None:
    """Delete a group (its memberships go with it); DEFAULT and groups other destinations ring cannot go."""
    require_scope_all(ctx.principal, "Deleting groups")
    if group.is_default:
        raise Conflict(f"The {DEFAULT_GROUP} group cannot be deleted", slug="default-group")
    await destinations.refuse_if_referenced(ctx, RESOURCE, group.id, f"Group '{group.name}'")
    await destinations.forget(ctx, RESOURCE, group.id)
    await delete_row(ctx, group, action="group.delete", resource=RESOURCE, config_change=True)


# --- memberships -------------------------------------------------------------------------------------------

async def _check_may_manage(ctx: Context, group: Group, user: User, roles_involved: set[str]) -> None:
    """Scope 'all' manages the memberships of every user below its authority; scope 'groups' only in groups it
    manages, for users already in its scope and below its authority, and only memberships as a member (it neither makes, changes nor removes
    managers: a group's managers are chosen by the organization's administrators)."""
    principal = ctx.principal
    if principal.scope == "all":
        if user.id != principal.user_id:
            await check_authority_over(ctx.session, principal, user, "change the memberships of")
        return
    if principal.scope != "groups" or principal.user_id is None:
        raise Forbidden("Managing memberships needs management scope 'groups' or 'all'")
    managed = (await ctx.session.execute(
        managed_group_ids(principal.user_id).where(GroupMember.group_id == group.id))).first()
    if managed is None:
        raise Forbidden(f"You do not manage group '{group.name}'")
    if GroupRole.manager in roles_involved:
        raise Forbidden("With scope 'groups' you manage members, not managers")
    if (await ctx.session.execute(user_in_scope_query(principal, user.id))).first() is None:
        raise NotFound("User not found")
    if user.id != principal.user_id:
        await check_authority_over(ctx.session, principal, user, "change the memberships of")


async def _member(ctx: Context, group: Group, user_id: uuid.UUID) -> GroupMember | None:
    return (await ctx.session.execute(ctx.locked(select(GroupMember).where(
        GroupMember.group_id == group.id, GroupMember.user_id == user_id), GroupMember))).scalar_one_or_none()


def _rights(payload: MembershipIn) -> dict[str, bool]:
    given = payload.rights.model_dump(exclude_none=True)
    return {**DEFAULT_RIGHTS[payload.role], **given}


async def _user(ctx: Context, user_id: uuid.UUID) -> User:
    """A user of the principal's organization and scope, or 404 (outsiders are not revealed)."""
    user = (await ctx.session.execute(select(User).where(
        User.id == user_id, User.organization_id == ctx.principal.organization_id))).scalar_one_or_none()
    if user is None or (ctx.principal.scope != "all" and (await ctx.session.execute(
            user_in_scope_query(ctx.principal, user_id))).first() is None):
        raise NotFound("User not found")
    return user


def member_tag(member: GroupMember) -> SimpleNamespace:
    """What a membership's ETag is computed from: the pair of ids and the membership's version."""
    return SimpleNamespace(id=f"{member.group_id}:{member.user_id}", version=member.version)


async def put_member(ctx: Context, group: Group, user_id: uuid.UUID, payload: MembershipIn,
                     if_match: str | None = None) -> tuple[GroupMember, bool]:
    """Add the user to the group or replace its membership; returns it and whether it was created.

    With ``If-Match`` the membership must exist and be unchanged since it was read (412 otherwise).
    """
    user = await _user(ctx, user_id)
    member = await _member(ctx, group, user_id)
    if if_match is not None:
        if member is None:
            raise PreconditionFailed("The user is not a member of this group any more (If-Match was given)")
        check_if_match(if_match, member_tag(member))
    await _check_may_manage(ctx, group, user, {payload.role} | ({member.role} if member else set()))
    values = {"role": payload.role, "position": payload.position, **_rights(payload)}
    if member is None:
        member = GroupMember(group_id=group.id, user_id=user_id, organization_id=group.organization_id, **values)
        ctx.session.add(member)
        await ctx.session.flush()
        await audit.record(ctx, "group.member_add", RESOURCE, group.id, after={"user_id": user_id, **values},
                           config_change=True)
        return member, True
    before = {name: getattr(member, name) for name in values}
    for name, value in values.items():
        setattr(member, name, value)
    touch(member)
    await ctx.session.flush()
    await audit.record(ctx, "group.member_update", RESOURCE, group.id, before={"user_id": user_id, **before},
                       after={"user_id": user_id, **values}, config_change=True)
    return member, False


async def remove_member(ctx: Context, group: Group, user_id: uuid.UUID, if_match: str | None = None) -> None:
    """The user leaves the group (a group manager removes members only)."""
    user = await _user(ctx, user_id)
    member = await _member(ctx, group, user_id)
    if member is None:
        raise NotFound("The user is not a member of this group")
    check_if_match(if_match, member_tag(member))
    await _check_may_manage(ctx, group, user, {member.role})
    await ctx.session.delete(member)
    await ctx.session.flush()
    await audit.record(ctx, "group.member_remove", RESOURCE, group.id, before={"user_id": user_id, "role": member.role},
                       config_change=True)


def _members_query(ctx: Context, group: Group):
    """The group's members within the principal's scope, with their names and extensions."""
    query = (select(GroupMember, User.first_name, User.last_name, SipAccount.extension)
             .join(User, User.id == GroupMember.user_id)
             .outerjoin(SipAccount, SipAccount.user_id == User.id)
             .where(GroupMember.group_id == group.id))
    clause = restrict_to_own(ctx.principal, GroupMember.user_id)
    return query.where(clause) if clause is not None else query


async def list_members(ctx: Context, group: Group, params: ListParams) -> tuple[list, int]:
    """The group's members (those in the principal's scope) with their names and extensions, in hunt order."""
    query = _members_query(ctx, group)
    if params.q:
        query = query.where(or_(contains(User.first_name, params.q), contains(User.last_name, params.q)))
    query = apply_sort(query, params, {"position": GroupMember.position, "last_name": User.last_name,
                                       "extension": SipAccount.extension, "role": GroupMember.role},
                       "position", GroupMember.user_id)
    return await paginate(ctx.session, query, params, scalars=False)


# --- a user's groups ---------------------------------------------------------------------------------------

async def groups_of(session: AsyncSession, user_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[UserGroupRead]]:
    """The groups of each user, by name: one query for any number of users."""
    found: dict[uuid.UUID, list[UserGroupRead]] = defaultdict(list)
    if not user_ids:
        return found
    rows = (await session.execute(
        select(GroupMember.user_id, Group.id, Group.name, GroupMember.role)
        .join(Group, Group.id == GroupMember.group_id)
        .where(GroupMember.user_id.in_(user_ids)).order_by(Group.name))).all()
    for user_id, group_id, name, role in rows:
        found[user_id].append(UserGroupRead.model_construct(id=group_id, name=name, role=GroupRole(role)))
    return found


async def resolve(ctx: Context, references: list[str], loc: list[str | int]) -> list[Group]:
    """Groups named by id or by name (case-insensitively), each a 422 naming its index when unknown."""
    groups = (await ctx.session.execute(_query(ctx))).scalars().all()
    by_id = {str(g.id): g for g in groups}
    by_name = {g.name.lower(): g for g in groups}
    errors, chosen = FieldErrors(), {}
    for index, reference in enumerate(references):
        group = by_id.get(reference.lower()) or by_name.get(reference.lower())
        if group is None:
            errors.add([*loc, index], f"No group '{reference}' in this organization", "unknown_group")
        else:
            chosen[group.id] = group
    errors.raise_if_any()
    return list(chosen.values())


async def join_default(ctx: Context, user: User) -> None:
    """A new user joins DEFAULT as a member (3CX: every user starts in DEFAULT)."""
    default = (await ctx.session.execute(_query(ctx).where(Group.is_default.is_(True)))).scalar_one()
    ctx.session.add(GroupMember(group_id=default.id, user_id=user.id, organization_id=user.organization_id,
                                role=GroupRole.member, **DEFAULT_RIGHTS[GroupRole.member]))
    await ctx.session.flush()


async def _check_may_join(ctx: Context, groups: list[Group], user: User) -> None:
    """A principal with scope 'groups' puts users only into groups it manages."""
    principal = ctx.principal
    if principal.scope == "all":
        return
    managed = set((await ctx.session.execute(managed_group_ids(principal.user_id))).scalars()) \
        if principal.user_id is not None else set()
    outside = [g.name for g in groups if g.id not in managed]
    if outside:
        raise Forbidden(f"You do not manage: {', '.join(sorted(outside))}")


async def set_user_groups(ctx: Context, user: User, references: list[str], loc: list[str | int], *,
                          new_user: bool) -> None:
    """Make the user a member of exactly these groups: it leaves the others and joins new ones as a member
    (keeping its role and rights where it stays). A scope 'groups' principal changes only groups it manages."""
    wanted = await resolve(ctx, references, loc)
    current = {m.group_id: m for m in (await ctx.session.execute(
        select(GroupMember).where(GroupMember.user_id == user.id))).scalars()}
    joining = [g for g in wanted if g.id not in current]
    leaving_ids = set(current) - {g.id for g in wanted}
    if ctx.principal.scope != "all":
        leaving = (await ctx.session.execute(select(Group).where(Group.id.in_(leaving_ids)))).scalars().all() \
            if leaving_ids else []
        await _check_may_join(ctx, [*joining, *leaving], user)
    if leaving_ids:
        await ctx.session.execute(delete_rows(GroupMember).where(GroupMember.user_id == user.id,
                                                            GroupMember.group_id.in_(leaving_ids)))
    for group in joining:
        ctx.session.add(GroupMember(group_id=group.id, user_id=user.id, organization_id=user.organization_id,
                                    role=GroupRole.member, **DEFAULT_RIGHTS[GroupRole.member]))
    await ctx.session.flush()
    if not new_user and (joining or leaving_ids):
        await audit.record(ctx, "user.groups_change", "user", user.id, after={
            "joined": [str(g.id) for g in joining], "left": sorted(str(i) for i in leaving_ids)}, config_change=True)


def rights_of(member: GroupMember) -> dict[str, bool]:
    return {right: getattr(member, right) for right in RIGHTS}


async def member_row(ctx: Context, group: Group, user_id: uuid.UUID):
    """One member with its name and extension, as ``list_members`` gives them (404 when not a member in scope)."""
    row = (await ctx.session.execute(_members_query(ctx, group).where(GroupMember.user_id == user_id))).first()
    if row is None:
        raise NotFound("The user is not a member of this group")
    return row
