"""Users' forwarding rules in Asterisk: one context per user, ``[user-<extension>]``, decided at call time.

A call to a user (``[internal]`` dials ``Goto(user-101,s,1)``) runs, in order:

1. the hop counter: each time a call enters a user's rules it counts one more; past ``HOP_LIMIT``
   (A → B → A …) it ends in this user's voicemail, or hangs up;
2. the caller-ID exceptions (``exception-<n>``), each optionally in a weekly window;
3. follow-me when enabled (``follow-me``): the steps ring in order, not the user's phone;
4. the status: ``[status-of]`` reads the live status from AstDB (``centralino/status/<user id>``, which
   the API writes over AMI), falls back to the status applied last, and with ``auto_status`` turns
   ``available`` into ``dnd`` outside office hours and ``away`` in a break; then
   ``<status>-<origin>``, where the origin is ``external`` for calls that came from a trunk
   (``[from-trunk]`` sets the inherited ``CENTRALINO_ORIGIN``) and ``internal`` otherwise.

A ringing status checks that a phone is registered (``PJSIP_DIAL_CONTACTS``), with
``accept_multiple_calls`` off that the phone is not in use (``DEVICE_STATE``), rings (with the
mobile too when ``ring_mobile_simultaneously``), and reads ``DIALSTATUS``: ``BUSY`` takes the busy
action, ``CHANUNAVAIL`` the not-registered one, anything else the no-answer one.
"""

from __future__ import annotations

import re

from app.config_gen import escaping
from app.config_gen.asterisk_groups import (INTERNAL_CONTEXT, DialplanContext, Extension, GroupPlan,
                                            destination_applications)
from app.config_gen.asterisk_options import RECORD, mails_missed_calls, missed_call_handler, records
from app.config_gen.asterisk_schedules import checked_zone, context_names, time_range, weekdays
from app.config_gen.snapshot import AccountInfo
from app.config_gen.forwarding_rules import HOP_LIMIT, RINGING_STATUSES, STATUSES

STATUS_OF_CONTEXT = "status-of"
STATUS_VARIABLE = "CENTRALINO_STATUS"
ORIGIN_VARIABLE = "CENTRALINO_ORIGIN"  # "external" on calls from a trunk (inherited), else unset
HOPS_VARIABLE = "CENTRALINO_HOPS"
ASTDB_FAMILY = "centralino"
# Feature codes a user's own phone dials (its keys ``change_status`` and ``agent_login``): the caller is the
# authenticated endpoint, looked up in ``[phone-user]``, so a phone changes only its own user's state.
STATUS_CODE = "*28"  # + 1..5: the status in STATUSES order (*283: dnd)
AGENT_CODE = "*29"  # log in to / out of the queue groups (a toggle)
PHONE_USER_CONTEXT = "phone-user"
USER_VARIABLE = "CENTRALINO_USER"
_IN_USE = "^(INUSE|BUSY|ONHOLD|RINGINUSE)$"
_CALLER_ID = re.compile(r"\+?[0-9]{2,20}\*?")


def user_context_name(extension: int) -> str:
    return f"user-{extension}"


def status_key(user_id: str) -> str:
    """The AstDB key (in family ``centralino``) that holds a user's live status."""
    return f"status/{user_id}"


def agent_key(user_id: str) -> str:
    """The AstDB key that holds ``out`` while the user logged out of its queues with the agent key."""
    return f"agent/{user_id}"


def status_code(status: str) -> str:
    """What a phone dials to set ``status``."""
    return f"{STATUS_CODE}{STATUSES.index(status) + 1}"


def status_lookup(account: AccountInfo, plan: GroupPlan) -> str:
    """``Gosub`` that sets ``CENTRALINO_STATUS`` to what the user's calls follow now."""
    user = account.user
    assert user is not None
    auto = user.rules.get("auto_status") or {}
    schedule = ""
    if auto.get("enabled") and auto.get("office_hours_id"):
        schedule = context_names(plan.snapshot.schedules).get(str(auto["office_hours_id"]), "")
    status = user.status if user.status in STATUSES else "available"
    return f"Gosub({STATUS_OF_CONTEXT},s,1({user.id},{status},{schedule}))"


