"""Run a real Asterisk (22 LTS) and scripted sipp phones against it, on 127.0.0.1 and free ports.

Asterisk is found through ``ASTERISK_PREFIX`` (or ``asterisk`` on PATH) and started by the shared
runner ``<repo>/../shared/tools/asterisk/start.sh`` on a directory of ``.conf`` files; it is stopped
by its PID. Phones are sipp processes started directly with ``subprocess.Popen`` (no shell, own
session) and stopped by their PID. Every wait polls a condition against a deadline.

    conf = tmp_path / "conf"; conf.mkdir()
    (conf / "pjsip.conf").write_text(pjsip_transport(port) + pjsip_user("101", "pw1") + pjsip_user("102", "pw2"))
    (conf / "extensions.conf").write_text("[internal]\\nexten => _1XX,1,Dial(PJSIP/${EXTEN},5)\\n")
    with Asterisk(conf) as pbx, Phone("answer") as phone_101:
        assert phone_101.register(port, "101", "101", "pw1") == 200
        result = call(port, "101", caller="102", password="pw2", hangup_after_s=0.5)
        assert result.status == 200 and len(phone_101.invites()) == 1
        pbx.assert_no_log_problems("pjsip.conf", "extensions.conf")

Background variants for overlapping SIP activity: ``Call`` (a call in progress) and ``Subscription``.

A carrier (the far end of a SIP trunk) is a sipp on an address of its own, because PJSIP identifies a trunk
by source address before user name: every sipp helper (``Phone``, ``Call``, ``call``, ``register``) takes
``host`` (the address it binds, default 127.0.0.1; the whole 127.0.0.0/8 answers on ``lo``). A carrier
answering calls from Asterisk is a ``Phone(..., host="127.0.0.2")``; a carrier calling in sends no digest
credentials, so ``Call``/``call`` with ``password=None`` place the INVITE without expecting a 401:

    with Phone("answer", host="127.0.0.2") as carrier:   # a trunk's aor: contact=sip:127.0.0.2:<carrier.port>
        ...
        result = call(port, "+48221234567", caller="+48601000000", password=None, host="127.0.0.2")
Every sipp keeps a message trace; the helpers return ``SipMessage`` objects (direction, wall-clock
timestamp, text, headers) so that tests assert on what was really sent and received.

When a program is missing the test is skipped with how to install it, except when the ``CI``
environment variable is set: there it is a failure instead.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Self, TypeVar

import pytest
from sip_tools import (
    _stop,
    free_tcp_port,
    free_udp_port,
    require_program,
    sip_options_answered,
)

REPO_ROOT = Path(__file__).resolve().parent.parent
# The shared tools live next to the repository checkout: <repo>/../shared/tools/asterisk/.
START_SCRIPT = REPO_ROOT.parent / "shared" / "tools" / "asterisk" / "start.sh"
INSTALL_HINT = "run ../shared/tools/asterisk/install.sh [PREFIX] and export ASTERISK_PREFIX=PREFIX"

DEFAULT_DOMAIN = "127.0.0.1"
DEFAULT_HOST = "127.0.0.1"  # the address sipp binds; a carrier takes another one of 127.0.0.0/8
POLL_S = 0.05  # polling interval while waiting on a condition, always bounded by a deadline

T = TypeVar("T")


def _skip_or_fail(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, so this must not be skipped)")
    pytest.skip(reason)


def wait_until(condition: Callable[[], T | None], timeout_s: float, what: str) -> T:
    """Poll ``condition`` until it returns something truthy and return it; TimeoutError after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError(f"timed out after {timeout_s}s waiting for {what}")
        time.sleep(POLL_S)


# ---------------------------------------------------------------------------------------------
# Asterisk
# ---------------------------------------------------------------------------------------------


def asterisk_prefix() -> Path:
    """The Asterisk install prefix: ``$ASTERISK_PREFIX`` when it holds ``sbin/asterisk``, else the prefix of
    ``asterisk`` on PATH.

    Skips the test (fails under CI) when neither gives an ``sbin/asterisk``.
    """
    configured = os.environ.get("ASTERISK_PREFIX")
    if configured and (Path(configured) / "sbin" / "asterisk").is_file():
        return Path(configured)
    found = shutil.which("asterisk")
    if found is not None:
        return Path(found).resolve().parent.parent  # <prefix>/sbin/asterisk
    where = f"ASTERISK_PREFIX={configured} has no sbin/asterisk" if configured else "ASTERISK_PREFIX is unset"
    _skip_or_fail(f"Asterisk 22 not found ({where}, no asterisk on PATH): {INSTALL_HINT}")
    raise AssertionError("unreachable")  # _skip_or_fail raises


def pjsip_transport(port: int, name: str = "transport-udp") -> str:
    """A pjsip.conf UDP transport bound to 127.0.0.1:``port``."""
    return f"[{name}]\ntype=transport\nprotocol=udp\nbind=127.0.0.1:{port}\n\n"


def pjsip_user(
    extension: str,
    password: str,
    *,
    auth_id: str | None = None,
    context: str = "internal",
    extra: Iterable[str] = (),
) -> str:
    """pjsip.conf endpoint + auth + aor sections named ``extension`` (password auth, ulaw/alaw).

    ``extra`` lines go into the endpoint section, e.g. ``["named_pickup_group=acme-sales"]``.
    """
    endpoint = [f"[{extension}]", "type=endpoint", f"context={context}", "disallow=all", "allow=ulaw,alaw",
                f"aors={extension}", f"auth={extension}", "direct_media=no", *extra]  # fmt: skip
    auth = [f"[{extension}]", "type=auth", "auth_type=userpass", f"username={auth_id or extension}",
            f"password={password}"]  # fmt: skip
    aor = [f"[{extension}]", "type=aor", "max_contacts=1", "remove_existing=yes"]
    return "\n\n".join("\n".join(section) for section in (endpoint, auth, aor)) + "\n\n"


_LOG_PROBLEM = re.compile(r"^\[[^\]]*\] (?:ERROR|WARNING)\[")


