"""Users to and from CSV: the export's columns are the import's, so an export imports back unchanged.

The import reads UTF-8 (with or without a BOM), separated by ``;`` or ``,`` (told by the header), with any line
endings. Every row is checked before anything is written — its fields, e-mails and extensions repeated inside
the file, numbers taken in the organization — and every problem is reported with its row (the header is row 1),
column and message. A dry run stops there; a real import writes everything in the same transaction, or nothing.
Rows are matched to users by e-mail (``on_conflict``: ``skip`` them, ``update`` them, or ``fail``).

The writes are set-based (users, SIP accounts, memberships and audit entries added together), so 900 users
with SIP accounts take a few dozen statements, not thousands.
"""

from __future__ import annotations

import asyncio
import csv
import io
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import delete, func, or_, select

from app.core.context import Context
from app.core.errors import FieldError, Forbidden, ValidationProblem
from app.core.security import generate_auth_id, generate_pin, generate_sip_password
from app.models import Group, GroupMember, SipAccount, User
from app.models.groups import DEFAULT_RIGHTS, GroupRole
from app.models.user_import import COLUMNS, CsvUserRow, ImportResult, ImportRowResult, RowError
from app.services import audit, numbering
from app.services.scoping import restrict_to_own

MAX_ROWS = 20_000
GROUP_SEPARATOR = "|"
_BOOLEANS = ("directory_visible", "multiple_calls", "login_required", "voicemail_enabled", "active")
_OPTIONAL_TEXT = ("email", "mobile", "caller_id")


@dataclass(slots=True)
class _Row:
    number: int  # the file's row number (the header is 1)
    values: dict[str, Any]
    cells: dict[str, str]
    user: Any = None  # the existing user matched by e-mail
    action: str = "created"
    extension: int | None = None
    groups: list[uuid.UUID] | None = None
    changes: dict[str, Any] = field(default_factory=dict)


