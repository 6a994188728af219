"""Run real Kamailio, sipp and baresip from tests, on 127.0.0.1 and free ports.

Every process is started directly with ``subprocess.Popen`` (no shell, so the
PID we hold is the program's own) and stopped by that PID. Waits poll against
a deadline; nothing sleeps for a fixed time.

When a program is missing the test is skipped with the package to install,
except when the ``CI`` environment variable is set: CI must run these tests,
so there it is a failure instead.
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
from pathlib import Path
from types import TracebackType

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
KAMAILIO_CFG = REPO_ROOT / "deploy" / "kamailio" / "kamailio.cfg"
KAMAILIO_BIN = "/usr/sbin/kamailio"

_STATUS_LINE = re.compile(rb"^SIP/2\.0 (\d{3}) ", re.MULTILINE)


def require_program(path_or_name: str, package: str) -> str:
    """Return the program's path, or skip the test (fail under CI) when it is not installed."""
    found = shutil.which(path_or_name)
    if found is None:
        reason = f"{Path(path_or_name).name} not installed: apt-get install {package}"
        if os.environ.get("CI"):
            pytest.fail(f"{reason} (CI is set, so this must not be skipped)")
        pytest.skip(reason)
    return found


def free_udp_port() -> int:
    """Return a UDP port on 127.0.0.1 that nothing was bound to a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def free_tcp_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing was bound to a moment ago (sipp's control socket)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def free_udp_and_tcp_port() -> int:
    """Return a port free for both UDP and TCP on 127.0.0.1 (baresip listens on both with one setting)."""
    while True:
        port = free_udp_port()
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port


def sip_options_answered(port: int, timeout_s: float = 0.2) -> bool:
    """Send one SIP OPTIONS to 127.0.0.1:port over UDP and tell whether any SIP reply came back."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        local_port = sock.getsockname()[1]
        sock.settimeout(timeout_s)
        call_id = uuid.uuid4().hex
        request = (
            f"OPTIONS sip:127.0.0.1:{port} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP 127.0.0.1:{local_port};branch=z9hG4bK{call_id[:16]};rport\r\n"
            "Max-Forwards: 70\r\n"
            f"From: <sip:probe@127.0.0.1>;tag={call_id[:8]}\r\n"
            f"To: <sip:127.0.0.1:{port}>\r\n"
            f"Call-ID: {call_id}@127.0.0.1\r\n"
            "CSeq: 1 OPTIONS\r\n"
            "Content-Length: 0\r\n\r\n"
        ).encode()
        sock.sendto(request, ("127.0.0.1", port))
        try:
            reply = sock.recv(65535)
        except (TimeoutError, ConnectionRefusedError):
            return False
        return reply.startswith(b"SIP/2.0 ")


def _stop(process: subprocess.Popen[bytes], grace_s: float = 5.0) -> None:
    """Stop a process we started, by its PID, and reap it."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        # The process was started in its own session, so its group id is its
        # PID: this reaches its children too, and nothing else.
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=grace_s)


class Kamailio:
    """Kamailio on the shipped ``deploy/kamailio/kamailio.cfg``, listening on 127.0.0.1.

    Use as a context manager: entering starts it and waits until it answers
    SIP OPTIONS, leaving stops it by its PID.
    """

    def __init__(self, db_dir: Path, work_dir: Path, *, port: int | None = None, children: int = 2) -> None:
        self.db_dir = Path(db_dir)
        self.work_dir = Path(work_dir)
        self.port = port if port is not None else free_udp_port()
        self.children = children
        self.ctl_socket = self.work_dir / "kamailio_ctl"
        self.log_path = self.work_dir / "kamailio.log"
        self._process: subprocess.Popen[bytes] | None = None

    def command(self) -> list[str]:
        """Return the exact command line that starts Kamailio: the shipped config plus ``-A`` defines."""
        run_dir = self.work_dir / "run"
        return [
            KAMAILIO_BIN,
            "-DD",
            "-E",
            "-f",
            str(KAMAILIO_CFG),
            "-A",
            f"LISTEN=udp:127.0.0.1:{self.port}",
            "-A",
            f'DBURL="text://{self.db_dir}"',
            "-A",
            f'CTL_SOCKET="unix:{self.ctl_socket}"',
            "-A",
            f'RUNDIR="{run_dir}"',
            "-A",
            f"CHILDREN={self.children}",
        ]

    def start(self, ready_timeout_s: float = 10.0) -> None:
        """Start Kamailio and return once it answers SIP OPTIONS, or raise with its log."""
        require_program(KAMAILIO_BIN, "kamailio")
        self.work_dir.mkdir(parents=True, exist_ok=True)
        (self.work_dir / "run").mkdir(exist_ok=True)
        with self.log_path.open("wb") as log:
            self._process = subprocess.Popen(
                self.command(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + ready_timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"kamailio exited with {self._process.returncode}:\n{self.log_text()}")
            if sip_options_answered(self.port):
                return
            # Not bound yet (the probe was refused at once): poll again shortly.
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"kamailio did not answer on port {self.port} within {ready_timeout_s}s:\n{self.log_text()}")

    @property
    def pid(self) -> int | None:
        """The PID of the running Kamailio main process, or None before start and after it exited."""
        if self._process is None or self._process.poll() is not None:
            return None
        return self._process.pid

    def stop(self) -> None:
        """Stop Kamailio by its PID (no-op when it is not running)."""
        if self._process is not None:
            _stop(self._process)

    def log_text(self) -> str:
        """Return what Kamailio logged so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def __enter__(self) -> Kamailio:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def kamailio_check_config(*defines: str) -> subprocess.CompletedProcess[str]:
    """Run ``kamailio -c`` on the shipped config with the given ``-A`` defines."""
    require_program(KAMAILIO_BIN, "kamailio")
    command = [KAMAILIO_BIN, "-c", "-f", str(KAMAILIO_CFG)]
    for define in defines:
        command += ["-A", define]
    return subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)


