"""Make organization text safe for each target file syntax.

Every value a renderer writes goes through one of these helpers. Each helper
either escapes what the target syntax would misread or raises ``ValueError``
naming the offending field, so that no name, label, e-mail or password can
add a line, a section, a key or an element to a generated file. The API
refuses control characters at input too; these checks keep the renderers safe
on their own (data restored from old revisions, imports, direct DB edits).
"""

from __future__ import annotations

import re
import unicodedata
from xml.sax.saxutils import escape as _xml_escape

# Unicode categories that can break a line or hide text: control characters
# (Cc: NUL, CR, LF, ...), format characters (Cf: bidi overrides, zero-width),
# and the Unicode line and paragraph separators (Zl, Zp).
_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp"})

# Hostnames and IPv4 addresses; IPv6 literals are not accepted as SIP domains.
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOSTNAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")
# Names that become Asterisk section or context names, and path components.
_IDENTIFIER = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
# RFC 3261 "user" characters minus ":" and "@": Kamailio 5.6 cuts a digest
# username at ":" (a REGISTER from "u1:02" is looked up as "02"), and "@"
# separates the user from the domain in digest usernames and URIs.
_SIP_USER = re.compile(r"[A-Za-z0-9\-_.!~*'()&=+$,?/]+")


def refuse_control_characters(value: str, what: str) -> str:
    """Return ``value`` unchanged, or raise if it holds a line break, NUL or other control character."""
    if value.isprintable():
        # Fast path (C): a printable string has no Cc, Cf, Zl or Zp character.
        return value
    for char in value:
        if unicodedata.category(char) in _FORBIDDEN_CATEGORIES:
            raise ValueError(f"{what} contains a control character ({char!r}); refusing to write it to a config file")
    return value


def refuse_characters(value: str, what: str, forbidden: str) -> str:
    """Return ``value`` after the control-character check, or raise if it holds any of ``forbidden``."""
    refuse_control_characters(value, what)
    found = sorted({char for char in value if char in forbidden})
    if found:
        shown = " ".join(repr(char) for char in found)
        raise ValueError(f"{what} contains {shown}, which the target file syntax would misread")
    return value


def require_non_empty(value: str, what: str) -> str:
    """Return ``value``, or raise if it is empty or only whitespace."""
    if not value.strip():
        raise ValueError(f"{what} is empty")
    return value


def hostname(value: str, what: str) -> str:
    """Return a hostname or IPv4 address, or raise if it is anything else."""
    if not _HOSTNAME.fullmatch(value):
        raise ValueError(f"{what} {value!r} is not a hostname or IPv4 address")
    return value


def host_port(value: str, default_port: int, what: str) -> tuple[str, int]:
    """Split ``"host"`` or ``"host:port"`` into a validated host and port."""
    host, separator, port_text = value.partition(":")
    if separator:
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise ValueError(f"{what} {value!r} has an invalid port")
        port = int(port_text)
    else:
        port = default_port
    return hostname(host, what), port


def identifier(value: str, what: str) -> str:
    """Return a name safe as an Asterisk section/context name or a path component."""
    if not _IDENTIFIER.fullmatch(value):
        raise ValueError(f"{what} {value!r} may only contain letters, digits, '_', '.' and '-'")
    return value


def sip_user(value: str, what: str) -> str:
    """Return a SIP user part (digest username), or raise on characters no target accepts."""
    if not _SIP_USER.fullmatch(value):
        raise ValueError(f"{what} {value!r} is not a valid SIP user name")
    return value


def digits(value: str, what: str) -> str:
    """Return a non-empty string of ASCII digits (PINs), or raise."""
    if not (value.isascii() and value.isdigit()):
        raise ValueError(f"{what} must be digits only")
    return value


# --- Asterisk -------------------------------------------------------------


def asterisk_value(value: str, what: str) -> str:
    """Escape a value for an Asterisk ``.conf`` file.

    Asterisk's config parser treats ``;`` as the start of a comment (and
    ``;--`` as the start of a block comment) unless written ``\\;``; it
    removes only a backslash directly before ``;``, so nothing else needs
    escaping once line breaks are refused.
    """
    refuse_control_characters(value, what)
    return value.replace(";", "\\;")


def asterisk_callerid_name(value: str, what: str) -> str:
    """Return a name for ``callerid="<name>" <ext>``.

    Quotes, angle brackets and backslashes would end the quoted name or the
    number part early, so they are refused; ``;`` is escaped.
    """
    refuse_characters(value, what, '"<>\\')
    return value.replace(";", "\\;")


def asterisk_list_field(value: str, what: str) -> str:
    """Return a field of a comma-separated Asterisk value (voicemail.conf mailbox lines).

    ``,`` and ``|`` separate fields there and cannot be escaped, ``=``/``>``
    could be taken for the ``=>`` operator, and ``;`` is escaped as a comment
    start.
    """
    refuse_characters(value, what, ",|=>\\")
    return value.replace(";", "\\;")


def asterisk_list_name(value: str, what: str) -> str:
    """A person's name as a voicemail.conf field: separators become spaces ("Nowak, Jr." is a real name)."""
    refuse_control_characters(value, what)
    cleaned = " ".join(value.translate(str.maketrans(",|=", "   ")).split())
    return asterisk_list_field(cleaned, what)


# --- Kamailio db_text -----------------------------------------------------


_DB_TEXT_ESCAPES = {"\\": "\\\\", ":": "\\:", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\0": "\\0"}


def db_text_value(value: str, what: str) -> str:
    """Escape a string for a Kamailio db_text row.

    db_text separates columns with ``:`` and rows with a newline, and reads
    ``\\\\``, ``\\:``, ``\\n``, ``\\r``, ``\\t`` and ``\\0`` escapes. An empty
    value is read as NULL, which makes a whole ``subscriber`` table fail to
    load, so empty values are refused.
    """
    require_non_empty(value, what)
    refuse_control_characters(value, what)
    return "".join(_DB_TEXT_ESCAPES.get(char, char) for char in value)


# --- XML ------------------------------------------------------------------


def xml_text(value: str, what: str) -> str:
    """Escape text for an XML element body (``&``, ``<``, ``>``)."""
    refuse_control_characters(value, what)
    return _xml_escape(value)


def xml_attribute(value: str, what: str) -> str:
    """Escape text for a double-quoted XML attribute value."""
    refuse_control_characters(value, what)
    return _xml_escape(value, {'"': "&quot;", "'": "&apos;"})


# --- baresip ---------------------------------------------------------------


def baresip_quoted(value: str, what: str) -> str:
    """Return ``value`` as a double-quoted baresip display name or parameter value.

    Inside double quotes baresip 1.0 reads ``;``, ``<``, ``>``, ``,``, spaces
    and backslashes literally (checked against the real program), so only a
    double quote, which would end the value, is refused.
    """
    require_non_empty(value, what)
    refuse_characters(value, what, '"')
    return f'"{value}"'