class Asterisk:
    """A private Asterisk on a directory of .conf files, started by the shared ``start.sh``.

    As a context manager: entering starts it and returns once it is fully booted (about 1.5 s),
    leaving stops it by its PID. ``conf_dir`` is never modified. The instance's etc/run/log/spool/db
    live in ``run_dir``; by default a new short directory under the system temp dir, removed on a
    clean exit and kept (with its logs, for diagnosis) when the block raised.
    """

    def __init__(self, conf_dir: Path, run_dir: Path | None = None, *, boot_timeout_s: float = 30.0) -> None:
        self.conf_dir = Path(conf_dir)
        self._own_run_dir = run_dir is None
        self.run_dir: Path | None = Path(run_dir) if run_dir is not None else None
        self.boot_timeout_s = boot_timeout_s
        self.pid: int | None = None
        self.boot_seconds: float | None = None

    def start(self) -> None:
        """Start Asterisk and return once it is fully booted, or raise with its logs."""
        prefix = asterisk_prefix()
        if not START_SCRIPT.is_file():
            _skip_or_fail(f"{START_SCRIPT} is missing: the shared Asterisk tools are not next to the repository")
        if self.run_dir is None:
            self.run_dir = Path(tempfile.mkdtemp(prefix="ast-"))
        # The control socket is RUN_DIR/run/asterisk.ctl; a unix socket path has at most 107 bytes.
        if len(str(self.run_dir.resolve() / "run" / "asterisk.ctl")) > 100:
            raise ValueError(f"run_dir {self.run_dir} is too long for Asterisk's control socket path")
        for stale in ("messages", "full"):  # start.sh appends to the logs of a reused run_dir
            (self.run_dir / "log" / stale).unlink(missing_ok=True)
        env = {**os.environ, "ASTERISK_PREFIX": str(prefix), "ASTERISK_BOOT_TIMEOUT": str(int(self.boot_timeout_s))}
        started = time.monotonic()
        completed = subprocess.run(
            ["bash", str(START_SCRIPT), str(self.conf_dir), str(self.run_dir)],
            env=env, capture_output=True, text=True, timeout=self.boot_timeout_s + 30, check=False,
        )  # fmt: skip
        self.boot_seconds = time.monotonic() - started
        pid = re.search(r"^PID=(\d+)$", completed.stdout, re.MULTILINE)
        self.pid = int(pid.group(1)) if pid else None
        if completed.returncode != 0:
            console = self._read(self.run_dir / "console.log")[-4000:]
            self.stop()
            raise RuntimeError(
                f"start.sh exited {completed.returncode}: {completed.stderr.strip()}\n"
                f"console.log:\n{console}\nlog/messages:\n{self.log_text()[-4000:]}"
            )

    def stop(self) -> None:
        """Stop this instance by its PID (``RUN_DIR/stop.sh``); a no-op when it is not running."""
        if self.pid is None or self.run_dir is None:
            return
        if self._alive():
            subprocess.run([str(self.run_dir / "stop.sh")], capture_output=True, timeout=30, check=False)
        if self._alive():  # stop.sh gave up: still by PID only
            os.kill(self.pid, signal.SIGKILL)
        self.pid = None

    def _alive(self) -> bool:
        if self.pid is None:
            return False
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        return True

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
        if self._own_run_dir and exc_type is None and self.run_dir is not None:
            shutil.rmtree(self.run_dir, ignore_errors=True)

    def cli(self, command: str, timeout_s: float = 15.0) -> str:
        """Run one CLI command (``asterisk -rx``) on this instance and return its output."""
        if self.run_dir is None:
            raise RuntimeError("Asterisk is not started")
        completed = subprocess.run(
            [str(self.run_dir / "cli.sh"), command], capture_output=True, text=True, timeout=timeout_s, check=False
        )
        if completed.returncode != 0:
            raise RuntimeError(f"CLI {command!r} failed ({completed.returncode}): {completed.stderr}")
        return completed.stdout

    def wait_cli(self, command: str, pattern: str, timeout_s: float = 10.0) -> re.Match[str]:
        """Repeat a CLI command until its output matches the regex ``pattern``; return the match."""
        regex = re.compile(pattern, re.MULTILINE)
        return wait_until(lambda: regex.search(self.cli(command)), timeout_s, f"{command!r} to show {pattern!r}")

    @staticmethod
    def _read(path: Path) -> str:
        return path.read_text(errors="replace") if path.exists() else ""

    def log_text(self) -> str:
        """Notices, warnings and errors so far (``RUN_DIR/log/messages``)."""
        return self._read(self.run_dir / "log" / "messages") if self.run_dir else ""

    def full_log_text(self) -> str:
        """The verbose log so far (``RUN_DIR/log/full``): dialplan steps (``Executing [...]``), app output."""
        return self._read(self.run_dir / "log" / "full") if self.run_dir else ""

    def log_problems(self, *mentioning: str) -> list[str]:
        """ERROR/WARNING lines of ``log/messages``; with names given, only lines containing one of them.

        A stock instance logs many errors about optional config files it does not find (cdr.conf,
        ari.conf, ...), so pass the names of the files the test wrote, e.g. ``"pjsip.conf"``.
        Complaints about a file's *content* often name the object, not the file: also check the
        loaded objects (``pjsip show endpoint 101``, ``dialplan show 101@internal``).
        """
        lines = [line for line in self.log_text().splitlines() if _LOG_PROBLEM.match(line)]
        if mentioning:
            lines = [line for line in lines if any(name in line for name in mentioning)]
        return lines

    def assert_no_log_problems(self, *mentioning: str) -> None:
        """Fail when ``log/messages`` has ERROR/WARNING lines mentioning any of the given names."""
        problems = self.log_problems(*mentioning)
        assert not problems, "Asterisk logged problems:\n" + "\n".join(problems)


# ---------------------------------------------------------------------------------------------
# SIP messages, from sipp's -trace_msg file
# ---------------------------------------------------------------------------------------------

_TRACE_SEPARATOR = re.compile(r"^-{20,} ?(.*)$", re.MULTILINE)
_TRACE_TITLE = re.compile(r"^(?:UDP|TCP|TLS|SCTP) message (sent|received) [\[(]?\d+\]? bytes\)? ?:$")


@dataclass(frozen=True)
class SipMessage:
    """One SIP message a sipp process sent or received."""

    direction: str  # "sent" or "received"
    timestamp: float  # wall clock, seconds since the epoch
    text: str  # the message, lines ending in "\n"

    @property
    def first_line(self) -> str:
        return self.text.split("\n", 1)[0].strip()

    @property
    def status(self) -> int | None:
        """The status code of a response; None for a request."""
        match = re.match(r"SIP/2\.0 (\d{3})", self.first_line)
        return int(match.group(1)) if match else None

    @property
    def is_request(self) -> bool:
        return self.status is None

    @property
    def method(self) -> str:
        """The request's method, or for a response the method in its CSeq."""
        if self.is_request:
            return self.first_line.split(" ", 1)[0]
        cseq = (self.header("CSeq") or "").split()
        return cseq[-1] if cseq else ""

    def headers(self, name: str) -> list[str]:
        """Every value of header ``name`` (case-insensitive; compact forms are not expanded)."""
        head = self.text.split("\n\n", 1)[0].split("\n")[1:]
        prefix = name.lower() + ":"
        return [line.split(":", 1)[1].strip() for line in head if line.lower().startswith(prefix)]

    def header(self, name: str) -> str | None:
        """The first value of header ``name``, or None."""
        values = self.headers(name)
        return values[0] if values else None

    @property
    def body(self) -> str:
        return self.text.split("\n\n", 1)[1] if "\n\n" in self.text else ""


def read_trace(path: Path) -> list[SipMessage]:
    """Parse a sipp ``-message_file`` (flushed per message, so readable while sipp runs)."""
    path = Path(path)
    if not path.exists():
        return []
    text = path.read_text(errors="replace").replace("\r\n", "\n")
    separators = list(_TRACE_SEPARATOR.finditer(text))
    messages = []
    for index, separator in enumerate(separators):
        end = separators[index + 1].start() if index + 1 < len(separators) else len(text)
        title, _, message = text[separator.end() : end].lstrip("\n").partition("\n\n")
        found = _TRACE_TITLE.match(title.strip())
        if not found or not separator.group(1):
            continue  # sipp's own notes ("Unexpected UDP message received:", ...) repeat a message
        stamp = separator.group(1).strip()
        seconds, _, fraction = stamp.partition(".")
        timestamp = datetime.strptime(seconds, "%Y-%m-%d %H:%M:%S").timestamp() + float(f"0.{fraction or 0}")
        messages.append(SipMessage(found.group(1), timestamp, message.strip("\n") + "\n"))
    return messages


