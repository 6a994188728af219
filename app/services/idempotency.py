"""``Idempotency-Key`` on POST: a retry with the same key and body gets the first response."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
import json
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, Header, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from app.core.context import Context
from app.core.errors import Conflict, ValidationProblem
from app.models import IdempotencyRecord


# A key protects retries for a day; after that the same key starts afresh.
RETENTION = timedelta(hours=24)
# Headers of the first response that a replay repeats.
_REPLAYED_HEADERS = ("location", "etag")


class Idempotency:
    """Per-request handle: replays a stored response or stores the new one in the same transaction."""

    def __init__(self, key: str | None, method: str, path: str, body_hash: str):
        self.key, self.method, self.path, self.body_hash = key, method, path, body_hash

    async def run(self, ctx: Context, status_code: int, create: Callable[[], Awaitable[Any]],
                  response: Response) -> Any:
        """Run ``create`` once per key; later calls with the key return the stored response (and its headers)."""
        if self.key is None:
            return await create()
        await ctx.session.execute(delete(IdempotencyRecord).where(
            IdempotencyRecord.principal_id == ctx.principal.id,
            IdempotencyRecord.created_at < datetime.now(UTC) - RETENTION))
        stored = (await ctx.session.execute(select(IdempotencyRecord).where(
            IdempotencyRecord.organization_id == ctx.principal.organization_id,
            IdempotencyRecord.principal_id == ctx.principal.id, IdempotencyRecord.key == self.key))).scalar_one_or_none()
        if stored is not None:
            if (stored.method, stored.path, stored.request_hash) != (self.method, self.path, self.body_hash):
                raise ValidationProblem.field(["header", "Idempotency-Key"],
                                              "This Idempotency-Key was used with a different request", "idempotency_mismatch")
            # Stored encrypted: a first response may carry a secret shown once (a SIP password).
            stored_response = json.loads(ctx.secret_box.decrypt(stored.response_body["encrypted"]))
            if stored.response_body.get("format") != 2:  # stored before headers were kept: the body alone
                stored_response = {"body": stored_response, "headers": {}}
            return JSONResponse(stored_response["body"], status_code=stored.status_code,
                                headers={**stored_response["headers"], "Idempotent-Replayed": "true"})
        result = await create()
        body = {"body": jsonable_encoder(result),
                "headers": {name: response.headers[name] for name in _REPLAYED_HEADERS if name in response.headers}}
        try:
            async with ctx.session.begin_nested():
                ctx.session.add(IdempotencyRecord(
                    organization_id=ctx.principal.organization_id, principal_id=ctx.principal.id, key=self.key,
                    method=self.method, path=self.path, request_hash=self.body_hash, status_code=status_code,
                    response_body={"format": 2, "encrypted": ctx.secret_box.encrypt(json.dumps(body))}))
                await ctx.session.flush()
        except IntegrityError as exc:
            # A concurrent request with the same key won; this one must not create twice.
            raise Conflict("A request with this Idempotency-Key is already being processed; retry to get its result") from exc
        return result


async def idempotency(
    request: Request,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=255,
                                                  description="Makes a retried POST safe: same key and body, same response")] = None,
) -> Idempotency:
    body = await request.body()
    return Idempotency(idempotency_key, request.method, request.url.path, hashlib.sha256(body).hexdigest())


IdempotencyDep = Annotated[Idempotency, Depends(idempotency)]
