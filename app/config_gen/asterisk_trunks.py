"""SIP trunks and outbound routes in Asterisk: ``pjsip.conf`` sections per trunk and a small outbound dialplan.

pjsip.conf, per trunk (every section is named ``trunk-<name>``; Asterisk tells them apart by ``type=``):
endpoint (calls from the trunk start in ``[from-trunk]``), aor (the carrier's ``contact``, qualified),
auth (outbound digest credentials) when it has a username, registration when ``register``, and identify
(``match=`` the carrier's addresses, by default its host: PJSIP takes a request from there for the trunk).

extensions.conf: the dialplan does not grow with accounts, and only linearly with routes:

- ``[outbound]`` holds each distinct pattern of every route once; the phones' context includes it, so
  an internal number (an exact extension of the including context) always wins over a route. Every
  pattern hands the number to ``[outbound-select]`` and ends the call with ``${CENTRALINO_CAUSE}``.
- ``[outbound-select]`` calls the routes in priority order (lower first; then name): Asterisk itself
  would pick the most specific pattern, not the route with the best priority, so each route checks its
  own patterns (``DIALPLAN_EXISTS`` against ``[outbound-route-<id>-patterns]``) and returns when they do
  not match, when the caller's level is below the route's ``min_permission_level`` (emergency routes skip
  that check), or when none of its trunks could take the call. A route that dials and is answered,
  busy or unanswered ends the call.
- ``[outbound-route-<id>]`` strips and prepends digits, chooses the caller ID and tries its trunks in
  order through ``[outbound-trunk]``, which returns (the next trunk is tried) when the trunk is full
  (``max_channels``, counted with ``GROUP()``), unavailable (``CHANUNAVAIL``) or refuses the call
  (``CONGESTION``: 503 and other failures); busy ends the call with 486, no answer with 480.

What the caller's channel must carry (``phone_endpoint_lines`` writes it as ``set_var`` on each phone's
endpoint; forwarding and inbound calls set it before going to ``[outbound]``):
``CENTRALINO_LEVEL`` (the account's permission level; -1 when external calls are disabled, so that only
emergency routes are open; missing counts as 0), ``CENTRALINO_CALLERID`` (the user's caller ID) and
``CENTRALINO_DID`` (the caller's own DID, for ``caller_id_mode: did``; until DIDs exist it is absent and
the user's caller ID is used). The caller ID number sent is the first non-empty of: the DID (mode
``did``), the user's caller ID (modes ``did`` and ``user``), the trunk's ``caller_id``; when all are
empty the caller ID is left as it is (the carrier usually applies the account's default number).

How a refused call ends: a level too low for every matching route is ``Hangup(21)`` (SIP 403); routes
that were allowed but whose trunks all failed end with ``Hangup(34)`` (SIP 503). A number no route
matches never enters ``[outbound]`` (SIP 404 from the including context).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from app.config_gen import escaping
from app.config_gen.asterisk_groups import DialplanContext, Extension, short_ids

OUTBOUND_CONTEXT = "outbound"  # include it in the phones' context
SELECT_CONTEXT = "outbound-select"
TRUNK_STEP_CONTEXT = "outbound-trunk"
FROM_TRUNK_CONTEXT = "from-trunk"  # where calls from every trunk start (rendered by the inbound module)
LEVEL_VARIABLE = "CENTRALINO_LEVEL"
CHECKS_VARIABLE = "CENTRALINO_CHECKS"  # the checks routine of the calling phone (asterisk_options)
CHECKS_CONTEXT = "outbound-checks"
# Set once the calling phone's checks passed: a call failing over to the next route is not asked for its PIN (or
# recorded) again. Every refusal hangs up, so only a call that passed gets this far. Not inherited (no "_").
CHECKED_VARIABLE = "CENTRALINO_CHECKED"
CALLERID_VARIABLE = "CENTRALINO_CALLERID"
DID_VARIABLE = "CENTRALINO_DID"
CAUSE_VARIABLE = "CENTRALINO_CAUSE"
GROUP_CATEGORY = "outbound"  # GROUP() category counting each trunk's calls
CAUSE_REFUSED = 21  # call rejected: SIP 403
CAUSE_CONGESTION = 34  # no circuit: SIP 503

TRANSPORTS = ("udp", "tcp", "tls")
CALLER_ID_MODES = ("user", "did", "trunk")
# Audio formats Asterisk 20/22 knows by these names (``core show codecs``).
CODECS = ("ulaw", "alaw", "g722", "g729", "g726", "g726aal2", "gsm", "ilbc", "opus", "speex", "speex16", "lpc10",
          "adpcm", "slin", "slin16", "siren7", "siren14", "g723")
MAX_PATTERN_LENGTH = 80
# Trunk names become section names and dial strings: letters, digits, '_' and '-'.
TRUNK_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,39}")
# A number Asterisk sends as caller ID or prepends: digits, optionally after '+'.
_NUMBER = re.compile(r"\+?[0-9]{1,20}")
_PREPEND = re.compile(r"[0-9+*#]{0,20}")
_LITERAL = frozenset("0123456789+*#")


@dataclass(frozen=True, slots=True)
class TrunkInfo:
    """A SIP trunk to a carrier, as the renderer needs it."""

    id: str
    name: str  # letters, digits, '_' and '-'; the sections are ``trunk-<name>``
    host: str  # host name or IPv4 address
    port: int
    transport: str  # udp | tcp | tls
    username: str | None
    password: str | None  # plaintext (decrypted for rendering only; never logged)
    register: bool
    from_domain: str | None
    codecs: tuple[str, ...]
    max_channels: int | None  # None: no limit
    match: tuple[str, ...] = ()  # identify: addresses or networks calls come from; empty: the host
    caller_id: str | None = None  # the number sent when the route's caller ID mode gives none


@dataclass(frozen=True, slots=True)
class RouteInfo:
    """An outbound route, as the renderer needs it."""

    id: str
    name: str
    patterns: tuple[str, ...]
    strip: int
    prepend: str
    trunk_ids: tuple[str, ...]  # failover order
    caller_id_mode: str  # user | did | trunk
    min_permission_level: int
    priority: int  # lower first
    emergency: bool


# --- rules the API applies first ---------------------------------------------------------------------------


def dial_pattern_length(pattern: str) -> int:
    """Check an Asterisk dial pattern; return how many characters it fixes before a trailing ``.``/``!``.

    A literal number uses digits, ``+``, ``*`` and ``#``. A pattern starts with ``_`` and may add ``X``
    (0-9), ``Z`` (1-9), ``N`` (2-9), ``[...]`` (digits and ranges such as ``[1-5]``), and at its end ``.``
    (one or more characters) or ``!`` (zero or more). Raises ``ValueError`` saying what Asterisk would
    misread.
    """
    if not pattern:
        raise ValueError("must not be empty")
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise ValueError(f"must be at most {MAX_PATTERN_LENGTH} characters")
    if not pattern.startswith("_"):
        for index, char in enumerate(pattern):
            if char not in _LITERAL:
                raise ValueError(f"{char!r} at position {index + 1} is not allowed in a number (digits, +, * and #; "
                                 "start with _ for a pattern with X, Z, N, [ranges], . or !)")
        return len(pattern)
    fixed, index = 0, 1
    while index < len(pattern):
        char = pattern[index]
        if char in _LITERAL or char in "XZN":
            fixed += 1
        elif char in "xzn":
            raise ValueError(f"write {char.upper()!r} in upper case (position {index + 1})")
        elif char == "[":
            close = pattern.find("]", index)
            if close < 0:
                raise ValueError(f"the '[' at position {index + 1} is never closed")
            _check_class(pattern[index + 1:close], index + 1)
            fixed += 1
            index = close
        elif char == "]":
            raise ValueError(f"']' at position {index + 1} closes no '['")
        elif char in ".!":
            if index != len(pattern) - 1:
                raise ValueError(f"{char!r} (at position {index + 1}) matches the rest of the number and must be last")
            if fixed == 0:
                raise ValueError(f"'_{char}' would match everything, Asterisk's special extensions included: "
                                 "start with at least one digit, X, Z, N or [range]")
        else:
            raise ValueError(f"{char!r} at position {index + 1} is not part of Asterisk's pattern syntax "
                             "(digits, + * #, X, Z, N, [ranges], and . or ! at the end)")
        index += 1
    if fixed == 0:
        raise ValueError("a pattern needs at least one character after '_'")
    return fixed


def _check_class(body: str, opened_at: int) -> None:
    if not body:
        raise ValueError(f"the '[]' at position {opened_at} is empty")
    index = 0
    while index < len(body):
        char = body[index]
        if char not in _LITERAL:
            raise ValueError(f"{char!r} inside the '[' at position {opened_at} is not a digit, +, * or # "
                             "(ranges look like [1-5])")
        if index + 2 < len(body) and body[index + 1] == "-":
            end = body[index + 2]
            if not (char.isdigit() and end.isdigit()) or end < char:
                raise ValueError(f"the range {char}-{end} in the '[' at position {opened_at} is not an ascending "
                                 "range of digits")
            index += 3
        elif index + 1 < len(body) and body[index + 1] == "-":
            raise ValueError(f"the range in the '[' at position {opened_at} has no end")
        else:
            index += 1


def number(value: str, what: str) -> str:
    """A caller ID number: digits, optionally after '+' (nothing the dialplan or a SIP header would misread)."""
    if not _NUMBER.fullmatch(value):
        raise ValueError(f"{what} {value!r} must be digits, optionally after '+'")
    return value


def prepend_digits(value: str, what: str) -> str:
    """Digits, '+', '*' and '#' to put before a number (may be empty)."""
    if not _PREPEND.fullmatch(value):
        raise ValueError(f"{what} {value!r} may only hold digits, +, * and # (at most 20)")
    return value


def trunk_name(value: str, what: str = "trunk name") -> str:
    """A trunk name usable in section names and dial strings."""
    if not TRUNK_NAME.fullmatch(value):
        raise ValueError(f"{what} {value!r} may only contain letters, digits, '_' and '-' (at most 40, starting "
                         "with a letter or digit)")
    return value


def match_address(value: str, what: str = "match address") -> str:
    """An address ``identify`` can match: an IP address, a network (CIDR) or a host name."""
    try:
        ipaddress.ip_network(value, strict=False)
        return value
    except ValueError:
        pass
    try:
        return escaping.hostname(value, what)
    except ValueError:
        raise ValueError(f"{what} {value!r} is not an IP address, a network such as 203.0.113.0/24, "
                         "or a host name") from None


def secret(value: str, what: str) -> str:
    """A trunk password as pjsip.conf can hold it: printable, no whitespace (the parser trims it)."""
    escaping.require_non_empty(value, what)
    if not value.isascii() or not value.isprintable() or any(char.isspace() for char in value):
        raise ValueError(f"{what} must be printable ASCII without spaces")
    return value


# --- pjsip.conf --------------------------------------------------------------------------------------------


def trunk_endpoint(trunk: TrunkInfo) -> str:
    """The name of the trunk's endpoint (and of its other sections): ``trunk-<name>``."""
    return f"trunk-{trunk_name(trunk.name)}"


