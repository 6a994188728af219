"""API throughput benchmark: the real service against bare FastAPI endpoints, side by side.

    make bench-api
    python -m bench.api_bench [--backend sqlite|postgresql|both] [--duration 10] [--rounds 3] [--workers 1,2]

For each database it builds an organization of 1,000 users with SIP accounts,
starts the service (``centralino serve``, one worker unless asked) and
``bench.bare_app`` with uvicorn in this venv, and loads each with wrk on
loopback: list (limit 50), get by id, ``/auth/me`` and create. The bare app
serves two references: bare endpoints (the same JSON, no database, no auth) and,
for list and get, a lean hand-written endpoint doing the same work as the
service (decode the token, load the principal, one page query, one count). It
prints requests per second, the service's ratio to the bare endpoint (and the
lean one's), p50/p99 latency, then the p99 of ``/auth/me`` while 200 wrong logins
are in flight (real argon2 costs), and how list scales with ``--workers``.
PostgreSQL runs in a throwaway database created and dropped here.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import insert, select

from app.core.db import create_engine, create_sessionmaker, session_scope
from app.core.migrations import upgrade
from app.core.security import SecretBox, generate_auth_id, generate_sip_password
from app.core.settings import Settings
from app.models import Organization, SipAccount, User
from app.services.bootstrap import ensure_bootstrap
from bench.databases import create_database, drop_database

ADMIN_PASSWORD = "bench-Admin-Pass-123"
ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Load:
    rate: float
    p50_ms: float
    p99_ms: float


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _latency(text: str, percentile: str) -> float:
    match = re.search(rf"^\s*{percentile}%\s+([\d.]+)(us|ms|s|m)\s*$", text, re.MULTILINE)
    return float(match.group(1)) * _UNITS[match.group(2)] if match else float("nan")


def wrk(url: str, *, duration: float, connections: int, headers: dict[str, str] | None = None,
        script: Path | None = None) -> Load:
    """One wrk run (one thread); its rate and latency percentiles."""
    command = ["wrk", "-t1", f"-c{connections}", f"-d{duration:g}s", "--latency"]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    if script is not None:
        command += ["-s", str(script)]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    if non_2xx and script is None:
        raise RuntimeError(f"{url}: {non_2xx.group(1)} error responses\n{output}")
    return Load(rate, _latency(output, "50"), _latency(output, "99"))


CREATE_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local counter = 0
request = function()
  counter = counter + 1
  local body = string.format('{"first_name":"Bench","last_name":"C%d-%d","email":"c%d.%d@bench.example.com"}',
                             math.random(1, 1000000000), counter, math.random(1, 1000000000), counter)
  return wrk.format(nil, nil, nil, body)
end
"""

