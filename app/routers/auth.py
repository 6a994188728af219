"""Login and the current principal."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordRequestForm

from app.core.context import Context, SettingsDep, require
from app.core.errors import problem_responses
from app.models.auth import Token
from app.models.users import Me
from app.routers.common import api_router
from app.services import auth

router = api_router("/auth", "auth")


@router.post("/token", response_model=Token, summary="Log in (OAuth2 password flow)",
             responses=problem_responses(401, 422, 429))
async def issue_token(request: Request, settings: SettingsDep,
                      form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> Token:
    """Exchange a username and password for a bearer JWT.

    A wrong username and a wrong password give the same 401. Repeated failures
    for one username are slowed down, then refused with 429 for a while.
    """
    return await auth.login(request.app.state.sessionmaker, settings, form.username, form.password)


@router.get("/me", response_model=Me, summary="The authenticated principal", responses=problem_responses(401, 403, 404))
async def me(ctx: Annotated[Context, Depends(require())]) -> Me:
    """Who is calling: organization, role, permissions and management scope."""
    p = ctx.principal
    return Me(kind=p.kind, id=p.id, name=p.name, organization=p.organization.slug,
              home_organization=p.home_organization.slug, role=p.role, permissions=sorted(p.permissions),
              scope=p.scope, platform_admin=p.platform_admin)
