"""Reusable validated field types for request bodies.

Every text that may reach a config file is one of these; every rule a renderer
applies later is applied here first (the same functions), so saved data always
applies. Read models use plain types: stored rows are not validated again on
the way out.
"""

from __future__ import annotations

import re
import unicodedata
import zoneinfo
from typing import Annotated, Any, Literal

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, Field, PlainValidator, Strict, StringConstraints, WithJsonSchema

from app.config_gen import escaping

# Control (Cc), format (Cf), line/paragraph separators (Zl, Zp) and lone surrogates (Cs):
# none of them belongs in a name, and each can start a new line or hide text in a config file.
_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})


def refuse_control_characters(value: str) -> str:
    """The value, unless it holds a line break, NUL, another control character or a lone surrogate."""
    if value.isprintable():  # fast path, in C: no Cc/Cf/Zl/Zp/Cs character
        return value
    if any(unicodedata.category(c) in _FORBIDDEN_CATEGORIES for c in value):
        raise ValueError("must not contain line breaks, NUL or other control characters")
    return value


# Characters that end a quoted display name in pjsip callerid, SIP headers and baresip.
_NAME_FORBIDDEN = frozenset('"<>\\')


def _refuse_name_delimiters(value: str) -> str:
    bad = sorted(set(value) & _NAME_FORBIDDEN)
    if bad:
        raise ValueError("must not contain " + " ".join(bad) + " (they would end a quoted name in SIP and phone configs)")
    return value


def _text(max_length: int, min_length: int = 1, *, rendered: bool = True) -> Any:
    checks: list[Any] = [AfterValidator(refuse_control_characters)]
    if rendered:  # reaches registrar or phone configs as a display name
        checks.append(AfterValidator(_refuse_name_delimiters))
    # Lengths in the str schema itself, so messages speak of characters.
    return Annotated[str, StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length), *checks]


Name = _text(100)
OptionalName = _text(100, min_length=0)
Label = _text(200)
Description = _text(500, min_length=0, rendered=False)
# A short free-text value that is only looked up (a role name in a body, a filter): bounded, no control characters.
Lookup = Annotated[str, StringConstraints(min_length=1, max_length=100), AfterValidator(refuse_control_characters)]


def matches(regex: str, message: str) -> Any:
    """A str validator with a human message instead of the regular expression."""
    compiled = re.compile(regex)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise ValueError(message)
        return value

    return AfterValidator(check)


_EMAIL_LOCAL = re.compile(r"^[A-Za-z0-9._%+-]+$")


def _email(value: str) -> str:
    try:
        address = validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ValueError(f"is not a valid e-mail address: {exc}") from exc
    # Voicemail configs list e-mails in comma-separated fields that cannot be escaped.
    if not _EMAIL_LOCAL.match(address.rsplit("@", 1)[0]):
        raise ValueError("may use only letters, digits and . _ % + - before the @")
    return address.lower()


Email = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=3, max_length=254),
    AfterValidator(refuse_control_characters), AfterValidator(_email),
    Field(examples=["anna.nowak@example.com"], json_schema_extra={"format": "email"}),
]


def _phone(value: str) -> str:
    from app.core.settings import get_settings  # the region is a deployment setting

    try:
        parsed = phonenumbers.parse(value, get_settings().default_phone_region)
    except phonenumbers.NumberParseException as exc:
        raise ValueError("must be a phone number in international format, e.g. +48221234567") from exc
    if not phonenumbers.is_valid_number(parsed):
        raise ValueError("is not a valid phone number (use international format, e.g. +48221234567)")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


PhoneNumber = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=3, max_length=32),
    AfterValidator(refuse_control_characters),
    AfterValidator(_phone),
    Field(examples=["+48221234567"], description="Phone number; stored in E.164"),
]

Slug = Annotated[
    str, StringConstraints(min_length=1, max_length=63),
    matches(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?",
             "may use only lower-case letters, digits and '-', and must start and end with a letter or digit"),
    Field(examples=["acme"]),
]


def _hostname(value: str) -> str:
    # The very check the renderers apply, so a saved domain always renders.
    try:
        return escaping.hostname(value, "host name")
    except ValueError:
        raise ValueError("must be a host name such as pbx.example.com or an IPv4 address") from None


SipDomain = Annotated[
    str, StringConstraints(strip_whitespace=True, to_lower=True, min_length=1, max_length=253),
    AfterValidator(_hostname), Field(examples=["pbx.example.com"]),
]


def _host_port(value: str) -> str:
    try:
        escaping.host_port(value, 5060, "host")
    except ValueError:
        raise ValueError("must be a host name or IPv4 address, optionally with :port (1–65535)") from None
    return value


HostPort = Annotated[
    str, StringConstraints(strip_whitespace=True, to_lower=True, min_length=1, max_length=260),
    AfterValidator(_host_port), Field(examples=["sip.example.com:5060"]),
]

AuthId = Annotated[
    str, StringConstraints(min_length=4, max_length=64),
    matches(r"[A-Za-z0-9._-]+", "may use only letters, digits and . _ -"),
    Field(examples=["k3v9x0q2mf"]),
]

Username = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=3, max_length=150),
    matches(r"[A-Za-z0-9._@+-]+", "may use only letters, digits and . _ @ + -"),
    Field(examples=["anna.nowak"]),
]

LoginPassword = Annotated[str, StringConstraints(min_length=8, max_length=256),
                          AfterValidator(refuse_control_characters)]


def _timezone(value: str) -> str:
    if value not in zoneinfo.available_timezones():
        raise ValueError("must be an IANA time zone such as Europe/Warsaw")
    return value


TimeZone = Annotated[str, StringConstraints(max_length=64), AfterValidator(_timezone), Field(examples=["Europe/Warsaw"])]
Language = Annotated[str, StringConstraints(max_length=5),
                     matches(r"[a-z]{2}(-[A-Z]{2})?", "must be a language code such as pl or pt-BR"),
                     Field(examples=["pl"])]

# Numbers are JSON integers: " 100", "0100", 100.0 and true are refused, not coerced.
StrictInt = Annotated[int, Strict()]
ExtensionNumber = Annotated[int, Strict(), Field(ge=1, le=99_999_999, examples=[105])]
PermissionLevel = Annotated[int, Strict(), Field(ge=0, le=100, examples=[10])]


def _extension_or_next(value: object) -> int | Literal["next"]:
    if value == "next" and isinstance(value, str):
        return "next"
    if type(value) is not int:  # bool is an int subclass: refused too
        raise ValueError('must be an extension number (a JSON integer) or "next"')
    if not 1 <= value <= 99_999_999:
        raise ValueError("must be between 1 and 99999999")
    return value


ExtensionOrNext = Annotated[
    int | Literal["next"],
    PlainValidator(_extension_or_next),
    WithJsonSchema({"anyOf": [{"type": "integer", "minimum": 1, "maximum": 99_999_999}, {"type": "string", "const": "next"}]}),
]
