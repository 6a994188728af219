"""Service settings, read from the environment with the ``CENTRALINO_`` prefix."""

from __future__ import annotations

import json
import os
import secrets
from email.utils import parseaddr
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, PrivateAttr, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./centralino.db"
CONFIG_TARGETS = ("asterisk", "kamailio", "provisioning")


class InsecureSettings(RuntimeError):
    """Raised at start-up when production runs on default or missing secrets."""


class Settings(BaseSettings):
    """Everything deployment-specific; nothing else reads the environment."""

    model_config = SettingsConfigDict(env_prefix="CENTRALINO_", env_file=".env", extra="ignore")
    _dev_secrets: dict[str, str] | None = PrivateAttr(default=None)

    env: Literal["development", "production"] = "development"
    # Logs: JSON lines (production's default) or readable text (development's); one line per request.
    log_format: Literal["json", "text"] | None = None
    access_log: bool = True
    # /metrics: open, unless a token is set (then scrapers send it as a Bearer token).
    metrics_token: SecretStr | None = None
    database_url: str = DEFAULT_DATABASE_URL
    database_echo: bool = False
    # Signing key for JWTs and encryption key for SIP secrets at rest. In
    # development they are generated once and kept in ``dev_secrets_file`` so
    # that tokens and encrypted passwords survive a restart.
    secret_key: SecretStr | None = None
    encryption_key: SecretStr | None = None
    dev_secrets_file: Path = Path("./.centralino-dev-secrets.json")
    access_token_minutes: int = Field(default=60, ge=1, le=60 * 24 * 30)
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)

    bootstrap_admin_username: str = "admin"
    bootstrap_admin_password: SecretStr | None = None
    bootstrap_organization_slug: str = "default"
    bootstrap_sip_domain: str = "pbx.local"

    # Login throttling, per username *and* client address (a stranger cannot lock the owner
    # out from elsewhere), in windows of ``login_lockout_seconds``: after ``login_free_failures``
    # failed attempts each further one is delayed by ``login_failure_delay`` seconds more; past
    # ``login_max_failures`` the pair gets 429 until the window ends. One client address may fail
    # ``login_client_max_failures`` times per window over all usernames (password spraying).
    login_free_failures: int = Field(default=3, ge=0)
    login_failure_delay: float = Field(default=0.5, ge=0)
    login_max_failures: int = Field(default=6, ge=1)
    login_client_max_failures: int = Field(default=30, ge=1)
    login_lockout_seconds: int = Field(default=900, ge=1)
    login_throttle_max_rows: int = Field(default=100_000, ge=10)

    # Password hashing (argon2) runs in worker threads, this many at a time, so logins never
    # stall the event loop. Logins wait for a thread holding nothing else (their throttle
    # bookkeeping takes at most two database connections at a time); beyond
    # ``login_max_in_flight`` waiting logins, more get 503 with Retry-After at once.
    password_hash_concurrency: int = Field(default_factory=lambda: max(1, (os.cpu_count() or 2) - 1), ge=1)
    login_max_in_flight: int = Field(default=256, ge=1)

    # The service's public base URL: provisioning links and Location headers are built from it,
    # never from the request's Host header.
    public_url: str = "http://127.0.0.1:8000"
    # Largest request body accepted (413 beyond it, before the body is read).
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    # Audio uploads (IVR greetings): the file, plus room for a multipart envelope.
    max_upload_bytes: int = Field(default=11 * 1024 * 1024, ge=1024)

    # Phone numbers written without "+" are read in this region (ISO 3166 code).
    default_phone_region: str | None = None

    # Configuration generation (save, then apply).
    config_dir: Path = Path("./generated")
    config_targets: Annotated[list[str], NoDecode] = Field(default_factory=lambda: list(CONFIG_TARGETS))
    config_keep_revisions: int = Field(default=20, ge=1)
    reload_asterisk: str | None = None
    reload_kamailio: str | None = None
    reload_provisioning: str | None = None
    reload_timeout_seconds: float = 15.0
    asterisk_udp_bind: str = "0.0.0.0:5060"
    # Asterisk's manager interface, ami://user:secret@host:5038: live state (users' status) is pushed there.
    asterisk_ami_url: str | None = None
    # Where Asterisk's HTTP server (http.conf) listens for browsers (webrtc accounts), "host:port": it carries the
    # WebSocket SIP transport at /ws. Empty: no WebSocket transport, and the HTTP server off.
    asterisk_wss_bind: str | None = "0.0.0.0:8089"
    # Its TLS certificate and private key, absolute PEM paths on the Asterisk host (no key: it is in the
    # certificate's file): with them it serves wss:// and DTLS presents them; without, plain ws:// (local tests,
    # or behind a proxy that terminates TLS) and DTLS generates its own certificate.
    asterisk_tls_cert_file: str | None = Field(default=None, max_length=500, pattern=r"^/[^\r\n]*$")
    asterisk_tls_private_key: str | None = Field(default=None, max_length=500, pattern=r"^/[^\r\n]*$")
    # The WebSocket URL browsers and CRMs (Odoo's ws_server) are told to register over, e.g.
    # wss://pbx.example.com:8089/ws; unset, sip-credentials gives none.
    websocket_url: str | None = None
    # How the Asterisk host sends mail: voicemail to e-mail and missed-call e-mails are piped into it.
    asterisk_mailcmd: str = Field(default="/usr/sbin/sendmail -t", min_length=1, max_length=500,
                                  pattern=r"^[^\r\n]+$")
    registrar_port: int = 5060
    # Polycom phones' firmware image (APP_FILE_PATH of their master file), e.g. "sip.ld", when the provisioning
    # server offers one; unset, the master file names none and phones keep their firmware.
    polycom_firmware: str | None = Field(default=None, max_length=200, pattern=r"^[A-Za-z0-9._-]+$")
    provisioning_rate_limit_per_minute: int = 60

    # Webhooks: each API process runs a delivery worker. Private, loopback and reserved targets are refused
    # (server-side request forgery) unless allowed; attempts back off exponentially with jitter, a delivery
    # fails after its last attempt, and a subscription failing that many attempts in a row is disabled.
    webhook_worker: bool = True
    webhooks_allow_private: bool = False
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    webhook_max_attempts: int = Field(default=10, ge=1, le=50)
    webhook_retry_base_seconds: float = Field(default=5.0, gt=0)
    webhook_retry_max_seconds: float = Field(default=3600.0, gt=0)
    webhook_disable_after_failures: int = Field(default=50, ge=1)
    webhook_poll_seconds: float = Field(default=1.0, gt=0, le=60)
    webhook_concurrency: int = Field(default=8, ge=1, le=100)

    # Outgoing mail (welcome e-mails). No host: mail is not configured, and sending answers 503.
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_security: Literal["starttls", "tls", "none"] = "starttls"
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str = "Centralino <centralino@localhost>"
    smtp_timeout_seconds: float = Field(default=10.0, gt=0, le=120)

    @field_validator("cors_origins", "config_targets", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.strip()
            if value.startswith("["):
                return json.loads(value)
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("asterisk_ami_url")
    @classmethod
    def _ami_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        parsed = urlsplit(value.strip())
        if parsed.scheme != "ami" or not parsed.hostname or not parsed.username or parsed.password is None:
            raise ValueError("CENTRALINO_ASTERISK_AMI_URL must look like ami://user:secret@host:5038")
        return value.strip()

    @field_validator("smtp_host", "smtp_username")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None

    @field_validator("asterisk_tls_cert_file", "asterisk_tls_private_key", mode="before")
    @classmethod
    def _blank_path_is_none(cls, value: object) -> object:
        return (value.strip() or None) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _tls_key_needs_its_certificate(self) -> Settings:
        if self.asterisk_tls_private_key and not self.asterisk_tls_cert_file:
            raise ValueError("CENTRALINO_ASTERISK_TLS_PRIVATE_KEY needs CENTRALINO_ASTERISK_TLS_CERT_FILE")
        return self

    @field_validator("smtp_from")
    @classmethod
    def _sender(cls, value: str) -> str:
        _, address = parseaddr(value)
        local, _, domain = address.rpartition("@")
        if not local or not domain or any(c in value for c in "\r\n"):
            raise ValueError("CENTRALINO_SMTP_FROM must be an address such as 'PBX <pbx@example.com>'")
        return value.strip()

    @field_validator("websocket_url")
    @classmethod
    def _websocket_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        parsed = urlsplit(value.strip())
        if parsed.scheme not in ("ws", "wss") or not parsed.hostname or parsed.query or parsed.fragment:
            raise ValueError("CENTRALINO_WEBSOCKET_URL must be a ws(s) URL such as wss://pbx.example.com:8089/ws")
        return value.strip()

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str) -> str:
        parsed = urlsplit(value.strip())
        if parsed.scheme not in ("http", "https") or not parsed.hostname or parsed.query or parsed.fragment:
            raise ValueError("CENTRALINO_PUBLIC_URL must be an http(s) URL such as https://pbx-api.example.com")
        return value.strip().rstrip("/")

    @field_validator("config_targets")
    @classmethod
    def _known_targets(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - set(CONFIG_TARGETS))
        if unknown:
            raise ValueError(f"unknown config targets {unknown}; choose from {list(CONFIG_TARGETS)}")
        return value

    @model_validator(mode="after")
    def _refuse_insecure_production(self) -> Settings:
        if self.env != "production":
            return self
        problems = []
        for name in ("secret_key", "encryption_key"):
            value = getattr(self, name)
            if value is None or len(value.get_secret_value()) < 32:
                problems.append(f"CENTRALINO_{name.upper()} must be set to at least 32 characters")
        if self.bootstrap_admin_password is not None and len(self.bootstrap_admin_password.get_secret_value()) < 12:
            problems.append("CENTRALINO_BOOTSTRAP_ADMIN_PASSWORD must be at least 12 characters")
        if problems:
            raise InsecureSettings("refusing to start in production: " + "; ".join(problems))
        return self

    @property
    def effective_log_format(self) -> str:
        return self.log_format or ("json" if self.env == "production" else "text")

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def jwt_key(self) -> str:
        return self._secret("secret_key")

    def fernet_key_material(self) -> str:
        return self._secret("encryption_key")

    def _secret(self, name: str) -> str:
        value = getattr(self, name)
        if value is not None:
            return value.get_secret_value()
        # Development only (production refused above): a generated key, kept on disk (read once).
        if self._dev_secrets is None:
            self._dev_secrets = _load_dev_secrets(self.dev_secrets_file)
        return self._dev_secrets[name]


def _load_dev_secrets(path: Path) -> dict[str, str]:
    if path.exists():
        data = json.loads(path.read_text())
        if {"secret_key", "encryption_key"} <= data.keys():
            return data
    data = {"secret_key": secrets.token_urlsafe(48), "encryption_key": secrets.token_urlsafe(48)}
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(data, handle)
    return data


@lru_cache
def get_settings() -> Settings:
    """The process settings, read from the environment once."""
    return Settings()
