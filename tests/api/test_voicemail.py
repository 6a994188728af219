"""A user's voicemail through the API (`/users/{id}/voicemail`): settings, the write-only PIN and its audited reveal,
weak PINs refused, and greetings uploaded as WAV files (checked and converted like IVR greetings)."""

from __future__ import annotations

import io
import wave

import pytest
from problems import locs, problem

USERS = "/api/v1/users"
SETTINGS = {"enabled": True, "pin_required": True, "play_caller_id": True, "read_datetime": False,
            "email_notification": "attach"}


def wav(seconds: float = 0.2, rate: int = 16000, channels: int = 2) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"\x10\x00" * channels * int(rate * seconds))
    return buffer.getvalue()


def url(user: dict, tail: str = "") -> str:
    return f"{USERS}/{user['id']}/voicemail{tail}"


async def upload(api, user: dict, data: bytes, headers=None, **params):
    return await api.post(url(user, "/greetings"), content=data, params=params,
                          headers={**(headers or api.headers), "Content-Type": "audio/wav"})


async def test_settings_are_stored_and_the_pin_is_never_shown(api):
    user = await api.create_user(extension="next", email="anna@example.com")

    saved = await api.put(url(user), json={**SETTINGS, "pin": "730519"})

    assert saved.status_code == 200, saved.text
    body = saved.json()
    assert {k: body[k] for k in SETTINGS} == SETTINGS
    assert body["pin_set"] is True and body["email"] == "anna@example.com" and "pin" not in body
    assert "730519" not in (await api.get(url(user))).text
    audit = (await api.get("/api/v1/audit-log", params={"action": "user.voicemail.update"})).text
    assert "730519" not in audit, "the PIN never reaches the audit log in clear"


async def test_the_pin_is_revealed_with_the_permission_and_the_reveal_is_audited(api):
    user = await api.create_user(extension="next")
    await api.put(url(user), json={**SETTINGS, "pin": "730519"})

    revealed = await api.get(url(user, "/pin"))
    entries = (await api.get("/api/v1/audit-log", params={"action": "user.voicemail_pin_reveal"})).json()["items"]

    assert revealed.json() == {"pin": "730519"}
    assert [e["resource_id"] for e in entries] == [user["id"]]


async def test_a_readonly_login_cannot_reveal_a_pin_and_a_user_only_its_own(api):
    owner_of_mailbox, headers = await api.user_with_role("user", extension="next")
    colleague = await api.create_user(extension="next")
    _reader, readonly = await api.user_with_role("readonly", scope="all")

    own = await api.get(url(owner_of_mailbox, "/pin"), headers=headers)
    theirs = await api.get(url(colleague, "/pin"), headers=headers)
    by_reader = await api.get(url(colleague, "/pin"), headers=readonly)

    assert own.status_code == 200 and own.json()["pin"].isdigit()
    assert theirs.status_code == 404 and by_reader.status_code == 403


@pytest.mark.parametrize("pin", ["1234", "0000", "987654", "12121212"])
async def test_a_trivial_pin_is_refused_naming_the_field(api, pin):
    user = await api.create_user(extension="next")

    refused = await api.put(url(user), json={**SETTINGS, "pin": pin})

    assert {tuple(loc) for loc in locs(problem(refused, 422))} == {("body", "pin")}
    assert "too easy" in refused.text


async def test_the_extension_as_pin_and_a_pin_of_letters_or_three_digits_are_refused(api):
    user = await api.create_user(extension=305)

    own_number = await api.put(url(user), json={**SETTINGS, "pin": "305305"})
    short = await api.put(url(user), json={**SETTINGS, "pin": "123"})
    letters = await api.put(url(user), json={**SETTINGS, "pin": "12ab"})

    for refused in (own_number, short, letters):
        assert {tuple(loc) for loc in locs(problem(refused, 422))} == {("body", "pin")}


async def test_a_mailbox_enabled_without_a_pin_gets_a_generated_one(api):
    user = await api.create_user(extension="next")

    saved = await api.put(url(user), json={**SETTINGS})
    pin = (await api.get(url(user, "/pin"))).json()["pin"]

    assert saved.json()["pin_set"] is True and len(pin) == 6 and pin.isdigit()


async def test_a_greeting_is_converted_listed_activated_and_deleted(api):
    user = await api.create_user(extension="next")

    first = await upload(api, user, wav(), name="Office")
    second = await upload(api, user, wav(rate=8000, channels=1), name="Holidays")
    listed = (await api.get(url(user))).json()

    assert first.status_code == 201, first.text
    assert first.json()["active"] is True, "the first greeting becomes the active one"
    assert first.json()["uploaded_format"] == "PCM 16-bit, 2 channels, 16000 Hz"
    assert [g["name"] for g in listed["greetings"]] == ["Office", "Holidays"]
    assert listed["active_greeting_id"] == first.json()["id"]
    audio = await api.get(url(user, f"/greetings/{second.json()['id']}"))
    with wave.open(io.BytesIO(audio.content)) as stored:
        assert (stored.getnchannels(), stored.getframerate(), stored.getsampwidth()) == (1, 8000, 2)

    switched = await api.put(url(user), json={**SETTINGS, "active_greeting_id": second.json()["id"]})
    assert switched.json()["active_greeting_id"] == second.json()["id"]
    assert [g["active"] for g in switched.json()["greetings"]] == [False, True], "one active greeting"

    deleted = await api.delete(url(user, f"/greetings/{second.json()['id']}"))
    assert deleted.status_code == 204
    assert (await api.get(url(user))).json()["active_greeting_id"] is None


async def test_a_file_that_is_not_a_wav_is_refused_with_the_reason(api):
    user = await api.create_user(extension="next")

    refused = await upload(api, user, b"ID3\x04not a wave file at all")

    assert problem(refused, 422)["errors"][0]["loc"] == ["body"]
    assert (await api.get(url(user))).json()["greetings"] == []


async def test_a_greeting_of_another_user_cannot_be_made_active(api):
    user, other = await api.create_user(extension="next"), await api.create_user(extension="next")
    theirs = (await upload(api, other, wav())).json()

    refused = await api.put(url(user), json={**SETTINGS, "active_greeting_id": theirs["id"]})

    assert {tuple(loc) for loc in locs(problem(refused, 422))} == {("body", "active_greeting_id")}


async def test_changing_voicemail_makes_the_configuration_pending(api):
    user = await api.create_user(extension="next")
    assert (await api.post("/api/v1/config/apply", json={})).status_code == 200

    await api.put(url(user), json=SETTINGS)

    assert (await api.get("/api/v1/config/status")).json()["pending"]
