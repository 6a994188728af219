"""Liveness and readiness probes."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text

from app.core.errors import problem_response

router = APIRouter(tags=["operations"])


class Health(BaseModel):
    status: str


@router.get("/healthz", response_model=Health, summary="Liveness")
async def healthz() -> Health:
    """The process is up (does not touch the database)."""
    return Health(status="ok")


@router.get("/readyz", response_model=Health, summary="Readiness",
            responses={503: {"description": "The database is unreachable"}})
async def readyz(request: Request) -> Health | JSONResponse:
    """The service can reach its database."""
    try:
        async with request.app.state.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception:  # any failure means "not ready"; the cause goes to the log, not the body
        return problem_response(503, "Database unreachable")
    return Health(status="ok")
