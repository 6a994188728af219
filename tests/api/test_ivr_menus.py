"""IVR menus: options, timeout and invalid destinations, no cycles between menus, dial-by-extension and the
directory, the shared number space, and greetings uploaded as WAV files (checked, converted, downloadable)."""

from __future__ import annotations

import io
import math
import struct
import wave

from problems import locs, problem

IVR_MENUS = "/api/v1/ivr-menus"
CONFERENCES = "/api/v1/conferences"
HANGUP = {"type": "hangup"}


def wav(seconds: float = 1.0, rate: int = 8000, channels: int = 1, width: int = 2) -> bytes:
    """A real WAV file: a 440 Hz tone."""
    frames = bytearray()
    for index in range(int(seconds * rate)):
        value = int(8000 * math.sin(2 * math.pi * 440 * index / rate))
        sample = struct.pack("<h", value) if width == 2 else bytes([(value >> 8) + 128])
        frames += sample * channels
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(width)
        out.setframerate(rate)
        out.writeframes(bytes(frames))
    return buffer.getvalue()


def silent_wav(seconds: float, rate: int = 8000) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"\0\0" * int(seconds * rate))
    return buffer.getvalue()


async def create_menu(api, headers=None, **fields) -> dict:
    response = await api.post(IVR_MENUS, json={"name": "Main", **fields}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def upload(api, menu: dict, data: bytes, content_type: str = "audio/wav", headers=None):
    return await api.put(f"{IVR_MENUS}/{menu['id']}/greeting", content=data,
                         headers={**(headers or api.headers), "Content-Type": content_type})


def go_to(menu: dict) -> dict:
    return {"type": "ivr", "ivr_menu_id": menu["id"]}


# --- creating and reading --------------------------------------------------------------------------------

async def test_a_menu_routes_keys_to_destinations_and_has_timeout_and_invalid_destinations(api):
    user = await api.create_user(first_name="Anna", extension="next")
    room = (await api.post(CONFERENCES, json={"name": "Board"})).json()

    response = await api.post(IVR_MENUS, json={
        "name": "Main", "extension": 700, "timeout_seconds": 8,
        "options": {"1": {"type": "user", "user_id": user["id"]},
                    "2": {"type": "conference", "conference_id": room["id"]},
                    "*": {"type": "external", "number": "+48221234567"}},
        "timeout_destination": {"type": "user", "user_id": user["id"]},
        "invalid_destination": {"type": "not_configured"}, "dial_by_extension": True})

    assert response.status_code == 201, response.text
    menu = response.json()
    assert response.headers["Location"].endswith(f"{IVR_MENUS}/{menu['id']}") and response.headers["ETag"]
    assert menu["options"] == {"1": {"type": "user", "user_id": user["id"]},
                               "2": {"type": "conference", "conference_id": room["id"]},
                               "*": {"type": "external", "number": "+48221234567"}}
    assert (menu["extension"], menu["timeout_seconds"], menu["dial_by_extension"], menu["directory"]) == (
        700, 8, True, False)
    assert menu["timeout_destination"] == {"type": "user", "user_id": user["id"]}
    assert menu["invalid_destination"] == {"type": "not_configured"}
    assert menu["greeting"] is None


async def test_defaults_hang_up_after_10_seconds_without_options(api):
    menu = await create_menu(api)

    assert (menu["options"], menu["timeout_seconds"], menu["timeout_destination"], menu["invalid_destination"]) == (
        {}, 10, HANGUP, HANGUP)


async def test_only_keys_0_to_9_star_and_hash_can_be_options(api):
    response = await api.post(IVR_MENUS, json={"name": "Main", "options": {"10": HANGUP}})

    assert locs(problem(response, 422))[0][:3] == ["body", "options", "10"]


async def test_destinations_must_exist_in_the_organization_each_error_naming_its_field(api):
    missing = "00000000-0000-4000-8000-000000000000"

    response = await api.post(IVR_MENUS, json={
        "name": "Main", "options": {"1": {"type": "user", "user_id": missing},
                                    "2": {"type": "conference", "conference_id": missing}},
        "timeout_destination": {"type": "ivr", "ivr_menu_id": missing}})

    assert sorted(locs(problem(response, 422))) == [["body", "options", "1", "user_id"],
                                                    ["body", "options", "2", "conference_id"],
                                                    ["body", "timeout_destination", "ivr_menu_id"]]
    assert (await api.get(IVR_MENUS)).json()["total"] == 0


async def test_timeout_is_1_to_120_seconds(api):
    for bad in (0, 121, "5"):
        response = await api.post(IVR_MENUS, json={"name": "Main", "timeout_seconds": bad})
        assert locs(problem(response, 422)) == [["body", "timeout_seconds"]], bad


async def test_with_the_directory_the_hash_key_cannot_be_an_option(api):
    response = await api.post(IVR_MENUS, json={"name": "Main", "directory": True, "options": {"#": HANGUP}})
    menu = await create_menu(api, name="Other", options={"#": HANGUP})
    patched = await api.patch(f"{IVR_MENUS}/{menu['id']}", json={"directory": True})

    assert locs(problem(response, 422)) == [["body", "options", "#"]]
    assert locs(problem(patched, 422)) == [["body", "options", "#"]]


async def test_names_are_unique_whatever_their_case(api):
    await create_menu(api, name="Main")

    response = await api.post(IVR_MENUS, json={"name": "MAIN"})

    assert locs(problem(response, 409)) == [["body", "name"]]


async def test_patch_replaces_the_options_and_honours_if_match(api):
    menu = await create_menu(api, options={"1": HANGUP, "2": HANGUP})
    etag = (await api.get(f"{IVR_MENUS}/{menu['id']}")).headers["ETag"]

    changed = await api.patch(f"{IVR_MENUS}/{menu['id']}", json={"options": {"3": {"type": "not_configured"}}},
                              headers={**api.headers, "If-Match": etag})
    stale = await api.patch(f"{IVR_MENUS}/{menu['id']}", json={"timeout_seconds": 5},
                            headers={**api.headers, "If-Match": etag})
    nulls = await api.patch(f"{IVR_MENUS}/{menu['id']}", json={"options": None, "timeout_destination": None})

    assert changed.json()["options"] == {"3": {"type": "not_configured"}}
    problem(stale, 412)
    assert locs(problem(nulls, 422)) == [["body", "options"], ["body", "timeout_destination"]]


# --- cycles ------------------------------------------------------------------------------------------------

async def test_a_menu_cannot_lead_to_itself(api):
    menu = await create_menu(api)

    response = await api.patch(f"{IVR_MENUS}/{menu['id']}", json={"invalid_destination": go_to(menu)})

    assert locs(problem(response, 422)) == [["body", "invalid_destination", "ivr_menu_id"]]


async def test_a_cycle_of_menus_is_refused_naming_the_field_that_closes_it(api):
    first = await create_menu(api, name="First")
    second = await create_menu(api, name="Second", options={"1": go_to(first)})
    third = await create_menu(api, name="Third", timeout_destination=go_to(second))

    response = await api.patch(f"{IVR_MENUS}/{first['id']}", json={"options": {"9": go_to(third)}})

    body = problem(response, 422)
    assert locs(body) == [["body", "options", "9", "ivr_menu_id"]]
    assert "'First' → 'Third' → 'Second' → 'First'" in body["errors"][0]["msg"]
    assert (await api.get(f"{IVR_MENUS}/{first['id']}")).json()["options"] == {}


async def test_menus_may_share_a_submenu_without_a_cycle(api):
    shared = await create_menu(api, name="Opening hours")
    await create_menu(api, name="Polish", options={"1": go_to(shared)})

    response = await api.post(IVR_MENUS, json={"name": "English", "options": {"1": go_to(shared)},
                                               "timeout_destination": go_to(shared)})

    assert response.status_code == 201, response.text


# --- referential integrity ---------------------------------------------------------------------------------

async def test_a_menu_another_menu_points_at_cannot_be_deleted_and_its_own_references_go_with_it(api):
    target = await create_menu(api, name="Sub")
    parent = await create_menu(api, name="Top", options={"4": go_to(target)})

    refused = await api.delete(f"{IVR_MENUS}/{target['id']}")
    parent_deleted = await api.delete(f"{IVR_MENUS}/{parent['id']}")
    target_deleted = await api.delete(f"{IVR_MENUS}/{target['id']}")

    assert problem(refused, 409)["referrers"] == [
        {"type": "ivr_menu", "id": parent["id"], "name": "Top", "field": "options.4"}]
    assert parent_deleted.status_code == 204 and target_deleted.status_code == 204


async def test_a_user_an_option_rings_cannot_be_deleted(api):
    user = await api.create_user(first_name="Anna", extension="next")
    await create_menu(api, options={"1": {"type": "user", "user_id": user["id"]}})

    response = await api.delete(f"/api/v1/users/{user['id']}")

    assert response.status_code == 409, response.text
    assert "ivr_menu 'Main' (options.1)" in response.json()["detail"]


# --- the number space --------------------------------------------------------------------------------------

async def test_menu_numbers_share_the_space_with_accounts_groups_and_rooms_both_ways(api):
    await api.post("/api/v1/sip-accounts", json={"extension": 200})
    await api.post(CONFERENCES, json={"name": "Board", "extension": 201})
    await create_menu(api, name="Main", extension=202)

    on_account = await api.post(IVR_MENUS, json={"name": "A", "extension": 200})
    on_room = await api.post(IVR_MENUS, json={"name": "B", "extension": 201})
    account = await api.post("/api/v1/sip-accounts", json={"extension": 202})
    group = await api.post("/api/v1/groups", json={"name": "Sales", "extension": 202})
    nxt = await create_menu(api, name="Next", extension="next")

    assert "in use by a SIP account" in problem(on_account, 409)["detail"]
    assert "in use by conference 'Board'" in problem(on_room, 409)["detail"]
    assert "Extension 202 is already in use by IVR menu 'Main'" in problem(account, 409)["detail"]
    assert "IVR menu 'Main'" in problem(group, 409)["detail"]
    assert nxt["extension"] == 100


# --- greetings ---------------------------------------------------------------------------------------------

async def test_a_mono_8khz_wav_is_stored_as_it_is_and_downloadable(api):
    menu = await create_menu(api)
    original = wav(1.5)

    response = await upload(api, menu, original)
    downloaded = await api.get(f"{IVR_MENUS}/{menu['id']}/greeting")
    read = (await api.get(f"{IVR_MENUS}/{menu['id']}")).json()

    assert response.status_code == 201, response.text
    greeting = response.json()
    assert (greeting["duration_ms"], greeting["uploaded_format"]) == (1500, "PCM 16-bit, 1 channel, 8000 Hz")
    assert downloaded.headers["content-type"] == "application/octet-stream"
    assert downloaded.headers["content-disposition"] == 'inline; filename="greeting.wav"'
    assert downloaded.content == original
    assert read["greeting"]["sha256"] == greeting["sha256"]


async def test_a_stereo_44_1khz_wav_is_converted_to_mono_8khz_16_bit(api):
    menu = await create_menu(api)

    response = await upload(api, menu, wav(2.0, rate=44100, channels=2))
    stored = wave.open(io.BytesIO((await api.get(f"{IVR_MENUS}/{menu['id']}/greeting")).content))

    assert response.status_code == 201, response.text
    assert response.json()["uploaded_format"] == "PCM 16-bit, 2 channels, 44100 Hz"
    assert (stored.getnchannels(), stored.getframerate(), stored.getsampwidth()) == (1, 8000, 2)
    assert stored.getnframes() == 16000 and response.json()["duration_ms"] == 2000


async def test_an_8_bit_or_16khz_file_is_converted_too(api):
    menu = await create_menu(api)

    eight_bit = await upload(api, menu, wav(0.5, width=1))
    wideband = await upload(api, menu, wav(0.5, rate=16000))

    assert eight_bit.status_code == 201 and wideband.status_code == 200
    assert wideband.json()["uploaded_format"] == "PCM 16-bit, 1 channel, 16000 Hz"


async def test_a_multipart_upload_works_like_a_raw_body(api):
    menu = await create_menu(api)

    response = await api.put(f"{IVR_MENUS}/{menu['id']}/greeting",
                             files={"file": ("hello.wav", wav(0.5), "audio/wav")})

    assert response.status_code == 201, response.text


async def test_a_file_that_is_not_a_wav_is_422_with_the_reason_and_nothing_is_stored(api):
    menu = await create_menu(api)

    text = await upload(api, menu, b"ID3\x03\x00 this is an mp3, honestly")
    compressed = bytearray(wav(0.5))
    compressed[20:22] = struct.pack("<H", 0x0011)  # IMA ADPCM
    adpcm = await upload(api, menu, bytes(compressed))
    truncated = await upload(api, menu, wav(0.5)[:30])
    multipart = await api.put(f"{IVR_MENUS}/{menu['id']}/greeting", files={"file": ("x.wav", b"nope", "audio/wav")})

    assert "not a WAV file" in problem(text, 422)["detail"]
    assert locs(text.json()) == [["body"]]
    assert "compressed (IMA ADPCM)" in problem(adpcm, 422)["detail"]
    assert problem(truncated, 422)["errors"][0]["type"] == "invalid_audio"
    assert locs(problem(multipart, 422)) == [["body", "file"]]
    problem(await api.get(f"{IVR_MENUS}/{menu['id']}/greeting"), 404)


async def test_another_content_type_is_422_naming_the_header(api):
    menu = await create_menu(api)

    response = await upload(api, menu, b"{}", content_type="application/json")

    assert locs(problem(response, 422)) == [["header", "Content-Type"]]


async def test_a_greeting_longer_than_5_minutes_is_refused(api):
    menu = await create_menu(api)

    response = await upload(api, menu, silent_wav(301))

    assert "at most 5 minutes" in problem(response, 422)["detail"]


async def test_a_file_over_10_mb_is_refused(api):
    menu = await create_menu(api)

    response = await upload(api, menu, silent_wav(120, rate=48000))  # 11.5 MB

    assert "larger than 10 MB" in problem(response, 422)["detail"]


async def test_deleting_the_greeting_leaves_the_menu_silent(api):
    menu = await create_menu(api)
    await upload(api, menu, wav(0.2))

    deleted = await api.delete(f"{IVR_MENUS}/{menu['id']}/greeting")
    again = await api.delete(f"{IVR_MENUS}/{menu['id']}/greeting")

    assert deleted.status_code == 204
    problem(again, 404)
    assert (await api.get(f"{IVR_MENUS}/{menu['id']}")).json()["greeting"] is None


async def test_uploading_changes_the_menus_etag_and_honours_if_match(api):
    menu = await create_menu(api)
    etag = (await api.get(f"{IVR_MENUS}/{menu['id']}")).headers["ETag"]

    await upload(api, menu, wav(0.2), headers={**api.headers, "If-Match": etag})
    stale = await upload(api, menu, wav(0.2), headers={**api.headers, "If-Match": etag})

    problem(stale, 412)


# --- tenancy and permissions -------------------------------------------------------------------------------

async def test_a_menu_of_another_organization_is_404_and_cannot_be_a_destination(api):
    await api.post("/api/v1/organizations", json={"name": "Beta", "slug": "beta", "sip_domain": "beta.example.com"})
    theirs = await create_menu(api, headers={**api.headers, "X-Organization": "beta"}, name="Theirs")

    problem(await api.get(f"{IVR_MENUS}/{theirs['id']}"), 404)
    problem(await upload(api, theirs, wav(0.2)), 404)
    problem(await api.get(f"{IVR_MENUS}/{theirs['id']}/greeting"), 404)
    pointing = await api.post(IVR_MENUS, json={"name": "Mine", "options": {"1": go_to(theirs)}})
    assert locs(problem(pointing, 422)) == [["body", "options", "1", "ivr_menu_id"]]


async def test_readers_read_writers_write_and_greetings_need_the_prompt_permissions_too(api):
    menu = await create_menu(api)
    await upload(api, menu, wav(0.2))
    _reader, reader = await api.user_with_role("readonly", scope="all")
    _manager, manager = await api.user_with_role("manager", scope="groups")
    _self, selfservice = await api.user_with_role("user")

    assert (await api.client.get(IVR_MENUS)).status_code == 401
    assert (await api.get(IVR_MENUS, headers=manager)).status_code == 200
    assert (await api.get(f"{IVR_MENUS}/{menu['id']}/greeting", headers=reader)).status_code == 200
    assert "ivr_menus.read" in problem(await api.get(IVR_MENUS, headers=selfservice), 403)["detail"]
    assert "ivr_menus.write" in problem(await api.post(IVR_MENUS, json={"name": "X"}, headers=reader), 403)["detail"]
    refused = await upload(api, menu, wav(0.2), headers=manager)
    assert "ivr_menus.write, prompts.write" in problem(refused, 403)["detail"]
