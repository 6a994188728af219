"""A minimal Asterisk Manager Interface (AMI) client: log in, run one action, log off.

Live state (a user's presence status) is written to AstDB with ``DBPut``; the dialplan reads it
at call time, and ``DBGet`` reads back what a phone set there (its ``*28<n>`` key). One short connection per change keeps nothing open between requests; the whole
exchange has a deadline, so a hung Asterisk cannot hold a request.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from urllib.parse import unquote, urlsplit

from app.config_gen.asterisk_forwarding import ASTDB_FAMILY, status_key
from app.config_gen.forwarding_rules import STATUSES
from app.core.settings import Settings

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 3.0


class AmiError(Exception):
    """Asterisk could not be reached, refused the login or the action."""


def _message(fields: dict[str, str]) -> bytes:
    for value in fields.values():
        if "\r" in value or "\n" in value:
            raise AmiError("an AMI field cannot contain a line break")
    return "".join(f"{name}: {value}\r\n" for name, value in fields.items()).encode() + b"\r\n"


async def _response(reader: asyncio.StreamReader, action_id: str) -> dict[str, str]:
    """The response to ``action_id`` (events and other messages in between are skipped)."""
    while True:
        block: dict[str, str] = {}
        while True:
            line = (await reader.readline()).decode(errors="replace")
            if not line:
                raise AmiError("Asterisk closed the manager connection")
            if line in ("\r\n", "\n"):
                break
            name, _, value = line.partition(":")
            block[name.strip().lower()] = value.strip()
        if block.get("actionid") == action_id:
            return block


async def _run(url: str, action: dict[str, str], follow: str | None = None) -> dict[str, str]:
    """Log in, run ``action``, log off; its response, or with ``follow`` the event of that name it answers with
    (``DBGet`` answers "Result will follow", then a ``DBGetResponse`` event)."""
    parts = urlsplit(url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port or 5038)
    try:
        banner = await reader.readline()
        if not banner.startswith(b"Asterisk Call Manager"):
            raise AmiError("not an Asterisk manager interface")
        writer.write(_message({"Action": "Login", "ActionID": "login", "Username": unquote(parts.username or ""),
                               "Secret": unquote(parts.password or ""), "Events": "off"}))
        login = await _response(reader, "login")
        if login.get("response", "").lower() != "success":
            raise AmiError(f"login refused: {login.get('message', 'no reason given')}")
        writer.write(_message({**action, "ActionID": "action"}))
        answer = await _response(reader, "action")
        if answer.get("response", "").lower() == "success" and follow is not None:
            while answer.get("event", "").lower() != follow.lower():
                answer = await _response(reader, "action")
        writer.write(_message({"Action": "Logoff", "ActionID": "logoff"}))
        await writer.drain()
        if answer.get("response", "success").lower() != "success":
            raise AmiError(f"{action['Action']} refused: {answer.get('message', 'no reason given')}")
        return answer
    finally:
        writer.close()


async def db_put(url: str, family: str, key: str, value: str) -> None:
    """``DBPut``: set ``family/key`` in Asterisk's AstDB (``AmiError`` when it did not happen)."""
    try:
        await asyncio.wait_for(_run(url, {"Action": "DBPut", "Family": family, "Key": key, "Val": value}),
                               TIMEOUT_SECONDS)
    except (OSError, TimeoutError) as error:
        raise AmiError(f"cannot reach Asterisk's manager interface: {error or type(error).__name__}") from error


async def db_get(url: str, family: str, key: str) -> str | None:
    """``DBGet``: the value of ``family/key`` in AstDB, None when there is none (``AmiError`` when Asterisk could
    not be asked)."""
    try:
        answer = await asyncio.wait_for(_run(url, {"Action": "DBGet", "Family": family, "Key": key},
                                             follow="DBGetResponse"), TIMEOUT_SECONDS)
    except AmiError as error:
        if "not found" in str(error).lower():
            return None
        raise
    except (OSError, TimeoutError) as error:
        raise AmiError(f"cannot reach Asterisk's manager interface: {error or type(error).__name__}") from error
    return answer.get("val")


async def live_status(settings: Settings, user_id: uuid.UUID) -> str | None:
    """The status Asterisk follows for the user now (set over AMI or from the phone with ``*28<n>``), or None
    when AMI is not configured, holds none, or cannot be asked (logged)."""
    if not settings.asterisk_ami_url:
        return None
    try:
        value = await db_get(settings.asterisk_ami_url, ASTDB_FAMILY, status_key(str(user_id)))
    except AmiError as error:
        log.warning("live status of user %s not read from Asterisk: %s", user_id, error)
        return None
    return value if value in STATUSES else None


async def push_status(settings: Settings, user_id: uuid.UUID, status: str) -> bool:
    """Write a user's status to AstDB, where the dialplan reads it at call time. False when AMI is not configured
    or the push failed (logged; the next apply carries the status)."""
    if not settings.asterisk_ami_url:
        return False
    try:
        await db_put(settings.asterisk_ami_url, ASTDB_FAMILY, status_key(str(user_id)), status)
    except AmiError as error:
        log.warning("status of user %s not pushed to Asterisk: %s", user_id, error)
        return False
    return True
