"""Minimal readers that parse generated files the way the real programs do, for structure checks."""

from __future__ import annotations

import re

_DB_TEXT_UNESCAPES = {"\\": "\\", ":": ":", "n": "\n", "r": "\r", "t": "\t", "0": "\0"}


def asterisk_entries(text: str) -> list[tuple[str, str, str]]:
    """Return ``(section, key, value)`` for every setting, reading comments like Asterisk's config parser.

    A ``;`` starts a comment unless a backslash precedes it; that backslash is
    removed. A line starting with ``[`` opens a section.
    """
    entries = []
    section = ""
    for raw_line in text.split("\n"):
        line = _strip_asterisk_comment(raw_line).strip()
        if not line:
            continue
        if line.startswith("["):
            section = line[1 : line.index("]")]
            entries.append((section, "[", ""))
            continue
        key, _, value = line.partition("=")
        entries.append((section, key.strip(), value.lstrip(">").strip()))
    return entries


def asterisk_shape(text: str) -> list[tuple[str, str]]:
    """Return the ``(section, key)`` sequence of an Asterisk file: what an injection must not change."""
    return [(section, key) for section, key, _value in asterisk_entries(text)]


def _strip_asterisk_comment(line: str) -> str:
    result = []
    index = 0
    while index < len(line):
        char = line[index]
        if char == ";":
            if result and result[-1] == "\\":
                result[-1] = ";"
            else:
                break
        else:
            result.append(char)
        index += 1
    return "".join(result)


def db_text_rows(text: str) -> list[list[str]]:
    """Split a db_text table into rows of unescaped column values (header line included)."""
    rows = []
    for line in text.split("\n"):
        if not line:
            continue
        columns, current, index = [], [], 0
        while index < len(line):
            char = line[index]
            if char == "\\":
                index += 1
                current.append(_DB_TEXT_UNESCAPES[line[index]])
            elif char == ":":
                columns.append("".join(current))
                current = []
            else:
                current.append(char)
            index += 1
        columns.append("".join(current))
        rows.append(columns)
    return rows


def key_value_lines(text: str) -> list[tuple[str, str]]:
    """Return ``(key, value)`` for every ``key = value`` line of a Yealink file, ignoring ``#`` comments."""
    pairs = []
    for line in text.split("\n"):
        if not line or line.startswith("#"):
            continue
        key, _, value = line.partition("=")
        pairs.append((key.strip(), value.strip()))
    return pairs


_BARESIP_LINE = re.compile(r'^"(?P<name>[^"]*)" <(?P<uri>[^>]*)>(?P<params>.*)$')
_BARESIP_PARAM = re.compile(r';(?P<key>[a-z_]+)=(?:"(?P<quoted>[^"]*)"|(?P<plain>[^;]*))')


def baresip_accounts(text: str) -> list[dict[str, str]]:
    """Parse a baresip ``accounts`` file into one dict per account (``name``, ``uri`` and each parameter)."""
    accounts = []
    for line in text.split("\n"):
        if not line or line.startswith("#"):
            continue
        match = _BARESIP_LINE.match(line)
        assert match is not None, f"not an account line: {line!r}"
        account = {"name": match["name"], "uri": match["uri"]}
        rest = match["params"]
        for parameter in _BARESIP_PARAM.finditer(rest):
            account[parameter["key"]] = parameter["quoted"] if parameter["quoted"] is not None else parameter["plain"]
        assert "".join(p.group(0) for p in _BARESIP_PARAM.finditer(rest)) == rest, f"unparsed text in {line!r}"
        accounts.append(account)
    return accounts
