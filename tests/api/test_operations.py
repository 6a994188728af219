"""Operations: documentation pages that work offline, CORS for SPAs, logs that never show a secret."""

from __future__ import annotations

import logging
import re

import httpx

from app.core.logs import MaskSecretsFilter, mask_path
from app.main import create_app


async def test_docs_and_redoc_are_served_with_local_assets_only(api):
    for page in ("/docs", "/redoc", "/docs/oauth2-redirect"):
        response = await api.client.get(page)

        assert response.status_code == 200 and response.headers["content-type"].startswith("text/html"), page
        assert not re.search(r"https?://", response.text), f"{page} loads something from elsewhere"
        for asset in re.findall(r"""(?:src|href)=["']?(/[^"'>\s]+)""", response.text):
            fetched = await api.client.get(asset)
            assert fetched.status_code == 200 and fetched.content, asset
    assert "'self'" in (await api.client.get("/redoc")).headers["content-security-policy"]


async def test_swagger_ui_offers_the_password_flow_and_bearer_keys_to_authorize(api):
    page = (await api.client.get("/docs")).text
    spec = (await api.client.get("/openapi.json")).json()

    assert "oauth2RedirectUrl" in page
    assert set(spec["components"]["securitySchemes"]) == {"OAuth2Password", "ApiKey"}


async def test_cors_exposes_the_headers_an_spa_needs(settings):
    settings.cors_origins = ["https://admin.example.com"]
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
            response = await client.get("/api/v1/users", headers={"Origin": "https://admin.example.com"})
            preflight = await client.options("/api/v1/users", headers={
                "Origin": "https://admin.example.com", "Access-Control-Request-Method": "PATCH",
                "Access-Control-Request-Headers": "If-Match, Idempotency-Key, Authorization"})

    exposed = {h.strip().lower() for h in response.headers["access-control-expose-headers"].split(",")}
    assert {"etag", "location", "www-authenticate", "x-request-id", "retry-after"} <= exposed
    assert response.headers["access-control-allow-origin"] == "https://admin.example.com"
    assert preflight.status_code == 200


def test_the_access_log_masks_provisioning_tokens():
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:5000", "GET", "/provisioning/s3cr3t-T0ken_x/001565aabbcc.cfg", "1.1", 200),
                               None)

    assert MaskSecretsFilter().filter(record) is True
    line = record.getMessage()
    assert "s3cr3t-T0ken_x" not in line and "/provisioning/***/001565aabbcc.cfg" in line
    assert mask_path("/api/v1/users") == "/api/v1/users"


def test_uvicorns_loggers_carry_the_masking_filter(settings):
    create_app(settings)

    for name in ("uvicorn.access", "uvicorn.error"):
        assert any(isinstance(f, MaskSecretsFilter) for f in logging.getLogger(name).filters), name