def status_of_context() -> DialplanContext:
    """``Gosub(status-of,s,1(<user id>,<applied status>,<schedule context or empty>))``."""
    valid = "^(" + "|".join(STATUSES) + ")$"
    return DialplanContext(STATUS_OF_CONTEXT, (
        Extension("s", (
            f"Set({STATUS_VARIABLE}=${{DB({ASTDB_FAMILY}/status/${{ARG1}})}})",
            f'ExecIf($[${{REGEX("{valid}" ${{{STATUS_VARIABLE}}})}} = 0]?Set({STATUS_VARIABLE}=${{ARG2}}))',
            f'GotoIf($["${{{STATUS_VARIABLE}}}" != "available" | "${{ARG3}}" = ""]?done,1)',
            "Gosub(${ARG3},s,1)",
            f'ExecIf($["${{SCHEDULE_STATE}}" = "closed" | "${{SCHEDULE_STATE}}" = "holiday"]?'
            f"Set({STATUS_VARIABLE}=dnd))",
            f'ExecIf($["${{SCHEDULE_STATE}}" = "break"]?Set({STATUS_VARIABLE}=away))',
            "Return()")),
        Extension("done", ("Return()",)),
    ), comment="A user's status now: AstDB (live), else the applied one; auto_status by office hours")


def phone_feature_extensions() -> list[Extension]:
    """``*28<n>`` sets the caller's status (live, in AstDB: the service reads it over AMI); ``*29`` logs the caller
    in to or out of its queue groups. A phone without a user gets 403."""
    known = (f"ExecIf($[${{DIALPLAN_EXISTS({PHONE_USER_CONTEXT},${{CHANNEL(endpoint)}},1)}}=0]?Hangup(21))",
             f"Gosub({PHONE_USER_CONTEXT},${{CHANNEL(endpoint)}},1)")
    agent = f"DB({ASTDB_FAMILY}/{agent_key('${' + USER_VARIABLE + '}')})"
    extensions = [Extension(status_code(status), (
        *known, f"Set(DB({ASTDB_FAMILY}/{status_key('${' + USER_VARIABLE + '}')})={status})", "Answer()", "Hangup()"),
        comment=f"{status_code(status)}: my status is {status}") for status in STATUSES]
    extensions.append(Extension(AGENT_CODE, (
        *known, f'Set({agent}=${{IF($["${{{agent}}}" = "out"]?in:out)}})', "Answer()", "Hangup()"),
        comment=f"{AGENT_CODE}: log me out of my queue groups, or back in"))
    return extensions


def phone_user_context(plan: GroupPlan) -> DialplanContext:
    """Each user's phone (its endpoint) to its user id, for the feature codes above."""
    return DialplanContext(PHONE_USER_CONTEXT, tuple(
        Extension(str(a.extension), (f"Set({USER_VARIABLE}={a.user.id})", "Return()"))
        for a in plan.accounts if a.user is not None), comment="The user of each phone (feature codes)")


def user_contexts(plan: GroupPlan, ring_timeout: int) -> list[DialplanContext]:
    """One context per active account with a user: its forwarding rules."""
    contexts = [status_of_context(), phone_user_context(plan)]
    for account in plan.accounts:
        if account.user is not None:
            contexts.append(_user_context(account, plan, ring_timeout))
    return contexts