def final_status(messages: Iterable[SipMessage], method: str = "INVITE") -> int:
    """The first final (>= 200) status received for ``method`` other than a digest challenge.

    When only challenges arrived (a wrong password draws a second 401) the last one is returned;
    0 when no final reply arrived at all.
    """
    finals = [m.status for m in messages if m.direction == "received" and m.status and m.status >= 200
              and m.method == method]  # fmt: skip
    real = [status for status in finals if status not in (401, 407)]
    return real[0] if real else (finals[-1] if finals else 0)


# ---------------------------------------------------------------------------------------------
# sipp processes and scenarios
# ---------------------------------------------------------------------------------------------


class _Sipp:
    """One sipp process with its scenario, message trace and logs in a private work directory."""

    def __init__(self, name: str, scenario: str, args: list[str], *, port: int | None = None,
                 host: str = DEFAULT_HOST) -> None:
        self.name = name
        self.host = host
        self.scenario = scenario
        self.args = args
        self.port = port if port is not None else free_udp_port()
        self.work_dir = Path(tempfile.mkdtemp(prefix=f"sipp-{name}-"))
        self.trace_path = self.work_dir / "messages.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        sipp = require_program("sipp", "sip-tester")
        # sipp lets "-set NAME VALUE" assign only variables the scenario declares as globals.
        names = [self.args[i + 1] for i, arg in enumerate(self.args) if arg == "-set"]
        text = self.scenario
        if names:
            text = re.sub(r"(<scenario [^>]*>\n)", rf'\1  <Global variables="{",".join(names)}"/>\n', text, count=1)
        scenario = self.work_dir / "scenario.xml"
        scenario.write_text(text)
        command = [
            sipp, *self.args,
            "-sf", str(scenario),
            "-i", self.host, "-p", str(self.port),
            "-cp", str(free_tcp_port()),  # control socket: 8888 by default, maybe taken
            "-mp", str(free_udp_port()),
            "-nostdin",
            "-aa",  # answer stray NOTIFY/OPTIONS/INFO/UPDATE with 200 (MWI, qualify, readiness probe)
            "-trace_msg", "-message_file", str(self.trace_path),
            "-trace_err", "-error_file", str(self.work_dir / "errors.log"),
        ]  # fmt: skip
        with (self.work_dir / "stdout.log").open("wb") as out:
            self.process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                cwd=self.work_dir, start_new_session=True,
            )  # fmt: skip

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def wait(self, timeout_s: float) -> int:
        assert self.process is not None
        try:
            return self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.stop()
            raise TimeoutError(f"sipp {self.name} still running after {timeout_s}s (trace {self.trace_path})") from None

    def stop(self) -> None:
        if self.process is not None:
            _stop(self.process)

    def messages(self) -> list[SipMessage]:
        return read_trace(self.trace_path)

    def output(self) -> str:
        """sipp's screen output and error log, for failure messages."""
        parts = [self.work_dir / "stdout.log", self.work_dir / "errors.log"]
        return "\n".join(p.read_text(errors="replace")[-3000:] for p in parts if p.exists())

    def cleanup(self) -> None:
        shutil.rmtree(self.work_dir, ignore_errors=True)


def _options_answered(host: str, port: int) -> bool:
    """Whether a sipp on ``host``:``port`` answers a SIP OPTIONS (sent from 127.0.0.1)."""
    if host == DEFAULT_HOST:
        return sip_options_answered(port)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((DEFAULT_HOST, 0))
        sock.settimeout(0.2)
        local_port, call_id = sock.getsockname()[1], uuid.uuid4().hex
        request = (
            f"OPTIONS sip:{host}:{port} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP {DEFAULT_HOST}:{local_port};branch=z9hG4bK{call_id[:16]};rport\r\n"
            f"Max-Forwards: 70\r\nFrom: <sip:probe@{DEFAULT_HOST}>;tag={call_id[:8]}\r\n"
            f"To: <sip:{host}:{port}>\r\nCall-ID: {call_id}@{DEFAULT_HOST}\r\nCSeq: 1 OPTIONS\r\n"
            "Content-Length: 0\r\n\r\n"
        ).encode()
        sock.sendto(request, (host, port))
        try:
            return sock.recv(65535).startswith(b"SIP/2.0 ")
        except (TimeoutError, ConnectionRefusedError):
            return False


def _check_token(what: str, value: str) -> None:
    if not value or any(char.isspace() or char in "[]" for char in value):
        raise ValueError(f"{what} {value!r} cannot be passed to sipp")


# Final failures a scenario recognises, so that it ends cleanly (ACKing an INVITE's); sipp 3.6
# cannot match a status range. Any other status aborts the call and sipp ACKs or BYEs by itself.
FAILURE_STATUSES = (400, 401, 403, 404, 405, 407, 408, 410, 415, 420, 480, 481, 482, 483, 484, 485, 486,
                    487, 488, 489, 491, 500, 501, 502, 503, 504, 600, 603, 604, 606)  # fmt: skip

_SDP = """v=0
o=user1 53655765 2353687637 IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 0 8
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
"""


def _scenario(name: str, parts: list[tuple[str | None, str]]) -> str:
    """Assemble a scenario, resolving ``[branch-@name@]`` to the branch of the part anchored ``name``.

    sipp's ``[branch-N]`` is the branch of the command N places earlier (labels do not count): an
    ACK to a non-2xx reply and a CANCEL must reuse their INVITE's branch.
    """
    anchors: dict[str, int] = {}
    positions = []
    index = 0
    for anchor, xml in parts:
        positions.append(index)
        if anchor:
            anchors[anchor] = index
        if not xml.lstrip().startswith("<label"):
            index += 1
    body = "\n".join(
        re.sub(r"@(\w+)@", lambda m, at=position: str(at - anchors[m.group(1)]), xml)
        for (_, xml), position in zip(parts, positions, strict=True)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE scenario SYSTEM "sipp.dtd">\n'
        f'<scenario name="{name}">\n{body}\n</scenario>\n'
    )


def _send(message: str, *, retrans: bool = False, next_label: str | None = None) -> tuple[None, str]:
    attributes = (' retrans="500"' if retrans else "") + (f' next="{next_label}"' if next_label else "")
    lines = "\n".join(line.strip() for line in message.strip("\n").split("\n"))
    return None, f"  <send{attributes}>\n    <![CDATA[\n{lines}\n\n    ]]>\n  </send>"


def _xml(xml: str) -> tuple[None, str]:
    return None, xml


def _failures(next_label: str, extra: str = "", skip: Iterable[int] = ()) -> list[tuple[None, str]]:
    return [_xml(f'  <recv response="{code}" optional="true" next="{next_label}"{extra}/>')
            for code in FAILURE_STATUSES if code not in skip]  # fmt: skip


_RESPONSE = """
SIP/2.0 {status}
[last_Via:]
[last_From:]
[last_To:]{tag}
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:[local_ip]:[local_port];transport=[transport]>
Content-Length: 0
"""
_TO_TAG = ";tag=[pid]SIPpTag01[call_number]"


