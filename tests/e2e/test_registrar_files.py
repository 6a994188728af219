"""Rendered files read by the real programs: Kamailio 5.6 with sipp, and baresip, on 127.0.0.1.

Kamailio runs on the shipped deploy/kamailio/kamailio.cfg, reading the
subscriber table through ``<org_dir>/current/kamailio`` exactly as the writer
publishes it; new revisions must be picked up without restarting it.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sip_tools

from app.config_gen import writer
from app.config_gen.render import is_secret_path, render_targets
from app.config_gen.snapshot import AccountInfo, DeviceInfo, OrganizationInfo, Snapshot, UserInfo

pytestmark = pytest.mark.registrar

DOMAIN = "pbx.acme.test"


def account(extension: int, *, active: bool = True, user: UserInfo | None = None) -> AccountInfo:
    return AccountInfo(
        id=f"acc-{extension}",
        extension=extension,
        auth_id=f"a{extension}k",
        password=f"Pw-{extension}-secret",
        active=active,
        phone_type="softphone",
        recording=False,
        permission_level=10,
        max_contacts=2,
        user=user,
    )


ANNA = UserInfo(
    id="user-anna",
    first_name="Anna",
    last_name="Rossi; [x]",  # must survive the baresip accounts syntax
    email=None,
    caller_id=None,
    language="it",
    voicemail_enabled=False,
    voicemail_pin=None,
)


def snapshot(registrar_port: int, accounts: tuple[AccountInfo, ...]) -> Snapshot:
    organization = OrganizationInfo(
        id="org-1",
        slug="acme",
        name="ACME",
        sip_domain=DOMAIN,  # not resolvable: phones reach Kamailio through sip_proxy
        sip_proxy=f"127.0.0.1:{registrar_port}",
        timezone="Europe/Rome",
        ring_timeout=20,
    )
    devices = tuple(
        DeviceInfo(id=f"soft-{a.extension}", mac=None, vendor="baresip", model=None, label=None, account=a)
        for a in accounts
    )
    return Snapshot(organization=organization, accounts=accounts, devices=devices)


def publish(org_dir: Path, revision: int, data: Snapshot) -> None:
    files = {path: text.encode() for path, text in render_targets(data, ["kamailio", "provisioning"]).items()}
    writer.publish(org_dir, revision, files, is_secret_path)


@pytest.fixture
def registrar_port() -> int:
    return sip_tools.free_udp_port()


@pytest.fixture
def org_dir(tmp_path: Path, registrar_port: int) -> Path:
    org_dir = tmp_path / "acme"
    accounts = (account(101, user=ANNA), account(102), account(103, active=False))
    publish(org_dir, 1, snapshot(registrar_port, accounts))
    return org_dir


@pytest.fixture
def kamailio(tmp_path: Path, org_dir: Path, registrar_port: int) -> Iterator[sip_tools.Kamailio]:
    with sip_tools.Kamailio(org_dir / "current" / "kamailio", tmp_path / "kamailio", port=registrar_port) as running:
        yield running


def register(kamailio: sip_tools.Kamailio, extension: int, auth_id: str, password: str) -> int:
    return sip_tools.sipp_register(kamailio.port, extension, auth_id, password, DOMAIN)


def test_shipped_config_passes_kamailio_check(tmp_path: Path) -> None:
    # The built-in defaults, except the runtime directory: Kamailio creates it
    # even for -c, and /run/kamailio is writable only for root or kamailio.
    default = sip_tools.kamailio_check_config(f'RUNDIR="{tmp_path}"')
    assert default.returncode == 0, default.stderr
    injected = sip_tools.kamailio_check_config(
        "LISTEN=udp:127.0.0.1:5999",
        f'DBURL="text://{tmp_path}"',
        f'CTL_SOCKET="unix:{tmp_path / "ctl"}"',
        f'RUNDIR="{tmp_path}"',
    )
    assert injected.returncode == 0, injected.stderr
    assert "127.0.0.1 [127.0.0.1]:5999" in injected.stdout + injected.stderr


def test_register_outcomes(kamailio: sip_tools.Kamailio) -> None:
    assert register(kamailio, 101, "a101k", "Pw-101-secret") == 200
    assert register(kamailio, 101, "a101k", "wrong-password") == 403
    assert register(kamailio, 109, "a109k", "Pw-109-secret") == 403, "unknown user"
    assert register(kamailio, 103, "a103k", "Pw-103-secret") == 403, "inactive accounts are absent"
    assert register(kamailio, 102, "a101k", "Pw-101-secret") == 403, "account 101 must not register 102"
    assert register(kamailio, 102, "a102k", "Pw-102-secret") == 200


def test_registration_can_be_removed_through_the_ctl_socket(kamailio: sip_tools.Kamailio) -> None:
    kamcmd = sip_tools.require_program("kamcmd", "kamailio")

    def ctl(*command: str) -> str:
        # kamcmd exits 0 even when the command fails, so callers read its output.
        done = subprocess.run(
            [kamcmd, "-s", f"unix:{kamailio.ctl_socket}", *command],
            capture_output=True, text=True, timeout=10, check=False,
        )  # fmt: skip
        return done.stdout + done.stderr

    assert register(kamailio, 101, "a101k", "Pw-101-secret") == 200
    assert "AoR: 101" in ctl("ul.lookup", "location", "s:101")
    ctl("ul.rm", "location", "s:101")
    assert "AOR not found" in ctl("ul.lookup", "location", "s:101")


def test_new_revisions_are_live_without_restarting(
    kamailio: sip_tools.Kamailio, org_dir: Path, registrar_port: int
) -> None:
    pid_before = kamailio.pid
    assert register(kamailio, 104, "a104k", "Pw-104-secret") == 403
    # Make "revision 1 was written later in this very second" certain rather
    # than likely: a new table whose mtime does not grow in whole seconds is
    # ignored by db_text, so only the writer's mtime bump makes it reload.
    live_table = org_dir / "current" / "kamailio" / "subscriber"
    os.utime(live_table, (time.time() + 1, time.time() + 1))

    publish(org_dir, 2, snapshot(registrar_port, (account(101, user=ANNA), account(102), account(104))))
    assert register(kamailio, 104, "a104k", "Pw-104-secret") == 200

    publish(org_dir, 3, snapshot(registrar_port, (account(102), account(104))))
    assert register(kamailio, 101, "a101k", "Pw-101-secret") == 403, "a removed account must be refused"
    assert register(kamailio, 104, "a104k", "Pw-104-secret") == 200
    assert pid_before is not None and kamailio.pid == pid_before, "Kamailio must not have been restarted"


def test_rotated_password_takes_effect_on_the_next_revision(
    kamailio: sip_tools.Kamailio, org_dir: Path, registrar_port: int
) -> None:
    rotated = dataclasses.replace(account(102), password="Rotated-102")
    publish(org_dir, 2, snapshot(registrar_port, (account(101, user=ANNA), rotated)))
    assert register(kamailio, 102, "a102k", "Pw-102-secret") == 403
    assert register(kamailio, 102, "a102k", "Rotated-102") == 200


def test_baresip_registers_with_the_rendered_accounts_file(
    kamailio: sip_tools.Kamailio, org_dir: Path, tmp_path: Path
) -> None:
    accounts_file = writer.read_live_file(org_dir, "provisioning/baresip/soft-101/accounts")
    assert accounts_file is not None
    log = sip_tools.baresip_register(tmp_path / "baresip", accounts_file.decode())
    assert "101@pbx.acme.test: {0/UDP/v4} 200 OK" in log, log


def test_baresip_with_a_stale_password_is_refused(
    kamailio: sip_tools.Kamailio, org_dir: Path, tmp_path: Path, registrar_port: int
) -> None:
    stale = writer.read_live_file(org_dir, "provisioning/baresip/soft-102/accounts")
    assert stale is not None
    rotated = dataclasses.replace(account(102), password="Rotated-102")
    publish(org_dir, 2, snapshot(registrar_port, (account(101, user=ANNA), rotated)))
    log = sip_tools.baresip_register(tmp_path / "baresip", stale.decode())
    assert "403 Forbidden" in log, log


def test_missing_program_skips_locally_and_fails_under_ci(monkeypatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="apt-get install no-such-package"):
        sip_tools.require_program("no-such-program-centralino", "no-such-package")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI is set"):
        sip_tools.require_program("no-such-program-centralino", "no-such-package")
