"""What phones fetch: their file from the last applied configuration, behind a secret URL."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from app.core.context import SessionDep, SettingsDep
from app.core.errors import NotFound, TooManyRequests, problem_response, problem_responses
from app.services import devices, provisioning_auth

router = APIRouter(tags=["devices"])
_CONTENT_TYPES = {".xml": "application/xml", ".htm": "application/xml", ".cfg": "text/plain", "accounts": "text/plain"}


@router.get("/provisioning/{token}/{filename}", name="provisioning_file", summary="A device's provisioning file",
            response_class=Response, operation_id="provisioning_file",
            responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}, "description": "The file"},
                       **problem_responses(401, 404, 422, 429)})
async def provisioning_file(token: Annotated[str, Path(max_length=200)], filename: Annotated[str, Path(max_length=200)],
                            request: Request, session: SessionDep,
                            settings: SettingsDep) -> Response:
    """Serve the device's file from the **last applied revision** (never unapplied edits).
    The secret token in the URL identifies the device; when its organization set provisioning credentials, the
    phone must also authenticate with HTTP Digest or Basic (401 with both challenges otherwise). An unknown
    token or file is a 404; rate-limited per client."""
    client = request.client.host if request.client else "unknown"
    wait = request.app.state.provisioning_limiter.hit(client)
    if wait is not None:
        raise TooManyRequests("Too many provisioning requests", headers={"Retry-After": str(int(wait) + 1)})
    found = await devices.find_by_token(session, token)
    if found is None:
        raise NotFound("Not found")
    device, organization = found
    if organization.provisioning_username:
        password = request.app.state.secret_box.decrypt(organization.provisioning_password_encrypted)
        uri = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        state = provisioning_auth.check(request.headers.get("authorization"), request.method, uri,
                                        organization.provisioning_username, password, settings.jwt_key())
        if state != "ok":
            refused = problem_response(401, "This provisioning server wants the organization's provisioning "
                                       "credentials (HTTP Digest or Basic)", slug="unauthorized")
            for challenge in provisioning_auth.challenges(settings.jwt_key(), stale=state == "stale"):
                refused.headers.append("WWW-Authenticate", challenge)
            return refused
    data = await asyncio.to_thread(devices.device_file, settings, device, organization, token, filename)
    if data is None:
        raise NotFound("Not found")
    media = next((v for k, v in _CONTENT_TYPES.items() if filename.lower().endswith(k)), "application/octet-stream")
    return Response(content=data, media_type=media, headers={"Cache-Control": "no-store"})
