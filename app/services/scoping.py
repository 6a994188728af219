"""Management scope applied in queries: what a principal may see and change.

- ``own``: only itself.
- ``groups``: itself and the users of the groups where it is a manager (3CX's "manage the
  extensions of the groups you are part of").
- ``all``: everyone in its organization.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, false, or_, select

from app.core.context import Principal
from app.core.errors import Forbidden
from app.models import GroupMember
from app.models.groups import GroupRole


def own_only(principal: Principal) -> bool:
    """Whether the principal's scope is narrower than the whole organization."""
    return principal.scope != "all"


def managed_group_ids(user_id: Any) -> Select:
    """The groups ``user_id`` manages (``user_id`` may be a bound parameter)."""
    return select(GroupMember.group_id).where(GroupMember.user_id == user_id, GroupMember.role == GroupRole.manager)


def managed_user_ids(user_id: Any) -> Select:
    """The users of the groups ``user_id`` manages."""
    return select(GroupMember.user_id).where(GroupMember.group_id.in_(managed_group_ids(user_id)))


def scope_clause(scope: str, user_column: Any, principal_user: Any) -> Any | None:
    """A WHERE clause limiting rows to what ``scope`` lets the principal see; None for scope 'all'."""
    if scope == "all":
        return None
    own = user_column == principal_user
    return own if scope == "own" else or_(own, user_column.in_(managed_user_ids(principal_user)))


def restrict_to_own(principal: Principal, user_column: Any) -> Any | None:
    """A WHERE clause limiting rows to the principal's scope, or None for scope 'all'."""
    if not own_only(principal):
        return None
    if principal.user_id is None:  # an API key with a narrow scope has no user: nothing is its own
        return false()
    return scope_clause(principal.scope, user_column, principal.user_id)


def require_scope_all(principal: Principal, what: str) -> None:
    if own_only(principal):
        raise Forbidden(f"{what} needs management scope 'all'")


def user_in_scope_query(principal: Principal, user_id: uuid.UUID) -> Select:
    """A query that returns a row when ``user_id`` is within the principal's scope."""
    from app.models import User

    query = select(User.id).where(User.id == user_id, User.organization_id == principal.organization_id)
    clause = restrict_to_own(principal, User.id)
    return query.where(clause) if clause is not None else query
