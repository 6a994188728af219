"""Liveness and readiness probes."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from app.core.db import MODE, READ
from app.core.errors import problem_response, problem_responses
from app.models.base import ApiModel

router = APIRouter(tags=["operations"])


class Health(ApiModel):
    """A probe's answer."""

    status: str


@router.get("/healthz", response_model=Health, summary="Liveness", operation_id="healthz")
async def healthz() -> Health:
    """The process is up (does not touch the database)."""
    return Health(status="ok")


@router.get("/readyz", response_model=Health, summary="Readiness", operation_id="readyz",
            responses=problem_responses(503))
async def readyz(request: Request) -> Health | JSONResponse:
    """The service can reach its database."""
    try:
        async with request.app.state.engine.connect() as connection:
            connection = await connection.execution_options(**{MODE: READ})
            await connection.execute(text("SELECT 1"))
    except Exception:  # any failure means "not ready"; the cause goes to the log, not the body
        return problem_response(503, "Database unreachable", slug="service-unavailable",
                                headers={"Retry-After": "5"})
    return Health(status="ok")
