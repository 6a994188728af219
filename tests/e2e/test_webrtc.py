"""WebRTC end to end: a browser registers with exactly what `GET /users/{id}/sip-credentials` returns.

A SIP.js page (tests/webrtc/phone.html, SIP.js and playwright-core from tests/webrtc/package-lock.json) runs in
Debian's headless Chromium with a fake microphone and connects to the credentials' `websocket_url`:
- with Kamailio on the reference config (deploy/kamailio/kamailio.cfg with its WebSocket listener, WS_LISTEN)
  and the generated subscriber table, REGISTER gets 200 (and a wrong password 403);
- with a private Asterisk on the generated files (http.conf's server carries the WebSocket transport, the
  account's endpoint has webrtc=yes), REGISTER gets 200, then a call to an extension whose sipp phone answers
  comes up: ICE and DTLS-SRTP connect and the browser's audio reaches the phone through Asterisk. Once over
  plain ws (no certificate configured), once over wss with a throwaway self-signed certificate (which DTLS
  presents too).

The settings point the generated http.conf and `CENTRALINO_WEBSOCKET_URL` at one free loopback port, which
Kamailio or Asterisk serves, so the URL the API gives is the one the browser uses. Needs chromium, node and npm
(scripts/install-system-packages.sh); `npm ci` runs here when tests/webrtc/node_modules is missing or older than
the lock. Without them the tests skip, under CI they fail.
"""

from __future__ import annotations

import hashlib
import json
import os
import queue
import re
import shutil
import ssl
import subprocess
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Self

import pytest
import sip_tools
from asterisk_tools import Asterisk, Phone, wait_until
from conftest import skip_or_fail
from sip_tools import _stop, free_tcp_port, free_udp_port

pytestmark = pytest.mark.registrar

DOMAIN = "pbx.centralino.test"
WEBRTC_DIR = Path(__file__).resolve().parent.parent / "webrtc"
RUNNER = WEBRTC_DIR / "run.mjs"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
STEP_TIMEOUT_S = 20.0  # one browser step (register, call, hang up): its page waits time out first


# ---------------------------------------------------------------------------------------------
# The browser
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser_stack() -> Path:
    """Chromium, node and the npm packages of tests/webrtc (``npm ci`` from its lock when they are stale)."""
    missing = [f"{name} ({package})" for name, package in ((CHROMIUM, "chromium"), ("node", "nodejs"), ("npm", "npm"))
               if shutil.which(name) is None]
    if missing:
        skip_or_fail(f"the WebRTC tests need {', '.join(missing)}: run scripts/install-system-packages.sh as root")
    lock = WEBRTC_DIR / "package-lock.json"
    wanted = hashlib.sha256((WEBRTC_DIR / "package.json").read_bytes() + lock.read_bytes()).hexdigest()
    stamp = WEBRTC_DIR / "node_modules" / ".centralino-lock-sha256"
    if not stamp.is_file() or stamp.read_text().strip() != wanted:
        done = subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=WEBRTC_DIR,
                              capture_output=True, text=True, timeout=600, check=False)
        if done.returncode != 0:
            skip_or_fail(f"npm ci in {WEBRTC_DIR} failed ({done.returncode}): {done.stderr[-2000:]}")
        stamp.write_text(wanted + "\n")
    return WEBRTC_DIR


