"""The ``centralino`` command line: serve, migrate, create-admin, apply, users import, openapi."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import typer

from app.core.settings import get_settings

cli = typer.Typer(help="Centralino: API-first PBX administration.", no_args_is_help=True, add_completion=False)


def _fail(message: str) -> typer.Exit:
    """Print one clear line on stderr (no traceback) and exit with status 1."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(1)


def _shown_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - a malformed URL is shown as "the configured database"
        return "the configured database"


def _reason(exc: BaseException) -> str:
    """The root cause of a database error, in one line."""
    while exc.__cause__ is not None or getattr(exc, "orig", None) is not None:
        exc = getattr(exc, "orig", None) or exc.__cause__
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:300]


def _migration_state() -> tuple[str | None, str]:
    """The database's migration revision and the code's head (raises when the database is unreachable)."""
    from app.core.db import create_engine
    from app.core.migrations import current_revision, head_revision

    async def read() -> str | None:
        engine = create_engine(get_settings())
        try:
            return await current_revision(engine)
        finally:
            await engine.dispose()

    return asyncio.run(read()), head_revision()


@cli.command()
def migrate() -> None:
    """Apply the database migrations (alembic upgrade head)."""
    from app.core.migrations import upgrade

    url = get_settings().database_url
    try:
        upgrade(url)
    except Exception as exc:  # noqa: BLE001 - one clear line, not a traceback
        raise _fail(f"cannot migrate the database at {_shown_url(url)}: {_reason(exc)}") from None
    typer.echo("database is at the latest migration")


@cli.command()
def serve(host: str = typer.Option("127.0.0.1", help="Address to listen on"),
          port: int = typer.Option(8000, help="Port to listen on"),
          workers: int = typer.Option(1, min=1, help="Worker processes (each a full copy of the service; "
                                                      "about one per CPU core)"),
          migrate_first: bool = typer.Option(True, "--migrate/--no-migrate", help="Apply migrations before serving"),
          access_log: bool = typer.Option(True, "--access-log/--no-access-log",
                                          help="Log each request (provisioning tokens are masked)"),
          graceful_timeout: int = typer.Option(30, help="Seconds to let requests in flight finish on shutdown")) -> None:
    """Apply migrations, then serve the API (docs at /docs)."""
    import uvicorn

    if migrate_first:
        migrate()
    else:
        url = get_settings().database_url
        try:
            current, head = _migration_state()
        except Exception as exc:  # noqa: BLE001 - one clear line, not a traceback
            raise _fail(f"cannot reach the database at {_shown_url(url)}: {_reason(exc)}") from None
        if current != head:
            state = "empty" if current is None else f"at migration {current}, the code needs {head}"
            raise _fail(f"the database at {_shown_url(url)} is not migrated ({state}): run `centralino migrate`")
    typer.echo(f"serving on http://{host}:{port} — interactive docs at http://{host}:{port}/docs")
    # The service logs each request itself (request id, principal, route template, status, duration).
    os.environ["CENTRALINO_ACCESS_LOG"] = "true" if access_log else "false"
    get_settings.cache_clear()
    uvicorn.run("app.main:create_app", factory=True, host=host, port=port, workers=workers, proxy_headers=True,
                access_log=False, timeout_graceful_shutdown=graceful_timeout)


