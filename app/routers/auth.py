"""Login and the current principal."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Form, Request

from app.core.context import Context, SettingsDep, require
from app.models.auth import LoginForm, Token
from app.models.enums import PrincipalKind
from app.models.users import Me
from app.routers.common import api_router, responses
from app.services import auth

router = api_router("/auth", "auth")


@router.post("/token", response_model=Token, summary="Log in (OAuth2 password flow)",
             responses=responses(401, 422, 429, 503), operation_id="auth_token")
async def issue_token(request: Request, settings: SettingsDep, form: Annotated[LoginForm, Form()]) -> Token:
    """Exchange a username and password for a bearer JWT.

    A wrong username and a wrong password give the same 401. Failed attempts are counted per username
    and client address: after a few they are slowed down, then refused with 429 until the window ends.
    The token stops working when the user's password, login, role or scope changes or the user is
    deactivated."""
    client = request.client.host if request.client else None
    state = request.app.state
    return await auth.login(state.sessionmaker, settings, state.password_hasher, state.login_queue,
                            form.username, form.password, client)


@router.get("/me", response_model=Me, summary="The authenticated principal", responses=responses(401, 403, 404),
            operation_id="auth_me")
async def me(ctx: Annotated[Context, Depends(require())]) -> Me:
    """Who is calling: organization, role, permissions and management scope."""
    p = ctx.principal
    return Me.model_construct(kind=PrincipalKind(p.kind), id=p.id, name=p.name, organization=p.organization.slug,
                              home_organization=p.home_organization.slug, role=p.role,
                              permissions=sorted(p.permissions), scope=p.scope, platform_admin=p.platform_admin)