class Browser:
    """Headless Chromium on tests/webrtc/phone.html, driven through run.mjs (node), one JSON line per step.

    As a context manager: entering starts it and waits until the page is loaded, leaving closes the browser
    (and stops node by its PID when it does not exit by itself). ``do()`` runs one step of ``window.phone``.
    """

    def __init__(self, log_path: Path, *, ignore_certificate_errors: bool = False) -> None:
        self.log_path = Path(log_path)
        # For a wss:// server with a self-signed certificate.
        self.ignore_certificate_errors = ignore_certificate_errors
        self._process: subprocess.Popen[str] | None = None
        self._lines: queue.Queue[str | None] = queue.Queue()

    def start(self, timeout_s: float = 60.0) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("w") as log:
            self._process = subprocess.Popen(
                ["node", str(RUNNER)], cwd=WEBRTC_DIR,
                env={**os.environ, "CHROMIUM": CHROMIUM,
                     "IGNORE_CERTIFICATE_ERRORS": "1" if self.ignore_certificate_errors else ""},
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True, start_new_session=True,
            )  # fmt: skip
        threading.Thread(target=self._read, daemon=True).start()
        ready = self._next(timeout_s, "the browser to load the page")
        if ready.get("event") != "ready":
            raise AssertionError(f"the browser did not start: {ready}\n{self.log_tail()}")

    def _read(self) -> None:
        assert self._process is not None and self._process.stdout is not None
        for line in self._process.stdout:
            self._lines.put(line)
        self._lines.put(None)  # end of output: node exited

    def _next(self, timeout_s: float, what: str) -> dict:
        try:
            line = self._lines.get(timeout=timeout_s)
        except queue.Empty:
            raise AssertionError(f"timed out after {timeout_s}s waiting for {what}\n{self.log_tail()}") from None
        if line is None:
            raise AssertionError(f"the browser runner exited while waiting for {what}\n{self.log_tail()}")
        return json.loads(line)

    def do(self, step: str, timeout_s: float = STEP_TIMEOUT_S, **args: object) -> dict:
        """Run ``window.phone[step](args)`` in the page and return its result (the page's own waits time out
        within ``timeout_s``; a step that throws fails the test with the browser's log)."""
        assert self._process is not None and self._process.stdin is not None
        page_timeout_ms = int(timeout_s * 1000 * 0.75)
        self._process.stdin.write(json.dumps({"do": step, "args": {**args, "timeout_ms": page_timeout_ms}}) + "\n")
        self._process.stdin.flush()
        result = self._next(timeout_s, f"the browser's {step}")
        if not result.pop("ok", False):
            raise AssertionError(f"browser step {step} failed: {result.get('error')}\n{self.log_tail()}")
        return result

    def log_tail(self, lines: int = 60) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "browser log (SIP.js):\n" + "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        process = self._process
        if process is None or process.poll() is not None:
            return
        try:
            assert process.stdin is not None
            process.stdin.write(json.dumps({"do": "quit"}) + "\n")
            process.stdin.close()
            process.wait(timeout=15)
        except (OSError, subprocess.TimeoutExpired):
            _stop(process)  # by its PID, then its process group (node and the Chromium it started)

    def __enter__(self) -> Self:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


# ---------------------------------------------------------------------------------------------
# The organization and its settings
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def sip_port() -> int:
    return free_udp_port()


@pytest.fixture
def websocket_port() -> int:
    return free_tcp_port()


@pytest.fixture
def scheme() -> str:
    """``ws`` (no certificate configured), or ``wss`` where a test parametrizes it."""
    return "ws"


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A throwaway certificate for 127.0.0.1 and its key (PEM), made with openssl."""
    openssl = shutil.which("openssl")
    if openssl is None:
        skip_or_fail("openssl is not installed: apt-get install openssl")
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = directory / "asterisk.crt", directory / "asterisk.key"
    subprocess.run([openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True, timeout=60)
    return cert, key


@pytest.fixture
def settings(settings, sip_port, websocket_port, scheme, tmp_path):
    """Asterisk's UDP transport and its HTTP server (the WebSocket transport) on free loopback ports, and the
    WebSocket URL browsers are given pointing at that server: plain ws, or wss with a self-signed certificate."""
    update = {
        "asterisk_udp_bind": f"127.0.0.1:{sip_port}",
        "asterisk_wss_bind": f"127.0.0.1:{websocket_port}",
        "websocket_url": f"{scheme}://127.0.0.1:{websocket_port}/ws",
    }
    if scheme == "wss":
        cert, key = self_signed_certificate(tmp_path / "keys")
        update |= {"asterisk_tls_cert_file": str(cert), "asterisk_tls_private_key": str(key)}
    return settings.model_copy(update=update)


async def webrtc_user(api, name: str) -> dict:
    """A user whose SIP account is a WebRTC (browser) phone; returns its sip-credentials."""
    user = await api.create_user(first_name=name, extension="next")
    changed = await api.patch(f"/api/v1/sip-accounts/{user['sip_account']['id']}", json={"phone_type": "webrtc"})
    assert changed.status_code == 200, changed.text
    given = await api.get(f"/api/v1/users/{user['id']}/sip-credentials")
    assert given.status_code == 200, given.text
    return given.json()


async def apply(api) -> Path:
    applied = await api.post("/api/v1/config/apply", json={})
    assert applied.status_code == 200, applied.text
    return api.settings.config_dir / "default" / "current"


def require_kamailio_websocket() -> None:
    """Kamailio's xhttp is in its core package, websocket in kamailio-websocket-modules."""
    sip_tools.require_program(sip_tools.KAMAILIO_BIN, "kamailio")
    found = [*Path("/usr/lib").glob("*/kamailio/modules/websocket.so"), *Path("/usr/lib").glob("kamailio/modules/*")]
    if not any(path.name == "websocket.so" for path in found):
        skip_or_fail("Kamailio's websocket module is not installed: apt-get install kamailio-websocket-modules")