@cli.command("create-admin")
def create_admin(username: str = typer.Option(..., help="Login name"),
                 password: str = typer.Option(..., prompt=True, hide_input=True, confirmation_prompt=True),
                 organization: str = typer.Option("default", help="Organization slug"),
                 platform_admin: bool = typer.Option(False, help="Also a platform administrator")) -> None:
    """Create an owner account (scope 'all') in an organization."""
    from sqlalchemy import select

    from app.core.db import create_engine, create_sessionmaker, session_scope
    from app.core.errors import DomainError
    from app.models import Organization
    from app.services.bootstrap import create_admin as create

    if len(password) < 8:
        raise typer.BadParameter("the password needs at least 8 characters", param_hint="--password")

    async def run() -> None:
        engine = create_engine(get_settings())
        try:
            async for session in session_scope(create_sessionmaker(engine)):
                org = (await session.execute(select(Organization).where(Organization.slug == organization))).scalar_one_or_none()
                if org is None:
                    raise typer.BadParameter(f"no organization '{organization}'", param_hint="--organization")
                await create(session, org, username, password, platform_admin=platform_admin)
        finally:
            await engine.dispose()

    try:
        asyncio.run(run())
    except DomainError as exc:
        typer.echo(f"error: {exc.detail}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"owner '{username}' created in '{organization}'")


@cli.command()
def apply(organization: str | None = typer.Option(None, help="Organization slug (default: every organization)"),
          dry_run: bool = typer.Option(False, "--dry-run", help="Only show what would change")) -> None:
    """Render and publish the configuration (what POST /api/v1/config/apply does)."""
    from sqlalchemy import select

    from app.core.context import Context, system_principal
    from app.core.db import PHASED, create_engine, create_sessionmaker, session_scope
    from app.core.security import SecretBox
    from app.models import Organization
    from app.models.config import ApplyRequest
    from app.services import config

    settings = get_settings()

    async def run() -> int:
        engine = create_engine(settings)
        maker = create_sessionmaker(engine)
        failures = 0
        try:
            async for session in session_scope(maker):
                query = select(Organization).order_by(Organization.slug)
                if organization:
                    query = query.where(Organization.slug == organization)
                organizations = (await session.execute(query)).scalars().all()
            if not organizations:
                raise typer.BadParameter(f"no organization '{organization}'", param_hint="--organization")
            for org in organizations:
                # The apply runs its own short write transactions around rendering and publishing.
                async for session in session_scope(maker, mode=PHASED):
                    ctx = Context(session=session, principal=system_principal(org, "cli"), settings=settings,
                                  request_id=None, secret_box=SecretBox(settings.fernet_key_material()))
                    result = await config.apply(ctx, ApplyRequest(dry_run=dry_run))
                changed = [f for f in result.files if f.status != "unchanged"]
                verb = "would change" if dry_run else ("revision %s" % result.revision if result.created else "unchanged")
                typer.echo(f"{org.slug}: {verb}; {len(changed)} file(s) differ")
                for change in changed:
                    typer.echo(f"  {change.status:9} {change.path}")
                    if dry_run and change.diff:
                        typer.echo(change.diff)
                for reload in result.reloads:
                    typer.echo(f"  reload {reload.target}: exit {reload.exit_code} {'ok' if reload.ok else 'FAILED'}")
                    failures += 0 if reload.ok else 1
        finally:
            await engine.dispose()
        return failures

    raise typer.Exit(1 if asyncio.run(run()) else 0)


users_cli = typer.Typer(help="Users: import from CSV.", no_args_is_help=True)
cli.add_typer(users_cli, name="users")


@users_cli.command("import")
def import_users(file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True, help="The CSV file"),
                 dry_run: bool = typer.Option(False, "--dry-run", help="Check only: report, write nothing"),
                 on_conflict: str = typer.Option("fail", help="A row whose e-mail is a user's: skip, update or fail"),
                 organization: str = typer.Option("default", help="Organization slug")) -> None:
    """Import users from CSV (what POST /api/v1/users/import does), with a progress bar and a summary. Exits 1
    when the file has problems (each printed with its row and column); then nothing is written."""
    from sqlalchemy import select

    from app.core.context import Context, system_principal
    from app.core.db import create_engine, create_sessionmaker, session_scope
    from app.core.errors import DomainError
    from app.core.security import SecretBox
    from app.models import Organization
    from app.services import user_import

    if on_conflict not in ("skip", "update", "fail"):
        raise typer.BadParameter("must be skip, update or fail", param_hint="--on-conflict")
    settings = get_settings()
    data = file.read_bytes()

    async def run():
        engine = create_engine(settings)
        result = None
        try:
            # The result is kept and returned after the loop: leaving the session's scope early would roll it back.
            async for session in session_scope(create_sessionmaker(engine)):
                org = (await session.execute(select(Organization).where(Organization.slug == organization))).scalar()
                if org is None:
                    raise typer.BadParameter(f"no organization '{organization}'", param_hint="--organization")
                ctx = Context(session=session, principal=system_principal(org, "cli"), settings=settings,
                              request_id=None, secret_box=SecretBox(settings.fernet_key_material()))
                with typer.progressbar(length=1, label="checking rows", file=sys.stderr) as bar:
                    def progress(done: int, total: int) -> None:
                        bar.length = total
                        bar.update(done - bar.pos)
                    result = await user_import.import_users(ctx, data, dry_run=dry_run, on_conflict=on_conflict,
                                                            progress=progress)
        finally:
            await engine.dispose()
        return result

    try:
        result = asyncio.run(run())
    except DomainError as error:
        typer.echo(f"error: {error.detail}", err=True)
        for problem in error.errors or []:
            typer.echo(f"  {' '.join(str(part) for part in problem.loc[1:])}: {problem.msg}", err=True)
        raise typer.Exit(1) from error
    for problem in result.errors:
        typer.echo(f"  row {problem.row}, {problem.column or '-'}: {problem.message}", err=True)
    verb = "would be" if dry_run else "were"
    typer.echo(f"{result.created} created, {result.updated} updated, {result.unchanged} unchanged, "
               f"{result.skipped} skipped ({'dry run: nothing ' + verb + ' written' if dry_run else 'committed'})"
               + (f"; {len(result.errors)} problem(s)" if result.errors else ""))
    raise typer.Exit(1 if result.errors else 0)


@cli.command()
def openapi(output: Path | None = typer.Option(None, "--output", "-o", help="Write to this file instead of stdout")) -> None:
    """Print (or write) the OpenAPI document."""
    from app.main import create_app

    text = json.dumps(create_app(get_settings()).openapi(), indent=2, ensure_ascii=False, sort_keys=False) + "\n"
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text)
        typer.echo(f"wrote {output}")


def main() -> None:
    cli()
