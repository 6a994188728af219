"""Refuse, before any route sees them, requests no field could hold.

- A body larger than ``CENTRALINO_MAX_BODY_BYTES`` is a 413 (with a declared length: before a
  byte of it is read; without one: as soon as the limit is passed), token or not. Uploads of audio
  (IVR and voicemail greetings, user CSV imports) have their own, larger limit, ``CENTRALINO_MAX_UPLOAD_BYTES``.
- NUL, other control characters or invalid UTF-8 in a header or a query parameter, and NUL,
  lone surrogates or invalid UTF-8 in a JSON body, are a 422 naming the field: no database
  column can store them, and no renderer should see them.

Every response here is problem+json, like the rest of the API.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.errors import FieldError, problem_response

_BODYLESS_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "DELETE"})
# Header values may carry HTAB but no other control character (RFC 9110 field-value).
_HEADER_CONTROL = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# A JSON escape that may decode to NUL or to half of a surrogate pair: only then is the body walked.
_SUSPICIOUS_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")
_SURROGATE = re.compile("[\ud800-\udfff]")


# Routes that take a file upload (audio), with the larger upload limit.
UPLOAD_PATHS = re.compile(r"/api/v1/(ivr-menus/[^/]+/greeting|users/[^/]+/voicemail/greetings|users/import)")


class RequestGuard:
    """ASGI middleware enforcing the body size limits and the input character rules."""

    def __init__(self, app: ASGIApp, max_body_bytes: int, max_upload_bytes: int | None = None):
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_upload_bytes = max(max_upload_bytes or max_body_bytes, max_body_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = _header_problem(scope) or _query_problem(scope)
        if refusal is not None:
            await _refuse(scope, receive, send, 422, *refusal)
            return
        headers = dict(scope["headers"])
        limit = self.max_upload_bytes if UPLOAD_PATHS.fullmatch(scope["path"]) else self.max_body_bytes
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _refuse(scope, receive, send, 413, _too_large(limit), None)
            return
        if scope["method"] in _BODYLESS_METHODS and declared is None and b"transfer-encoding" not in headers:
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive, limit)
        if body is None:
            await _refuse(scope, receive, send, 413, _too_large(limit), None)
            return
        content_type = headers.get(b"content-type", b"").split(b";", 1)[0].strip().lower()
        if content_type == b"application/json" or content_type.endswith(b"+json"):
            refusal = _json_problem(body)
            if refusal is not None:
                await _refuse(scope, receive, send, 422, *refusal)
                return
        await self.app(scope, _replay(body, receive), send)



def _too_large(limit: int) -> str:
    return f"The request body is larger than {limit} bytes"


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole body, or None as soon as it passes the limit (nothing more is read)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # http.disconnect

    return replayed


async def _refuse(scope: Scope, receive: Receive, send: Send, status: int, message: str,
                  loc: list[str | int] | None) -> None:
    errors = [FieldError(loc=loc, msg=message, type="value_error")] if loc is not None else None
    response = problem_response(status, message, errors=errors,
                                slug="validation-error" if status == 422 else "content-too-large",
                                title="Validation error" if status == 422 else None)
    await response(scope, receive, send)


def _header_problem(scope: Scope) -> tuple[str, list[str | int]] | None:
    for name, value in scope["headers"]:
        if _HEADER_CONTROL.search(value):
            header = name.decode("latin-1")
            return f"Header {header} must not contain control characters", ["header", header]
    return None


def _query_problem(scope: Scope) -> tuple[str, list[str | int]] | None:
    query = scope.get("query_string", b"")
    if not query:
        return None
    try:
        # As Starlette reads it (latin-1 for the raw bytes), but percent-escapes must be valid UTF-8.
        pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True, errors="strict")
    except (UnicodeDecodeError, ValueError):
        return "The query string is not valid UTF-8", ["query"]
    for name, value in pairs:
        if _CONTROL.search(name) or _CONTROL.search(value):
            return "must not contain NUL or other control characters", ["query", name]
    return None


def _json_problem(body: bytes) -> tuple[str, list[str | int]] | None:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return "The body is not valid UTF-8", ["body"]
    if not _SUSPICIOUS_ESCAPE.search(body):
        return None
    try:
        document = json.loads(text)
    except ValueError:
        return None  # malformed JSON: the route's parser reports it
    return _walk(document, ["body"])


def _walk(value: Any, loc: list[str | int]) -> tuple[str, list[str | int]] | None:
    if isinstance(value, str):
        return _text_problem(value, loc)
    if isinstance(value, dict):
        for key, item in value.items():
            found = _text_problem(key, [*loc, key]) or _walk(item, [*loc, key])
            if found is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = _walk(item, [*loc, index])
            if found is not None:
                return found
    return None


def _text_problem(text: str, loc: list[str | int]) -> tuple[str, list[str | int]] | None:
    if "\x00" in text:
        return "must not contain NUL characters", loc
    if _SURROGATE.search(text):
        return "must not contain lone UTF-16 surrogates (invalid Unicode)", [
            part if isinstance(part, int) else part.encode("utf-8", "replace").decode() for part in loc]
    return None