# -- REGISTER ---------------------------------------------------------------------------------

_REGISTER_REQUEST = """
REGISTER sip:[$domain] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:[service]@[$domain]>;tag=[pid]SIPpTag00[call_number]
To: <sip:[service]@[$domain]>
Call-ID: [call_id]
CSeq: {cseq} REGISTER
Contact: <sip:[service]@[local_ip]:[$contact_port];transport=[transport]>
{auth}Max-Forwards: 70
Expires: [$expires]
User-Agent: centralino-test
Content-Length: 0
"""

_REGISTER = _scenario("centralino-register", [
    _send(_REGISTER_REQUEST.format(cseq=1, auth=""), retrans=True),
    _xml('  <recv response="401" auth="true"/>'),
    _send(_REGISTER_REQUEST.format(cseq=2, auth="[authentication]\n"), retrans=True),
    *_failures("end"),
    _xml('  <recv response="200"/>'),
    _xml('  <label id="end"/>'),
])  # fmt: skip


def register(
    port: int,
    extension: str,
    auth_id: str,
    password: str,
    domain: str = DEFAULT_DOMAIN,
    contact_port: int | None = None,
    *,
    expires: int = 300,
    timeout_s: float = 10.0,
    host: str = DEFAULT_HOST,
) -> int:
    """REGISTER ``extension`` at Asterisk on 127.0.0.1:``port`` with digest auth; return the final status.

    The Contact is 127.0.0.1:``contact_port`` (a Phone's port), so calls to the extension reach
    that phone. ``expires=0`` removes the binding. 401 means wrong credentials; 0 no reply. ``host`` is the
    address the REGISTER is sent from (and the Contact's).
    """
    for what, value in (("extension", extension), ("auth_id", auth_id), ("password", password), ("domain", domain)):
        _check_token(what, value)
    sipp = _Sipp(f"reg-{extension}", _REGISTER, [
        f"127.0.0.1:{port}", "-s", extension, "-au", auth_id, "-ap", password,
        "-set", "domain", domain, "-set", "contact_port", str(contact_port or free_udp_port()),
        "-set", "expires", str(expires), "-m", "1", "-timeout", f"{max(1, int(timeout_s))}s",
    ], host=host)  # fmt: skip
    sipp.start()
    try:
        sipp.wait(timeout_s + 10)
        return final_status(sipp.messages(), "REGISTER")
    finally:
        sipp.stop()
        sipp.cleanup()


def _retry_unsent(attempt: Callable[[], T]) -> T:
    """Run a one-shot sipp dialog again (on new ports) when it sent nothing at all: its ports, free a moment
    before, were taken by another process before sipp bound them. A dialog that sent anything is never
    repeated, so a refusal by Asterisk is always reported as it happened."""
    for _ in range(2):
        result = attempt()
        if any(m.direction == "sent" for m in result.messages):
            return result
    return attempt()


# -- Phone (UAS) ------------------------------------------------------------------------------

PHONE_MODES = ("ring", "answer", "busy", "reject")


def _uas_scenario(mode: str, answer_after_s: float, hold_s: float | None, reject_status: str) -> str:
    parts: list[tuple[str | None, str]] = []
    if mode == "answer" and hold_s is not None:
        # The BYE this phone sends needs the INVITE's Contact, From and To (sipp refuses a
        # variable that is assigned but never used, so only this mode stores them).
        parts.append(_xml("""  <recv request="INVITE" crlf="true">
    <action>
      <ereg regexp="sips?:[^&gt;;]*" search_in="hdr" header="Contact:" assign_to="contact"/>
      <ereg regexp=".*" search_in="hdr" header="From:" assign_to="remote"/>
      <ereg regexp=".*" search_in="hdr" header="To:" assign_to="local"/>
    </action>
  </recv>"""))
    else:
        parts.append(_xml('  <recv request="INVITE" crlf="true"/>'))
    if mode in ("busy", "reject"):
        parts.append(_send(_RESPONSE.format(status="486 Busy Here" if mode == "busy" else reject_status, tag=_TO_TAG)))
        parts.append(_xml('  <recv request="ACK"/>'))
        return _scenario(f"centralino-phone-{mode}", parts)
    parts.append(_send(_RESPONSE.format(status="180 Ringing", tag=_TO_TAG)))
    if mode == "ring" or answer_after_s > 0:
        wait = "" if mode == "ring" else f' timeout="{int(answer_after_s * 1000)}" ontimeout="answer"'
        parts += [
            _xml(f'  <recv request="CANCEL"{wait}/>'),
            _send(_RESPONSE.format(status="200 OK", tag=_TO_TAG)),
            _send("""
                SIP/2.0 487 Request Terminated
                [last_Via:]
                [last_From:]
                [last_To:];tag=[pid]SIPpTag01[call_number]
                [last_Call-ID:]
                CSeq: [last_cseq_number] INVITE
                Content-Length: 0
                """),
            _xml('  <recv request="ACK" next="end"/>'),
            _xml('  <label id="answer"/>'),
        ]  # fmt: skip
    if mode == "answer":
        parts += [
            _send(f"""
                SIP/2.0 200 OK
                [last_Via:]
                [last_From:]
                [last_To:]{_TO_TAG}
                [last_Call-ID:]
                [last_CSeq:]
                Contact: <sip:[local_ip]:[local_port];transport=[transport]>
                Content-Type: application/sdp
                Content-Length: [len]

                {_SDP}""", retrans=True),
            _xml('  <recv request="ACK"/>'),
        ]  # fmt: skip
        if hold_s is None:
            parts += [_xml('  <recv request="BYE"/>'), _send(_RESPONSE.format(status="200 OK", tag=""))]
        else:
            parts += [
                _xml(f'  <recv request="BYE" timeout="{int(hold_s * 1000)}" ontimeout="hangup"/>'),
                _send(_RESPONSE.format(status="200 OK", tag=""), next_label="end"),
                _xml('  <label id="hangup"/>'),
                _send("""
                    BYE [$contact] SIP/2.0
                    Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
                    From: [$local];tag=[pid]SIPpTag01[call_number]
                    To: [$remote]
                    Call-ID: [call_id]
                    CSeq: 1 BYE
                    Max-Forwards: 70
                    Content-Length: 0
                    """, retrans=True),
                _xml('  <recv response="200"/>'),
            ]  # fmt: skip
    parts.append(_xml('  <label id="end"/>'))
    return _scenario(f"centralino-phone-{mode}", parts)


