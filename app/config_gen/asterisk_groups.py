"""Groups and their rights in Asterisk: ring groups and queues, presence (BLF), pickup, barge, intercom, park.

Rights are enforced by Asterisk itself, with lookup contexts rather than a copy of the
dialplan per phone, so the output grows with memberships, not with pairs of users:

- ``[members-<group>]`` lists the group's active extensions; ``[barge-from-101]`` and
  ``[intercom-from-101]`` include the member lists of the groups where 101 holds that right.
  A feature code asks ``[allowed]`` whether its target is in the caller's list
  (``DIALPLAN_EXISTS``); the caller is the authenticated endpoint (``CHANNEL(endpoint)``),
  which a phone cannot forge, and a refusal hangs up with cause 21 (SIP 403).
- Presence: ``[blf-<group>]`` holds a hint for each member that shows its presence;
  every endpoint's ``subscribe_context`` is ``[presence-101]``, which includes the hint
  contexts of the groups where 101 sees the members. A SUBSCRIBE for anything else finds
  no hint and Asterisk refuses it.
- Pickup: every member's calls carry the named call groups of its groups; members with
  ``operate_calls`` get those groups as named pickup groups, and ``*8`` picks up.
- Park: the organization's parking lot (``res_parking.conf``); parking and retrieving
  check ``[park-allowed]``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from app.config_gen import escaping
from app.config_gen.snapshot import AccountInfo, GroupInfo, Snapshot

INTERNAL_CONTEXT = "internal"  # where every phone's calls start
QUEUES_PATH = "asterisk/queues.conf"
PARKING_PATH = "asterisk/res_parking.conf"

PICKUP_CODE = "*8"
# Feature code prefix -> (ChanSpy options, what it does). q: no beep nor name; E: stop when the call ends.
SPY_CODES = {"*31": ("qE", "listen"), "*32": ("qwE", "whisper (only the member hears)"),
             "*33": ("qBE", "barge in (both parties hear)")}
INTERCOM_CODE = "*90"
# A queue member rings at most this long before the next one is tried.
QUEUE_MEMBER_TIMEOUT = 15
PARKING_TIME = 60  # seconds before a parked call rings back whoever parked it


@dataclass(frozen=True, slots=True)
class Extension:
    """One dialplan extension: an optional hint, then its priorities in order (``exten =>`` then ``same => n``)."""

    pattern: str
    applications: tuple[str, ...] = ()
    hint: str | None = None
    comment: str | None = None  # a line above it; never inside an application, where ${...} would run


@dataclass(frozen=True, slots=True)
class DialplanContext:
    """A named dialplan context: a comment, included contexts, then extensions."""

    name: str
    extensions: tuple[Extension, ...] = ()
    includes: tuple[str, ...] = ()
    comment: str | None = None


class GroupPlan:
    """What the dialplan, pjsip.conf and queues.conf need to know about groups, computed once per render."""

    def __init__(self, snapshot: Snapshot, accounts: list[AccountInfo]) -> None:
        self.snapshot = snapshot
        self.accounts = accounts
        self.slug = escaping.identifier(snapshot.organization.slug, "organization slug")  # checked once
        by_user = {a.user.id: a for a in accounts if a.user is not None}
        self.account_of_user = by_user
        self.account_by_id = {a.id: a for a in accounts}
        self.context_ids = short_ids([g.id for g in snapshot.groups])
        self.groups_by_id = {g.id: g for g in snapshot.groups}
        # Each user's first DID (the number its rule rings), for the caller ID of outbound calls.
        self.did_of_user: dict[str, str] = {}
        for did in snapshot.dids:  # sorted by number
            if did.destination and did.destination.get("type") == "user":
                self.did_of_user.setdefault(did.destination["user_id"], did.number)
        # Where a call enters a conference room or an IVR menu (id -> context with an ``s`` extension),
        # filled by the renderers of those resources.
        self.entry_contexts: dict[str, str] = {}
        # The absolute directory Asterisk plays uploaded sounds from (set by the renderer that writes them).
        self.sounds_dir: str | None = None
        self.files_dir: str | None = None  # where Asterisk finds the applied asterisk/ files (scripts)
        # Per group, its members that have an active account, in hunt order.
        self.members: dict[str, list[tuple[AccountInfo, frozenset[str]]]] = {
            g.id: [(by_user[m.user_id], m.rights) for m in g.members if m.user_id in by_user]
            for g in snapshot.groups}
        # Per extension, the groups it belongs to, and those where it holds each right.
        self.groups_of: dict[int, list[str]] = defaultdict(list)
        self.groups_with_right: dict[tuple[int, str], list[str]] = defaultdict(list)
        for group in snapshot.groups:
            for account, rights in self.members[group.id]:
                self.groups_of[account.extension].append(group.id)
                for right in rights:
                    self.groups_with_right[account.extension, right].append(group.id)

    def context(self, kind: str, group_id: str) -> str:
        return f"{kind}-{self.context_ids[group_id]}"

    def queue_name(self, group: GroupInfo) -> str:
        return self.context("group", group.id)

    def label(self, group: GroupInfo) -> str:
        return escaping.refuse_control_characters(group.name, "group name")


# --- pjsip.conf --------------------------------------------------------------------------------------------


def endpoint_lines(account: AccountInfo, plan: GroupPlan) -> list[str]:
    """An endpoint's presence context and its named call and pickup groups."""
    number = account.extension
    lines = [f"subscribe_context={presence_context(number, plan)}"]
    call_groups = [plan.context_ids[g] for g in plan.groups_of.get(number, [])]
    pickup_groups = [plan.context_ids[g] for g in plan.groups_with_right.get((number, "operate_calls"), [])]
    if call_groups:
        lines.append(f"named_call_group={','.join(call_groups)}")
    if pickup_groups:
        lines.append(f"named_pickup_group={','.join(pickup_groups)}")
    return lines


