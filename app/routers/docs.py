"""Interactive API documentation (Swagger UI and ReDoc), served offline.

The pages' scripts and styles come from the ``fastapi-offline`` package (the
Swagger UI and ReDoc distributions), so ``/docs`` and ``/redoc`` work on a
machine without internet access and never load anything from a CDN.
"""

from __future__ import annotations

from importlib.resources import files

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS_PATH = "/docs-assets"
OAUTH2_REDIRECT = "/docs/oauth2-redirect"
# ReDoc's footer logo points at its vendor's CDN: the policy keeps every request on this service.
_SAME_ORIGIN_ONLY = ("default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
                     "img-src 'self' data:; worker-src 'self' blob:; font-src 'self' data:")


def install_docs(app: FastAPI, title: str) -> None:
    """Serve ``/docs`` (with Swagger's OAuth2 "Authorize" redirect page) and ``/redoc`` from local assets.

    The pages are module-level functions reading the app from the request: FastAPI caches what it learns about
    each endpoint function, so a closure per app would keep every app built in a process alive (the test suite
    builds thousands).
    """
    app.state.docs_title = title
    app.mount(ASSETS_PATH, StaticFiles(directory=str(files("fastapi_offline") / "static")), name="docs-assets")
    app.add_api_route("/docs", swagger_ui, methods=["GET"], include_in_schema=False)
    app.add_api_route(OAUTH2_REDIRECT, swagger_ui_redirect, methods=["GET"], include_in_schema=False)
    app.add_api_route("/redoc", redoc, methods=["GET"], include_in_schema=False)


async def swagger_ui(request: Request) -> HTMLResponse:
    app = request.app
    response = get_swagger_ui_html(
        openapi_url=app.openapi_url, title=f"{app.state.docs_title} — Swagger UI", oauth2_redirect_url=OAUTH2_REDIRECT,
        swagger_js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js", swagger_css_url=f"{ASSETS_PATH}/swagger-ui.css",
        swagger_favicon_url=f"{ASSETS_PATH}/favicon.png",
        swagger_ui_parameters={"persistAuthorization": True})
    response.headers["Content-Security-Policy"] = _SAME_ORIGIN_ONLY
    return response


async def swagger_ui_redirect() -> HTMLResponse:
    return get_swagger_ui_oauth2_redirect_html()


async def redoc(request: Request) -> HTMLResponse:
    app = request.app
    response = get_redoc_html(openapi_url=app.openapi_url, title=f"{app.state.docs_title} — ReDoc",
                              redoc_js_url=f"{ASSETS_PATH}/redoc.standalone.js",
                              redoc_favicon_url=f"{ASSETS_PATH}/favicon.png", with_google_fonts=False)
    response.headers["Content-Security-Policy"] = _SAME_ORIGIN_ONLY
    return response
