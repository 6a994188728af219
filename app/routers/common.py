"""Pieces every router shares."""

from __future__ import annotations

from fastapi import APIRouter

from app.core.errors import problem_responses
from app.core.routing import DocumentedRoute

READ_ERRORS = problem_responses(401, 403, 422)
ITEM_ERRORS = problem_responses(401, 403, 404, 422)
WRITE_ERRORS = problem_responses(401, 403, 404, 409, 412, 422)
CREATE_ERRORS = problem_responses(401, 403, 409, 422)


def api_router(prefix: str, tag: str) -> APIRouter:
    return APIRouter(prefix=f"/api/v1{prefix}", tags=[tag], route_class=DocumentedRoute)