def _text(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[:error.start].count(b"\n") + 1
        raise ValidationProblem(f"The file is not UTF-8 (row {line})", errors=[
            FieldError(loc=["body", "row", line], msg="not UTF-8 text", type="encoding")]) from None


def parse(data: bytes) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """The header and the rows (row number, column → cell) of a CSV file; 422 for a file that is not one."""
    text = _text(data)
    if "\x00" in text:
        raise ValidationProblem.field(["body"], "The file holds NUL characters: not a CSV text file", "encoding")
    first_line = text.splitlines()[0] if text.strip() else ""
    if not first_line:
        raise ValidationProblem.field(["body"], "The file is empty: it needs a header row", "empty")
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = [name.strip().lower() for name in next(reader)]
        errors = [FieldError(loc=["body", "row", 1, "column", name or f"#{index + 1}"],
                             msg=f"Unknown column '{name}'; the columns are: {', '.join(COLUMNS)}", type="header")
                  for index, name in enumerate(header) if name not in COLUMNS]
        errors += [FieldError(loc=["body", "row", 1, "column", name], msg="Column given twice", type="header")
                   for name in sorted({n for n in header if header.count(n) > 1})]
        if "first_name" not in header:
            errors.append(FieldError(loc=["body", "row", 1, "column", "first_name"],
                                     msg="The header needs the column first_name", type="header"))
        if errors:
            raise ValidationProblem("The header row is wrong", errors=errors)
        rows = []
        for cells in reader:
            number = reader.line_num
            if not any(cell.strip() for cell in cells):
                continue  # a blank line
            if len(cells) != len(header):
                raise ValidationProblem(f"Row {number} has {len(cells)} cells, the header {len(header)}", errors=[
                    FieldError(loc=["body", "row", number], msg=f"{len(cells)} cells, the header has {len(header)}",
                               type="cells")])
            rows.append((number, dict(zip(header, (cell.strip() for cell in cells), strict=True))))
            if len(rows) > MAX_ROWS:
                raise ValidationProblem.field(["body"], f"At most {MAX_ROWS} rows per file", "too_many_rows")
    except csv.Error as error:
        raise ValidationProblem.field(["body", "row", reader.line_num], f"Not valid CSV: {error}", "csv") from None
    return header, rows


async def import_users(ctx: Context, data: bytes, *, dry_run: bool, on_conflict: str,
                       progress: Callable[[int, int], None] | None = None) -> ImportResult:
    """Check (and unless ``dry_run``, write) the users of a CSV file; 422 with every row's problems.
    ``progress(done, total)`` is told as rows are checked (the CLI's progress bar)."""
    if ctx.principal.scope != "all":
        raise Forbidden("Importing users needs management scope 'all'")
    header, raw = await asyncio.to_thread(parse, data)  # CPU work (thousands of rows): off the event loop
    if "extension" in header and any(cells.get("extension") for _n, cells in raw) \
            and not ctx.principal.can("sip_accounts.write"):
        raise Forbidden("Giving users extensions needs the permission sip_accounts.write")
    errors: list[RowError] = []
    rows = await asyncio.to_thread(_validated, raw, errors, progress)
    org = ctx.organization
    session = ctx.session
    await numbering.lock(session, org)
    existing = await _existing(ctx, [r.values["email"] for r in rows if r.values.get("email")],
                               [r.values["id"] for r in rows if r.values.get("id")])
    groups = {name.lower(): group_id for group_id, name in (await session.execute(
        select(Group.id, Group.name).where(Group.organization_id == org.id))).all()}
    taken = await numbering.taken(session, org)
    pooled = dict((await session.execute(select(SipAccount.extension, SipAccount.id).where(
        SipAccount.organization_id == org.id, SipAccount.user_id.is_(None)))).all())
    _match(rows, existing, header, groups, on_conflict, errors)
    _allocate(rows, taken, pooled, org, errors)
    if errors:
        if dry_run:
            return _result(rows, errors, dry_run=True)
        raise ValidationProblem(f"{len(errors)} problem(s) in the file: nothing was imported", errors=[
            FieldError(loc=["body", "row", e.row, "column", e.column or "-"], msg=e.message, type="row")
            for e in errors])
    if not dry_run:
        await _write(ctx, rows, pooled, groups)
    return _result(rows, [], dry_run=dry_run)


def _validated(raw: list[tuple[int, dict[str, str]]], errors: list[RowError],
               progress: Callable[[int, int], None] | None = None) -> list[_Row]:
    rows, seen_emails, seen_extensions, seen_ids = [], {}, {}, {}
    for done, (number, cells) in enumerate(raw, start=1):
        if progress is not None:
            progress(done, len(raw))
        values = {name: cell for name, cell in cells.items() if cell != ""}
        email = values.get("email", "").lower()
        if email:  # repeated e-mails are reported even when a row has other problems
            if email in seen_emails:
                errors.append(RowError(row=number, column="email",
                                       message=f"E-mail {email} is also in row {seen_emails[email]}"))
            seen_emails.setdefault(email, number)
        if values.get("id"):
            if values["id"] in seen_ids:
                errors.append(RowError(row=number, column="id", message=f"Also in row {seen_ids[values['id']]}"))
            seen_ids.setdefault(values["id"], number)
        if "groups" in values:
            values["groups"] = [g.strip() for g in values["groups"].split(GROUP_SEPARATOR) if g.strip()]
        try:
            row = CsvUserRow.model_validate(values)
        except ValidationError as error:
            for problem in error.errors():
                errors.append(RowError(row=number, column=str(problem["loc"][0]) if problem["loc"] else None,
                                       message=problem["msg"]))
            continue
        validated = row.model_dump(exclude_unset=True)
        for name in _OPTIONAL_TEXT:  # an empty cell clears an optional value
            if name in cells and cells[name] == "":
                validated[name] = None
        if validated.get("email"):
            validated["email"] = validated["email"].lower()
        extension = validated.get("extension")
        if isinstance(extension, int):
            if extension in seen_extensions:
                errors.append(RowError(row=number, column="extension",
                                       message=f"Extension {extension} is also in row {seen_extensions[extension]}"))
            seen_extensions.setdefault(extension, number)
        rows.append(_Row(number=number, values=validated, cells=cells))
    return rows


async def _existing(ctx: Context, emails: list[str], ids: list[uuid.UUID]) -> dict[Any, Any]:
    """The organization's users with these e-mails or ids (keyed by both), with their extension and groups."""
    if not emails and not ids:
        return {}
    found: dict[Any, Any] = {}
    query = (select(User, SipAccount.extension).outerjoin(SipAccount, SipAccount.user_id == User.id)
             .where(User.organization_id == ctx.principal.organization_id,
                    or_(User.email.in_(emails), User.id.in_(ids))))
    clause = restrict_to_own(ctx.principal, User.id)
    if clause is not None:
        query = query.where(clause)
    for user, extension in (await ctx.session.execute(query)).all():
        found[user.id] = (user, extension)
    memberships = defaultdict(list)
    for user_id, group_id in (await ctx.session.execute(select(GroupMember.user_id, GroupMember.group_id).where(
            GroupMember.user_id.in_(list(found))))).all():
        memberships[user_id].append(group_id)
    by_key: dict[Any, Any] = {}
    for user, extension in found.values():
        by_key[user.id] = (user, extension, memberships[user.id])
        if user.email:
            by_key[user.email] = by_key[user.id]
    return by_key


def _match(rows: list[_Row], existing: dict, header: list[str], groups: dict, on_conflict: str,
           errors: list[RowError]) -> None:
    for row in rows:
        wanted_groups = row.values.get("groups")
        if wanted_groups is not None:
            unknown = [g for g in wanted_groups if g.lower() not in groups]
            if unknown:
                errors.append(RowError(row=row.number, column="groups", message=f"No group named {unknown[0]!r}"))
            row.groups = [groups[g.lower()] for g in wanted_groups if g.lower() in groups]
        if row.values.get("id") is not None:
            found = existing.get(row.values["id"])
            if found is None:
                errors.append(RowError(row=row.number, column="id", message=(
                    "No user with this id here (leave the id column empty to create users)")))
                continue
        else:
            found = existing.get(row.values.get("email"))
        if found is None:
            continue
        user, extension, memberships = found
        row.user = user
        if on_conflict == "fail":
            errors.append(RowError(row=row.number, column="email",
                                   message=f"A user with e-mail {user.email} exists (on_conflict=fail)"))
            continue
        if on_conflict == "skip":
            row.action = "skipped"
            continue
        wanted = row.values.get("extension")
        if wanted is not None and wanted != "next" and extension is not None and wanted != extension:
            errors.append(RowError(row=row.number, column="extension", message=(
                f"The user already has extension {extension}; change it with PATCH /sip-accounts/{{id}}")))
        if wanted == "next" and extension is not None:
            row.values.pop("extension")
        if extension is not None:
            row.values.pop("extension", None)
        row.changes = {name: value for name, value in row.values.items()
                       if name not in ("id", "extension", "groups") and getattr(user, name) != value}
        if row.groups is not None and set(row.groups) != set(memberships):
            row.changes["groups"] = row.groups
        row.action = "updated" if row.changes or row.values.get("extension") is not None else "unchanged"
        row.extension = extension


def _allocate(rows: list[_Row], taken: dict[int, str], pooled: dict[int, uuid.UUID], org,
              errors: list[RowError]) -> None:
    """Numbers for the rows that want one: an explicit number must be free (or an unassigned pooled account, taken
    over), ``next`` takes the lowest number nothing uses."""
    used = set(taken)
    for row in rows:
        wanted = row.values.get("extension")
        if isinstance(wanted, int) and row.action in ("created", "updated"):
            if not org.extension_min <= wanted <= org.extension_max:
                errors.append(RowError(row=row.number, column="extension",
                                       message=f"Extension {wanted} is outside {numbering.range_text(org)}"))
            elif wanted in used and wanted not in pooled:
                errors.append(RowError(row=row.number, column="extension",
                                       message=f"Extension {wanted} is already in use by {taken.get(wanted)}"))
            row.extension = wanted
    used |= {r.extension for r in rows if r.extension is not None}
    candidates = (n for n in range(org.extension_min, org.extension_max + 1) if n not in used)
    for row in rows:
        if row.values.get("extension") == "next" and row.action in ("created", "updated"):
            number = next(candidates, None)
            if number is None:
                errors.append(RowError(row=row.number, column="extension",
                                       message=f"No free extension left in {numbering.range_text(org)}"))
            row.extension = number


async def _write(ctx: Context, rows: list[_Row], pooled: dict[int, uuid.UUID], groups: dict) -> None:
    session, org, box = ctx.session, ctx.organization, ctx.secret_box
    now = datetime.now(UTC)
    default_group = (await session.execute(select(Group.id).where(
        Group.organization_id == org.id, Group.is_default.is_(True)))).scalar_one()
    entries = []

    def entry(action: str, resource: str, resource_id: Any, before: Any = None, after: Any = None) -> dict:
        return audit.entry_values(ctx, action, resource, resource_id, before=before, after=after, config_change=True)

    new_users, new_members, new_accounts, takeovers = [], [], [], []
    for row in rows:
        if row.action == "created":
            values = {k: v for k, v in row.values.items() if k not in ("id", "extension", "groups")}
            user = User(organization_id=org.id, voicemail_pin_encrypted=box.encrypt(generate_pin()), **values)
            row.user = user
            new_users.append(user)
            for group_id in (row.groups if row.groups is not None else [default_group]):
                new_members.append(GroupMember(group_id=group_id, user_id=user.id, organization_id=org.id,
                                               role=GroupRole.member, **DEFAULT_RIGHTS[GroupRole.member]))
            entries.append(entry("user.create", "user", user.id, after={**values, "source": "import"}))
        elif row.action == "updated":
            user = row.user
            before = {name: getattr(user, name) for name in row.changes if name != "groups"}
            for name, value in row.changes.items():
                if name != "groups":
                    setattr(user, name, value)
            if row.changes:
                user.version += 1
                user.updated_at = now
            if "groups" in row.changes:
                await session.execute(delete(GroupMember).where(GroupMember.user_id == user.id,
                                                                GroupMember.group_id.not_in(row.groups)))
                present = set((await session.execute(select(GroupMember.group_id).where(
                    GroupMember.user_id == user.id))).scalars())
                new_members += [GroupMember(group_id=g, user_id=user.id, organization_id=org.id,
                                            role=GroupRole.member, **DEFAULT_RIGHTS[GroupRole.member])
                                for g in row.groups if g not in present]
            entries.append(entry("user.update", "user", user.id, before=before,
                                 after={**{k: v for k, v in row.changes.items() if k != "groups"},
                                        "source": "import"}))
        if row.action in ("created", "updated") and row.values.get("extension") is not None \
                and row.extension is not None:
            password = generate_sip_password()
            if row.extension in pooled:
                takeovers.append((pooled[row.extension], row.user.id, box.encrypt(password)))
            else:
                account = SipAccount(organization_id=org.id, extension=row.extension, auth_id=generate_auth_id(),
                                     password_encrypted=box.encrypt(password), user_id=row.user.id,
                                     permission_level=org.default_permission_level)
                new_accounts.append(account)
                entries.append(entry("sip_account.create", "sip_account", account.id,
                                     after={"extension": account.extension, "user_id": str(row.user.id)}))
    session.add_all(new_users)
    await session.flush()
    session.add_all(new_members + new_accounts)
    for account_id, user_id, encrypted in takeovers:
        account = await session.get(SipAccount, account_id)
        account.user_id, account.password_encrypted = user_id, encrypted
        account.version += 1
        entries.append(entry("sip_account.assign", "sip_account", account_id, after={"user_id": str(user_id)}))
    await session.flush()
    await audit.record_many(ctx, entries)


def _result(rows: list[_Row], errors: list[RowError], *, dry_run: bool) -> ImportResult:
    counts: dict[str, int] = defaultdict(int)
    results = []
    for row in rows:
        counts[row.action] += 1
        results.append(ImportRowResult(row=row.number, email=row.values.get("email"), action=row.action,
                                       user_id=row.user.id if row.user is not None and row.action != "created"
                                       or (row.user is not None and not dry_run) else None,
                                       extension=row.extension))
    return ImportResult(dry_run=dry_run, created=counts["created"], updated=counts["updated"],
                        unchanged=counts["unchanged"], skipped=counts["skipped"], rows=results, errors=errors)


# --- export -----------------------------------------------------------------------------------------------------


async def export_users(ctx: Context, delimiter: str = ",") -> str:
    """Every user within the caller's scope, in the import's columns (an export imports back unchanged)."""
    user, account = User.__table__.c, SipAccount.__table__.c
    plain = [name for name in COLUMNS if name not in ("id", "extension", "groups")]
    query = (select(user.id, *(user[name] for name in plain),
                    account.extension)
             .select_from(User.__table__.outerjoin(SipAccount.__table__, account.user_id == user.id))
             .where(user.organization_id == ctx.principal.organization_id).order_by(user.last_name, user.id))
    clause = restrict_to_own(ctx.principal, User.id)
    if clause is not None:
        query = query.where(clause)
    rows = (await ctx.session.execute(query)).all()
    names: dict[uuid.UUID, list[str]] = defaultdict(list)
    member, group = GroupMember.__table__.c, Group.__table__.c
    for user_id, name in (await ctx.session.execute(
            select(member.user_id, group.name).join(Group.__table__, group.id == member.group_id)
            .where(member.organization_id == ctx.principal.organization_id).order_by(func.lower(group.name)))).all():
        names[user_id].append(name)
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in rows:
        values = dict(zip(["id", *plain, "extension"], row, strict=True))
        cells = []
        for name in COLUMNS:
            value = GROUP_SEPARATOR.join(names[values["id"]]) if name == "groups" else values[name]
            cells.append("" if value is None else ("true" if value is True else "false" if value is False
                                                   else str(value)))
        writer.writerow(cells)
    return out.getvalue()
