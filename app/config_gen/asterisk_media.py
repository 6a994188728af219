"""Conference rooms and IVR menus in Asterisk: ConfBridge rooms with PINs, menus with their greeting, keys,
timeout, invalid input, dial-by-extension and a dial-by-name directory.

Pure functions of frozen data (``ConferenceInfo``, ``IvrMenuInfo``); the Asterisk renderer assembles them:

- ``entry_contexts(conferences, menus)``: where a call enters each room or menu (``conference-<id>`` /
  ``ivr-<id>``, each with an ``s`` extension), for ``GroupPlan.entry_contexts`` so that destinations reach them.
- ``internal_extensions(...)``: the dialable numbers, for ``[internal]``.
- ``conference_contexts(...)`` and ``ivr_contexts(...)``: the dialplan contexts.
- ``render_confbridge(...)`` → ``confbridge.conf`` (bridge and user profiles per room, no secrets) and
  ``render_conference_pins(...)`` → ``conference_pins.conf`` (the PINs: a secret file).
- ``sound_files(...)``: each menu's greeting as ``asterisk/sounds/ivr-<id>.wav`` (bytes).

PINs: a room with a PIN answers, asks with ``conf-getpin`` (``Read()``) and compares what was keyed with
the PINs in ``conference_pins.conf`` (read at call time with ``AST_CONFIG()``), so that extensions.conf
holds no secret. The administrator PIN selects the room's admin profile (admin and marked); three
wrong PINs hang up. ConfBridge's own ``pin`` user-profile option cannot tell two PINs apart.

Directory: Asterisk's ``Directory()`` lists the mailboxes of ``voicemail.conf``, so the directory holds
the users who have voicemail (a name and an active extension), not every user; ``directory_visible`` does
not exist yet. The ``#`` key opens it (``DIRECTORY_KEY``); the API keeps ``#`` free when it is on.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from app.config_gen import escaping
from app.config_gen.asterisk_groups import (INTERNAL_CONTEXT, DialplanContext, Extension, GroupPlan,
                                            destination_applications, short_ids)

CONFBRIDGE_PATH = "asterisk/confbridge.conf"
CONFERENCE_PINS_PATH = "asterisk/conference_pins.conf"  # secret: holds the rooms' PINs
CONFERENCE_PINS_FILE = "conference_pins.conf"  # the same file as AST_CONFIG() names it (relative to astetcdir)
SOUNDS_DIR = "asterisk/sounds"
IVR_EXTENSIONS_CONTEXT = "ivr-extensions"
DIRECTORY_KEY = "#"
PIN_TRIES = 3
INVALID_TRIES = 3  # keys that lead nowhere before the invalid destination
DIGIT_TIMEOUT = 3  # seconds between the digits of an extension dialled in a menu
# A phone whose user may not join conferences (option allow_conferences off) is refused (403).
_CONFERENCES_ALLOWED = '''ExecIf($["${CENTRALINO_NO_CONFERENCES}" = "1"]?Hangup(21))'''
_SOUNDS_PATH = re.compile(r"/?[A-Za-z0-9_.-]+(?:/[A-Za-z0-9_.-]+)*")


@dataclass(frozen=True, slots=True)
class ConferenceInfo:
    """A conference room (PINs in clear: decrypted for rendering only)."""

    id: str
    name: str
    extension: int | None
    pin: str | None
    admin_pin: str | None
    max_members: int
    record: bool


@dataclass(frozen=True, slots=True)
class IvrMenuInfo:
    """An IVR menu; ``options`` are (key, stored Destination) in key order; ``greeting`` is the WAV file."""

    id: str
    name: str
    extension: int | None
    options: tuple[tuple[str, dict], ...]
    timeout_seconds: int
    timeout_destination: dict
    invalid_destination: dict
    dial_by_extension: bool
    directory: bool
    greeting: bytes | None = field(default=None, repr=False)


def _ids(conferences: Iterable[ConferenceInfo], menus: Iterable[IvrMenuInfo]) -> tuple[dict, dict]:
    return short_ids([c.id for c in conferences]), short_ids([m.id for m in menus])


def conference_context(conference: ConferenceInfo, ids: dict[str, str]) -> str:
    return f"conference-{ids[conference.id]}"


def menu_context(menu: IvrMenuInfo, ids: dict[str, str]) -> str:
    return f"ivr-{ids[menu.id]}"


def entry_contexts(conferences: tuple[ConferenceInfo, ...], menus: tuple[IvrMenuInfo, ...]) -> dict[str, str]:
    """Room and menu id → the context a call enters them by (extension ``s``), for ``GroupPlan.entry_contexts``."""
    conference_ids, menu_ids = _ids(conferences, menus)
    contexts = {c.id: conference_context(c, conference_ids) for c in conferences}
    contexts.update({m.id: menu_context(m, menu_ids) for m in menus})
    return contexts


def internal_extensions(conferences: tuple[ConferenceInfo, ...], menus: tuple[IvrMenuInfo, ...]) -> list[Extension]:
    """The dialable rooms and menus, for ``[internal]``: each number goes to its entry context."""
    entries = entry_contexts(conferences, menus)
    found = [(c.extension, c.id, f"conference {_label(c.name)}") for c in conferences if c.extension is not None]
    found += [(m.extension, m.id, f"IVR menu {_label(m.name)}") for m in menus if m.extension is not None]
    return [Extension(str(number), (f"Goto({entries[item_id]},s,1)",), comment=comment)
            for number, item_id, comment in sorted(found)]


# --- conferences -------------------------------------------------------------------------------------------


def _profiles(context: str) -> tuple[str, str, str]:
    """The room's bridge profile, member profile and administrator profile."""
    return f"{context}-bridge", f"{context}-user", f"{context}-admin"


