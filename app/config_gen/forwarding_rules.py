"""The shape every user's forwarding rules share, as plain data: the renderers and the API both use it.

(Kept free of the API models, which import the renderers: the snapshot needs the defaults.)
"""

from __future__ import annotations

from typing import Any

STATUSES = ("available", "away", "dnd", "lunch", "business_trip")
RINGING_STATUSES = ("available", "lunch")  # the phone rings; the others take one action at once
# How many times one call may be handed from a user's rules to another user's before it ends.
HOP_LIMIT = 5


def default_document(voicemail_enabled: bool) -> dict[str, Any]:
    """The rules of a user who saved none: the phone rings for the organization's ring time, then (and when
    busy, unregistered or in any other status) the user's voicemail, or the call ends without one."""
    action = {"type": "voicemail", "user_id": None} if voicemail_enabled else {"type": "hangup"}
    ringing = {"no_answer_seconds": None, "no_answer": action, "busy": action, "not_registered": action}
    flags = {"ring_mobile_simultaneously": False, "accept_multiple_calls": True, "logout_from_queues": False}
    statuses: dict[str, Any] = {}
    for status in STATUSES:
        if status in RINGING_STATUSES:
            statuses[status] = {**flags, "accept_ring_group_calls": True, "internal": ringing, "external": ringing}
        else:
            statuses[status] = {**flags, "accept_ring_group_calls": False, "internal": {"action": action},
                                "external": {"action": action}}
    return {**statuses, "follow_me": {"enabled": False, "steps": [], "then": {"type": "hangup"}}, "exceptions": [],
            "auto_status": {"enabled": False, "office_hours_id": None}}
