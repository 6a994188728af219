"""Settings refuse insecure production; the CLI migrates, creates admins and applies."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from app.cli import cli
from app.core import settings as settings_module
from app.core.settings import InsecureSettings, Settings


def test_production_refuses_to_start_without_secrets_and_names_them():
    with pytest.raises(InsecureSettings) as refused:
        Settings(_env_file=None, env="production")
    message = str(refused.value)
    assert "CENTRALINO_SECRET_KEY" in message and "CENTRALINO_ENCRYPTION_KEY" in message


def test_production_refuses_short_secrets_and_a_weak_bootstrap_password():
    with pytest.raises(InsecureSettings) as refused:
        Settings(_env_file=None, env="production", secret_key="short", encryption_key="e" * 40,
                 bootstrap_admin_password="weak")
    assert "CENTRALINO_SECRET_KEY" in str(refused.value)
    assert "CENTRALINO_BOOTSTRAP_ADMIN_PASSWORD" in str(refused.value)
    assert "CENTRALINO_ENCRYPTION_KEY" not in str(refused.value)


def test_production_starts_with_strong_secrets():
    settings = Settings(_env_file=None, env="production", secret_key="s" * 40, encryption_key="e" * 40)
    assert settings.jwt_key() == "s" * 40


@pytest.mark.parametrize("sender", ["not an address", "PBX <@example.com>", "pbx@example.com\r\nBcc: x@evil.test"])
def test_a_mail_sender_that_is_no_address_is_refused_naming_the_setting(sender):
    with pytest.raises(ValueError, match="CENTRALINO_SMTP_FROM"):
        Settings(_env_file=None, smtp_from=sender)


def test_mail_is_unconfigured_until_a_host_is_given_and_starttls_is_the_default():
    assert Settings(_env_file=None, smtp_host="  ").smtp_host is None
    configured = Settings(_env_file=None, smtp_host="mail.example.com", smtp_from="PBX <pbx@example.com>")
    assert (configured.smtp_host, configured.smtp_port, configured.smtp_security) == ("mail.example.com", 587,
                                                                                      "starttls")


def test_development_generates_secrets_once_and_keeps_them(tmp_path):
    path = tmp_path / "dev-secrets.json"
    first = Settings(_env_file=None, dev_secrets_file=path)
    second = Settings(_env_file=None, dev_secrets_file=path)
    assert first.jwt_key() == second.jwt_key() and first.fernet_key_material() == second.fernet_key_material()
    assert path.stat().st_mode & 0o077 == 0


def test_comma_separated_cors_origins_and_targets_are_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("CENTRALINO_CORS_ORIGINS", "https://a.example, https://b.example")
    monkeypatch.setenv("CENTRALINO_CONFIG_TARGETS", "asterisk,kamailio")
    settings = Settings(_env_file=None)
    assert settings.cors_origins == ["https://a.example", "https://b.example"]
    assert settings.config_targets == ["asterisk", "kamailio"]


def test_an_unknown_config_target_is_refused(monkeypatch):
    monkeypatch.setenv("CENTRALINO_CONFIG_TARGETS", "asterisk,freeswitch")
    with pytest.raises(ValueError, match="freeswitch"):
        Settings(_env_file=None)


@pytest.fixture
def cli_env(tmp_path, monkeypatch):
    monkeypatch.setenv("CENTRALINO_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("CENTRALINO_SECRET_KEY", "k" * 40)
    monkeypatch.setenv("CENTRALINO_ENCRYPTION_KEY", "e" * 40)
    monkeypatch.setenv("CENTRALINO_CONFIG_DIR", str(tmp_path / "generated"))
    settings_module.get_settings.cache_clear()
    yield tmp_path
    settings_module.get_settings.cache_clear()


def bootstrap() -> None:
    """What `centralino serve` does on first start: the default organization and its owner."""
    import asyncio

    from app.core.db import create_engine, create_sessionmaker, session_scope
    from app.services.bootstrap import ensure_bootstrap

    async def run():
        engine = create_engine(settings_module.get_settings())
        async for session in session_scope(create_sessionmaker(engine)):
            await ensure_bootstrap(session, settings_module.get_settings())
        await engine.dispose()

    asyncio.run(run())


def test_the_cli_migrates_creates_an_admin_and_applies(cli_env):
    runner = CliRunner()
    assert runner.invoke(cli, ["migrate"]).exit_code == 0
    # An empty database has no organization yet: create-admin names the problem.
    missing = runner.invoke(cli, ["create-admin", "--username", "ops", "--password", "Secret-123"])
    assert missing.exit_code != 0 and "default" in missing.output

    bootstrap()
    created = runner.invoke(cli, ["create-admin", "--username", "ops", "--password", "Secret-123"])
    assert created.exit_code == 0, created.output
    again = runner.invoke(cli, ["create-admin", "--username", "ops", "--password", "Secret-123"])
    assert again.exit_code == 1 and "taken" in again.output

    dry = runner.invoke(cli, ["apply", "--organization", "default", "--dry-run"])
    assert dry.exit_code == 0 and "would change" in dry.output
    assert not (cli_env / "generated" / "default" / "current").exists()
    real = runner.invoke(cli, ["apply"])
    assert real.exit_code == 0 and "default: revision 1" in real.output
    assert (cli_env / "generated" / "default" / "current" / "kamailio" / "subscriber").exists()
    unknown = runner.invoke(cli, ["apply", "--organization", "nope"])
    assert unknown.exit_code != 0


def _centralino(*args: str, env: dict[str, str], cwd):
    import os
    import subprocess
    import sys
    from pathlib import Path

    command = [str(Path(sys.executable).parent / "centralino"), *args]
    return subprocess.run(command, env={**os.environ, **env}, cwd=cwd, capture_output=True, text=True, timeout=120)


def _one_line_error(result) -> str:
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    assert result.returncode == 1, result.stdout + result.stderr
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


def test_a_database_that_cannot_be_reached_at_start_up_is_one_clear_line(tmp_path):
    env = {"CENTRALINO_DATABASE_URL": "postgresql+asyncpg://centralino:hunter2@127.0.0.1:1/centralino",
           "CENTRALINO_SECRET_KEY": "k" * 40, "CENTRALINO_ENCRYPTION_KEY": "e" * 40}

    for command in (("migrate",), ("serve", "--port", "1")):
        line = _one_line_error(_centralino(*command, env=env, cwd=tmp_path))

        assert line.startswith("error: cannot migrate the database at postgresql+asyncpg://centralino:***@127.0.0.1:1/")
        assert "hunter2" not in line
    line = _one_line_error(_centralino("serve", "--no-migrate", "--port", "1", env=env, cwd=tmp_path))
    assert line.startswith("error: cannot reach the database at")


def test_serving_an_unmigrated_database_without_migrating_says_to_run_migrate(tmp_path):
    env = {"CENTRALINO_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}",
           "CENTRALINO_SECRET_KEY": "k" * 40, "CENTRALINO_ENCRYPTION_KEY": "e" * 40}
    (tmp_path / "empty.db").touch()

    line = _one_line_error(_centralino("serve", "--no-migrate", env=env, cwd=tmp_path))

    assert "not migrated" in line and "run `centralino migrate`" in line


def test_the_readme_documents_every_setting_that_exists():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    table = readme[readme.index("## Settings"):readme.index("## Configuration: save, then apply")]

    missing = [f"CENTRALINO_{name.upper()}" for name in Settings.model_fields
               if f"`CENTRALINO_{name.upper()}`" not in table]
    assert missing == [], f"README's settings table lacks {missing}"


def test_the_cli_imports_users_from_csv_with_a_dry_run_and_a_summary(cli_env):
    runner = CliRunner()
    assert runner.invoke(cli, ["migrate"]).exit_code == 0
    bootstrap()
    good = cli_env / "users.csv"
    good.write_text("email;first_name;last_name;extension\r\nanna@example.com;Anna;Nowak;next\r\n"
                    "bruno@example.com;Bruno;Bianchi;\r\n", encoding="utf-8-sig")
    bad = cli_env / "bad.csv"
    bad.write_text("email;first_name\r\nnot-an-address;Carla\r\n")

    dry = runner.invoke(cli, ["users", "import", str(good), "--dry-run"])
    real = runner.invoke(cli, ["users", "import", str(good)])
    again = runner.invoke(cli, ["users", "import", str(good), "--on-conflict", "skip"])
    refused = runner.invoke(cli, ["users", "import", str(bad)])

    assert dry.exit_code == 0 and "2 created" in dry.output and "dry run" in dry.output, dry.output
    assert real.exit_code == 0 and "2 created" in real.output and "committed" in real.output, real.output
    assert again.exit_code == 0 and "2 skipped" in again.output
    assert refused.exit_code == 1 and "row 2" in refused.output and "email" in refused.output, refused.output
