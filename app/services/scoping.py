"""Management scope applied in queries: what a principal may see and change."""

from __future__ import annotations

from typing import Any

from sqlalchemy import false

from app.core.context import Principal
from app.core.errors import Forbidden


def own_only(principal: Principal) -> bool:
    # 'groups' is narrowed to the principal itself until group management
    # exists: the safe reading of "users in the groups I manage" with no groups.
    return principal.scope != "all"


def restrict_to_own(principal: Principal, user_column: Any) -> Any | None:
    """A WHERE clause limiting rows to the principal's own user, or None for scope 'all'."""
    if not own_only(principal):
        return None
    if principal.user_id is None:
        return false()
    return user_column == principal.user_id


def require_scope_all(principal: Principal, what: str) -> None:
    if own_only(principal):
        raise Forbidden(f"{what} needs management scope 'all'")