def presence_context(extension: int, plan: GroupPlan) -> str:
    return f"presence-{extension}" if plan.groups_with_right.get((extension, "see_members")) else "presence-none"


# --- extensions.conf ---------------------------------------------------------------------------------------


# Given a member's account, the Gosub that looks its status up and the condition under which it takes group
# calls now; None: it always does (see ``asterisk_forwarding.group_call_gate``).
Gate = Callable[[AccountInfo, "GroupPlan"], tuple[str, str] | None]
# For queues: what to run first, and the condition under which the member is logged out (paused) now.
QueueGate = Callable[[AccountInfo, "GroupPlan"], tuple[tuple[str, ...], str] | None]
RING_VARIABLE = "CENTRALINO_RING"


def group_extensions(plan: GroupPlan, ring_timeout: int, gate: Gate | None = None,
                     queue_gate: QueueGate | None = None) -> list[Extension]:
    """The dialable groups: ring the members by the group's strategy, then the no-answer destination. With a
    ``gate``, ring and hunt groups skip members whose status does not take group calls at that moment; with a
    ``queue_gate`` (its condition true: the member is logged out of queues now), each queue call first pauses
    or unpauses its members by their current state, so the queue offers the call only to those logged in."""
    extensions = []
    for group in plan.snapshot.groups:
        if group.extension is None:
            continue
        members = [account for account, _rights in plan.members[group.id]]
        gates = {a.extension: gate(a, plan) if gate else None for a in members}
        applications: list[str] = []
        if members and group.ring_strategy == "hunt":
            for account in members:
                dial = f"Dial(PJSIP/{account.extension},{group.ring_timeout})"
                checked = gates[account.extension]
                applications += [checked[0], f"ExecIf({checked[1]}?{dial})"] if checked else [dial]
        elif members and group.ring_strategy == "queue":
            queue = plan.queue_name(group)
            applications.append("Answer()")
            for account in members:
                logged_out = queue_gate(account, plan) if queue_gate else None
                if logged_out:
                    lookups, condition = logged_out
                    applications += [*lookups,
                                     f"Set(QUEUE_MEMBER({queue},paused,PJSIP/{account.extension})={condition})"]
            applications.append(f"Queue({queue},,,,{group.ring_timeout})")
        elif members and any(gates.values()):
            applications.append(f"Set({RING_VARIABLE}=)")
            for account in members:
                add = f"Set({RING_VARIABLE}=${{{RING_VARIABLE}}}&PJSIP/{account.extension})"
                checked = gates[account.extension]
                applications += [checked[0], f"ExecIf({checked[1]}?{add})"] if checked else [add]
            applications.append(
                f'ExecIf($["${{{RING_VARIABLE}}}" != ""]?Dial(${{{RING_VARIABLE}:1}},{group.ring_timeout}))')
        elif members:
            devices = "&".join(f"PJSIP/{a.extension}" for a in members)
            applications.append(f"Dial({devices},{group.ring_timeout})")
        applications += destination_applications(group.no_answer_destination, plan, ring_timeout)
        comment = f"group {plan.label(group)}: {group.ring_strategy}, then {group.no_answer_destination['type']}"
        extensions.append(Extension(str(group.extension), tuple(applications), comment=comment))
    return extensions


