"""Webhooks (`/api/v1/webhooks`) with a real HTTP receiver on 127.0.0.1: Standard Webhooks signatures that verify,
an event if and only if its change committed, order per resource, retries until a receiver comes back, one
delivery per event across processes and restarts, auto-disable, the delivery log and redelivery, and the
refusals (URLs into private networks, unknown events)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from problems import locs, problem
from sip_tools import free_tcp_port

from app.main import create_app

WEBHOOKS = "/api/v1/webhooks"


@dataclass
class Receiver:
    """An HTTP server recording what it receives; ``answers`` are the statuses of the next requests (then 200)."""

    port: int
    received: list[dict] = field(default_factory=list)
    answers: deque = field(default_factory=deque)
    delay_s: float = 0.0
    body_bytes: int = 0
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["content-length"]))
                receiver.received.append({"headers": {k.lower(): v for k, v in self.headers.items()},
                                          "body": body.decode()})
                if receiver.delay_s:
                    time.sleep(receiver.delay_s)
                status = receiver.answers.popleft() if receiver.answers else 200
                self.send_response(status)
                self.send_header("content-length", str(receiver.body_bytes))
                self.end_headers()
                if receiver.body_bytes:
                    try:
                        self.wfile.write(b"x" * receiver.body_bytes)
                    except OSError:
                        pass  # the service does not read bodies

            def log_message(self, *args):
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def events(self) -> list[dict]:
        return [json.loads(r["body"]) for r in self.received]


@pytest.fixture
def receiver():
    box = Receiver(free_tcp_port())
    box.start()
    yield box
    box.stop()


@pytest.fixture
def settings(settings):
    """A worker that polls often and retries fast, allowed to reach the receiver on loopback."""
    return settings.model_copy(update={
        "webhook_worker": True, "webhook_poll_seconds": 0.05, "webhooks_allow_private": True,
        "webhook_retry_base_seconds": 0.05, "webhook_retry_max_seconds": 0.2, "webhook_timeout_seconds": 2.0})


async def until(condition, what: str, timeout_s: float = 15.0):
    """Wait until ``condition()`` is truthy (the worker runs in the background), or fail naming ``what``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        await asyncio.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def verified(secret: str, request: dict) -> bool:
    """The Standard Webhooks check, written here from the spec, not taken from the service."""
    headers = request["headers"]
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.{request['body']}".encode()
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(hmac.compare_digest(expected, part.removeprefix("v1,")) for part in headers["webhook-signature"].split())


async def subscribe(api, receiver: Receiver, events=("*",)) -> dict:
    response = await api.post(WEBHOOKS, json={"url": receiver.url, "events": list(events)})
    assert response.status_code == 201, response.text
    return response.json()


async def test_a_change_reaches_the_receiver_signed_and_the_secret_is_shown_once(api, receiver):
    hook = await subscribe(api, receiver, events=["user.created"])

    user = await api.create_user(first_name="Anna", email="anna@example.com")
    await until(lambda: receiver.received, "the user.created event")

    [request] = receiver.received
    event = json.loads(request["body"])
    assert verified(hook["secret"], request), "the signature verifies with the secret shown at creation"
    assert request["headers"]["webhook-id"].startswith("msg_")
    assert abs(int(request["headers"]["webhook-timestamp"]) - time.time()) < 60
    assert event["type"] == "user.created" and event["data"]["id"] == user["id"]
    assert event["data"]["after"]["email"] == "anna@example.com"
    listed = (await api.get(WEBHOOKS)).text
    assert hook["secret"] not in listed and hook["secret"] not in (await api.get(f"{WEBHOOKS}/{hook['id']}")).text


async def test_an_event_exists_only_if_its_change_committed(api, receiver):
    hook = await subscribe(api, receiver)
    await api.create_user(email="anna@example.com")

    refused = await api.post("/api/v1/users", json={"first_name": "Again", "email": "anna@example.com"})
    await until(lambda: receiver.received, "the first user's event")
    log = (await api.get(f"{WEBHOOKS}/{hook['id']}/deliveries")).json()

    assert refused.status_code == 409
    assert [d["event_type"] for d in log["items"]] == ["user.created"], "the refused create left no event"


