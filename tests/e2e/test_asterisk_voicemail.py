"""Voicemail proven on a real Asterisk 22: settings and a greeting made through the API and applied; sipp phones
show that *97 opens one's own mailbox (and nobody else's), and that a caller hears the uploaded greeting.

Asterisk is found through ASTERISK_PREFIX or PATH (see tests/asterisk_tools.py); without it these tests skip
locally and fail under CI.
"""

from __future__ import annotations

import io
import wave
from contextlib import ExitStack

import pytest
from asterisk_office import Office, asterisk_port, office, settings  # noqa: F401 (fixtures)

pytestmark = pytest.mark.registrar


def tone(seconds: float = 0.5) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\x00\x10" * int(8000 * seconds))
    return buffer.getvalue()


async def test_star_97_opens_ones_own_mailbox_and_callers_hear_the_uploaded_greeting(office):
    anna, bruno, carla = [await office.user(n) for n in ("Anna", "Bruno", "Carla")]
    settings = await office.api.put(f"/api/v1/users/{anna.user_id}/voicemail", json={
        "enabled": True, "pin_required": False, "email_notification": "none"})
    assert settings.status_code == 200, settings.text
    greeting = await office.api.post(f"/api/v1/users/{anna.user_id}/voicemail/greetings", content=tone(),
                                     headers={**office.api.headers, "Content-Type": "audio/wav"})
    assert greeting.status_code == 201, greeting.text

    with await office.apply() as pbx, ExitStack() as stack:
        office.phones(stack, bruno=(bruno, "answer"))  # Anna has no phone: her calls go to her mailbox
        own_mailbox = office.dial(anna, "*97", hangup_after_s=1.0)
        not_a_mailbox = office.dial(bruno, "*97", hangup_after_s=1.0)
        left_message = office.dial(carla, anna.number, hangup_after_s=1.5)
        mailboxes = pbx.cli("voicemail show users")
        log = pbx.full_log_text()
        pbx.assert_no_log_problems("extensions.conf", "voicemail.conf", "voicemail-")

    assert own_mailbox.answered, "*97 from Anna's phone opens her mailbox"
    assert not_a_mailbox.status == 403, "Bruno has no mailbox: refused"
    assert left_message.answered and left_message.remote_hangup is False
    assert anna.number in mailboxes
    assert f"Playing '/" in log and f"/sounds/voicemail-{anna.number}." in log, "the uploaded greeting was played"