def _uri_target(trunk: TrunkInfo) -> str:
    host = escaping.hostname(trunk.host, f"host of trunk {trunk.name}")
    if not 0 < trunk.port < 65536:
        raise ValueError(f"port of trunk {trunk.name} must be 1-65535, got {trunk.port}")
    if trunk.transport not in TRANSPORTS:
        raise ValueError(f"transport of trunk {trunk.name} must be one of {TRANSPORTS}")
    suffix = "" if trunk.transport == "udp" else f";transport={trunk.transport}"
    return f"{host}:{trunk.port}{suffix}"


def trunk_sections(trunks: Iterable[TrunkInfo], transports: Sequence[tuple[str, str, str]] = ()) -> str:
    """pjsip.conf sections of every trunk, by name: endpoint, aor, auth, registration, identify.

    ``transports`` are the deployment's (name, protocol, bind) transports: a trunk uses the first of its
    protocol; without one PJSIP picks a transport from the contact URI's ``transport`` parameter (a
    TCP or TLS trunk then needs such a transport configured).
    """
    blocks = []
    for trunk in sorted(trunks, key=lambda t: t.name):
        name = trunk_endpoint(trunk)
        target = _uri_target(trunk)
        transport = next((t_name for t_name, protocol, _bind in transports if protocol == trunk.transport), None)
        transport_line = [f"transport={escaping.identifier(transport, 'transport name')}"] if transport else []
        codecs = [c for c in trunk.codecs if c in CODECS]
        if not codecs or len(codecs) != len(trunk.codecs):
            raise ValueError(f"codecs of trunk {trunk.name} must be some of {', '.join(CODECS)}")
        has_auth = bool(trunk.username)
        endpoint = [
            f"; trunk {trunk.name}", f"[{name}]", "type=endpoint", f"context={FROM_TRUNK_CONTEXT}",
            *transport_line, "disallow=all", f"allow={','.join(codecs)}", f"aors={name}",
            "direct_media=no", "rtp_symmetric=yes", "force_rport=yes", "rewrite_contact=yes",
            "send_pai=yes",  # the caller ID also in P-Asserted-Identity, which carriers trust
        ]
        if has_auth:
            endpoint.append(f"outbound_auth={name}")
        if trunk.from_domain:
            endpoint.append(f"from_domain={escaping.hostname(trunk.from_domain, f'from_domain of trunk {trunk.name}')}")
        sections = [endpoint, [f"[{name}]", "type=aor", "qualify_frequency=60", f"contact=sip:{target}"]]
        if has_auth:
            username = escaping.sip_user(trunk.username, f"username of trunk {trunk.name}")
            password = escaping.asterisk_value(secret(trunk.password or "", f"password of trunk {trunk.name}"),
                                               f"password of trunk {trunk.name}")
            sections.append([f"[{name}]", "type=auth", "auth_type=userpass", f"username={username}",
                             f"password={password}"])
        if trunk.register:
            if not has_auth:
                raise ValueError(f"trunk {trunk.name} registers but has no username")
            domain = trunk.from_domain or trunk.host
            sections.append([
                f"[{name}]", "type=registration", *transport_line, f"outbound_auth={name}",
                f"server_uri=sip:{target}", f"client_uri=sip:{trunk.username}@{domain}",
                f"contact_user={trunk.username}", "retry_interval=60", "forbidden_retry_interval=600",
                "expiration=3600", "line=yes", f"endpoint={name}"])
        matches = [match_address(m, f"match address of trunk {trunk.name}") for m in trunk.match] or [trunk.host]
        sections.append([f"[{name}]", "type=identify", f"endpoint={name}", f"match={','.join(matches)}"])
        blocks.append("\n".join("\n".join(section) + "\n" for section in sections))
    return "".join(f"\n{block}" for block in blocks)