def destination_applications(destination: dict, plan: GroupPlan, ring_timeout: int, *,
                             owner: AccountInfo | None = None, voicemail_greeting: str = "u") -> list[str]:
    """Where a call goes next. A target that has gone (deactivated, no voicemail) ends the call instead,
    so that a saved configuration always loads. ``owner``: the account whose forwarding rules these are (its
    own mailbox and mobile, and its permission level for calls out); ``voicemail_greeting``: ``u``
    (unavailable) or ``b`` (busy)."""
    snapshot, kind = plan.snapshot, destination.get("type")
    by_user, by_id = plan.account_of_user, plan.account_by_id
    if kind == "user" and destination["user_id"] in by_user:
        return [f"Goto({INTERNAL_CONTEXT},{by_user[destination['user_id']].extension},1)"]
    if kind == "extension" and destination["sip_account_id"] in by_id:
        return [f"Dial(PJSIP/{by_id[destination['sip_account_id']].extension},{ring_timeout})", "Hangup()"]
    if kind == "group":
        target = plan.groups_by_id.get(destination["group_id"])
        if target is not None and target.extension is not None:
            return [f"Goto({INTERNAL_CONTEXT},{target.extension},1)"]
    if kind == "voicemail":
        account = owner if destination.get("user_id") is None else by_user.get(destination["user_id"])
        if account is not None and account.user is not None and account.user.voicemail_enabled:
            slug = plan.slug
            if account.user.voicemail_greeting and plan.sounds_dir:
                # The uploaded greeting instead of Asterisk's: play it, then only the beep ("s").
                return [f"Playback({plan.sounds_dir}/{voicemail_sound(account.extension)})",
                        f"VoiceMail({account.extension}@{slug},s)", "Hangup()"]
            return [f"VoiceMail({account.extension}@{slug},{voicemail_greeting})", "Hangup()"]
    if kind == "mobile" and owner is not None and owner.user is not None and owner.user.mobile and snapshot.routes:
        return [f"Goto(user-{owner.extension},mobile,1)"]
    if kind == "external" and snapshot.routes:
        # Through the outbound routes: a user's forwarding with its account's permission level, anything else
        # with the organization's default (the caller is outside).
        number = escaping.digits(destination["number"].removeprefix("+"), "external destination number")
        level = owner.permission_level if owner is not None else snapshot.organization.default_permission_level
        # A forwarding is not the caller's own dialling: the caller's phone restrictions do not apply.
        return [f"Set(CENTRALINO_LEVEL={level})", "Set(CENTRALINO_CHECKS=)", f"Gosub(outbound-select,s,1(+{number}))",
                "Hangup(${CENTRALINO_CAUSE})"]
    if kind in ("conference", "ivr"):
        field = "conference_id" if kind == "conference" else "ivr_menu_id"
        context = plan.entry_contexts.get(destination[field])
        if context is not None:
            return [f"Goto({context},s,1)"]
    if kind == "not_configured":
        return ["Answer()", "Playback(ss-noservice)", "Hangup()"]
    return ["Hangup()"]


