"""The reference for the API benchmark: bare FastAPI endpoints returning the same shapes as the service.

The simplest FastAPI endpoint there is: no database, no authentication, no
middleware, no response model; each returns a JSON-ready dict built once at
start-up, with the same fields and values as the service's responses. The
service's rates are reported as ratios to these.
"""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime

from fastapi import FastAPI, Request
from fastapi.responses import Response

from app.models.enums import ManagementScope, PresenceStatus, PrincipalKind
from app.models.users import Me, SipAccountSummary, UserCreated, UserPage, UserRead

app = FastAPI()
_NOW = datetime.now(UTC)


def _user(index: int) -> UserRead:
    return UserRead(id=uuid.uuid4(), first_name=f"First{index}", last_name=f"Last{index:04d}",
                    email=f"user{index}@example.com", mobile="+48221234567", caller_id=None, language="en",
                    status=PresenceStatus.available, directory_visible=True, multiple_calls=True,
                    login_required=False, voicemail_enabled=False, active=True,
                    sip_account=SipAccountSummary(id=uuid.uuid4(), extension=100 + index, active=True), access=None,
                    created_at=_NOW, updated_at=_NOW)


_PAGE = UserPage(items=[_user(n) for n in range(50)], total=1000, limit=50, offset=0).model_dump(mode="json")
_ONE = _user(1).model_dump(mode="json")
_ME = Me(kind=PrincipalKind.user, id=uuid.uuid4(), name="admin", organization="default", home_organization="default",
         role="owner", permissions=["users.read", "users.write"], scope=ManagementScope.all,
         platform_admin=True).model_dump(mode="json")
_CREATED = UserCreated(**_user(2).model_dump(), sip_password=None).model_dump(mode="json")


@app.get("/api/v1/users")
async def list_users() -> dict:
    return _PAGE


@app.get("/api/v1/users/{user_id}")
async def get_user(user_id: str) -> dict:
    return _ONE


@app.get("/api/v1/auth/me")
async def me() -> dict:
    return _ME


@app.post("/api/v1/users", status_code=201)
async def create_user(payload: dict) -> dict:
    return _CREATED


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


# --- The lean reference: the same work as the service's list and get, hand-written ------------
# Decode the token, load the principal (one query), one page query and one count, serialize:
# what the service's list cannot avoid doing. It shows how close the service comes to what this
# stack (FastAPI, SQLAlchemy, aiosqlite/asyncpg, one process) allows.
#
# Enabled when CENTRALINO_DATABASE_URL is set (bench.api_bench starts it that way).
def _lean_routes() -> None:
    from sqlalchemy import bindparam, func, select
    from sqlalchemy.ext.asyncio import create_async_engine

    from app.core.security import decode_access_token
    from app.core.settings import Settings
    from app.models import Role, SipAccount, User

    settings = Settings()
    engine = create_async_engine(settings.database_url)
    users, accounts, roles = User.__table__, SipAccount.__table__, Role.__table__
    principal = (select(users.c.organization_id, roles.c.permissions)
                 .select_from(users.join(roles, roles.c.id == users.c.role_id))
                 .where(users.c.id == bindparam("id"), users.c.auth_version == bindparam("ver")))
    count = select(func.count()).select_from(users).where(users.c.organization_id == bindparam("org"))
    keys = (select(users.c.id).where(users.c.organization_id == bindparam("org"))
            .order_by(users.c.last_name, users.c.id).limit(50).subquery())
    columns = [users.c[name] for name in ("id", "first_name", "last_name", "email", "mobile", "caller_id", "language",
                                          "status", "directory_visible", "multiple_calls", "login_required",
                                          "voicemail_enabled", "active", "created_at", "updated_at")]
    page = (select(*columns, accounts.c.id, accounts.c.extension, accounts.c.active)
            .select_from(keys.join(users, users.c.id == keys.c.id).outerjoin(accounts, accounts.c.user_id == users.c.id))
            .order_by(users.c.last_name, users.c.id))
    one = (select(*columns, accounts.c.id, accounts.c.extension, accounts.c.active)
           .select_from(users.outerjoin(accounts, accounts.c.user_id == users.c.id))
           .where(users.c.id == bindparam("id"), users.c.organization_id == bindparam("org")))
    names = [column.name for column in columns]

    def item(row) -> dict:
        data = dict(zip(names, row[:15]))
        data["sip_account"] = {"id": row[15], "extension": row[16], "active": row[17]} if row[15] else None
        data["access"] = None
        return data

    async def org_of(request: Request, connection) -> object:
        claims = decode_access_token(settings, request.headers["authorization"].removeprefix("Bearer "))
        row = (await connection.execute(principal, {"id": uuid.UUID(claims["sub"]), "ver": claims["ver"]})).first()
        return row[0]

    @app.get("/lean/api/v1/users")
    async def lean_list(request: Request) -> Response:
        async with engine.connect() as connection:
            org = await org_of(request, connection)
            rows = (await connection.execute(page, {"org": org})).all()
            total = (await connection.execute(count, {"org": org})).scalar_one()
        return Response(UserPage.model_validate({"items": [item(r) for r in rows], "total": total, "limit": 50,
                                                 "offset": 0}).model_dump_json(), media_type="application/json")

    @app.get("/lean/api/v1/users/{user_id}")
    async def lean_get(user_id: uuid.UUID, request: Request) -> Response:
        async with engine.connect() as connection:
            org = await org_of(request, connection)
            row = (await connection.execute(one, {"id": user_id, "org": org})).first()
        return Response(UserRead.model_validate(item(row)).model_dump_json(), media_type="application/json")


if os.environ.get("CENTRALINO_DATABASE_URL"):
    _lean_routes()
