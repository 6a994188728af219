"""The committed OpenAPI document and the migrations are products: they must not drift."""

from __future__ import annotations

import json
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import SQLModel

from app.main import create_app

ROOT = Path(__file__).resolve().parents[2]


def test_committed_openapi_spec_equals_the_apps_spec(settings):
    committed = json.loads((ROOT / "openapi" / "openapi.json").read_text())
    live = json.loads(json.dumps(create_app(settings).openapi()))
    assert committed == live, "openapi/openapi.json is stale: run `make openapi` and commit it"


def test_every_route_has_a_summary_a_description_typed_responses_and_its_errors(settings):
    spec = create_app(settings).openapi()
    public = {"/healthz", "/readyz", "/api/v1/auth/token", "/provisioning/{token}/{filename}"}
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            where = f"{method.upper()} {path}"
            assert operation.get("summary"), f"{where} has no summary"
            assert operation.get("description"), f"{where} has no description (docstring)"
            success = [code for code in operation["responses"] if code.startswith("2")]
            assert success, f"{where} documents no success response"
            for code in success:
                if code != "204":
                    content = operation["responses"][code].get("content", {})
                    assert content, f"{where} {code} has no typed body"
            if path not in public:
                assert "401" in operation["responses"], f"{where} does not document 401"
                assert "x-required-permissions" in operation or "Requires" in operation["description"], \
                    f"{where} does not say what permission it needs"


async def test_migrations_create_exactly_the_models_schema(database_url):
    # The fixture database was built by `alembic upgrade head`; autogenerate must find nothing to add.
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            differences = await connection.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync, opts={"compare_type": True}),
                                              SQLModel.metadata))
    finally:
        await engine.dispose()
    assert differences == [], f"models and migrations differ: {differences}"