_REGISTER_SCENARIO = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<!-- REGISTER, answer the digest challenge, expect 200. Any other final reply
     ends the call as failed; the harness reads the status from the trace. -->
<scenario name="centralino-register">
  <send retrans="500">
    <![CDATA[
      REGISTER sip:[field1] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:[field0]@[field1]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[field0]@[field1]>
      Call-ID: [call_id]
      CSeq: 1 REGISTER
      Contact: <sip:[field0]@[local_ip]:[local_port];transport=[transport]>
      Max-Forwards: 70
      Expires: 120
      Content-Length: 0

    ]]>
  </send>
  <recv response="401" auth="true"/>
  <send retrans="500">
    <![CDATA[
      REGISTER sip:[field1] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:[field0]@[field1]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[field0]@[field1]>
      Call-ID: [call_id]
      CSeq: 2 REGISTER
      Contact: <sip:[field0]@[local_ip]:[local_port];transport=[transport]>
      [field2]
      Max-Forwards: 70
      Expires: 120
      Content-Length: 0

    ]]>
  </send>
  <recv response="200"/>
</scenario>
"""


def sipp_register(port: int, extension: str | int, auth_id: str, password: str, domain: str) -> int:
    """REGISTER ``extension@domain`` at 127.0.0.1:port with digest auth; return the final status code.

    Returns 0 when no final reply arrived before sipp's timeout.
    """
    sipp = require_program("sipp", "sip-tester")
    for what, value in (("auth_id", auth_id), ("password", password)):
        # sipp's CSV splits on ";" and its keyword ends at "]".
        if any(char in value for char in ";] \n"):
            raise ValueError(f"{what} {value!r} cannot be passed through a sipp CSV field")
    with tempfile.TemporaryDirectory(prefix="sipp-") as work:
        work_dir = Path(work)
        scenario = work_dir / "register.xml"
        scenario.write_text(_REGISTER_SCENARIO)
        injection = work_dir / "users.csv"
        # sipp 3.6 sends a "[field]" nested in "[authentication ...]" literally,
        # so the CSV carries the whole keyword.
        injection.write_text(
            f"SEQUENTIAL\n{extension};{domain};[authentication username={auth_id} password={password}];\n"
        )
        messages = work_dir / "messages.log"
        command = [
            sipp,
            f"127.0.0.1:{port}",
            "-sf", str(scenario),
            "-inf", str(injection),
            "-i", "127.0.0.1",
            "-p", str(free_udp_port()),
            "-cp", str(free_tcp_port()),
            "-mp", str(free_udp_port()),
            "-m", "1",
            "-nostdin",
            "-timeout", "10s",
            "-trace_msg",
            "-message_file", str(messages),
        ]  # fmt: skip
        completed = subprocess.run(command, capture_output=True, timeout=30, check=False, cwd=work_dir)
        if not messages.exists():
            raise RuntimeError(f"sipp wrote no message trace (exit {completed.returncode}): {completed.stderr!r}")
        statuses = [int(code) for code in _STATUS_LINE.findall(messages.read_bytes())]
        final = [status for status in statuses if status >= 200]
        return final[-1] if final else 0


_BARESIP_RESULT = re.compile(r"\b(?:200 OK|40[0-9] [A-Z][A-Za-z ]*|5\d\d [A-Z][A-Za-z ]*)")


def baresip_register(config_dir: Path, accounts_text: str, timeout_s: int = 3) -> str:
    """Run baresip with ``accounts_text`` as its ``accounts`` file and return its output.

    baresip exits 0 even when registration fails, so tests look for
    ``200 OK`` or ``403 Forbidden`` in the returned log. The process is ended
    as soon as a registration outcome is logged, else after ``timeout_s``.
    """
    baresip = require_program("baresip", "baresip-core")
    config_dir = Path(config_dir)
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "accounts").write_text(accounts_text)
    (config_dir / "contacts").write_text("")
    log_path = config_dir / "baresip.log"
    # A port found free can be taken by another test process before baresip binds it: try another one.
    for _attempt in range(3):
        _run_baresip(baresip, config_dir, log_path, timeout_s)
        if "Address already in use" not in log_path.read_text(errors="replace"):
            break
    return log_path.read_text(errors="replace")


def _run_baresip(baresip: str, config_dir: Path, log_path: Path, timeout_s: int) -> None:
    # No audio or video modules: registration is all this run is for. The
    # account module reads the accounts file once at start-up.
    (config_dir / "config").write_text(
        "poll_method\tepoll\n"
        f"sip_listen\t127.0.0.1:{free_udp_and_tcp_port()}\n"
        "net_interface\t127.0.0.1\n"
        "module_path\t/usr/lib/baresip/modules\n"
        "module_tmp\taccount.so\n"
    )
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [baresip, "-f", str(config_dir), "-t", str(timeout_s)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + timeout_s + 5
        while process.poll() is None and time.monotonic() < deadline:
            if _BARESIP_RESULT.search(log_path.read_text(errors="replace")):
                break
            time.sleep(0.05)  # polling interval while waiting for the log, bounded by the deadline
    finally:
        _stop(process)