class KamailioWithWebSocket(sip_tools.Kamailio):
    """Kamailio on the reference config with its WebSocket listener (WS_LISTEN) on 127.0.0.1."""

    def __init__(self, db_dir: Path, work_dir: Path, *, port: int, websocket_port: int) -> None:
        super().__init__(db_dir, work_dir, port=port)
        self.websocket_port = websocket_port

    def command(self) -> list[str]:
        return [*super().command(), "-A", f"WS_LISTEN=tcp:127.0.0.1:{self.websocket_port}"]

    def ctl(self, *command: str) -> str:
        kamcmd = sip_tools.require_program("kamcmd", "kamailio")
        done = subprocess.run([kamcmd, "-s", f"unix:{self.ctl_socket}", *command], capture_output=True, text=True,
                              timeout=10, check=False)
        return done.stdout + done.stderr


# ---------------------------------------------------------------------------------------------
# Kamailio
# ---------------------------------------------------------------------------------------------


async def test_a_browser_registers_with_kamailio_over_websocket_with_the_given_credentials(
    api, tmp_path, browser_stack, sip_port, websocket_port
):
    require_kamailio_websocket()
    assert (await api.patch("/api/v1/organization", json={"sip_domain": DOMAIN})).status_code == 200
    given = await webrtc_user(api, "Anna")
    live = (await apply(api)) / "kamailio"

    with KamailioWithWebSocket(live, tmp_path / "kamailio", port=sip_port, websocket_port=websocket_port) as kamailio, \
            Browser(tmp_path / "browser.log") as browser:
        registered = browser.do("register", credentials=given)
        binding = kamailio.ctl("ul.lookup", "location", f"s:{given['username']}")
        refused = browser.do("register", credentials={**given, "password": given["password"] + "-wrong"})
        log = kamailio.log_text()

    assert (given["websocket_url"], given["transport"], given["domain"]) == (
        f"ws://127.0.0.1:{websocket_port}/ws", "ws", DOMAIN), "the API hands out the URL the registrar serves"
    assert registered["status"] == 200, f"{registered}\n{log[-3000:]}"
    assert re.search(r"Address: sip:\S+;transport=ws\n", binding), binding
    # A browser's Contact host is "*.invalid": fix_nated_register() keeps the connection's address beside it.
    assert re.search(r"Received: sip:127\.0\.0\.1:\d+;transport=ws\n", binding), binding
    assert f"Socket: tcp:127.0.0.1:{websocket_port}\n" in binding, binding
    assert refused["status"] == 403, "a wrong password is refused, not challenged again"


def test_the_reference_config_with_a_websocket_listener_passes_kamailio_check(tmp_path):
    require_kamailio_websocket()
    checked = sip_tools.kamailio_check_config(f'RUNDIR="{tmp_path}"', "WS_LISTEN=tcp:127.0.0.1:5998")
    assert checked.returncode == 0, checked.stderr
    assert "tcp: 127.0.0.1 [127.0.0.1]:5998" in checked.stdout + checked.stderr


# ---------------------------------------------------------------------------------------------
# Asterisk
# ---------------------------------------------------------------------------------------------


_CHANNEL_STATS = re.compile(r"(?P<channel>\S+-[0-9a-f]{8})\s+\d\d:\d\d:\d\d\s+(?P<codec>\S+)\s+(?P<received>\d+)"
                            r"\s+\d+\s+\d+\s+[\d.]+\s+(?P<sent>\d+)\s")


def channel_stats(pbx: Asterisk) -> dict[str, dict[str, str]]:
    """Per channel (``101-00000001``), its codec and the RTP packets Asterisk received and sent on it
    (``pjsip show channelstats``): a browser's packets are counted once DTLS-SRTP decrypted them."""
    return {m["channel"]: m.groupdict() for m in _CHANNEL_STATS.finditer(pbx.cli("pjsip show channelstats"))}