def phone_endpoint_lines(permission_level: int, *, caller_id: str | None = None, did: str | None = None,
                         external_calls_disabled: bool = False) -> list[str]:
    """The lines a phone's endpoint needs for outbound routes: its level and caller IDs as channel variables.

    With ``external_calls_disabled`` the level is -1: only emergency routes take its calls.
    """
    if not 0 <= permission_level <= 100:
        raise ValueError(f"permission level must be 0-100, got {permission_level}")
    level = -1 if external_calls_disabled else permission_level
    lines = [f"set_var={LEVEL_VARIABLE}={level}"]
    if caller_id:
        lines.append(f"set_var={CALLERID_VARIABLE}={number(caller_id, 'caller ID')}")
    if did:
        lines.append(f"set_var={DID_VARIABLE}={number(did, 'DID')}")
    return lines


# --- extensions.conf ---------------------------------------------------------------------------------------


def _label(text: str, what: str) -> str:
    return escaping.refuse_control_characters(text, what)


def ordered_routes(routes: Iterable[RouteInfo]) -> list[RouteInfo]:
    """Routes in the order calls try them: priority (lower first), then name, then id."""
    return sorted(routes, key=lambda r: (r.priority, r.name, r.id))


_CALLER_ID_SOURCE = {
    "user": f"${{{CALLERID_VARIABLE}}}",
    "did": f"${{IF($[${{LEN(${{{DID_VARIABLE}}})}} > 0]?${{{DID_VARIABLE}}}:${{{CALLERID_VARIABLE}}})}}",
    "trunk": "",
}


