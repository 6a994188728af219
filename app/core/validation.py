"""Reusable validated field types: every text that may reach a config file is one of these."""

from __future__ import annotations

import re
import unicodedata
import zoneinfo
from typing import Annotated

import phonenumbers
from pydantic import AfterValidator, BeforeValidator, EmailStr, Field, StringConstraints

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def _refuse_control_characters(value: str) -> str:
    # Line breaks, NUL and other control characters would let a name or a label
    # start a new line, section or key in a registrar or phone config file.
    if _CONTROL.search(value) or any(unicodedata.category(c) in {"Cc", "Cf", "Zl", "Zp"} for c in value):
        raise ValueError("must not contain line breaks, NUL or other control characters")
    return value


# Characters that end a quoted display name in pjsip callerid, SIP headers and baresip.
_NAME_FORBIDDEN = set('"<>\\')


def _refuse_name_delimiters(value: str) -> str:
    bad = sorted(set(value) & _NAME_FORBIDDEN)
    if bad:
        raise ValueError("must not contain " + " ".join(bad) + " (they would end a quoted name in SIP and phone configs)")
    return value


def _stripped(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


def _text(max_length: int, min_length: int = 1, *, rendered: bool = True):
    checks = [AfterValidator(_refuse_control_characters)]
    if rendered:  # reaches registrar or phone configs as a display name
        checks.append(AfterValidator(_refuse_name_delimiters))
    return Annotated[str, BeforeValidator(_stripped), StringConstraints(min_length=min_length, max_length=max_length), *checks]


Name = _text(100)
OptionalName = _text(100, min_length=0)
Label = _text(200)
Description = _text(500, min_length=0, rendered=False)


_EMAIL_LOCAL = re.compile(r"^[A-Za-z0-9._%+-]+$")


def _config_safe_email(value: str) -> str:
    # Voicemail configs list e-mails in comma-separated fields that cannot be escaped.
    local = value.rsplit("@", 1)[0]
    if not _EMAIL_LOCAL.match(local):
        raise ValueError("may use only letters, digits and . _ % + - before the @")
    return value.lower()


Email = Annotated[EmailStr, AfterValidator(_config_safe_email), Field(examples=["anna.nowak@example.com"])]


def _phone(value: str) -> str:
    from app.core.settings import get_settings  # region is a deployment setting

    try:
        parsed = phonenumbers.parse(value, get_settings().default_phone_region)
    except phonenumbers.NumberParseException as exc:
        raise ValueError("must be a phone number in international format, e.g. +48221234567") from exc
    if not phonenumbers.is_valid_number(parsed):
        raise ValueError("is not a valid phone number (use international format, e.g. +48221234567)")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


PhoneNumber = Annotated[
    str,
    BeforeValidator(_stripped),
    StringConstraints(min_length=3, max_length=32),
    AfterValidator(_refuse_control_characters),
    AfterValidator(_phone),
    Field(examples=["+48221234567"], description="Phone number; stored in E.164"),
]

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$", max_length=63)]

SipDomain = Annotated[
    str,
    BeforeValidator(lambda v: v.strip().lower() if isinstance(v, str) else v),
    StringConstraints(
        max_length=253, pattern=r"^([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$"
    ),
    Field(examples=["pbx.example.com"]),
]

def _valid_port(value: str) -> str:
    _host, _, port = value.partition(":")
    if port and not 1 <= int(port) <= 65535:
        raise ValueError("port must be between 1 and 65535")
    return value


HostPort = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9.-]{1,253}(:[0-9]{1,5})?$"),
    AfterValidator(_valid_port),
    Field(examples=["sip.example.com:5060"]),
]

AuthId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._-]{4,64}$"), Field(examples=["k3v9x0q2mf"])]

Username = Annotated[
    str,
    BeforeValidator(_stripped),
    StringConstraints(pattern=r"^[A-Za-z0-9._@+-]{3,150}$"),
    Field(examples=["anna.nowak"]),
]


def _timezone(value: str) -> str:
    if value not in zoneinfo.available_timezones():
        raise ValueError("must be an IANA time zone such as Europe/Warsaw")
    return value


TimeZone = Annotated[str, AfterValidator(_timezone), Field(examples=["Europe/Warsaw"])]
Language = Annotated[str, StringConstraints(pattern=r"^[a-z]{2}(-[A-Z]{2})?$"), Field(examples=["pl"])]
