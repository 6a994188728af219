"""Users to and from CSV (registered before ``/users/{user_id}``, whose path would otherwise take "export")."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Query, Request, Response

from app.core.context import Context, require
from app.models.user_import import COLUMNS, CsvDelimiter, ImportResult, OnConflict
from app.routers.common import READ_ERRORS, WRITE_ERRORS, api_router
from app.routers.uploads import read_upload
from app.services import user_import

router = api_router("/users", "users")
Readers = Annotated[Context, Depends(require("users.read"))]
Writers = Annotated[Context, Depends(require("users.write"))]

CSV_TYPES = frozenset({"text/csv", "application/csv", "text/plain", "application/octet-stream"})
_CSV = {"type": "string", "format": "binary"}
_EXAMPLE = ("email;first_name;last_name;extension;groups\r\n"
            "anna.nowak@example.com;Anna;Nowak;next;DEFAULT|Sales\r\n")
# In the spec as application/octet-stream, which generated clients send as a file (they skip text/csv bodies);
# text/csv and multipart/form-data (field "file") are accepted too, as the description says.
_UPLOAD = {"requestBody": {"required": True, "description": (
    "The CSV file (also accepted as text/csv, or multipart field `file`). Columns: " + ", ".join(COLUMNS)
    + ". Example:\n\n    " + _EXAMPLE.replace("\r\n", "\n    ")),
    "content": {"application/octet-stream": {"schema": _CSV}}}}
# Served as text/csv; documented as application/octet-stream too, the type generated clients read as a file.
_CSV_RESPONSE = {200: {"description": "The users as CSV (UTF-8, the import's columns), sent as text/csv",
                       "content": {"application/octet-stream": {"schema": _CSV}}}}


@router.post("/import", response_model=ImportResult, summary="Import users from CSV",
             responses={**WRITE_ERRORS, 413: {"description": "The file is larger than CENTRALINO_MAX_UPLOAD_BYTES"}},
             openapi_extra=_UPLOAD, operation_id="users_import")
async def import_users(request: Request, ctx: Writers,
                       dry_run: Annotated[bool, Query(description="Check only: report what would happen")] = False,
                       on_conflict: Annotated[OnConflict, Query(
                           description="A row whose e-mail is a user's: skip it, update the user, or fail")]
                       = OnConflict.fail,
                       ) -> Any:
    """Users from a CSV file: UTF-8 with or without a BOM, `;` or `,` (told by the header), any line endings.
    Columns (any order; `first_name` required): `email`, `first_name`, `last_name`, `mobile`, `caller_id`,
    `language`, `status`, `directory_visible`, `multiple_calls`, `login_required`, `voicemail_enabled`, `active`,
    `extension` (a number, or `next` for the lowest free one: the user's SIP account is created), `groups` (names,
    separated by `|`; empty: DEFAULT). Rows are matched to users by e-mail (`on_conflict`). Every row is checked
    first; with `dry_run=true` the answer lists each row's action and every problem (row, column, message) and
    nothing is written; a real import with any problem is a 422 listing them, and writes nothing. Needs scope
    `all` (and `sip_accounts.write` for extensions). SIP passwords are not in the answer: fetch them per account
    (`GET /sip-accounts/{id}/secret`) or provision the phones."""
    data, _loc = await read_upload(request, CSV_TYPES, "the file as text/csv")
    return await user_import.import_users(ctx, data, dry_run=dry_run, on_conflict=on_conflict.value)


@router.get("/export", response_class=Response, summary="Export users as CSV", responses={**READ_ERRORS,
            **_CSV_RESPONSE}, operation_id="users_export")
async def export_users(ctx: Readers, delimiter: Annotated[CsvDelimiter, Query(
        description="The separator (`;` for spreadsheets set to European locales)")] = CsvDelimiter.comma) -> Response:
    """The users within the caller's scope, in the import's columns and order (an export imports back
    unchanged). Never a password, PIN or secret."""
    text = await user_import.export_users(ctx, delimiter.value)
    return Response(content=text.encode(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="users.csv"'})