class Phone:
    """A scripted SIP phone: a sipp UAS on ``host``:``port`` (default 127.0.0.1) that handles every INVITE it gets.

    On another address (``host="127.0.0.2"``) it plays a carrier that a trunk sends calls to.

    Modes (each incoming INVITE is handled on its own, so one phone can take several calls):
      - ``"ring"``: 180 Ringing, then only waits for a CANCEL (answers 200 + 487): never answers.
      - ``"answer"``: 180, then after ``answer_after_s`` (a CANCEL meanwhile ends it as in "ring")
        200 OK with SDP; after the ACK it keeps the call until Asterisk's BYE or, when ``hold_s``
        is given, sends its own BYE after ``hold_s`` seconds.
      - ``"busy"``: 486 Busy Here; ``"reject"``: ``reject_status``, e.g. "603 Decline".
    Stray NOTIFY/OPTIONS (MWI after voicemail, qualify) get a 200. What the phone sent and received
    is readable while it runs: ``messages()``, ``received()``, ``invites()``, ``received_header()``.
    """

    def __init__(
        self,
        mode: str = "answer",
        *,
        answer_after_s: float = 0.0,
        hold_s: float | None = None,
        reject_status: str = "603 Decline",
        port: int | None = None,
        name: str = "phone",
        host: str = DEFAULT_HOST,
    ) -> None:
        if mode not in PHONE_MODES:
            raise ValueError(f"mode must be one of {PHONE_MODES}, not {mode!r}")
        self.mode = mode
        self.host = host
        self._sipp = _Sipp(name, _uas_scenario(mode, answer_after_s, hold_s, reject_status), [], port=port, host=host)
        self.port = self._sipp.port

    def start(self) -> None:
        """Start the phone and return once it answers SIP (an OPTIONS probe gets its 200)."""
        self._sipp.start()
        deadline = time.monotonic() + 10.0
        while not _options_answered(self.host, self.port):
            if not self._sipp.running() or time.monotonic() >= deadline:
                self.stop()
                raise RuntimeError(f"sipp phone on port {self.port} did not start:\n{self._sipp.output()}")
            time.sleep(POLL_S)

    def stop(self) -> None:
        self._sipp.stop()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
        if exc_type is None:
            self._sipp.cleanup()

    @property
    def trace_path(self) -> Path:
        return self._sipp.trace_path

    def register(
        self,
        port: int,
        extension: str,
        auth_id: str,
        password: str,
        domain: str = DEFAULT_DOMAIN,
        *,
        expires: int = 300,
    ) -> int:
        """REGISTER ``extension`` with this phone's address as Contact; return the final status."""
        return register(port, extension, auth_id, password, domain, self.port, expires=expires, host=self.host)

    def messages(self) -> list[SipMessage]:
        """Every SIP message sent and received so far, the readiness probe included."""
        return self._sipp.messages()

    def received(self, method: str | None = None) -> list[SipMessage]:
        """Requests received so far (retransmissions included), optionally only those of ``method``."""
        return [m for m in self.messages() if m.direction == "received" and m.is_request
                and method in (None, m.method)]  # fmt: skip

    def invites(self) -> list[SipMessage]:
        """The INVITEs received so far, one per dialog (Call-ID), in order of arrival."""
        unique: dict[str | None, SipMessage] = {}
        for message in self.received("INVITE"):
            unique.setdefault(message.header("Call-ID"), message)
        return list(unique.values())

    def received_header(self, name: str, method: str = "INVITE") -> list[str]:
        """Every value of header ``name`` in the ``method`` requests received (one per dialog for INVITE)."""
        requests = self.invites() if method == "INVITE" else self.received(method)
        return [value for message in requests for value in message.headers(name)]

    def wait_for(self, method: str, count: int = 1, timeout_s: float = 10.0) -> list[SipMessage]:
        """Wait until ``count`` requests of ``method`` arrived (INVITEs counted per dialog); return them."""

        def enough() -> list[SipMessage] | None:
            found = self.invites() if method == "INVITE" else self.received(method)
            return found if len(found) >= count else None

        return wait_until(enough, timeout_s, f"{count} {method} at the phone on port {self.port}")


# -- calls (UAC) -------------------------------------------------------------------------------

_INVITE = """
INVITE sip:[service]@[$domain] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:[$caller]@[$domain]>;tag=[pid]SIPpTag00[call_number]
To: <sip:[service]@[$domain]>
Call-ID: [call_id]
CSeq: {cseq} INVITE
Contact: <sip:[$caller]@[local_ip]:[local_port];transport=[transport]>
Max-Forwards: 70
{auth}User-Agent: centralino-test
Content-Type: application/sdp
Content-Length: [len]

""" + _SDP

_ACK_NON_2XX = """
ACK sip:[service]@[$domain] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch-@{anchor}@]
From: <sip:[$caller]@[$domain]>;tag=[pid]SIPpTag00[call_number]
[last_To:]
Call-ID: [call_id]
CSeq: {cseq} ACK
Max-Forwards: 70
Content-Length: 0
"""

_ACK_2XX = """
ACK [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:[$caller]@[$domain]>;tag=[pid]SIPpTag00[call_number]
[last_To:]
Call-ID: [call_id]
[routes]
CSeq: 2 ACK
Max-Forwards: 70
Content-Length: 0
"""


# The caller hangs up an answered call.
_CALLER_BYE = """
BYE [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:[$caller]@[$domain]>;tag=[pid]SIPpTag00[call_number]
[last_To:]
Call-ID: [call_id]
[routes]
CSeq: {cseq} BYE
Max-Forwards: 70
Content-Length: 0
"""


def _call_scenario(hangup_after_s: float | None, cancel_after_s: float | None, auth: bool = True) -> str:
    # sipp applies the timeout of the recv it is waiting at, which may be an optional one: every
    # recv after the authenticated INVITE carries it (so each provisional reply restarts the wait).
    wait = f' timeout="{int(cancel_after_s * 1000)}" ontimeout="cancel"' if cancel_after_s is not None else ""
    bye_wait = f' timeout="{int(hangup_after_s * 1000)}" ontimeout="hangup"' if hangup_after_s is not None else ""
    # Without auth (a carrier calling in) the first INVITE is the one; it keeps CSeq 2 so the rest is shared.
    challenge: list[tuple[str | None, str]] = [
        ("invite1", _send(_INVITE.format(cseq=1, auth=""), retrans=True)[1]),
        _xml('  <recv response="100" optional="true"/>'),
        _xml('  <recv response="401" auth="true"/>'),
        _send(_ACK_NON_2XX.format(anchor="invite1", cseq=1)),
    ] if auth else []
    parts: list[tuple[str | None, str]] = [
        *challenge,
        ("invite2", _send(_INVITE.format(cseq=2, auth="[authentication]\n" if auth else ""), retrans=True)[1]),
        *(_xml(f'  <recv response="{code}" optional="true"{wait}/>') for code in (100, 180, 181, 182, 183)),
        *_failures("failed", wait),
        _xml(f'  <recv response="200" rrs="true"{wait}/>'),
        _send(_ACK_2XX),
        _xml(f'  <recv request="BYE"{bye_wait}/>'),
        _send(_RESPONSE.format(status="200 OK", tag=""), next_label="end"),
        _xml('  <label id="hangup"/>'),
        _send(_CALLER_BYE.format(cseq=3), retrans=True),  # [last_To:] is still the 200 OK's To, with Asterisk's tag
        _xml('  <recv response="200" next="end"/>'),
        _xml('  <label id="cancel"/>'),
        _send("""
            CANCEL sip:[service]@[$domain] SIP/2.0
            Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch-@invite2@]
            From: <sip:[$caller]@[$domain]>;tag=[pid]SIPpTag00[call_number]
            To: <sip:[service]@[$domain]>
            Call-ID: [call_id]
            CSeq: 2 CANCEL
            Max-Forwards: 70
            Content-Length: 0
            """, retrans=True),
        _xml('  <recv response="200"/>'),
        # The INVITE then ends with 487, or with whatever final reply crossed the CANCEL.
        *_failures("failed", skip=(487,)),
        _xml('  <recv response="200" optional="true" rrs="true" next="crossed"/>'),
        _xml('  <recv response="487"/>'),
        _send(_ACK_NON_2XX.format(anchor="invite2", cseq=2), next_label="end"),
        _xml('  <label id="crossed"/>'),
        _send(_ACK_2XX, next_label="hangup"),
        _xml('  <label id="failed"/>'),
        _send(_ACK_NON_2XX.format(anchor="invite2", cseq=2)),
        _xml('  <label id="end"/>'),
    ]  # fmt: skip
    return _scenario("centralino-call", parts)


