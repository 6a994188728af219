"""The committed OpenAPI document and the migrations are products: they must not drift."""

from __future__ import annotations

import json
import re
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
    public = {"/healthz", "/readyz", "/metrics", "/api/v1/auth/token", "/provisioning/{token}/{filename}"}
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


# --- a spec that generates good clients ---------------------------------------------------------------------------

PUBLIC = {("post", "/api/v1/auth/token"), ("get", "/healthz"), ("get", "/readyz"), ("get", "/metrics"),
          ("get", "/provisioning/{token}/{filename}")}


def _operations(spec):
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            yield path, method, operation


def _walk(node, where=""):
    """Every (location, dict) in a JSON document."""
    if isinstance(node, dict):
        yield where, node
        for key, value in node.items():
            yield from _walk(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, f"{where}/{index}")


def test_every_list_names_its_item_schema_and_no_array_is_untyped(settings):
    spec = create_app(settings).openapi()
    schemas = spec["components"]["schemas"]

    for where, node in _walk(spec):
        if node.get("type") == "array":
            assert node.get("items"), f"{where} is an array of unknown items"
    pages = [name for name in schemas if name.endswith("Page")]
    assert {"UserPage", "SipAccountPage", "DevicePage", "RolePage", "ApiKeyPage", "AuditEntryPage",
            "OrganizationPage", "RevisionPage"} <= set(pages)
    for name in pages:
        assert schemas[name]["properties"]["items"]["items"]["$ref"].startswith("#/components/schemas/"), name


def test_each_enumeration_is_one_named_schema_reused_everywhere(settings):
    spec = create_app(settings).openapi()
    schemas = spec["components"]["schemas"]

    named = {name for name, schema in schemas.items() if "enum" in schema}
    assert {"PresenceStatus", "PhoneType", "ManagementScope", "DeviceVendor", "ConfigTarget", "FileStatus",
            "PrincipalKind"} <= named
    for where, node in _walk(spec):
        top_level = where.count("/") == 3 and where.startswith("/components/schemas/")
        if "enum" in node and not top_level:
            raise AssertionError(f"{where} repeats an enumeration inline: {node['enum']}")


def test_security_schemes_cover_every_operation_that_needs_a_credential_and_none_of_the_public_ones(settings):
    spec = create_app(settings).openapi()
    schemes = spec["components"]["securitySchemes"]

    assert schemes["OAuth2Password"]["flows"]["password"]["tokenUrl"] == "/api/v1/auth/token"
    assert (schemes["ApiKey"]["type"], schemes["ApiKey"]["scheme"]) == ("http", "bearer")
    for path, method, operation in _operations(spec):
        if (method, path) in PUBLIC:
            assert "security" not in operation, f"{method} {path} is public"
        else:
            assert operation.get("security") == [{"OAuth2Password": []}, {"ApiKey": []}], f"{method} {path}"


def test_operation_ids_are_short_stable_and_body_schemas_have_readable_names(settings):
    spec = create_app(settings).openapi()

    ids = [operation["operationId"] for _, _, operation in _operations(spec)]
    assert len(ids) == len(set(ids))
    for operation_id in ids:
        assert re.fullmatch(r"[a-z][a-z_]{2,40}", operation_id) and "api_v1" not in operation_id, operation_id
    assert {"users_list", "users_create", "users_get", "users_update", "users_delete", "config_apply",
            "auth_token", "sip_accounts_reveal_secret"} <= set(ids)
    assert not [name for name in spec["components"]["schemas"] if name.startswith("Body_")]
    login = spec["paths"]["/api/v1/auth/token"]["post"]["requestBody"]["content"]
    assert login["application/x-www-form-urlencoded"]["schema"]["$ref"].endswith("/LoginForm")


def test_response_headers_are_documented(settings):
    spec = create_app(settings).openapi()

    for path, method, operation in _operations(spec):
        where = f"{method.upper()} {path}"
        for status, response in operation["responses"].items():
            headers = response.get("headers", {})
            assert "X-Request-ID" in headers, f"{where} {status}"
            if status == "201":
                assert {"Location", "ETag"} <= headers.keys(), where
            if status in ("429", "503"):
                assert "Retry-After" in headers, f"{where} {status}"
    for path in ("/api/v1/users/{user_id}", "/api/v1/sip-accounts/{account_id}", "/api/v1/devices/{device_id}",
                 "/api/v1/roles/{role_id}"):
        for method in ("get", "patch"):
            assert "ETag" in spec["paths"][path][method]["responses"]["200"]["headers"], f"{method} {path}"


def test_the_apply_body_is_optional_without_being_nullable(settings):
    # A nullable optional body made a generated Python client send UNSET as JSON and crash.
    body = create_app(settings).openapi()["paths"]["/api/v1/config/apply"]["post"]["requestBody"]

    assert not body.get("required")
    assert body["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ApplyRequest"}
