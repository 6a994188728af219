"""Users' options and restrictions in Asterisk.

- ``disabled``: the phone's calls start in ``[disabled]``, which refuses everything (403), and calls to the
  user hear "not in service";
- ``external_calls_disabled``: the endpoint's permission level is -1, so only emergency routes take its calls;
- ``lan_only``: the endpoint (and the contacts it registers) are accepted from private networks only;
- ``outbound_pin``, ``block_outbound_outside_office_hours`` and the recording of external calls: the endpoint
  names its checks routine (``CENTRALINO_CHECKS=out-checks-101``); every non-emergency route runs
  ``Gosub(outbound-checks,s,1)`` before dialling, which goes to that routine. The PIN is read from the secret
  ``outbound_pins.conf`` with ``AST_CONFIG()``, never written into the dialplan;
- ``allow_conferences`` off: ``CENTRALINO_NO_CONFERENCES=1`` on the endpoint; rooms refuse such callers;
- ``record_calls`` and ``call_screening`` act where the user's phone rings (``asterisk_forwarding``).

A call forwarded out by a user's rules clears ``CENTRALINO_CHECKS``: the checks restrict what a phone dials,
not where a colleague's forwarding sends a call.
"""

from __future__ import annotations

from app.config_gen import escaping
from app.config_gen.asterisk_groups import DialplanContext, Extension, GroupPlan
from app.config_gen.asterisk_schedules import STATE_VARIABLE, context_names
from app.config_gen.asterisk_trunks import CHECKS_VARIABLE
from app.config_gen.snapshot import AccountInfo

NO_CONFERENCES_VARIABLE = "CENTRALINO_NO_CONFERENCES"
DISABLED_CONTEXT = "disabled"
OUTBOUND_PINS_FILE = "outbound_pins.conf"  # as AST_CONFIG() names it (relative to astetcdir)
OUTBOUND_PINS_PATH = f"asterisk/{OUTBOUND_PINS_FILE}"
PIN_TRIES = 3
DEFAULT_SCHEDULE = "default"
# RFC 1918 networks and loopback: "the LAN" of lan_only.
_PRIVATE_NETWORKS = ("10.0.0.0/255.0.0.0", "172.16.0.0/255.240.0.0", "192.168.0.0/255.255.0.0",
                     "127.0.0.0/255.0.0.0")
RECORD = "MixMonitor(${STRFTIME(${EPOCH},,%Y%m%d-%H%M%S)}-${UNIQUEID}.wav,b)"


def checks_context_name(extension: int) -> str:
    return f"out-checks-{extension}"


def _needs_checks(account: AccountInfo) -> bool:
    user = account.user
    if user is None:
        return account.recording
    options = user.options
    return bool(options.outbound_pin or options.block_outbound_outside_office_hours or options.record_calls
                or account.recording)


def records(account: AccountInfo) -> bool:
    """The account's calls are recorded (its own ``recording`` flag, or its user's ``record_calls``)."""
    return account.recording or (account.user is not None and account.user.options.record_calls)


def endpoint_lines(account: AccountInfo) -> list[str]:
    """What an endpoint needs for its user's options (none for defaults)."""
    user = account.user
    lines = []
    if _needs_checks(account):
        lines.append(f"set_var={CHECKS_VARIABLE}={checks_context_name(account.extension)}")
    if user is not None and not user.options.allow_conferences:
        lines.append(f"set_var={NO_CONFERENCES_VARIABLE}=1")
    if user is not None and user.options.lan_only:
        networks = ",".join(_PRIVATE_NETWORKS)
        lines += ["deny=0.0.0.0/0.0.0.0", f"permit={networks}",
                  "contact_deny=0.0.0.0/0.0.0.0", f"contact_permit={networks}"]
    return lines


def endpoint_context(account: AccountInfo, default: str) -> str:
    """Where the phone's calls start: ``[disabled]`` for a disabled user."""
    return DISABLED_CONTEXT if account.user is not None and account.user.options.disabled else default


def is_disabled(account: AccountInfo) -> bool:
    return account.user is not None and account.user.options.disabled


def contexts(plan: GroupPlan) -> list[DialplanContext]:
    """``[disabled]`` and each account's checks routine (``[outbound-checks]``, which goes to them, is rendered with
    the routes)."""
    schedules = context_names(plan.snapshot.schedules)
    default = next((s.id for s in plan.snapshot.schedules if s.name == DEFAULT_SCHEDULE), None)
    found = [
        DialplanContext(DISABLED_CONTEXT, (Extension("_[0-9*#+]!", ("Hangup(21)",)),),
                        comment="Phones of disabled users: every call refused"),
    ]
    for account in plan.accounts:
        if not _needs_checks(account):
            continue
        options = account.user.options if account.user is not None else None
        applications: list[str] = []
        if options is not None and options.block_outbound_outside_office_hours and default is not None:
            applications += [f"Gosub({schedules[default]},s,1)",
                             f'ExecIf($["${{{STATE_VARIABLE}}}" != "open"]?Hangup(21))']
        if options is not None and options.outbound_pin:
            escaping.digits(options.outbound_pin, f"outbound PIN of extension {account.extension}")
            applications += ["Answer()", "Set(PIN_TRIES=0)", "Goto(pin,1)"]
            pin_check = Extension("pin", (
                "Set(PIN_TRIES=$[${PIN_TRIES}+1])",
                "Read(PIN,agent-pass,10,,1,10)",
                f'GotoIf($["${{PIN}}" != "" & "${{PIN}}" = '
                f'"${{AST_CONFIG({OUTBOUND_PINS_FILE},{account.extension},pin)}}"]?granted,1)',
                f"GotoIf($[${{PIN_TRIES}} >= {PIN_TRIES}]?denied,1)",
                "Playback(agent-incorrect)",
                "Goto(pin,1)"))
            granted = Extension("granted", (*([RECORD] if records(account) else []), "Return()"))
            denied = Extension("denied", ("Playback(vm-goodbye)", "Hangup(21)"))
            found.append(DialplanContext(checks_context_name(account.extension), (
                Extension("s", tuple(applications)), pin_check, granted, denied),
                comment=f"External calls of {account.extension}: office hours, PIN (three tries)"))
            continue
        if records(account):
            applications.append(RECORD)
        applications.append("Return()")
        found.append(DialplanContext(checks_context_name(account.extension), (Extension("s", tuple(applications)),),
                                     comment=f"External calls of {account.extension}"))
    return found


def render_outbound_pins(accounts: list[AccountInfo]) -> str:
    """``outbound_pins.conf``: each extension's outbound PIN, read by the dialplan (a secret file)."""
    lines = ["; Generated by Centralino: do not edit, every apply rewrites this file."]
    for account in accounts:
        pin = account.user.options.outbound_pin if account.user is not None else None
        if pin:
            lines += ["", f"[{account.extension}]",
                      f"pin={escaping.digits(pin, f'outbound PIN of extension {account.extension}')}"]
    return "\n".join(lines) + "\n"
