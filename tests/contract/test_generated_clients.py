"""The committed spec generates good clients: a Python client (openapi-python-client) drives the live app with
typed models, and TypeScript types (openapi-typescript) type-check a small usage file."""

from __future__ import annotations

import importlib
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.conftest import BOOTSTRAP_PASSWORD, skip_or_fail

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "openapi" / "openapi.json"


@pytest.fixture(scope="module")
def client_package(tmp_path_factory):
    """The generated Python client, importable as ``centralino_client`` (warnings in the spec fail generation)."""
    work = tmp_path_factory.mktemp("python-client")
    (work / "config.yaml").write_text("post_hooks: []\n")
    generator = Path(sys.executable).parent / "openapi-python-client"
    result = subprocess.run([str(generator), "generate", "--path", str(SPEC), "--output-path",
                             str(work / "centralino_client"), "--meta", "none", "--config", str(work / "config.yaml"),
                             "--fail-on-warning"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    sys.path.insert(0, str(work))
    try:
        yield importlib.import_module("centralino_client")
    finally:
        sys.path.remove(str(work))
        for name in [m for m in sys.modules if m == "centralino_client" or m.startswith("centralino_client.")]:
            del sys.modules[name]


async def test_a_generated_python_client_logs_in_creates_lists_patches_reveals_and_applies(api, client_package):
    from centralino_client import AuthenticatedClient, Client
    from centralino_client.api.auth import auth_token
    from centralino_client.api.config import config_apply
    from centralino_client.api.sip_accounts import sip_accounts_reveal_secret
    from centralino_client.api.users import users_create, users_get, users_list, users_update
    from centralino_client.models import (ApplyRequest, ApplyResult, LoginForm, Problem, SipSecret, Token,
                                          UserCreate, UserCreated, UserPage, UserRead, UserUpdate)

    transport = {"transport": httpx.ASGITransport(app=api.app)}
    anonymous = Client(base_url="http://testserver", httpx_args=transport, raise_on_unexpected_status=True)
    token = await auth_token.asyncio(client=anonymous, body=LoginForm(username="admin", password=BOOTSTRAP_PASSWORD))
    assert isinstance(token, Token)

    async with AuthenticatedClient(base_url="http://testserver", token=token.access_token, httpx_args=transport,
                                   raise_on_unexpected_status=True) as client:
        created = await users_create.asyncio(client=client, body=UserCreate(first_name="Anna", last_name="Nowak",
                                                                             extension="next"))
        assert isinstance(created, UserCreated) and created.sip_password

        page = await users_list.asyncio(client=client, limit=10, q="nowak")
        assert isinstance(page, UserPage) and page.total == 1
        assert all(isinstance(item, UserRead) for item in page.items)
        assert page.items[0].sip_account.extension == created.sip_account.extension

        fetched = await users_get.asyncio_detailed(str(created.id), client=client)
        etag = fetched.headers["etag"]
        changed = await users_update.asyncio_detailed(str(created.id), client=client, if_match=etag,
                                                      body=UserUpdate(last_name="Kowalska"))
        stale = await users_update.asyncio_detailed(str(created.id), client=client, if_match=etag,
                                                    body=UserUpdate(last_name="Again"))
        assert changed.status_code == 200 and changed.parsed.last_name == "Kowalska"
        assert stale.status_code == 412 and isinstance(stale.parsed, Problem)

        secret = await sip_accounts_reveal_secret.asyncio(str(created.sip_account.id), client=client)
        assert isinstance(secret, SipSecret) and secret.password == created.sip_password

        dry = await config_apply.asyncio(client=client, body=ApplyRequest(dry_run=True))
        applied = await config_apply.asyncio(client=client)  # no body at all
        assert isinstance(dry, ApplyResult) and dry.dry_run and not dry.created
        assert isinstance(applied, ApplyResult) and applied.created and applied.revision == 1


USAGE = """
import type { components, operations, paths } from "./schema";

type UserPage = paths["/api/v1/users"]["get"]["responses"]["200"]["content"]["application/json"];
type UserRead = components["schemas"]["UserRead"];
type Status = components["schemas"]["PresenceStatus"];

// List items are typed: a field of an item is a string, not unknown.
export function names(page: UserPage): string[] {
  return page.items.map((user) => `${user.first_name} ${user.last_name}`);
}

export function extensions(page: UserPage): number[] {
  return page.items.flatMap((user: UserRead) => (user.sip_account ? [user.sip_account.extension] : []));
}

export const away: Status = "away";
export const patch: operations["users_update"]["parameters"]["header"] = { "If-Match": '"abc"' };
export const apply: components["schemas"]["ApplyRequest"] = { dry_run: true, targets: ["asterisk"] };
"""


def test_typescript_types_from_the_spec_type_check_a_usage_file(tmp_path):
    npm = shutil.which("npm")
    if npm is None:
        skip_or_fail("node/npm are not installed: the TypeScript check needs them")
    shutil.copy(ROOT / "tests" / "typescript" / "package.json", tmp_path / "package.json")
    shutil.copy(ROOT / "tests" / "typescript" / "tsconfig.json", tmp_path / "tsconfig.json")
    (tmp_path / "usage.ts").write_text(USAGE)

    def run(*command: str) -> None:
        result = subprocess.run(list(command), cwd=tmp_path, capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, f"{command}:\n{result.stdout}\n{result.stderr}"

    run(npm, "install", "--no-audit", "--no-fund", "--loglevel=error")
    run("npx", "--no-install", "openapi-typescript", str(SPEC), "--output", "schema.d.ts")
    run("npx", "--no-install", "tsc", "--noEmit", "-p", "tsconfig.json")
    # The same check must fail when the types are wrong: it is a real type check.
    (tmp_path / "usage.ts").write_text(USAGE + '\nexport const wrong: components["schemas"]["PresenceStatus"] = "asleep";\n')
    failing = subprocess.run(["npx", "--no-install", "tsc", "--noEmit", "-p", "tsconfig.json"], cwd=tmp_path,
                             capture_output=True, text=True, timeout=600)
    assert failing.returncode != 0 and "asleep" in failing.stdout
