"""What phones fetch: their file from the last applied configuration, behind a secret URL."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from app.core.context import SessionDep, SettingsDep
from app.core.errors import NotFound, TooManyRequests, problem_responses
from app.services import devices

router = APIRouter(tags=["devices"])
_CONTENT_TYPES = {".xml": "application/xml", ".htm": "application/xml", ".cfg": "text/plain", "accounts": "text/plain"}


@router.get("/provisioning/{token}/{filename}", name="provisioning_file", summary="A device's provisioning file",
            response_class=Response, operation_id="provisioning_file",
            responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}, "description": "The file"},
                       **problem_responses(404, 422, 429)})
async def provisioning_file(token: Annotated[str, Path(max_length=200)], filename: Annotated[str, Path(max_length=200)],
                            request: Request, session: SessionDep,
                            settings: SettingsDep) -> Response:
    """Serve the device's file from the **last applied revision** (never unapplied edits).
    No credentials besides the secret token in the URL; an unknown token or file is a 404; rate-limited per client."""
    client = request.client.host if request.client else "unknown"
    wait = request.app.state.provisioning_limiter.hit(client)
    if wait is not None:
        raise TooManyRequests("Too many provisioning requests", headers={"Retry-After": str(int(wait) + 1)})
    data = await devices.provisioning_file(session, settings, token, filename)
    if data is None:
        raise NotFound("Not found")
    media = next((v for k, v in _CONTENT_TYPES.items() if filename.endswith(k)), "application/octet-stream")
    return Response(content=data, media_type=media, headers={"Cache-Control": "no-store"})