def voicemail_sound(extension: int) -> str:
    """The file name (without ``.wav``) of a mailbox's uploaded greeting in the sounds directory."""
    return f"voicemail-{extension}"


def parking_extensions(snapshot: Snapshot) -> list[Extension]:
    """The parking lot's number (park the call, or the caller transferred to it) and one per slot (retrieve)."""
    organization = snapshot.organization
    if organization.parking_extension is None:
        return []
    lot = parking_lot(snapshot)
    park = Extension(str(organization.parking_extension), (
        # Who parks: the phone that dialled, or the one that blind-transferred its caller here.
        "Set(PARKER=PJSIP/${CHANNEL(endpoint)})",
        'ExecIf($["${BLINDTRANSFER}"!=""]?Set(PARKER=${CUT(BLINDTRANSFER,-,1)}))',
        "Gosub(allowed,s,1(park-allowed,${CUT(PARKER,/,2)}))",
        f"Park({lot})",
        "Hangup()",
    ), comment="parking lot: park the call (right: park)")
    slots = [Extension(str(slot), ("Gosub(allowed,s,1(park-allowed,${CHANNEL(endpoint)}))",
                                   f"ParkedCall({lot},{slot})", "Hangup()"),
                       comment=f"parking slot {slot}: take the call parked there (right: park)")
             for slot in _slots(snapshot)]
    return [park, *slots]


def feature_extensions() -> list[Extension]:
    """Pickup, listen/whisper/barge and intercom: each checks the caller's right towards the target."""
    target = "${EXTEN:3}"
    extensions = [Extension(PICKUP_CODE, ("Pickup()", "Hangup(21)"),
                            comment=f"{PICKUP_CODE}: pick up a call ringing in my pickup groups (right: operate_calls)")]
    for code, (options, what) in SPY_CODES.items():
        extensions.append(Extension(f"_{code}X!", (
            f"Gosub(allowed,s,1(barge-from-${{CHANNEL(endpoint)}},{target}))",
            f"ChanSpy(PJSIP/{target}-,{options})",
            "Hangup()",
        ), comment=f"{code}<extension>: {what} on a member's call (right: barge)"))
    extensions.append(Extension(f"_{INTERCOM_CODE}X!", (
        f"Gosub(allowed,s,1(intercom-from-${{CHANNEL(endpoint)}},{target}))",
        f"Dial(PJSIP/{target},20,b(intercom-headers^s^1))",
        "Hangup()",
    ), comment=f"{INTERCOM_CODE}<extension>: intercom, the member's phone answers by itself (right: intercom)"))
    return extensions