@dataclass
class CallResult:
    """What a call saw: the final INVITE status and every SIP message, with wall-clock timestamps."""

    status: int  # final status of the authenticated INVITE (401: wrong password; 0: no final reply)
    messages: list[SipMessage]
    started_at: float  # when the first INVITE was sent
    answered_at: float | None  # when the 200 OK arrived
    ended_at: float | None  # first BYE (either side) or the failure reply
    remote_hangup: bool  # Asterisk sent the BYE

    @property
    def answered(self) -> bool:
        return self.status == 200

    def received(self, method: str | None = None) -> list[SipMessage]:
        """Messages received (requests and responses), optionally only those of ``method``."""
        return [m for m in self.messages if m.direction == "received" and method in (None, m.method)]


class _Background:
    """A sipp dialog running in the background: start, stop by PID, and clean its work directory on success."""

    _sipp: _Sipp

    def start(self) -> Self:
        self._sipp.start()
        return self

    def stop(self) -> None:
        """Stop sipp by its PID (the dialog is abandoned as is)."""
        self._sipp.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
        if exc_type is None:
            self._sipp.cleanup()


class Call(_Background):
    """A call from a sipp UAC to ``extension``, running in the background until ``wait()``.

    The caller is the endpoint ``caller`` (From user) and answers the digest challenge with
    ``auth_id``/``password``; with ``password=None`` it sends no credentials and expects no 401 (a
    carrier calling in over a trunk, from ``host``: an address the trunk identifies). After a 200 OK it ACKs and hangs up after ``hangup_after_s`` seconds
    (None: waits for Asterisk's BYE), or earlier when Asterisk sends BYE. With ``cancel_after_s``
    it sends CANCEL when no further reply came for that long. A 4xx-6xx is ACKed and ends it.
    """

    def __init__(
        self,
        port: int,
        extension: str,
        *,
        caller: str,
        password: str | None,
        auth_id: str | None = None,
        domain: str = DEFAULT_DOMAIN,
        hangup_after_s: float | None = 1.0,
        cancel_after_s: float | None = None,
        timeout_s: float = 60.0,
        host: str = DEFAULT_HOST,
    ) -> None:
        auth_id = auth_id or caller
        checked = [("extension", extension), ("caller", caller), ("domain", domain)]
        if password is not None:
            checked += [("auth_id", auth_id), ("password", password)]
        for what, value in checked:
            _check_token(what, value)
        credentials = ["-au", auth_id, "-ap", password] if password is not None else []
        self.timeout_s = timeout_s
        self._sipp = _Sipp(f"call-{caller}", _call_scenario(hangup_after_s, cancel_after_s, password is not None), [
            f"127.0.0.1:{port}", "-s", extension, *credentials,
            "-set", "domain", domain, "-set", "caller", caller,
            "-m", "1", "-timeout", f"{max(1, int(timeout_s))}s",
        ], host=host)  # fmt: skip

    def messages(self) -> list[SipMessage]:
        return self._sipp.messages()

    def status(self) -> int:
        """The final INVITE status received so far (0 while there is none)."""
        return final_status(self.messages(), "INVITE")

    def wait_status(self, timeout_s: float = 10.0) -> int:
        """Wait for the INVITE's final status (e.g. the call was answered) and return it."""
        return wait_until(self.status, timeout_s, "a final reply to the INVITE")

    def wait_ringing(self, timeout_s: float = 10.0) -> None:
        """Wait until the caller got 180 or 183."""
        wait_until(lambda: any(m.status in (180, 183) for m in self.messages() if m.direction == "received"),
                   timeout_s, "180/183 at the caller")  # fmt: skip

    def wait(self, timeout_s: float | None = None) -> CallResult:
        """Wait until sipp finished the call and return what happened."""
        self._sipp.wait(timeout_s if timeout_s is not None else self.timeout_s + 10)
        return self.result()

    def result(self) -> CallResult:
        """What happened so far."""
        messages = self.messages()
        invites = [m for m in messages if m.direction == "sent" and m.is_request and m.method == "INVITE"]
        answers = [m for m in messages if m.direction == "received" and m.status == 200 and m.method == "INVITE"]
        byes = [m for m in messages if m.is_request and m.method == "BYE"]
        failures = [m for m in messages if m.direction == "received" and m.method == "INVITE" and m.status
                    and m.status >= 300 and m.status not in (401, 407)]  # fmt: skip
        ends = [m.timestamp for m in byes + failures]
        return CallResult(
            status=final_status(messages, "INVITE"),
            messages=messages,
            started_at=invites[0].timestamp if invites else 0.0,
            answered_at=answers[0].timestamp if answers else None,
            ended_at=min(ends) if ends else None,
            remote_hangup=any(m.direction == "received" for m in byes),
        )


def call(
    port: int,
    extension: str,
    *,
    caller: str,
    password: str | None,
    auth_id: str | None = None,
    domain: str = DEFAULT_DOMAIN,
    hangup_after_s: float | None = 1.0,
    cancel_after_s: float | None = None,
    timeout_s: float = 60.0,
    host: str = DEFAULT_HOST,
) -> CallResult:
    """Place one call (see ``Call``; ``password=None``: without digest auth, as a carrier) and wait until it
    ended."""
    def attempt() -> CallResult:
        with Call(port, extension, caller=caller, password=password, auth_id=auth_id, domain=domain,
                  hangup_after_s=hangup_after_s, cancel_after_s=cancel_after_s, timeout_s=timeout_s,
                  host=host) as running:  # fmt: skip
            return running.wait()

    return _retry_unsent(attempt)


# -- SUBSCRIBE ---------------------------------------------------------------------------------

_SUBSCRIBE = """
SUBSCRIBE {uri} SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:[$caller]@[$domain]>;tag=[pid]SIPpTag00[call_number]
To: {to}
Call-ID: [call_id]
CSeq: {cseq} SUBSCRIBE
Contact: <sip:[$caller]@[local_ip]:[local_port];transport=[transport]>
Max-Forwards: 70
Event: [$event]
Accept: [$accept]
{auth}Expires: {expires}
User-Agent: centralino-test
Content-Length: 0
"""

_NOTIFY_OK = """
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0
"""