async def test_a_resources_events_arrive_in_order_even_when_the_receiver_fails_at_first(api, receiver):
    await subscribe(api, receiver)
    receiver.answers.extend([500, 503])
    user = await api.create_user(first_name="Anna")
    for name in ("Anna Maria", "Annamaria"):
        assert (await api.patch(f"/api/v1/users/{user['id']}", json={"first_name": name})).status_code == 200

    await until(lambda: len(receiver.received) >= 5, "three events after two failures")

    order = [(e["type"], (e["data"]["after"] or {}).get("first_name")) for e in receiver.events()]
    assert order == [("user.created", "Anna")] * 3 + [("user.updated", "Anna Maria"), ("user.updated", "Annamaria")]
    assert len({r["headers"]["webhook-id"] for r in receiver.received[:3]}) == 1, "a retry keeps its webhook-id"


async def test_a_receiver_that_is_down_gets_the_events_once_it_is_back(api, receiver):
    hook = await subscribe(api, receiver)
    receiver.stop()
    user = await api.create_user()

    async def attempts_failed():
        items = (await api.get(f"{WEBHOOKS}/{hook['id']}/deliveries")).json()["items"]
        return items and items[0]["attempts"] >= 2 and items[0]["last_error"]

    async def delivered():
        items = (await api.get(f"{WEBHOOKS}/{hook['id']}/deliveries")).json()["items"]
        return items[0]["status"] == "delivered" and items[0]

    failed = await until(attempts_failed, "failed attempts while the receiver is down")
    receiver.start()
    record = await until(delivered, "the event delivered after the receiver came back")

    assert "ConnectError" in failed
    assert receiver.events()[0]["data"]["id"] == user["id"]
    assert record["next_attempt_at"] is None and record["last_status_code"] == 200


async def test_events_committed_while_the_worker_is_stopped_are_delivered_once_after_a_restart(api, settings,
                                                                                              receiver):
    await subscribe(api, receiver)
    await api.create_user(first_name="Before")
    await until(lambda: receiver.received, "the first event")
    await api.app.state.webhook_worker.stop()  # the process's worker stops (as in a restart)
    for n in range(5):
        await api.create_user(first_name=f"While{n}")

    restarted = create_app(settings)  # another process on the same database starts its worker
    restarted.state.bootstrap = False
    async with restarted.router.lifespan_context(restarted):
        await until(lambda: len(receiver.received) >= 6, "the events written while no worker ran")

    names = [e["data"]["after"]["first_name"] for e in receiver.events()]
    # Events of different users may arrive in any order (only a resource's own events are ordered).
    assert sorted(names) == ["Before"] + [f"While{n}" for n in range(5)], "nothing lost, nothing twice"


async def test_two_processes_on_one_database_deliver_each_event_once(api, settings, receiver):
    await subscribe(api, receiver)
    second = create_app(settings)
    second.state.bootstrap = False
    async with second.router.lifespan_context(second):
        for n in range(30):
            await api.create_user(first_name=f"U{n}")
        await until(lambda: len(receiver.received) >= 30, "thirty events")

    ids = [r["headers"]["webhook-id"] for r in receiver.received]
    assert len(ids) == len(set(ids)) == 30


async def test_a_subscription_that_keeps_failing_is_disabled_and_can_be_enabled_again(api, settings, receiver,
                                                                                     monkeypatch):
    monkeypatch.setattr(settings, "webhook_disable_after_failures", 3)
    hook = await subscribe(api, receiver)
    receiver.answers.extend([500] * 3)
    await api.create_user()

    async def disabled():
        body = (await api.get(f"{WEBHOOKS}/{hook['id']}")).json()
        return not body["active"] and body

    body = await until(disabled, "the subscription disabled")
    enabled = await api.patch(f"{WEBHOOKS}/{hook['id']}", json={"active": True})
    await until(lambda: len(receiver.received) >= 4, "the pending event after re-enabling")

    assert "3 failed attempts" in body["disabled_reason"] and body["consecutive_failures"] == 3
    assert enabled.json()["active"] is True and enabled.json()["consecutive_failures"] == 0


