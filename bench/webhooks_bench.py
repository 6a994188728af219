"""Webhooks: 10,000 events delivered to a local receiver, and what the outbox adds to a user create.

    make bench                      # (with the others) SQLite and PostgreSQL
    python -m bench.webhooks_bench [--backend sqlite|postgresql|both] [--events 10000] [--creates 300]

For each database: a fresh service in this process, called over httpx's ASGI transport. A minimal HTTP/1.1
receiver (keep-alive, 204 answers) listens on 127.0.0.1 in the same event loop and notes when each
``webhook-id`` arrives. One CSV import of 10,000 users (no extensions) makes 10,000 ``user.created`` events in
one transaction; the process's worker delivers them. Prints the throughput and the p50/p99 delivery lag (from
the commit to the receiver). Then the mean time of ``POST /users`` without any subscription and with one (its
worker stopped: the outbox writes alone), and the difference.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from app.core.migrations import upgrade_async
from app.core.settings import Settings
from app.main import create_app
from bench.databases import create_database, drop_database

ADMIN_PASSWORD = "bench-Admin-Pass-123"


class Receiver:
    """Counts POSTs and when they arrive; answers 204 on a kept-alive connection."""

    def __init__(self) -> None:
        self.arrivals: list[float] = []
        self.server: asyncio.Server | None = None
        self.done = asyncio.Event()
        self.expected = 0

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self.server.sockets[0].getsockname()[1]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                await reader.readexactly(length)
                self.arrivals.append(time.perf_counter())
                if len(self.arrivals) >= self.expected:
                    self.done.set()
                writer.write(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    def close(self) -> None:
        if self.server is not None:
            self.server.close()


def users_csv(count: int) -> bytes:
    rows = ["email;first_name;last_name"] + [f"hook{n}@bench.example.com;First{n};Last{n}" for n in range(count)]
    return ("\r\n".join(rows) + "\r\n").encode()


async def run_backend(backend: str, events: int, creates: int) -> list[str]:
    work = Path(tempfile.mkdtemp(prefix=f"centralino-webhooks-bench-{backend}-"))
    url, database_name = await create_database(backend, work, "centralino_webhooks_bench")
    lines = []
    receiver = Receiver()
    try:
        await upgrade_async(url)
        settings = Settings(_env_file=None, database_url=url, secret_key="b" * 40, encryption_key="e" * 40,
                            config_dir=work / "generated", bootstrap_admin_password=ADMIN_PASSWORD,
                            webhooks_allow_private=True, webhook_concurrency=32, access_log=False,
                            max_body_bytes=4 * 1024 * 1024, max_upload_bytes=20 * 1024 * 1024)
        port = await receiver.start()
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench",
                                         timeout=300) as client:
                token = (await client.post("/api/v1/auth/token", data={
                    "username": "admin", "password": ADMIN_PASSWORD})).json()["access_token"]
                headers = {"Authorization": f"Bearer {token}"}

                async def create_users(label: str) -> float:
                    seconds = []
                    for n in range(creates):
                        begin = time.perf_counter()
                        response = await client.post("/api/v1/users", headers=headers, json={
                            "first_name": f"{label}{n}", "email": f"{label}{n}@bench.example.com"})
                        seconds.append(time.perf_counter() - begin)
                        assert response.status_code == 201, response.text
                    return statistics.mean(seconds[creates // 10:])  # past the warm-up

                await create_users("warmup")
                hook = await client.post("/api/v1/webhooks", headers=headers, json={
                    "url": f"http://127.0.0.1:{port}/hook", "events": ["user.created"], "active": False})
                assert hook.status_code == 201, hook.text
                await app.state.webhook_worker.stop()  # the outbox alone: events wait
                hook_url = f"/api/v1/webhooks/{hook.json()['id']}"
                # Without, with, without again (the subscription inactive, then active, then inactive).
                before = await create_users("plain")
                await client.patch(hook_url, headers=headers, json={"active": True})
                with_outbox = await create_users("hooked")
                await client.patch(hook_url, headers=headers, json={"active": False})
                without = (before + await create_users("again")) / 2
                await client.patch(hook_url, headers=headers, json={"active": True})
                lines.append(f"{backend:10} user create: {without * 1000:.2f} ms without subscriptions, "
                             f"{with_outbox * 1000:.2f} ms with one (outbox writes only): "
                             f"{(with_outbox / without - 1) * 100:+.1f} %")

                # The waiting events go first; then 10,000 more from one import.
                receiver.expected = creates
                app.state.webhook_worker.start()
                await asyncio.wait_for(_until(lambda: len(receiver.arrivals) >= creates), 300)
                receiver.arrivals.clear()
                receiver.expected = events
                receiver.done.clear()
                imported = await client.post("/api/v1/users/import", content=users_csv(events),
                                             headers={**headers, "Content-Type": "text/csv"})
                committed = time.perf_counter()
                assert imported.status_code == 200, imported.text[:300]
                await asyncio.wait_for(receiver.done.wait(), 600)
                lags = sorted(arrival - committed for arrival in receiver.arrivals)
                total = receiver.arrivals[-1] - committed
                lines.append(f"{backend:10} {events} events delivered in {total:.2f} s: "
                             f"{events / total:.0f} events/s, lag p50 {lags[len(lags) // 2]:.2f} s, "
                             f"p99 {lags[int(len(lags) * 0.99)]:.2f} s (from the commit of the import)")
    finally:
        receiver.close()
        await drop_database(database_name)
        shutil.rmtree(work, ignore_errors=True)
    return lines


async def _until(condition) -> None:
    while not condition():
        await asyncio.sleep(0.05)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--creates", type=int, default=300)
    args = parser.parse_args()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    for backend in backends:
        for line in asyncio.run(run_backend(backend, args.events, args.creates)):
            print(line, flush=True)


if __name__ == "__main__":
    main()
