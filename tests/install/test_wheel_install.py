"""An install that works anywhere: the built wheel, in a fresh virtual environment, migrates and serves from an
empty directory (the migrations travel with the package), with its documentation offline and its access log
free of secrets."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import venv
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "wheel-Owner-Pass-123"


def run(*command, **kwargs) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([str(part) for part in command], capture_output=True, text=True, timeout=600, **kwargs)
    assert result.returncode == 0, f"{command}: {result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The ``centralino`` command of a fresh venv holding only the built wheel and its dependencies."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"
    source.mkdir()
    for name in ("app", "alembic", "pyproject.toml", "README.md"):
        copy = shutil.copytree if (ROOT / name).is_dir() else shutil.copy
        copy(ROOT / name, source / name)
    run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", work / "dist", source)
    [wheel] = (work / "dist").glob("centralino-*.whl")
    environment = work / "venv"
    venv.EnvBuilder(with_pip=True).create(environment)
    run(environment / "bin" / "python", "-m", "pip", "install", "--quiet", wheel)
    return environment / "bin" / "centralino"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def settings_env(directory: Path, port: int) -> dict[str, str]:
    keep = {name: value for name, value in os.environ.items() if not name.startswith(("CENTRALINO_", "PYTHON"))}
    return {**keep, "CENTRALINO_DATABASE_URL": f"sqlite+aiosqlite:///{directory / 'centralino.db'}",
            "CENTRALINO_SECRET_KEY": "s" * 40, "CENTRALINO_ENCRYPTION_KEY": "e" * 40,
            "CENTRALINO_BOOTSTRAP_ADMIN_PASSWORD": PASSWORD, "CENTRALINO_CONFIG_DIR": str(directory / "generated"),
            "CENTRALINO_PUBLIC_URL": f"http://127.0.0.1:{port}"}


def test_the_wheel_migrates_and_serves_from_an_empty_directory(installed, tmp_path):
    port = free_port()
    env = settings_env(tmp_path, port)
    assert not any(tmp_path.iterdir())

    migrated = run(installed, "migrate", env=env, cwd=tmp_path)
    assert "latest migration" in migrated.stdout

    server = subprocess.Popen([str(installed), "serve", "--port", str(port)], env=env, cwd=tmp_path,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output = []
    try:
        for line in server.stdout:  # wait for uvicorn to say it serves, not for a fixed time
            output.append(line)
            if "Application startup complete" in line:
                break
        else:
            pytest.fail("the server exited:\n" + "".join(output))
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, timeout=30) as client:
            assert client.get("/healthz").json() == {"status": "ok"}
            assert client.get("/readyz").status_code == 200
            docs = client.get("/docs").text
            assert not re.search(r"https?://", docs)
            assert client.get("/docs-assets/swagger-ui-bundle.js").status_code == 200
            assert client.get("/docs-assets/redoc.standalone.js").status_code == 200

            token = client.post("/api/v1/auth/token", data={"username": "admin", "password": PASSWORD}).json()
            headers = {"Authorization": f"Bearer {token['access_token']}"}
            user = client.post("/api/v1/users", json={"first_name": "Anna", "extension": "next"}, headers=headers)
            device = client.post("/api/v1/devices", json={"vendor": "baresip",
                                                          "sip_account_id": user.json()["sip_account"]["id"]},
                                 headers=headers).json()
            assert client.post("/api/v1/config/apply", json={}, headers=headers).status_code == 200
            url = device["provisioning_url"]
            assert url.startswith(base + "/provisioning/")
            served = client.get(url + device["provisioning_filename"])
            assert served.status_code == 200 and "auth_pass=" in served.text
    finally:
        server.terminate()
        output.append(server.communicate(timeout=60)[0])

    log = "".join(output)
    token_in_url = url.removeprefix(base + "/provisioning/").strip("/")
    # One line per request, by route template: the fetch is logged, its token never.
    assert "GET /provisioning/{token}/{filename} 200" in log, log
    assert token_in_url not in log
    assert (tmp_path / "generated" / "default" / "current").is_symlink()


def test_the_installed_command_refuses_an_unmigrated_database_in_one_line(installed, tmp_path):
    env = settings_env(tmp_path, free_port())
    (tmp_path / "centralino.db").touch()

    result = subprocess.run([str(installed), "serve", "--no-migrate"], env=env, cwd=tmp_path, capture_output=True,
                            text=True, timeout=120)

    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    assert result.returncode == 1 and len(lines) == 1, lines
    assert "run `centralino migrate`" in lines[0]