def _user_context(account: AccountInfo, plan: GroupPlan, ring_timeout: int) -> DialplanContext:
    user = account.user
    assert user is not None
    rules = user.rules
    number = account.extension
    name = user_context_name(number)

    def actions(action: dict, *, busy: bool = False) -> tuple[str, ...]:
        return tuple(destination_applications(action, plan, ring_timeout, owner=account,
                                              voicemail_greeting="b" if busy else "u"))

    if user.options.disabled:
        return DialplanContext(name, (Extension("s", ("Answer()", "Playback(ss-noservice)", "Hangup()")),),
                               comment=f"{number}: the user is disabled, not in service")
    start = [f"Set(__{HOPS_VARIABLE}=$[0${{{HOPS_VARIABLE}}} + 1])",
             f"GotoIf($[${{{HOPS_VARIABLE}}} > {HOP_LIMIT}]?hop-limit,1)",
             f'Set(ORIGIN=${{IF($["${{{ORIGIN_VARIABLE}}}" = "external"]?external:internal)}})']
    if mails_missed_calls(account):
        # Once per call, even when forwarding brings it back to this user.
        flag = f"CENTRALINO_MISSED_{number}"
        start += [f'ExecIf($["${{{flag}}}" = ""]?{missed_call_handler(account)})', f"Set({flag}=1)"]
    extensions: list[Extension] = []
    for index, exception in enumerate(rules.get("exceptions") or [], start=1):
        start.append(f"GotoIf({_exception_condition(exception, plan.snapshot.organization.timezone)}"
                     f"?exception-{index},1)")
        extensions.append(Extension(f"exception-{index}", actions(exception["destination"]),
                                    comment=f"exception {index}: calls from {exception['caller_id']}"))
    follow_me = rules.get("follow_me") or {}
    if follow_me.get("enabled") and follow_me.get("steps"):
        start.append("Goto(follow-me,1)")
        extensions.append(Extension("follow-me", (*_follow_me_steps(follow_me["steps"], account, plan),
                                                  *actions(follow_me["then"])),
                                    comment="follow-me: the steps ring in order, not the user's phone"))
    start += [status_lookup(account, plan), f"Goto(${{{STATUS_VARIABLE}}}-${{ORIGIN}},1)"]
    rendered: list[tuple[tuple, str]] = []  # what a branch does -> the label that does it first
    for status in STATUSES:
        settings = rules[status]
        for origin in ("internal", "external"):
            label = f"{status}-{origin}"
            ringing = status in RINGING_STATUSES
            key = (ringing, settings[origin], ringing and settings.get("ring_mobile_simultaneously"),
                   ringing and settings.get("accept_multiple_calls", True))
            same = next((first for seen, first in rendered if seen == key), None)  # dicts compare by value
            if same is not None:  # the same rules as a branch above (the usual case): one copy of them
                extensions.append(Extension(label, (f"Goto({same},1)",)))
                continue
            rendered.append((key, label))
            if ringing:
                extensions += _ringing(label, settings, settings[origin], account, plan, ring_timeout, actions)
            else:
                extensions.append(Extension(label, actions(settings[origin]["action"])))
    if user.mobile and plan.snapshot.routes:
        extensions.append(_outbound(
            "mobile", escaping.digits(user.mobile.removeprefix("+"), "mobile number"), account))
    if any(step["destination"]["type"] == "external" for step in follow_me.get("steps") or []) and plan.snapshot.routes:
        extensions.append(_outbound("_+X.", None, account))
    extensions.append(Extension("hop-limit", actions({"type": "voicemail", "user_id": None}),
                                comment=f"forwarded more than {HOP_LIMIT} times: the call ends here"))
    label = escaping.refuse_control_characters(user.display_name or str(number), "user name")
    return DialplanContext(name, (Extension("s", tuple(start)), *extensions),
                           comment=f"Forwarding rules of {label} ({number})")


def _ringing(label: str, status: dict, rules: dict, account: AccountInfo, plan: GroupPlan, ring_timeout: int,
             actions) -> list[Extension]:
    number = account.extension
    seconds = rules.get("no_answer_seconds") or ring_timeout
    ring = f"PJSIP/{number}"
    if status.get("ring_mobile_simultaneously") and account.user.mobile and plan.snapshot.routes:
        ring += f"&Local(mobile@{user_context_name(number)}/n)"
    applications = [f'GotoIf($["${{PJSIP_DIAL_CONTACTS({number})}}" = ""]?nr-{label},1)']
    if not status.get("accept_multiple_calls", True):
        applications.append(f'GotoIf($[${{REGEX("{_IN_USE}" ${{DEVICE_STATE(PJSIP/{number})}})}}]?busy-{label},1)')
    if records(account):
        applications.append(RECORD)
    screening = ",p" if account.user.options.call_screening else ""  # the caller says its name first
    applications += [f"Dial({ring},{seconds}{screening})",
                     f'GotoIf($["${{DIALSTATUS}}" = "BUSY"]?busy-{label},1)',
                     f'GotoIf($["${{DIALSTATUS}}" = "CHANUNAVAIL"]?nr-{label},1)',
                     *actions(rules["no_answer"])]
    return [Extension(label, tuple(applications)),
            Extension(f"busy-{label}", actions(rules["busy"], busy=True)),
            Extension(f"nr-{label}", actions(rules["not_registered"]))]


def _follow_me_steps(steps: list[dict], account: AccountInfo, plan: GroupPlan) -> list[str]:
    applications = []
    for step in steps:
        target = _ring_target(step["destination"], account, plan)
        if target is not None:
            applications.append(f"Dial({target},{int(step['ring_seconds'])})")
    return applications