def conference_contexts(conferences: tuple[ConferenceInfo, ...]) -> list[DialplanContext]:
    """Per room: answer, ask for a PIN when it has one (three tries), then ConfBridge with the member or the
    administrator profile."""
    ids = short_ids([c.id for c in conferences])
    contexts = []
    for conference in conferences:
        context = conference_context(conference, ids)
        bridge, member, admin = _profiles(context)
        pin = _pin(conference.pin, conference, "PIN")
        admin_pin = _pin(conference.admin_pin, conference, "administrator PIN")
        join_member = Extension("member", (f"ConfBridge({context},{bridge},{member})", "Hangup()"))
        if pin is None and admin_pin is None:
            extensions = (Extension("s", (_CONFERENCES_ALLOWED, "Answer()", "Goto(member,1)")), join_member)
        else:
            check = []
            for key, target in (("admin_pin", "admin"), ("pin", "member")):
                if (admin_pin if key == "admin_pin" else pin) is not None:
                    stored = f"${{AST_CONFIG({CONFERENCE_PINS_FILE},{context},{key})}}"
                    check.append(f'GotoIf($["${{PIN}}"!="" & "${{PIN}}"="{stored}"]?{target},1)')
            if pin is None:  # only an administrator PIN: members just press # (or wait)
                check.append('GotoIf($["${PIN}"=""]?member,1)')
            extensions = (
                Extension("s", (_CONFERENCES_ALLOWED, "Answer()", "Set(PIN_TRIES=0)", "Goto(pin,1)")),
                Extension("pin", (
                    "Set(PIN_TRIES=$[${PIN_TRIES}+1])",
                    "Read(PIN,conf-getpin,10,,1,10)",
                    *check,
                    f"GotoIf($[${{PIN_TRIES}}>={PIN_TRIES}]?denied,1)",
                    "Playback(conf-invalidpin)",
                    "Goto(pin,1)",
                ), comment=f"the PIN, {PIN_TRIES} tries"),
                join_member,
                *((Extension("admin", (f"ConfBridge({context},{bridge},{admin})", "Hangup()")),)
                  if admin_pin is not None else ()),
                Extension("denied", ("Playback(vm-goodbye)", "Hangup()")),
            )
        contexts.append(DialplanContext(context, extensions, comment=f"conference {_label(conference.name)}"))
    return contexts


