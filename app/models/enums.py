"""The enumerations clients see, one named schema each (generated clients get one type per enum).

They are ``StrEnum``s: a member *is* its string, so it compares equal to the
values stored in the database and serializes as plain JSON text.
"""

from __future__ import annotations

from enum import StrEnum


class PresenceStatus(StrEnum):
    """A user's presence status (3CX's five statuses)."""

    available = "available"
    away = "away"
    dnd = "dnd"
    lunch = "lunch"
    business_trip = "business_trip"


class ManagementScope(StrEnum):
    """What a principal may manage: only itself, the users of groups it manages, or everyone."""

    own = "own"
    groups = "groups"
    all = "all"


class PhoneType(StrEnum):
    """The kind of phone a SIP account is used with."""

    softphone = "softphone"
    webrtc = "webrtc"
    hardware = "hardware"
    other = "other"


class DeviceVendor(StrEnum):
    """Phone vendors whose provisioning files Centralino writes."""

    yealink = "yealink"
    grandstream = "grandstream"
    polycom = "polycom"
    snom = "snom"
    fanvil = "fanvil"
    cisco_mpp = "cisco_mpp"  # Cisco 6800/7800/8800 multiplatform (3PCC) phones
    baresip = "baresip"


class SipUsernameMode(StrEnum):
    """What an organization's phones authenticate with (the digest user name)."""

    extension = "extension"  # the SIP user is the extension, as Axivox and Odoo expect
    auth_id = "auth_id"  # 3CX's generated Auth ID, distinct from the extension


class PrincipalKind(StrEnum):
    """What authenticated a request: a user's login or an API key."""

    user = "user"
    api_key = "api_key"


class ConfigTarget(StrEnum):
    """A configuration target an apply renders."""

    asterisk = "asterisk"
    kamailio = "kamailio"
    provisioning = "provisioning"


class FileStatus(StrEnum):
    """How a file differs from the live (or the other) revision."""

    added = "added"
    changed = "changed"
    removed = "removed"
    unchanged = "unchanged"