def outbound_contexts(routes: Iterable[RouteInfo], trunks: Iterable[TrunkInfo]) -> list[DialplanContext]:
    """The outbound dialplan: ``[outbound]``, ``[outbound-select]``, a context (and a pattern context) per
    route, and ``[outbound-trunk]``. Routes without a usable trunk are left out. Empty when there is no
    route."""
    trunks_by_id = {t.id: t for t in trunks}
    usable = [r for r in ordered_routes(routes) if any(t in trunks_by_id for t in r.trunk_ids)]
    if not usable:
        return []
    ids = short_ids(r.id for r in usable)
    patterns: dict[str, None] = {}
    route_contexts: list[DialplanContext] = []
    calls = []
    for route in usable:
        what = f"outbound route {route.name}"
        label = _label(route.name, f"name of {what}")
        lengths = [dial_pattern_length(p) for p in route.patterns]
        if not lengths:
            raise ValueError(f"{what} has no pattern")
        if not 0 <= route.strip <= min(lengths):
            raise ValueError(f"{what} strips {route.strip} digits, more than its patterns fix")
        if route.caller_id_mode not in CALLER_ID_MODES:
            raise ValueError(f"caller ID mode of {what} must be one of {CALLER_ID_MODES}")
        prepend = prepend_digits(route.prepend, f"prepend of {what}")
        context = f"outbound-route-{ids[route.id]}"
        patterns.update(dict.fromkeys(route.patterns))
        access = "emergency, open to every account" if route.emergency else f"level {route.min_permission_level}+"
        calls.append(f"Gosub({context},s,1(${{ARG1}},${{level}}))")
        applications = [f"ExecIf($[!${{DIALPLAN_EXISTS({context}-patterns,${{ARG1}},1)}}]?Return())"]
        if not route.emergency:
            applications.append(f"ExecIf($[${{ARG2}} < {route.min_permission_level}]?Return())")
            applications.append(f"Gosub({CHECKS_CONTEXT},s,1)")  # the calling phone's restrictions
        applications += [
            f"Set({CAUSE_VARIABLE}={CAUSE_CONGESTION})",
            f"Set(LOCAL(number)={prepend}${{ARG1:{route.strip}}})",
            f"Set(LOCAL(cid)={_CALLER_ID_SOURCE[route.caller_id_mode]})",
        ]
        for trunk_id in route.trunk_ids:
            trunk = trunks_by_id.get(trunk_id)
            if trunk is None:
                continue
            default = number(trunk.caller_id, f"caller ID of trunk {trunk.name}") if trunk.caller_id else ""
            limit = trunk.max_channels or 0
            applications.append(f"Gosub({TRUNK_STEP_CONTEXT},s,1(${{number}},{trunk_endpoint(trunk)},${{cid}},"
                                f"{default},{limit}))")
        applications.append("Return()")
        comment = (f"route {label} (priority {route.priority}, {access}): {' '.join(route.patterns)}; "
                   f"strip {route.strip}, prepend '{prepend}', caller ID {route.caller_id_mode}")
        route_contexts.append(DialplanContext(name=context, extensions=(Extension("s", tuple(applications)),),
                                              comment=comment))
        route_contexts.append(DialplanContext(
            name=f"{context}-patterns", comment=f"the numbers route {label} dials",
            extensions=tuple(Extension(p, ("NoOp()",)) for p in route.patterns)))
    outbound = DialplanContext(
        name=OUTBOUND_CONTEXT,
        comment="numbers some outbound route dials: the routes are tried in priority order in [outbound-select]",
        extensions=tuple(Extension(p, (f"Gosub({SELECT_CONTEXT},s,1(${{EXTEN}}))",
                                       f"Hangup(${{{CAUSE_VARIABLE}}})")) for p in patterns))
    select = DialplanContext(
        name=SELECT_CONTEXT,
        comment=f"ARG1: the number. Each route returns unless it ended the call; {CAUSE_REFUSED} (403) when no "
                f"route allowed the caller's level, {CAUSE_CONGESTION} (503) when no trunk took it",
        extensions=(Extension("s", (
            f"Set({CAUSE_VARIABLE}={CAUSE_REFUSED})",
            f"Set(LOCAL(level)=${{IF($[${{ISNULL(${{{LEVEL_VARIABLE}}})}}]?0:${{{LEVEL_VARIABLE}}})}})",
            *calls,
            "Return()",
        )),))
    trunk_step = DialplanContext(
        name=TRUNK_STEP_CONTEXT,
        comment="ARG1 number, ARG2 trunk endpoint, ARG3 caller ID (empty: ARG4, the trunk's; both empty: "
                "unchanged), ARG5 channel limit (0: none). Returns when the trunk cannot take the call",
        extensions=(Extension("s", (
            f"ExecIf($[${{ARG5}} > 0 & ${{GROUP_COUNT(${{ARG2}}@{GROUP_CATEGORY})}} >= ${{ARG5}}]?Return())",
            f"Set(GROUP({GROUP_CATEGORY})=${{ARG2}})",
            "Set(LOCAL(cid)=${IF($[${LEN(${ARG3})} > 0]?${ARG3}:${ARG4})})",
            "ExecIf($[${LEN(${cid})} > 0]?Set(CALLERID(num)=${cid}))",
            "Dial(PJSIP/${ARG1}@${ARG2})",
            '''ExecIf($["${DIALSTATUS}" = "CHANUNAVAIL" | "${DIALSTATUS}" = "CONGESTION"]?Return())''',
            '''ExecIf($["${DIALSTATUS}" = "BUSY"]?Hangup(17))''',
            '''ExecIf($["${DIALSTATUS}" = "NOANSWER"]?Hangup(19))''',
            "Hangup()",
        )),))
    checks = DialplanContext(
        CHECKS_CONTEXT, (Extension("s", (
            f'GotoIf($["${{{CHECKS_VARIABLE}}}" = "" | "${{{CHECKED_VARIABLE}}}" = "1"]?done,1)',
            f"Set({CHECKED_VARIABLE}=1)", f"Goto(${{{CHECKS_VARIABLE}}},s,1)")), Extension("done", ("Return()",))),
        comment=f"Before a non-emergency route dials: the calling phone's checks routine (${{{CHECKS_VARIABLE}}}: "
                "office hours, outbound PIN, recording), which returns to let the call go on")
    return [outbound, select, *route_contexts, trunk_step, checks]
