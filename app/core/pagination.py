"""List parameters shared by every collection: limit, offset, sort, q."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Query
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import ValidationProblem


@dataclass(frozen=True, slots=True)
class ListParams:
    limit: int
    offset: int
    sort: str | None
    q: str | None


async def list_params(
    limit: Annotated[int, Query(ge=1, le=500, description="Page size (max 500)")] = 50,
    offset: Annotated[int, Query(ge=0, le=2**31 - 1, description="Items to skip")] = 0,
    sort: Annotated[str | None, Query(max_length=50, description="Field to sort by; prefix with '-' for descending",
                                      examples=["-created_at"])] = None,
    q: Annotated[str | None, Query(max_length=200, description="Free-text search")] = None,
) -> ListParams:
    return ListParams(limit=limit, offset=offset, sort=sort, q=q.strip() if q and q.strip() else None)


ListParamsDep = Annotated[ListParams, Depends(list_params)]


@dataclass(frozen=True, slots=True)
class Sort:
    """The column a list is sorted by, and the direction."""

    column: Any
    descending: bool
    name: str = ""

    def order(self, tiebreak: Any) -> tuple[Any, Any]:
        """ORDER BY terms: the column, then a unique tiebreak so pages never overlap."""
        return (self.column.desc() if self.descending else self.column.asc()), tiebreak


def sort_column(params: ListParams, columns: dict[str, Any], default: str) -> Sort:
    """The requested sort among the allowed columns (422 naming ``sort`` otherwise)."""
    sort = params.sort or default
    name = sort.lstrip("-")
    if name not in columns:
        raise ValidationProblem.field(["query", "sort"], f"Cannot sort by '{name}'; choose from {', '.join(sorted(columns))}")
    return Sort(columns[name], sort.startswith("-"), name)


def apply_sort(query: Select, params: ListParams, columns: dict[str, Any], default: str, tiebreak: Any) -> Select:
    """Order by an allowed column (422 naming ``sort`` otherwise), with a stable tiebreak."""
    return query.order_by(*sort_column(params, columns, default).order(tiebreak))


async def paginate(session: AsyncSession, query: Select, params: ListParams, *,
                   scalars: bool = True) -> tuple[list[Any], int]:
    """The requested page of ``query`` and the total number of rows it matches.

    With ``scalars=False`` the page holds whole rows (for queries selecting several entities).
    """
    total = (await session.execute(select(func.count()).select_from(query.order_by(None).subquery()))).scalar_one()
    result = await session.execute(query.limit(params.limit).offset(params.offset))
    return list(result.scalars().all() if scalars else result.all()), total


def like_pattern(text: str) -> str:
    """A LIKE pattern matching ``text`` anywhere, case-insensitively, with % and _ taken literally."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def contains(column: Any, text: Any) -> Any:
    """Case-insensitive substring match; ``text`` is the searched text, or a bound parameter holding
    a ``like_pattern``."""
    pattern = text if not isinstance(text, str) else like_pattern(text)
    return func.lower(column).like(pattern, escape="\\")
