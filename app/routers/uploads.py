"""Uploads (greetings as WAV, users as CSV): one way to send a file, as the raw body or a multipart field `file`."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from starlette.datastructures import UploadFile

from app.core.errors import ValidationProblem

WAV_TYPES = frozenset({"audio/wav", "audio/x-wav", "audio/wave", "audio/vnd.wave", "application/octet-stream"})
_BINARY = {"type": "string", "format": "binary"}
# Only the raw body as application/octet-stream is in the spec (generated clients send files with that type);
# audio/wav and multipart/form-data (field "file") are accepted too and said so in the description: the
# generators skip audio/* bodies, and the spec's fuzzing client cannot replay a streamed multipart request.
UPLOAD_BODY: dict[str, Any] = {"requestBody": {
    "required": True, "description": "The WAV file (also accepted as audio/wav, or multipart field `file`)",
    "content": {"application/octet-stream": {"schema": _BINARY}}}}
# Served as application/octet-stream (a WAV file, named by Content-Disposition): generated clients handle that
# type as a file, while they skip audio/* responses.
GREETING_AUDIO = {200: {"description": "The greeting: a 16-bit PCM, mono, 8 kHz WAV file",
                        "content": {"application/octet-stream": {"schema": _BINARY}}}}


async def read_upload(request: Request, accepted: frozenset[str] = WAV_TYPES,
                      what: str = "the greeting as audio/wav") -> tuple[bytes, list[str | int]]:
    """The uploaded bytes (a raw body of an ``accepted`` type, or the ``file`` part of a multipart form) and where
    they came from; 422 naming the Content-Type otherwise."""
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type == "multipart/form-data":
        form = await request.form(max_files=1, max_fields=0)
        part = form.get("file")
        if not isinstance(part, UploadFile):
            raise ValidationProblem.field(["body", "file"], "Send the file in a form field named 'file'", "missing")
        return await part.read(), ["body", "file"]
    if content_type in accepted:
        return await request.body(), ["body"]
    raise ValidationProblem.field(["header", "Content-Type"], f"Send {what} or as multipart/form-data with a "
                                  "'file' field", "unsupported_media_type")