@pytest.mark.parametrize("scheme", ["ws", "wss"])
async def test_a_browser_registers_with_asterisk_over_websocket_and_calls_an_extension(
    api, tmp_path, browser_stack, sip_port, websocket_port, scheme
):
    assert (await api.patch("/api/v1/organization", json={"sip_domain": DOMAIN})).status_code == 200
    given = await webrtc_user(api, "Anna")
    bruno = await api.create_user(first_name="Bruno", extension="next")
    secret = (await api.get(f"/api/v1/sip-accounts/{bruno['sip_account']['id']}/secret")).json()
    number = str(secret["extension"])
    asterisk_dir = (await apply(api)) / "asterisk"

    with Asterisk(asterisk_dir) as pbx, Phone("answer", name="bruno") as phone, \
            Browser(tmp_path / "browser.log", ignore_certificate_errors=scheme == "wss") as browser:
        assert phone.register(sip_port, number, secret["auth_username"], secret["password"]) == 200
        registered = browser.do("register", credentials=given)
        # RFC 7118's URI parameter is transport=ws, over TLS too.
        contact = pbx.wait_cli("pjsip show contacts", rf"Contact:\s+{given['username']}/sip:\S+;transport=ws\b")
        started = time.monotonic()
        called = browser.do("call", number=number)
        setup_s = time.monotonic() - started
        invites = phone.wait_for("INVITE")
        # The browser's channel, up and dialling (Channel!Context!Exten!Priority!State!Application!...).
        channel = pbx.wait_cli("core show channels concise", rf"^PJSIP/({given['username']}-\w+)!.*!Up!Dial!")
        browser_leg = channel.group(1)

        def audio_crossed() -> dict | None:
            # The browser's audio reached Asterisk and went on to the phone, translated to its codec.
            stats = channel_stats(pbx)
            phone_legs = [leg for name, leg in stats.items() if name.startswith(f"{number}-")]
            crossed = (browser_leg in stats and int(stats[browser_leg]["received"]) > 0 and phone_legs
                       and int(phone_legs[0]["sent"]) > 0)
            return {"browser": stats[browser_leg], "phone": phone_legs[0]} if crossed else None

        audio = wait_until(audio_crossed, 10.0, "the browser's audio to reach the phone through Asterisk")
        shown = pbx.cli(f"core show channel PJSIP/{browser_leg}")
        formats = re.findall(r"^\s*(?:NativeFormats|ReadTranscode): .*$", shown, re.MULTILINE)
        hung_up = browser.do("hangup")
        phone.wait_for("BYE")
        unregistered = browser.do("unregister")
        # The files' own complaints, the HTTP server's, the WebSocket's, media's (ICE, DTLS, SRTP) and the
        # bridge's (a codec Asterisk cannot translate ends the call at once).
        problems = pbx.log_problems("http.conf", "pjsip.conf", "http.c:", "websocket.c:", "res_rtp_asterisk.c:",
                                    "res_srtp.c:", "channel.c:", "bridge")
        if scheme == "wss":  # plain HTTP's fixed loopback port may be held by another test's Asterisk
            problems = [line for line in problems if "at address '127.0.0.1:8088'" not in line]

    assert (given["websocket_url"], given["transport"]) == (f"{scheme}://127.0.0.1:{websocket_port}/ws", scheme)
    assert registered["status"] == 200, "the sip-credentials register over Asterisk's WebSocket"
    assert contact, "Asterisk holds the browser's binding, reached over the ws transport"
    assert called["status"] == 200, called
    answer = called["answer"]
    assert "RTP/SAVPF" in answer and "a=fingerprint:" in answer and "a=ice-ufrag:" in answer, answer
    assert called["connection"] == "connected" and called["dtls_state"] == "connected", called
    if scheme == "wss":  # DTLS presents the configured certificate, not one generated for the call
        der = ssl.PEM_cert_to_DER_cert(Path(api.settings.asterisk_tls_cert_file).read_text())
        fingerprint = ":".join(re.findall("..", hashlib.sha256(der).hexdigest()))
        assert re.search(rf"a=fingerprint:sha-256 {fingerprint}\r?\n", answer, re.IGNORECASE), answer
    assert called["packets_sent"] > 0, "the browser sends audio over DTLS-SRTP"
    assert len(invites) == 1, "the call reached the extension's phone, which answered"
    assert (hung_up["status"], unregistered["status"]) == (200, 200)
    assert not problems, "Asterisk logged problems:\n" + "\n".join(problems)
    assert audio["browser"]["codec"] != "opus" and audio["phone"]["codec"] in ("ulaw", "alaw"), audio
    print(f"\ncall set-up {setup_s:.2f}s; browser sends {called['codec']} over {called['srtp_cipher']}; Asterisk: "
          f"{audio} {formats}")