LOGIN_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.body = "username=admin&password=not-the-password"
"""


@contextmanager
def server(target: list[str], env: dict[str, str], port: int, workdir: Path):
    """Run an HTTP server process (from the checkout, logging into ``workdir``) until the block ends."""
    log = open(workdir / f"server-{port}.log", "w")
    process = subprocess.Popen(target, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server on port {port} did not start:\n{(workdir / f'server-{port}.log').read_text()}")
            time.sleep(0.2)
        yield process
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=45)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


async def build_database(url: str, users: int) -> None:
    settings = Settings(_env_file=None, database_url=url, secret_key="k" * 40, encryption_key="e" * 40,
                        bootstrap_admin_password=ADMIN_PASSWORD)
    engine = create_engine(settings)
    maker = create_sessionmaker(engine)
    box = SecretBox(settings.fernet_key_material())
    try:
        async for session in session_scope(maker):
            await ensure_bootstrap(session, settings)
        async for session in session_scope(maker):
            org = (await session.execute(select(Organization))).scalar_one()
            user_rows, account_rows = [], []
            for n in range(users):
                user_id = uuid.uuid4()
                user_rows.append({"id": user_id, "organization_id": org.id, "first_name": f"First{n}",
                                  "last_name": f"Last{n:04d}", "email": f"user{n}@example.com", "mobile": "+48221234567"})
                if n < 900:
                    account_rows.append({"id": uuid.uuid4(), "organization_id": org.id, "extension": 100 + n,
                                         "auth_id": generate_auth_id(),
                                         "password_encrypted": box.encrypt(generate_sip_password()), "user_id": user_id})
            await session.execute(insert(User), user_rows)
            await session.execute(insert(SipAccount), account_rows)
    finally:
        await engine.dispose()


def service_env(url: str, workdir: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "CENTRALINO_DATABASE_URL": url, "CENTRALINO_SECRET_KEY": "k" * 40,
            "CENTRALINO_ENCRYPTION_KEY": "e" * 40, "CENTRALINO_CONFIG_DIR": str(workdir / "generated"),
            "CENTRALINO_BOOTSTRAP_ADMIN_PASSWORD": ADMIN_PASSWORD, "PYTHONPATH": str(ROOT), **extra}


def serve_command(port: int, workers: int) -> list[str]:
    return [str(Path(sys.executable).parent / "centralino"), "serve", "--no-migrate", "--no-access-log",
            "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]


def bare_command(port: int) -> list[str]:
    return [sys.executable, "-m", "uvicorn", "bench.bare_app:app", "--host", "127.0.0.1", "--port", str(port),
            "--no-access-log", "--log-level", "warning"]


def login(base: str) -> tuple[dict[str, str], str]:
    token = httpx.post(f"{base}/api/v1/auth/token", data={"username": "admin", "password": ADMIN_PASSWORD}).json()
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    some_user = httpx.get(f"{base}/api/v1/users", params={"limit": 1, "offset": 500}, headers=headers).json()
    return headers, some_user["items"][0]["id"]


def run_backend(backend: str, args: argparse.Namespace) -> list[str]:
    workdir = Path(tempfile.mkdtemp(prefix=f"centralino-api-bench-{backend}-"))
    url, database = asyncio.run(create_database(backend, workdir, "centralino_apibench"))
    lines = []
    try:
        upgrade(url)
        asyncio.run(build_database(url, args.users))
        (workdir / "create.lua").write_text(CREATE_SCRIPT)
        (workdir / "login.lua").write_text(LOGIN_SCRIPT)
        port, bare_port = free_port(), free_port()
        # The throttle opened wide, so that every wrong login of the flood is hashed (the admission limit stays
        # as configured) and the bench's own logins after it are not refused.
        env = service_env(url, workdir, CENTRALINO_LOGIN_MAX_FAILURES="100000000",
                          CENTRALINO_LOGIN_CLIENT_MAX_FAILURES="100000000", CENTRALINO_LOGIN_FAILURE_DELAY="0")
        run = dict(duration=args.duration, connections=args.connections)
        with server(bare_command(bare_port), service_env(url, workdir), bare_port, workdir), \
                server(serve_command(port, 1), env, port, workdir):
            base, bare = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{bare_port}"
            headers, user_id = login(base)
            cases = [("list users (limit 50)", "/api/v1/users?limit=50", None, True),
                     ("get a user", f"/api/v1/users/{user_id}", None, True),
                     ("/auth/me", "/api/v1/auth/me", None, False),
                     ("create a user", "/api/v1/users", workdir / "create.lua", False)]
            lines.append(f"\n{backend}: {args.users} users, wrk 1 thread, {args.connections} connections, "
                         f"{args.duration:g} s per run, median of {args.rounds} rounds, 1 worker")
            lines.append(f"  {'operation':22} {'bare':>6} {'lean':>6} {'service':>7} {'ratio':>6} {'lean ratio':>10} "
                         f"{'p50 ms':>7} {'p99 ms':>7}   (rates in requests/s)")
            for label, path, script, has_lean in cases:
                # Rounds alternate the three servers, and each figure is the median of its rounds:
                # a shared machine's speed drifts, and the ratios compare runs made side by side.
                rounds = [(wrk(bare + path, script=script, **run),
                           wrk(bare + "/lean" + path.split("?")[0], headers=headers, **run) if has_lean else None,
                           wrk(base + path, headers=headers, script=script, **run)) for _ in range(args.rounds)]
                reference, lean, measured = (_median([r[i] for r in rounds]) for i in range(3))
                lines.append(f"  {label:22} {reference.rate:6.0f} {lean.rate if lean else float('nan'):6.0f} "
                             f"{measured.rate:7.0f} {measured.rate / reference.rate:6.3f} "
                             f"{lean.rate / reference.rate if lean else float('nan'):10.3f} "
                             f"{measured.p50_ms:7.2f} {measured.p99_ms:7.2f}")
                print(lines[-1], flush=True)
            quiet = wrk(base + "/api/v1/auth/me", headers=headers, duration=args.duration, connections=4)
            flood = subprocess.Popen(["wrk", "-t1", "-c200", f"-d{args.duration + 4:g}s", "-s",
                                      str(workdir / "login.lua"), base + "/api/v1/auth/token"],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            time.sleep(2)  # let the flood fill the hashing queue
            during = wrk(base + "/api/v1/auth/me", headers=headers, duration=args.duration, connections=4)
            flood_output = flood.communicate()[0]
            logins = re.search(r"Requests/sec:\s+([\d.]+)", flood_output)
            lines.append(f"  /auth/me p99 with 200 wrong logins in flight: {during.p99_ms:.2f} ms "
                         f"(p50 {during.p50_ms:.2f} ms, {during.rate:.0f} req/s; without them p99 {quiet.p99_ms:.2f} ms); "
                         f"logins answered {float(logins.group(1)) if logins else float('nan'):.0f}/s "
                         f"(401 once hashed, 503 beyond the admission queue)")
            print(lines[-1], flush=True)
        for workers in args.workers:
            if workers == 1:
                continue
            with server(serve_command(port, workers), env, port, workdir):
                headers, _ = login(f"http://127.0.0.1:{port}")
                scaled = wrk(f"http://127.0.0.1:{port}/api/v1/users?limit=50", headers=headers, **run)
                lines.append(f"  list users with --workers {workers}: {scaled.rate:.0f} req/s "
                             f"(p50 {scaled.p50_ms:.2f} ms, p99 {scaled.p99_ms:.2f} ms)")
                print(lines[-1], flush=True)
    finally:
        asyncio.run(drop_database(database))
        shutil.rmtree(workdir, ignore_errors=True)
    return lines


def _median(loads: list[Load | None]) -> Load | None:
    if loads[0] is None:
        return None
    ordered = sorted(loads, key=lambda load: load.rate)
    return ordered[len(ordered) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3, help="alternating runs per operation (medians shown)")
    parser.add_argument("--workers", type=lambda text: [int(n) for n in text.split(",")], default=[1, 2],
                        help="worker counts to show list scaling for, e.g. 1,2")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install wrk (make bench-api does it when run as root)")
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    report = []
    for backend in backends:
        report += run_backend(backend, args)
    print("\n".join(["", "Summary", *report]))


if __name__ == "__main__":
    main()