def support_contexts(plan: GroupPlan) -> list[DialplanContext]:
    """The subroutines and lookup contexts the feature codes and presence rely on."""
    snapshot = plan.snapshot
    domain = escaping.hostname(snapshot.organization.sip_domain, "organization SIP domain")
    contexts = [
        DialplanContext("allowed", (Extension("s", (
            "ExecIf($[${DIALPLAN_EXISTS(${ARG1},${ARG2},1)}=0]?Hangup(21))", "Return()")),),
            comment="Gosub(allowed,s,1(list,extension)): go on when the extension is in the list, else 403"),
        DialplanContext("intercom-headers", (Extension("s", (
            f"Set(PJSIP_HEADER(add,Call-Info)=<sip:{domain}>\\;answer-after=0)",
            f"Set(PJSIP_HEADER(add,Alert-Info)=<http://{domain}>\\;info=alert-autoanswer\\;delay=0)",
            "Return()")),), comment="Pre-dial handler of an intercom call: the phone answers by itself"),
    ]
    for group in snapshot.groups:
        members = plan.members[group.id]
        name = plan.label(group)
        contexts.append(DialplanContext(
            plan.context("members", group.id),
            tuple(Extension(str(a.extension), ("NoOp()",)) for a, _rights in members),
            comment=f"Members of group {name}"))
        contexts.append(DialplanContext(
            plan.context("blf", group.id),
            tuple(Extension(str(a.extension), hint=f"PJSIP/{a.extension}")
                  for a, rights in members if "show_presence" in rights),
            comment=f"Presence of the members of group {name} who show it"))
    for account in plan.accounts:
        number = account.extension
        for right, kind in (("barge", "barge-from"), ("intercom", "intercom-from")):
            groups = plan.groups_with_right.get((number, right))
            if groups:
                contexts.append(DialplanContext(f"{kind}-{number}", includes=tuple(
                    plan.context("members", g) for g in groups)))
        watched = plan.groups_with_right.get((number, "see_members"))
        if watched:
            contexts.append(DialplanContext(f"presence-{number}", includes=tuple(
                plan.context("blf", g) for g in watched)))
    contexts.append(DialplanContext("presence-none", comment="Phones that see no group's presence"))
    parkers = sorted({a.extension for a in plan.accounts if plan.groups_with_right.get((a.extension, "park"))})
    contexts.append(DialplanContext("park-allowed", tuple(Extension(str(n), ("NoOp()",)) for n in parkers),
                                    comment="Extensions with the right to park and retrieve calls"))
    return contexts


# --- queues.conf and res_parking.conf ----------------------------------------------------------------------


def render_queues(plan: GroupPlan) -> str:
    """One queue per dialable group with the ``queue`` strategy, its active members as static members."""
    blocks = ["[general]\npersistentmembers=no\nautofill=yes\n"]
    for group in plan.snapshot.groups:
        if group.extension is None or group.ring_strategy != "queue":
            continue
        lines = [f"; group {plan.label(group)} ({group.extension})", f"[{plan.queue_name(group)}]",
                 "strategy=rrmemory", f"timeout={min(group.ring_timeout, QUEUE_MEMBER_TIMEOUT)}", "retry=1",
                 "ringinuse=no", "joinempty=yes", "leavewhenempty=no"]
        lines += [f"member => PJSIP/{a.extension},0,{a.extension},PJSIP/{a.extension}"
                  for a, _rights in plan.members[group.id]]
        blocks.append("\n".join(lines) + "\n")
    return "".join(f"\n{block}" for block in blocks)


def render_parking(snapshot: Snapshot) -> str:
    """The organization's parking lot: its slots, and where a call goes back when nobody retrieves it."""
    text = "\n[general]\n"
    slots = _slots(snapshot)
    if slots:
        text += (f"\n[{parking_lot(snapshot)}]\nparkpos => {slots[0]}-{slots[-1]}\n"
                 f"context => parked-{parking_lot(snapshot)}\nparkingtime => {PARKING_TIME}\n"
                 "comebacktoorigin => yes\n")
    return text


def parking_lot(snapshot: Snapshot) -> str:
    return escaping.identifier(snapshot.organization.slug, "organization slug")


def _slots(snapshot: Snapshot) -> list[int]:
    organization = snapshot.organization
    if organization.parking_extension is None:
        return []
    if organization.parking_slots < 1:
        raise ValueError(f"the parking lot needs at least one slot, got {organization.parking_slots}")
    first = organization.parking_extension + 1
    return list(range(first, first + organization.parking_slots))


def short_ids(ids: Iterable[str]) -> dict[str, str]:
    """The shortest prefix (8 hex digits or more) of each id that tells them apart: stable, short context names
    (a group's, a route's) that do not change when another object is added, unless prefixes collide."""
    hexes = {group_id: group_id.replace("-", "") for group_id in ids}
    for length in range(8, 33):
        prefixes = {group_id: value[:length] for group_id, value in hexes.items()}
        if len(set(prefixes.values())) == len(prefixes):
            return prefixes
    raise ValueError("two objects share an id")