def render_confbridge(conferences: tuple[ConferenceInfo, ...]) -> str:
    """``confbridge.conf``: per room a bridge profile (members, recording), a member profile and, with an
    administrator PIN, an admin profile (admin and marked). No PINs here: see ``render_conference_pins``."""
    ids = short_ids([c.id for c in conferences])
    blocks = ["[general]\n"]
    for conference in conferences:
        context = conference_context(conference, ids)
        bridge, member, admin = _profiles(context)
        if not 2 <= conference.max_members <= 500:
            raise ValueError(f"conference {conference.id} max_members must be 2–500, got {conference.max_members}")
        lines = [f"; conference {_label(conference.name)}", f"[{bridge}]", "type=bridge",
                 f"max_members={conference.max_members}"]
        if conference.record:
            lines.append("record_conference=yes")
        lines += ["", f"[{member}]", "type=user"]
        if conference.admin_pin is not None:
            lines += ["", f"[{admin}]", "type=user", "admin=yes", "marked=yes"]
        blocks.append("\n".join(lines) + "\n")
    return _HEADER + "".join(f"\n{block}" for block in blocks)


def render_conference_pins(conferences: tuple[ConferenceInfo, ...]) -> str:
    """``conference_pins.conf``: each room's PINs, read by the dialplan with ``AST_CONFIG()`` (a secret file)."""
    ids = short_ids([c.id for c in conferences])
    blocks = []
    for conference in conferences:
        pins = [(key, _pin(value, conference, key)) for key, value in (("pin", conference.pin),
                                                                        ("admin_pin", conference.admin_pin))]
        lines = [f"{key}={value}" for key, value in pins if value is not None]
        if lines:
            blocks.append("\n".join([f"[{conference_context(conference, ids)}]", *lines]) + "\n")
    return _HEADER + "".join(f"\n{block}" for block in blocks)


# --- IVR menus ---------------------------------------------------------------------------------------------


def greeting_name(menu: IvrMenuInfo, ids: dict[str, str]) -> str:
    """The greeting's file name without its extension (as ``Background()`` takes it)."""
    return f"ivr-{ids[menu.id]}"


def sound_files(menus: tuple[IvrMenuInfo, ...]) -> dict[str, bytes]:
    """Each menu's greeting, ``asterisk/sounds/ivr-<id>.wav`` → the WAV file (16-bit PCM, mono, 8 kHz)."""
    ids = short_ids([m.id for m in menus])
    return {f"{SOUNDS_DIR}/{greeting_name(m, ids)}.wav": m.greeting for m in menus if m.greeting}