async def test_the_delivery_log_shows_each_attempt_and_a_redelivery_keeps_the_webhook_id(api, receiver):
    hook = await subscribe(api, receiver)
    await api.create_user()
    await until(lambda: receiver.received, "the event")
    [delivery] = (await api.get(f"{WEBHOOKS}/{hook['id']}/deliveries", params={"status": "delivered"})).json()["items"]

    again = await api.post(f"{WEBHOOKS}/{hook['id']}/deliveries/{delivery['id']}/redeliver")
    await until(lambda: len(receiver.received) >= 2, "the redelivery")

    assert delivery["last_status_code"] == 200 and delivery["attempts"] == 1
    assert again.status_code == 202 and again.json()["status"] == "pending"
    assert receiver.received[0]["headers"]["webhook-id"] == receiver.received[1]["headers"]["webhook-id"]
    unknown = await api.post(f"{WEBHOOKS}/{hook['id']}/deliveries/999999/redeliver")
    assert unknown.status_code == 404


async def test_a_slow_receiver_times_out_and_a_huge_answer_is_not_read(api, settings, receiver, monkeypatch):
    monkeypatch.setattr(settings, "webhook_timeout_seconds", 0.3)
    hook = await subscribe(api, receiver)
    receiver.delay_s = 1.0
    await api.create_user()

    async def timed_out():
        items = (await api.get(f"{WEBHOOKS}/{hook['id']}/deliveries")).json()["items"]
        return items and items[0]["last_error"]

    error = await until(timed_out, "a timed-out attempt")
    receiver.delay_s, receiver.body_bytes = 0.0, 50 * 1024 * 1024
    await until(lambda: any(d for d in [1] if receiver.received), "a delivery")

    async def delivered():
        items = (await api.get(f"{WEBHOOKS}/{hook['id']}/deliveries")).json()["items"]
        return items[0]["status"] == "delivered"

    await until(delivered, "the delivery despite a 50 MB answer")
    assert "no answer within 0.3 s" in error


async def test_urls_into_private_networks_other_schemes_and_unknown_events_are_refused(api, settings, monkeypatch):
    monkeypatch.setattr(settings, "webhooks_allow_private", False)
    cases = {
        "http://127.0.0.1:8080/hook": ["body", "url"],
        "http://10.1.2.3/hook": ["body", "url"],
        "http://[::1]/hook": ["body", "url"],
        "http://169.254.169.254/latest/meta-data": ["body", "url"],
        "ftp://example.com/hook": ["body", "url"],
        "https://user:pw@example.com/hook": ["body", "url"],
        "https://example.com/" + "x" * 2000: ["body", "url"],
    }
    for url, loc in cases.items():
        body = problem(await api.post(WEBHOOKS, json={"url": url, "events": ["*"]}), 422)
        assert locs(body) == [loc], url
    unknown = problem(await api.post(WEBHOOKS, json={"url": "https://93.184.215.14/hook",
                                                     "events": ["user.created", "user.exploded"]}), 422)
    assert locs(unknown) == [["body", "events", 1]]
    events = (await api.get(f"{WEBHOOKS}/events")).json()["events"]
    assert {"user.created", "user.updated", "user.deleted", "config.applied"} <= set(events)


async def test_config_applied_and_deletions_are_events_too(api, receiver):
    await subscribe(api, receiver, events=["config.applied", "user.deleted"])
    user = await api.create_user()
    assert (await api.delete(f"/api/v1/users/{user['id']}")).status_code == 204
    assert (await api.post("/api/v1/config/apply", json={})).status_code == 200

    await until(lambda: len(receiver.received) >= 2, "two events")

    assert [e["type"] for e in receiver.events()] == ["user.deleted", "config.applied"]


async def test_metrics_show_the_webhook_queue_and_its_lag(api, receiver):
    await subscribe(api, receiver)
    await api.app.state.webhook_worker.stop()  # nothing is sent: the events wait
    await api.create_user()
    await api.create_user()

    text = (await api.client.get("/metrics")).text

    assert "centralino_webhook_queue_depth 2.0" in text
    lag = float(next(line for line in text.splitlines() if line.startswith("centralino_webhook_delivery_lag_seconds ")
                     ).split()[1])
    assert 0 <= lag < 60