def _ring_target(destination: dict, account: AccountInfo, plan: GroupPlan) -> str | None:
    """What Dial rings for a follow-me step; None when its target is gone (the step is skipped)."""
    kind, context = destination["type"], user_context_name(account.extension)
    if kind == "user":
        target = plan.account_of_user.get(str(destination["user_id"]))
        return f"PJSIP/{target.extension}" if target else None
    if kind == "extension":
        target = plan.account_by_id.get(str(destination["sip_account_id"]))
        return f"PJSIP/{target.extension}" if target else None
    if not plan.snapshot.routes:
        return None
    if kind == "mobile":
        return f"Local(mobile@{context}/n)" if account.user.mobile else None
    number = escaping.digits(destination["number"].removeprefix("+"), "follow-me number")
    return f"Local(+{number}@{context}/n)"


def _outbound(pattern: str, number: str | None, account: AccountInfo) -> Extension:
    """Out through the outbound routes with the user's permission level (the forwarding user pays the call)."""
    dialled = f"+{number}" if number is not None else "${EXTEN}"
    return Extension(pattern, (f"Set(CENTRALINO_LEVEL={account.permission_level})", "Set(CENTRALINO_CHECKS=)",
                               f"Gosub(outbound-select,s,1({dialled}))", "Hangup(${CENTRALINO_CAUSE})"))


def _exception_condition(exception: dict, timezone: str) -> str:
    caller_id = exception["caller_id"]
    if not _CALLER_ID.fullmatch(caller_id):
        raise ValueError(f"exception caller ID {caller_id!r} is not a number")
    digits = caller_id.rstrip("*")
    forms = {digits, digits.removeprefix("+")}  # carriers send E.164 numbers with or without "+"
    if caller_id.endswith("*"):
        tests = [f'"${{CALLERID(num):0:{len(form)}}}" = "{form}"' for form in sorted(forms)]
    else:
        tests = [f'"${{CALLERID(num)}}" = "{form}"' for form in sorted(forms)]
    condition = " | ".join(tests)
    window = exception.get("window")
    if window:
        times, days = time_range(window["start"], window["end"]), weekdays(window["days"])
        zone = checked_zone(timezone, "organization")
        condition = f"({condition}) & ${{IFTIME({times},{days},*,*,{zone}?1:0)}}"
    return f"$[{condition}]"


def group_call_gate(account: AccountInfo, plan: GroupPlan) -> tuple[str, str] | None:
    """For ring and hunt groups: the status lookup and the condition under which the member takes group calls
    now (``accept_ring_group_calls`` of its current status); None when it takes them in every status."""
    user = account.user
    if user is None:
        return None
    accepting = [s for s in STATUSES if user.rules[s].get("accept_ring_group_calls", True)]
    if len(accepting) == len(STATUSES):
        return None
    condition = (f'$[${{REGEX("^({"|".join(accepting)})$" ${{{STATUS_VARIABLE}}})}}]' if accepting else "$[0]")
    return status_lookup(account, plan), condition


def queue_logout_gate(account: AccountInfo, plan: GroupPlan) -> tuple[tuple[str, ...], str] | None:
    """For queues: what to run, and the condition (1 or 0) under which the member is logged out of queues now:
    it logged out with its agent key (``*29``), or its current status has ``logout_from_queues``."""
    user = account.user
    if user is None:
        return None
    condition = f'"${{DB({ASTDB_FAMILY}/{agent_key(user.id)})}}" = "out"'
    logged_out = [s for s in STATUSES if user.rules[s].get("logout_from_queues", False)]
    if not logged_out:
        return (), f"$[{condition}]"
    by_status = f'${{REGEX("^({"|".join(logged_out)})$" ${{{STATUS_VARIABLE}}})}}'
    return (status_lookup(account, plan),), f"$[{condition} | {by_status}]"


def internal_extension(account: AccountInfo) -> Extension:
    """A user's number in ``[internal]``: the user's rules."""
    return Extension(str(account.extension), (f"Goto({user_context_name(account.extension)},s,1)",))


__all__ = ["AGENT_CODE", "INTERNAL_CONTEXT", "STATUS_CODE", "agent_key", "group_call_gate", "internal_extension",
           "phone_feature_extensions", "queue_logout_gate", "status_code", "status_key", "user_contexts"]