def ivr_contexts(menus: tuple[IvrMenuInfo, ...], plan: GroupPlan, conferences: tuple[ConferenceInfo, ...] = (),
                 *, sounds_dir: str, ring_timeout: int | None = None) -> list[DialplanContext]:
    """Per menu: answer, play the greeting, wait for a key; each option's destination, ``t`` (timeout), ``i``
    (after ``INVALID_TRIES`` keys that lead nowhere), the directory on ``#`` and, with dial-by-extension, every
    extension of the organization. ``sounds_dir`` is the absolute directory where ``sound_files`` are written.

    ``plan.entry_contexts`` must already hold the rooms' and menus' entry contexts (``entry_contexts``)."""
    if not _SOUNDS_PATH.fullmatch(sounds_dir):
        raise ValueError(f"sounds directory {sounds_dir!r} may only contain letters, digits, '_', '.', '-' and '/'")
    ring_timeout = ring_timeout or plan.snapshot.organization.ring_timeout
    ids = short_ids([m.id for m in menus])
    contexts = []
    for menu in menus:
        if not 1 <= menu.timeout_seconds <= 600:
            raise ValueError(f"IVR menu {menu.id} timeout must be 1–600 s, got {menu.timeout_seconds}")
        menu_steps = [f"Set(TIMEOUT(digit)={DIGIT_TIMEOUT})"]
        if menu.greeting:
            menu_steps.append(f"Background({sounds_dir.rstrip('/')}/{greeting_name(menu, ids)})")
        menu_steps.append(f"WaitExten({menu.timeout_seconds})")
        extensions = [
            Extension("s", ("Answer()", "Set(IVR_TRIES=0)", "Goto(menu,1)")),
            Extension("menu", tuple(menu_steps)),
        ]
        for key, destination in menu.options:
            if key not in "0123456789*#" or len(key) != 1:
                raise ValueError(f"IVR menu {menu.id} has an option on {key!r}, which is not a key")
            if menu.directory and key == DIRECTORY_KEY:
                raise ValueError(f"IVR menu {menu.id}: {DIRECTORY_KEY} opens the directory and cannot be an option")
            extensions.append(Extension(key, tuple(destination_applications(destination, plan, ring_timeout)),
                                        comment=f"key {key}: {destination.get('type')}"))
        if menu.directory:
            slug = escaping.identifier(plan.snapshot.organization.slug, "organization slug")
            extensions.append(Extension(DIRECTORY_KEY, (f"Directory({slug},{INTERNAL_CONTEXT},b)", "Goto(menu,1)"),
                                        comment=f"key {DIRECTORY_KEY}: dial by name (users with voicemail)"))
        extensions += [
            Extension("i", ("Set(IVR_TRIES=$[${IVR_TRIES}+1])", f"GotoIf($[${{IVR_TRIES}}<{INVALID_TRIES}]?retry,1)",
                            *destination_applications(menu.invalid_destination, plan, ring_timeout)),
                      comment=f"a key that leads nowhere: again, then {menu.invalid_destination.get('type')}"),
            Extension("retry", ("Playback(pbx-invalid)", "Goto(menu,1)")),
            Extension("t", tuple(destination_applications(menu.timeout_destination, plan, ring_timeout)),
                      comment=f"no key: {menu.timeout_destination.get('type')}"),
        ]
        includes = (IVR_EXTENSIONS_CONTEXT,) if menu.dial_by_extension else ()
        contexts.append(DialplanContext(menu_context(menu, ids), tuple(extensions), includes=includes,
                                        comment=f"IVR menu {_label(menu.name)}"))
    if any(menu.dial_by_extension for menu in menus):
        contexts.append(_extensions_context(plan, conferences, menus))
    return contexts


def _extensions_context(plan: GroupPlan, conferences: tuple[ConferenceInfo, ...],
                        menus: tuple[IvrMenuInfo, ...]) -> DialplanContext:
    """Every dialable number of the organization (active accounts, dialable groups, rooms, menus), each going
    to ``[internal]``: menus with dial-by-extension include it. Only these numbers: a caller in a menu never
    reaches the outbound routes."""
    numbers = {a.extension for a in plan.accounts}
    numbers |= {g.extension for g in plan.snapshot.groups if g.extension is not None}
    numbers |= {c.extension for c in conferences if c.extension is not None}
    numbers |= {m.extension for m in menus if m.extension is not None}
    return DialplanContext(IVR_EXTENSIONS_CONTEXT, tuple(
        Extension(str(n), (f"Goto({INTERNAL_CONTEXT},{n},1)",)) for n in sorted(numbers)),
        comment="Extensions a caller may dial in an IVR menu with dial-by-extension")


# --- helpers -----------------------------------------------------------------------------------------------

_HEADER = "; Generated by Centralino: do not edit, every apply rewrites this file.\n"


def _label(name: str) -> str:
    return escaping.refuse_control_characters(name, "name")


def _pin(value: str | None, conference: ConferenceInfo, what: str) -> str | None:
    if value is None:
        return None
    escaping.digits(value, f"conference {conference.id} {what}")
    if not 4 <= len(value) <= 10:
        raise ValueError(f"conference {conference.id} {what} must be 4–10 digits")
    return value