def _subscribe_scenario(hold_s: float) -> str:
    initial = {"uri": "sip:[service]@[$domain]", "to": "<sip:[service]@[$domain]>", "expires": "[$expires]"}
    in_dialog = {"uri": "[$remote_contact]", "to": "[$to_tagged]", "expires": 0}
    parts = [
        _send(_SUBSCRIBE.format(cseq=1, auth="", **initial), retrans=True),
        _xml('  <recv response="401" auth="true"/>'),
        _send(_SUBSCRIBE.format(cseq=2, auth="[authentication]\n", **initial), retrans=True),
        *_failures("end"),  # refused (404: no hint for it in the subscribe_context): nothing more
        _xml("""  <recv response="200">
    <action>
      <ereg regexp=".*" search_in="hdr" header="To:" assign_to="to_tagged"/>
      <ereg regexp="sips?:[^&gt;;]*" search_in="hdr" header="Contact:" assign_to="remote_contact"/>
    </action>
  </recv>"""),
        _xml('  <label id="notify"/>'),
        _xml(f'  <recv request="NOTIFY" timeout="{int(hold_s * 1000)}" ontimeout="unsubscribe"/>'),
        _send(_NOTIFY_OK, next_label="notify"),
        _xml('  <label id="unsubscribe"/>'),
        _send(_SUBSCRIBE.format(cseq=3, auth="", **in_dialog), retrans=True),
        _xml('  <recv response="401" auth="true" optional="true" next="unsubscribe_auth"/>'),
        *_failures("end", skip=(401,)),
        _xml('  <recv response="200" next="terminated"/>'),
        _xml('  <label id="unsubscribe_auth"/>'),
        _send(_SUBSCRIBE.format(cseq=4, auth="[authentication]\n", **in_dialog), retrans=True),
        *_failures("end"),
        _xml('  <recv response="200"/>'),
        _xml('  <label id="terminated"/>'),
        _xml('  <recv request="NOTIFY" timeout="2000" ontimeout="end"/>'),
        _send(_NOTIFY_OK),
        _xml('  <label id="end"/>'),
    ]  # fmt: skip
    return _scenario("centralino-subscribe", parts)


SUBSCRIBE_ACCEPT = {
    "dialog": "application/dialog-info+xml",
    "presence": "application/pidf+xml",
    "message-summary": "application/simple-message-summary",
}


@dataclass
class SubscribeResult:
    """What a subscription saw: the status of the authenticated SUBSCRIBE and the NOTIFYs."""

    status: int  # 200 accepted, 404 no hint for the target in the subscriber's subscribe_context
    notifies: list[SipMessage]  # received NOTIFYs, retransmissions included, in order
    messages: list[SipMessage]

    @property
    def notified(self) -> bool:
        return bool(self.notifies)

    def states(self) -> list[str]:
        """Per NOTIFY, the dialog-info ``<state>`` or PIDF ``<basic>`` value ('' when it has none).

        dialog-info: "terminated" = idle, "early" = ringing, "confirmed" = in a call.
        """
        found = (re.search(r"<(?:state|basic)\b[^>]*>([^<]*)<", n.body) for n in self.notifies)
        return [match.group(1) if match else "" for match in found]


class Subscription(_Background):
    """A SUBSCRIBE dialog from a sipp UAC to ``target``, running in the background until ``wait()``.

    It subscribes as endpoint ``subscriber`` with digest auth, answers every NOTIFY with 200, and
    stays subscribed until no NOTIFY came for ``hold_s`` seconds; it then unsubscribes
    (Expires: 0) and takes the final NOTIFY. A refusal (e.g. 404) ends it at once.
    """

    def __init__(
        self,
        port: int,
        target: str,
        *,
        subscriber: str,
        password: str,
        auth_id: str | None = None,
        domain: str = DEFAULT_DOMAIN,
        event: str = "dialog",
        accept: str | None = None,
        expires: int = 120,
        hold_s: float = 1.0,
        timeout_s: float = 60.0,
    ) -> None:
        auth_id = auth_id or subscriber
        accept = accept or SUBSCRIBE_ACCEPT[event]
        for what, value in (("target", target), ("subscriber", subscriber), ("auth_id", auth_id),
                            ("password", password), ("domain", domain), ("event", event),
                            ("accept", accept)):  # fmt: skip
            _check_token(what, value)
        self.timeout_s = timeout_s
        self._sipp = _Sipp(f"sub-{subscriber}", _subscribe_scenario(hold_s), [
            f"127.0.0.1:{port}", "-s", target, "-au", auth_id, "-ap", password,
            "-set", "domain", domain, "-set", "caller", subscriber, "-set", "event", event,
            "-set", "accept", accept, "-set", "expires", str(expires),
            "-m", "1", "-timeout", f"{max(1, int(timeout_s))}s",
        ])  # fmt: skip

    def result(self) -> SubscribeResult:
        """What happened so far."""
        messages = self._sipp.messages()
        notifies = [m for m in messages if m.direction == "received" and m.is_request and m.method == "NOTIFY"]
        return SubscribeResult(final_status(messages, "SUBSCRIBE"), notifies, messages)

    def wait_notify(self, predicate: Callable[[SipMessage], bool] = bool, timeout_s: float = 10.0) -> SipMessage:
        """Wait for a NOTIFY matching ``predicate``, e.g. ``lambda n: "confirmed" in n.body``."""
        return wait_until(lambda: next((n for n in self.result().notifies if predicate(n)), None),
                          timeout_s, "a matching NOTIFY")  # fmt: skip

    def wait(self, timeout_s: float | None = None) -> SubscribeResult:
        """Wait until sipp finished (unsubscribed or refused) and return what happened."""
        self._sipp.wait(timeout_s if timeout_s is not None else self.timeout_s + 10)
        return self.result()


def subscribe(
    port: int,
    target: str,
    *,
    subscriber: str,
    password: str,
    auth_id: str | None = None,
    domain: str = DEFAULT_DOMAIN,
    event: str = "dialog",
    accept: str | None = None,
    expires: int = 120,
    hold_s: float = 0.3,
    timeout_s: float = 60.0,
) -> SubscribeResult:
    """SUBSCRIBE to ``target`` (see ``Subscription``), stay ``hold_s`` after the last NOTIFY, return."""
    def attempt() -> SubscribeResult:
        with Subscription(port, target, subscriber=subscriber, password=password, auth_id=auth_id, domain=domain,
                          event=event, accept=accept, expires=expires, hold_s=hold_s,
                          timeout_s=timeout_s) as running:  # fmt: skip
            return running.wait()

    return _retry_unsent(attempt)


# -- DTMF (SIP INFO) ---------------------------------------------------------------------------

_INFO = """
INFO [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:[$caller]@[$domain]>;tag=[pid]SIPpTag00[call_number]
[last_To:]
Call-ID: [call_id]
[routes]
CSeq: {cseq} INFO
Max-Forwards: 70
Content-Type: application/dtmf-relay
Content-Length: [len]

Signal={key}
Duration=160
"""


