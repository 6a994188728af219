"""The escaping helpers on their own: each target syntax's special characters."""

from __future__ import annotations

import pytest
from config_readers import db_text_rows

from app.config_gen import escaping


@pytest.mark.parametrize(
    "char", ["\n", "\r", "\0", "\t", "\x1b", "\x7f", "\x85", "\u2028", "\u2029", "\u200b", "\u202e"]
)
def test_control_and_invisible_characters_are_refused(char: str) -> None:
    with pytest.raises(ValueError, match="the name contains a control character"):
        escaping.refuse_control_characters(f"a{char}b", "the name")


def test_ordinary_unicode_text_passes() -> None:
    assert escaping.refuse_control_characters("Zoë Łukasiewicz-Müller 李", "name") == "Zoë Łukasiewicz-Müller 李"


def test_db_text_escapes_separator_and_backslash_and_reads_back() -> None:
    value = r"a:b\c"
    escaped = escaping.db_text_value(value, "value")
    assert escaped == r"a\:b\\c"
    assert db_text_rows(f"x:{escaped}:y\n") == [["x", value, "y"]]


def test_db_text_refuses_empty_values() -> None:
    with pytest.raises(ValueError, match="auth_id is empty"):
        escaping.db_text_value("", "auth_id")


def test_asterisk_value_escapes_comment_start() -> None:
    assert escaping.asterisk_value("a;--b", "value") == "a\\;--b"


def test_xml_helpers_escape_markup() -> None:
    assert escaping.xml_text('<a href="x">&', "text") == '&lt;a href="x"&gt;&amp;'
    assert escaping.xml_attribute("\"it's\" <&>", "attr") == "&quot;it&apos;s&quot; &lt;&amp;&gt;"


def test_baresip_quoted_refuses_only_quotes() -> None:
    assert escaping.baresip_quoted("a;b <c> d\\e", "value") == '"a;b <c> d\\e"'
    with pytest.raises(ValueError, match="contains '\"'"):
        escaping.baresip_quoted('a"b', "value")


@pytest.mark.parametrize(
    ("value", "expected"),
    [("pbx.example.com", ("pbx.example.com", 5060)), ("10.0.0.1:5070", ("10.0.0.1", 5070))],
)
def test_host_port(value: str, expected: tuple[str, int]) -> None:
    assert escaping.host_port(value, 5060, "proxy") == expected


@pytest.mark.parametrize("value", ["pbx:0", "pbx:70000", "pbx:x", "pb x", "-pbx", "pbx;lr", ""])
def test_host_port_refuses_malformed_addresses(value: str) -> None:
    with pytest.raises(ValueError, match="proxy"):
        escaping.host_port(value, 5060, "proxy")
