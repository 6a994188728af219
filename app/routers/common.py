"""Pieces every router shares: the router factory, documented responses, Location and ETag."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from app.core.errors import HEADER_DOCS, problem_responses
from app.core.http import set_etag
from app.core.routing import DocumentedRoute
from app.core.settings import Settings


def api_router(prefix: str, tag: str) -> APIRouter:
    return APIRouter(prefix=f"/api/v1{prefix}", tags=[tag], route_class=DocumentedRoute)


def responses(*errors: int, status: int = 200, etag: bool = False) -> dict[int | str, dict[str, Any]]:
    """OpenAPI responses of a route: its problem+json errors, and the headers of its success response.

    A 201 always sends ``Location`` (and the new resource's ``ETag``); ``etag`` documents
    the ``ETag`` of a single resource's 200.
    """
    documented = problem_responses(*errors)
    headers = {}
    if status == 201:
        headers = {"Location": HEADER_DOCS["Location"], "ETag": HEADER_DOCS["ETag"]}
    elif etag:
        headers = {"ETag": HEADER_DOCS["ETag"]}
    if headers:
        documented[status] = {"headers": headers}
    return documented


READ_ERRORS = responses(401, 403, 422)
ITEM_ERRORS = responses(401, 403, 404, 422, etag=True)
WRITE_ERRORS = responses(401, 403, 404, 409, 412, 422, etag=True)
DELETE_ERRORS = responses(401, 403, 404, 409, 412, 422, status=204)
CREATE_ERRORS = responses(401, 403, 409, 422, status=201)


def created(response: Response, settings: Settings, path: str, resource: Any | None = None) -> None:
    """Set ``Location`` (an absolute URL from CENTRALINO_PUBLIC_URL, never from the Host header) and the ETag."""
    response.headers["Location"] = f"{settings.public_url}{path}"
    if resource is not None:
        set_etag(response, resource)