def _keyed_call_scenario(keys: str, wait_before_ms: int, hold_ms: int) -> str:
    """Call (digest auth), wait, send each key as SIP INFO (300 ms apart), then stay until Asterisk hangs up or
    ``hold_ms`` passed."""
    parts = [
        ("invite1", _send(_INVITE.format(cseq=1, auth=""), retrans=True)[1]),
        _xml('  <recv response="100" optional="true"/>'),
        _xml('  <recv response="401" auth="true"/>'),
        _send(_ACK_NON_2XX.format(anchor="invite1", cseq=1)),
        _send(_INVITE.format(cseq=2, auth="[authentication]\n"), retrans=True),
        *(_xml(f'  <recv response="{code}" optional="true"/>') for code in (100, 180, 183)),
        _xml('  <recv response="200" rrs="true"/>'),
        _send(_ACK_2XX),
        _xml(f'  <pause milliseconds="{wait_before_ms}"/>'),
    ]
    for index, key in enumerate(keys):
        parts += [_send(_INFO.format(cseq=10 + index, key=key), retrans=True),
                  _xml('  <recv response="200"/>'), _xml('  <pause milliseconds="300"/>')]
    parts += [
        _xml(f'  <recv request="BYE" timeout="{hold_ms}" ontimeout="hangup"/>'),
        _send(_RESPONSE.format(status="200 OK", tag=""), next_label="end"),
        _xml('  <label id="hangup"/>'),
        _send(_CALLER_BYE.format(cseq=99), retrans=True),
        _xml('  <recv response="200"/>'),
        _xml('  <label id="end"/>'),
    ]
    return _scenario("centralino-keyed-call", parts)


class KeyedCall(_Background):
    """A caller that dials ``number`` (digest auth), waits ``wait_before_s`` after the answer, then sends ``keys``
    as SIP INFO DTMF (``application/dtmf-relay``; give the caller's endpoint ``dtmf_mode=info``), and stays until
    Asterisk hangs up or ``hold_s`` passed, in the background until ``wait()``."""

    def __init__(self, port: int, number: str, *, caller: str, password: str, keys: str = "",
                 wait_before_s: float = 1.5, hold_s: float = 6.0, domain: str = DEFAULT_DOMAIN) -> None:
        for what, value in (("number", number), ("caller", caller), ("password", password), ("domain", domain)):
            _check_token(what, value)
        scenario = _keyed_call_scenario(keys, int(wait_before_s * 1000), int(hold_s * 1000))
        self._sipp = _Sipp(f"keys-{caller}", scenario, [
            f"127.0.0.1:{port}", "-s", number, "-au", caller, "-ap", password, "-set", "domain", domain,
            "-set", "caller", caller, "-m", "1", "-timeout", f"{int(wait_before_s + hold_s + len(keys) + 20)}s"])

    def wait(self, timeout_s: float = 40) -> int:
        """Wait until the call ended; its final INVITE status."""
        self._sipp.wait(timeout_s)
        return final_status(self._sipp.messages(), "INVITE")

    def remote_hangup(self) -> bool:
        return any(m.direction == "received" and m.is_request and m.method == "BYE" for m in self._sipp.messages())


# --- RFC 4733 DTMF (telephone-events in RTP) -------------------------------------------------------------

# sipp's play_dtmf sends telephone-events with RTP payload type 96 (and a few "no-op" packets, type 97, first).
_INVITE_WITH_EVENTS = (_INVITE.replace("RTP/AVP 0 8", "RTP/AVP 0 8 96")
                       + "a=rtpmap:96 telephone-event/8000\na=fmtp:96 0-15\n")


def require_raw_socket() -> None:
    """sipp plays RTP (its DTMF) through a raw socket: skip (fail under CI) when this process may not open one."""
    try:
        socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_UDP).close()
    except PermissionError:
        sipp = shutil.which("sipp")
        try:
            capable = sipp is not None and "security.capability" in os.listxattr(sipp)
        except OSError:
            capable = False
        if not capable:
            _skip_or_fail("sipp sends RTP DTMF through a raw socket: run as root or setcap cap_net_raw+ep on sipp")


def _pin_call_scenario(tries: list[str], between_ms: int, hold_ms: int) -> str:
    """Call (digest auth, telephone-event offered) and, once answered, send each try's keys as RFC 4733 events
    (Asterisk's Read() is listening by then: keys that come during its prompt cut it short); wait up to
    ``between_ms`` for Asterisk's BYE before the next try, then ``hold_ms`` after the last."""
    parts = [
        ("invite1", _send(_INVITE_WITH_EVENTS.format(cseq=1, auth=""), retrans=True)[1]),
        _xml('  <recv response="100" optional="true"/>'),
        _xml('  <recv response="401" auth="true"/>'),
        _send(_ACK_NON_2XX.format(anchor="invite1", cseq=1)),
        ("invite2", _send(_INVITE_WITH_EVENTS.format(cseq=2, auth="[authentication]\n"), retrans=True)[1]),
        *(_xml(f'  <recv response="{code}" optional="true"/>') for code in (100, 180, 183)),
        *_failures("failed"),
        _xml('  <recv response="200" rrs="true"/>'),
        _send(_ACK_2XX),
    ]
    for index, keys in enumerate(tries):
        last = index == len(tries) - 1
        parts += [
            _xml(f'  <label id="try{index}"/>'),
            _xml(f'  <nop><action><exec play_dtmf="{keys}"/></action></nop>'),
            _xml(f'  <recv request="BYE" timeout="{hold_ms if last else between_ms}" '
                 f'ontimeout="{"hangup" if last else f"try{index + 1}"}" next="bye"/>'),
        ]
    parts += [
        _xml('  <label id="bye"/>'),
        _send(_RESPONSE.format(status="200 OK", tag=""), next_label="end"),
        _xml('  <label id="hangup"/>'),
        _send(_CALLER_BYE.format(cseq=99), retrans=True),
        _xml('  <recv response="200" next="end"/>'),
        _xml('  <label id="failed"/>'),
        _send(_ACK_NON_2XX.format(anchor="invite2", cseq=2)),
        _xml('  <label id="end"/>'),
    ]
    return _scenario("centralino-pin-call", parts)


class DtmfCall(_Background):
    """A phone that dials ``number`` and, once answered, keys each of ``tries`` (e.g. ``"2583#"``) as RFC 4733
    telephone-events (the RTP counterpart of ``KeyedCall``), ``between_s`` apart; it stays until Asterisk hangs up or ``hold_s`` passed after the last try
    (45 s: longer than three tries that all end by Read's timeout). Runs in the background until ``wait()``."""

    def __init__(self, port: int, number: str, tries: list[str], *, caller: str, auth_id: str, password: str,
                 between_s: float, hold_s: float = 45.0) -> None:
        for what, value in (("number", number), ("caller", caller), ("password", password)):
            _check_token(what, value)
        scenario = _pin_call_scenario(tries, int(between_s * 1000), int(hold_s * 1000))
        timeout = int(between_s * len(tries) + hold_s + 20)
        self.timeout_s = timeout + 10
        self._sipp = _Sipp(f"pin-{caller}", scenario, [
            f"127.0.0.1:{port}", "-s", number, "-au", auth_id, "-ap", password,
            "-set", "domain", DEFAULT_DOMAIN, "-set", "caller", caller, "-m", "1", "-timeout", f"{timeout}s"])

    def wait(self) -> int:
        """Wait until the call ended; its final INVITE status."""
        self._sipp.wait(self.timeout_s)
        return final_status(self._sipp.messages(), "INVITE")

    def remote_hangup(self) -> bool:
        return any(m.direction == "received" and m.is_request and m.method == "BYE" for m in self._sipp.messages())
