"""Users in bulk through the HTTP API: CSV import (dry run and real), export, and a bulk update.

    make bench                      # (with the apply benchmark) SQLite and PostgreSQL
    python -m bench.users_bench [--backend sqlite|postgresql|both] [--users 900]

For each database: a fresh service (migrations, bootstrap owner) in this process, called over httpx's ASGI
transport (no network, no server in between). A CSV of 900 users, each with an e-mail, a mobile and
``extension`` ``next`` (a SIP account each), is imported as a dry run and then for real; all users are
exported; then one bulk update changes every user's language, the DND block of the forwarding rules and an
option (by a filter). Prints the wall time of each request and its SQL statement count. PostgreSQL runs in a
throwaway database created and dropped here.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import tempfile
import time
from pathlib import Path

import httpx
from sqlalchemy import event

from app.core.migrations import upgrade_async
from app.core.settings import Settings
from app.main import create_app
from bench.databases import create_database, drop_database

ADMIN_PASSWORD = "bench-Admin-Pass-123"


def users_csv(count: int) -> bytes:
    rows = ["email;first_name;last_name;mobile;language;extension;groups"]
    rows += [f"user{n}@bench.example.com;First{n};Last{n};+39347{n:07d};it;next;DEFAULT" for n in range(count)]
    return ("\r\n".join(rows) + "\r\n").encode()


async def run_backend(backend: str, users: int) -> list[str]:
    work = Path(tempfile.mkdtemp(prefix=f"centralino-users-bench-{backend}-"))
    url, database_name = await create_database(backend, work, "centralino_users_bench")
    lines = []
    try:
        await upgrade_async(url)
        settings = Settings(_env_file=None, database_url=url, secret_key="b" * 40, encryption_key="e" * 40,
                            config_dir=work / "generated", bootstrap_admin_password=ADMIN_PASSWORD,
                            max_upload_bytes=20 * 1024 * 1024)
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            statements = {"n": 0}
            event.listen(app.state.engine.sync_engine, "before_cursor_execute",
                         lambda *a, **k: statements.__setitem__("n", statements["n"] + 1))
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench", timeout=120) as client:
                token = (await client.post("/api/v1/auth/token", data={
                    "username": "admin", "password": ADMIN_PASSWORD})).json()["access_token"]
                headers = {"Authorization": f"Bearer {token}"}
                data = users_csv(users)

                async def timed(what: str, request) -> httpx.Response:
                    statements["n"] = 0
                    begin = time.perf_counter()
                    response = await request
                    seconds = time.perf_counter() - begin
                    if response.status_code != 200:
                        raise RuntimeError(f"{what}: {response.status_code} {response.text[:500]}")
                    lines.append(f"{backend:10} {what}: {seconds:.3f} s, {statements['n']} SQL statements")
                    return response

                csv_headers = {**headers, "Content-Type": "text/csv"}
                await timed(f"import {users} users with SIP accounts, dry run",
                            client.post("/api/v1/users/import", content=data, params={"dry_run": "true"},
                                        headers=csv_headers))
                await timed(f"import {users} users with SIP accounts",
                            client.post("/api/v1/users/import", content=data, headers=csv_headers))
                exported = await timed(f"export {users + 1} users", client.get("/api/v1/users/export",
                                                                                headers=headers))
                assert exported.text.count("\n") == users + 2
                await timed(f"bulk update of {users} users (language, DND forwarding block, an option)",
                            client.post("/api/v1/users/bulk-update", headers=headers, json={
                                "filter": {"has_extension": True},
                                "changes": {"language": "pl", "options": {"record_calls": True},
                                            "forwarding": {"dnd": {
                                                "internal": {"action": {"type": "hangup"}},
                                                "external": {"action": {"type": "mobile"}}}}}}))
    finally:
        await drop_database(database_name)
        shutil.rmtree(work, ignore_errors=True)
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--users", type=int, default=900)
    args = parser.parse_args()
    for backend in (["sqlite", "postgresql"] if args.backend == "both" else [args.backend]):
        for line in asyncio.run(run_backend(backend, args.users)):
            print(line, flush=True)


if __name__ == "__main__":
    main()
