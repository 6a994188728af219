"""Save, then apply: pending state, revisions, dry runs, restore, provisioning — through the HTTP API."""

from __future__ import annotations

import asyncio
import os
import stat

from sqlalchemy import event

from app.core.security import SecretBox, generate_auth_id
from app.models import (Device, Did, Group, GroupMember, InboundRule, SipAccount, User, UserForwarding, UserKeys,
                        UserOptions, VoicemailGreeting)
from app.models.forwarding import default_document
from app.models.groups import DEFAULT_RIGHTS, GroupRole

APPLY = "/api/v1/config/apply"
STATUS = "/api/v1/config/status"


async def apply(api, **body):
    response = await api.post(APPLY, json=body)
    assert response.status_code == 200, response.text
    return response.json()


def live_dir(api, slug="default"):
    return api.settings.config_dir / slug / "current"


async def test_a_write_marks_the_configuration_pending_and_apply_clears_it(api):
    before = (await api.get(STATUS)).json()
    await api.create_user(extension="next")
    status = (await api.get(STATUS)).json()
    assert status["pending"] is True
    assert status["changes_since_apply"] > before["changes_since_apply"]
    result = await apply(api)
    assert result["created"] is True and result["revision"] == 1
    status = (await api.get(STATUS)).json()
    assert status == {**status, "pending": False, "changes_since_apply": 0, "last_revision": 1}


async def test_a_refused_write_marks_nothing_pending(api):
    await api.create_user(extension=105)
    await apply(api)
    duplicate = await api.post("/api/v1/users", json={"first_name": "X", "extension": 105})
    assert duplicate.status_code == 409
    assert (await api.get(STATUS)).json()["changes_since_apply"] == 0


async def test_a_dry_run_reports_changes_with_diffs_and_writes_nothing(api):
    await api.create_user(first_name="Anna", last_name="Nowak", extension="next")
    result = await apply(api, dry_run=True)
    assert result["dry_run"] is True and result["created"] is False and result["revision"] is None
    statuses = {f["path"]: f["status"] for f in result["files"]}
    assert statuses["asterisk/pjsip.conf"] == "added"
    pjsip = next(f for f in result["files"] if f["path"] == "asterisk/pjsip.conf")
    assert pjsip["diff"].startswith("--- a/asterisk/pjsip.conf") and "+[100]" in pjsip["diff"]
    written = [p for p in api.settings.config_dir.rglob("*") if ".locks" not in p.parts] \
        if api.settings.config_dir.exists() else []
    assert written == []  # (the lock files in .locks are not configuration)
    assert (await api.get(STATUS)).json()["pending"] is True
    assert (await api.get("/api/v1/config/revisions")).json()["total"] == 0


async def test_two_applies_with_no_change_between_them_make_one_revision(api):
    await api.create_user(extension="next")
    first = await apply(api)
    second = await apply(api)
    assert first["created"] is True and second["created"] is False
    assert second["revision"] == first["revision"]
    assert all(f["status"] == "unchanged" for f in second["files"])
    assert (await api.get("/api/v1/config/revisions")).json()["total"] == 1


async def test_a_dry_run_after_an_edit_shows_only_what_changed(api):
    user = await api.create_user(first_name="Anna", extension="next")
    await apply(api)
    await api.patch(f"/api/v1/users/{user['id']}", json={"first_name": "Joanna"})
    result = await apply(api, dry_run=True)
    changed = {f["path"] for f in result["files"] if f["status"] == "changed"}
    assert "asterisk/pjsip.conf" in changed
    assert "kamailio/subscriber" not in changed  # credentials did not change


async def test_restore_brings_back_the_older_files_byte_for_byte(api):
    await api.create_user(extension="next")
    first = await apply(api)
    original = {path: (live_dir(api) / path).read_bytes() for path in
                (f["path"] for f in first["files"])}
    await api.create_user(extension="next")
    second = await apply(api)
    assert second["revision"] == 2
    assert (live_dir(api) / "kamailio/subscriber").read_bytes() != original["kamailio/subscriber"]

    restored = await api.post("/api/v1/config/revisions/1/restore")
    assert restored.status_code == 200, restored.text
    body = restored.json()
    assert body == {**body, "revision": 3, "restored_from": 1, "database_differs": True}
    for path, content in original.items():
        assert (live_dir(api) / path).read_bytes() == content, path
        served = await api.get(f"/api/v1/config/revisions/3/files/{path}")
        assert served.content == content
    status = (await api.get(STATUS)).json()
    assert status["pending"] is True and status["live_differs_from_database"] is True
    again = await apply(api)
    assert again["created"] is True and again["revision"] == 4


async def test_revisions_can_be_listed_read_and_diffed(api):
    await api.create_user(extension="next")
    await apply(api)
    await api.create_user(extension="next")
    await apply(api)
    listing = (await api.get("/api/v1/config/revisions")).json()
    assert [r["number"] for r in listing["items"]] == [2, 1]
    assert listing["items"][0]["live"] is True and listing["items"][1]["live"] is False
    revision = (await api.get("/api/v1/config/revisions/1")).json()
    assert len(revision["files"]["asterisk/pjsip.conf"]) == 64
    diff = (await api.get("/api/v1/config/revisions/1/diff/2")).json()
    statuses = {f["path"]: f["status"] for f in diff["files"]}
    assert statuses["kamailio/subscriber"] == "changed"
    assert (await api.get("/api/v1/config/revisions/9")).status_code == 404
    assert (await api.get("/api/v1/config/revisions/1/files/nope.conf")).status_code == 404
    assert (await api.get("/api/v1/config/revisions/1/files/../../etc/passwd")).status_code == 404


async def test_old_revisions_beyond_the_kept_number_are_pruned(api):
    api.settings.config_keep_revisions = 2
    for _ in range(4):
        await api.create_user(extension="next")
        await apply(api)
    numbers = [r["number"] for r in (await api.get("/api/v1/config/revisions")).json()["items"]]
    assert numbers == [4, 3]
    on_disk = sorted(p.name for p in (api.settings.config_dir / "default" / "revisions").iterdir())
    assert len(on_disk) == 2


async def test_files_that_hold_secrets_are_not_world_readable(api):
    await api.create_user(extension="next")
    await apply(api)
    for path in ("kamailio/subscriber", "asterisk/pjsip.conf"):
        mode = (live_dir(api) / path).stat().st_mode
        assert not mode & stat.S_IROTH, f"{path} is world-readable"


async def test_reading_a_secret_file_of_a_revision_needs_sip_secrets_read(api):
    await api.create_user(extension="next")
    await apply(api)
    _, readonly = await api.user_with_role("readonly", "all")
    assert (await api.get("/api/v1/config/status", headers=readonly)).status_code == 200
    refused = await api.get("/api/v1/config/revisions/1/files/kamailio/subscriber", headers=readonly)
    assert refused.status_code == 403
    allowed = await api.get("/api/v1/config/revisions/1/files/kamailio/version", headers=readonly)
    assert allowed.status_code == 200


async def test_applying_needs_config_apply_and_scope_all(api):
    _, readonly = await api.user_with_role("readonly", "all")
    assert (await api.post(APPLY, json={}, headers=readonly)).status_code == 403
    _, user = await api.user_with_role("user", "own")
    assert (await api.get(STATUS, headers=user)).status_code == 403
    assert (await api.post(APPLY, json={}, headers={})).status_code == 401


async def test_a_dry_run_withholds_diffs_of_secret_files_without_sip_secrets_read(api):
    await api.create_user(extension="next")
    role = await api.post("/api/v1/roles", json={"name": "deployer", "permissions": ["config.read", "config.apply"]})
    assert role.status_code == 201
    _, deployer = await api.user_with_role("deployer", "all")
    result = (await api.post(APPLY, json={"dry_run": True}, headers=deployer)).json()
    by_path = {f["path"]: f for f in result["files"]}
    assert by_path["kamailio/subscriber"]["diff"] is None
    assert by_path["kamailio/version"]["diff"] is not None


async def test_an_apply_is_audited_and_a_failing_reload_is_reported(api):
    api.settings.reload_asterisk = "echo reloading $CENTRALINO_ORGANIZATION; exit 3"
    api.settings.reload_kamailio = "echo ok"
    await api.create_user(extension="next")
    result = await apply(api)
    reloads = {r["target"]: r for r in result["reloads"]}
    assert reloads["asterisk"]["exit_code"] == 3 and reloads["asterisk"]["ok"] is False
    assert "reloading default" in reloads["asterisk"]["output"]
    assert reloads["kamailio"]["ok"] is True
    entries = (await api.get("/api/v1/audit-log", params={"action": "config.reload"})).json()["items"]
    assert entries and entries[0]["after"]["reloads"][0]["exit_code"] == 3


async def test_a_reload_that_hangs_is_stopped_at_the_timeout(api):
    api.settings.reload_kamailio = "sleep 30"
    api.settings.reload_timeout_seconds = 0.2
    await api.create_user(extension="next")
    result = await apply(api)
    reload = result["reloads"][0]
    assert reload["exit_code"] is None and reload["ok"] is False and "timed out" in reload["output"]


async def test_only_the_requested_targets_are_rendered_the_others_keep_their_live_files(api):
    user = await api.create_user(first_name="Anna", extension="next")
    await apply(api)
    kamailio_before = (live_dir(api) / "kamailio/subscriber").read_bytes()
    await api.patch(f"/api/v1/users/{user['id']}", json={"first_name": "Joanna"})
    await api.post("/api/v1/sip-accounts", json={})
    result = await apply(api, targets=["asterisk"])
    assert result["created"] is True
    assert (live_dir(api) / "kamailio/subscriber").read_bytes() == kamailio_before
    assert "Joanna" in (live_dir(api) / "asterisk/pjsip.conf").read_text()


async def test_a_disabled_target_is_refused_naming_the_field(api):
    api.settings.config_targets = ["asterisk"]
    response = await api.post(APPLY, json={"targets": ["kamailio"]})
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "targets"]


async def test_two_concurrent_applies_do_not_interleave(api):
    for _ in range(3):
        await api.create_user(extension="next")
    first, second = await asyncio.gather(api.post(APPLY, json={}), api.post(APPLY, json={}))
    assert first.status_code == second.status_code == 200, (first.text, second.text)
    created = [r.json()["created"] for r in (first, second)]
    assert sorted(created) == [False, True]
    assert (await api.get("/api/v1/config/revisions")).json()["total"] == 1


async def _add_accounts(api, count: int, *, first_extension: int = 100, with_devices: bool,
                        group_size: int = 0) -> None:
    """Insert accounts, users and devices directly (fast), as the API would have; with ``group_size``, the
    users also form groups of that size, each led by a manager with every right, and each gets a DID."""
    box = SecretBox(api.settings.fernet_key_material())
    org_id = (await api.get("/api/v1/organization")).json()["id"]
    import uuid

    async with api.app.state.sessionmaker() as session:
        for index in range(count):
            user = User(organization_id=uuid.UUID(org_id), first_name=f"User{index}", last_name="Bench",
                        voicemail_enabled=True, voicemail_pin_encrypted=box.encrypt("1234"))
            session.add(user)
            await session.flush()
            account = SipAccount(organization_id=user.organization_id, extension=first_extension + index, auth_id=generate_auth_id(),
                                 password_encrypted=box.encrypt(f"Passw0rd-{index:04d}xyz"), user_id=user.id)
            session.add(account)
            await session.flush()
            if with_devices:
                session.add(Device(organization_id=user.organization_id, vendor="yealink", mac=f"001565{first_extension + index:06x}",
                                   sip_account_id=account.id, provisioning_token_hash=uuid.uuid4().hex))
            if group_size and index % group_size == 0:
                group = Group(organization_id=user.organization_id, name=f"Team {first_extension + index}",
                              extension=None, ring_strategy="hunt")
                session.add(group)
                await session.flush()
            if group_size:
                role = GroupRole.manager if index % group_size == 0 else GroupRole.member
                session.add(GroupMember(group_id=group.id, user_id=user.id, organization_id=user.organization_id,
                                        role=role, position=index, **DEFAULT_RIGHTS[role]))
                # And a DID ringing the user.
                did = Did(organization_id=user.organization_id, number=f"+4420794{first_extension + index:06d}")
                session.add(did)
                await session.flush()
                session.add(InboundRule(organization_id=user.organization_id, name=f"Line {index}", did_id=did.id,
                                        destination={"type": "user", "user_id": str(user.id)}))
                # And its call handling: forwarding rules, keys, options and an uploaded greeting.
                rules = default_document(True)
                rules["exceptions"] = [{"caller_id": "+3906*", "destination": {"type": "hangup"}, "window": None}]
                session.add(UserForwarding(organization_id=user.organization_id, user_id=user.id, document=rules))
                session.add(UserKeys(organization_id=user.organization_id, user_id=user.id, count=2,
                                     keys=[{"index": 1, "type": "line"}, {"index": 2, "type": "pickup"}]))
                session.add(UserOptions(organization_id=user.organization_id, user_id=user.id, record_calls=True,
                                        outbound_pin_encrypted=box.encrypt("582047")))
                session.add(VoicemailGreeting(organization_id=user.organization_id, user_id=user.id, name="Hello",
                                              active=True, wav=b"RIFF", duration_ms=1, size_bytes=4, sha256="0" * 64,
                                              uploaded_format="PCM 16-bit, 1 channel, 8000 Hz"))
        await session.commit()


def _count_statements(api):
    counter = {"n": 0}

    def before(*_args, **_kwargs):
        counter["n"] += 1

    event.listen(api.app.state.engine.sync_engine, "before_cursor_execute", before)
    return counter, lambda: event.remove(api.app.state.engine.sync_engine, "before_cursor_execute", before)


async def test_an_apply_runs_the_same_number_of_sql_statements_for_10_and_500_accounts_in_groups(api, settings):
    """Each user also has forwarding rules, keys, options and a greeting: none of them adds a query per user."""
    counts = []
    for first, count in ((100, 10), (110, 490)):
        await _add_accounts(api, count, first_extension=first, with_devices=True, group_size=10)
        counter, stop = _count_statements(api)
        try:
            result = await apply(api)
        finally:
            stop()
        assert result["created"] is True
        counts.append(counter["n"])
    assert counts[0] == counts[1], f"statements grew with the organization: {counts}"


async def test_a_device_gets_its_file_only_from_the_last_applied_revision(api):
    user = await api.create_user(first_name="Anna", extension="next")
    device = await api.post("/api/v1/devices", json={
        "vendor": "yealink", "mac": "00:15:65:AA:BB:CC", "label": "Desk", "sip_account_id": user["sip_account"]["id"]})
    assert device.status_code == 201, device.text
    body = device.json()
    assert body["mac"] == "001565aabbcc" and body["provisioning_filename"] == "001565aabbcc.cfg"
    url = body["provisioning_url"].replace("http://testserver", "") + body["provisioning_filename"]
    assert (await api.client.get(url)).status_code == 404  # nothing applied yet

    await apply(api)
    served = await api.client.get(url)
    assert served.status_code == 200 and "Anna" in served.text

    await api.patch(f"/api/v1/users/{user['id']}", json={"first_name": "Joanna"})
    assert "Anna" in (await api.client.get(url)).text  # unapplied edits are not served
    await apply(api)
    assert "Joanna" in (await api.client.get(url)).text

    assert (await api.client.get(url.replace(body["provisioning_filename"], "other.cfg"))).status_code == 404
    token = body["provisioning_url"].rstrip("/").rsplit("/", 1)[1]
    assert (await api.client.get(url.replace(token, "x" * len(token)))).status_code == 404
    rotated = (await api.post(f"/api/v1/devices/{body['id']}/provisioning-url")).json()
    assert (await api.client.get(url)).status_code == 404
    new_url = rotated["provisioning_url"].replace("http://testserver", "") + body["provisioning_filename"]
    assert (await api.client.get(new_url)).status_code == 200
    assert "provisioning_url" not in (await api.get(f"/api/v1/devices/{body['id']}")).json()


async def test_the_provisioning_endpoint_is_rate_limited(api):
    api.app.state.provisioning_limiter.limit = 3
    codes = [(await api.client.get("/provisioning/nope/x.cfg")).status_code for _ in range(5)]
    assert codes[:3] == [404, 404, 404] and codes[3:] == [429, 429]


async def test_device_mac_is_validated_and_unique(api):
    bad = await api.post("/api/v1/devices", json={"vendor": "yealink", "mac": "00:15:65:AA:BB"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["loc"] == ["body", "mac"]
    missing = await api.post("/api/v1/devices", json={"vendor": "snom"})
    assert missing.status_code == 422
    assert (await api.post("/api/v1/devices", json={"vendor": "yealink", "mac": "001565000001"})).status_code == 201
    duplicate = await api.post("/api/v1/devices", json={"vendor": "snom", "mac": "00-15-65-00-00-01"})
    assert duplicate.status_code == 409
    softphone = await api.post("/api/v1/devices", json={"vendor": "baresip", "label": "Laptop"})
    assert softphone.status_code == 201 and softphone.json()["provisioning_filename"] == "accounts"
    foreign = await api.post("/api/v1/devices", json={"vendor": "baresip",
                                                      "sip_account_id": "00000000-0000-0000-0000-000000000001"})
    assert foreign.status_code == 422 and foreign.json()["errors"][0]["loc"] == ["body", "sip_account_id"]


INJECTIONS = ["legitimate name\nconfig injection", "evil\r\n[section]", "nul\x00byte", "tab\there", "ls\u2028sep"]


async def test_every_text_that_reaches_a_config_file_refuses_control_characters(api):
    cases = [
        ("/api/v1/users", {"first_name": "{}"}, "first_name"),
        ("/api/v1/users", {"first_name": "A", "last_name": "{}"}, "last_name"),
        ("/api/v1/users", {"first_name": "A", "email": "a{}@example.com"}, "email"),
        ("/api/v1/users", {"first_name": "A", "caller_id": "+4822{}1234567"}, "caller_id"),
        ("/api/v1/devices", {"vendor": "baresip", "label": "{}"}, "label"),
        ("/api/v1/devices", {"vendor": "baresip", "model": "{}"}, "model"),
        ("/api/v1/organizations", {"name": "{}", "slug": "x1", "sip_domain": "x.example"}, "name"),
        ("/api/v1/sip-accounts", {"auth_id": "ab{}cd"}, "auth_id"),
    ]
    for url, template, field in cases:
        for injection in INJECTIONS:
            body = {k: (v.format(injection) if isinstance(v, str) else v) for k, v in template.items()}
            response = await api.post(url, json=body)
            assert response.status_code == 422, (url, field, injection, response.text)
            assert ["body", field] in [e["loc"][:2] for e in response.json()["errors"]], (field, response.text)
    patch = await api.patch("/api/v1/organization", json={"name": "ok\n[evil]"})
    assert patch.status_code == 422


async def test_applied_files_do_not_exist_for_other_organizations(api):
    created = await api.post("/api/v1/organizations", json={"name": "B", "slug": "orgb", "sip_domain": "b.example"})
    assert created.status_code == 201
    await api.create_user(extension="next")
    await apply(api)
    assert not (api.settings.config_dir / "orgb").exists()
    other = await api.post(APPLY, json={}, headers={**api.headers, "X-Organization": "orgb"})
    assert other.status_code == 200
    assert (api.settings.config_dir / "orgb" / "current").exists()
    assert os.path.realpath(api.settings.config_dir / "orgb" / "current") != os.path.realpath(live_dir(api))


async def test_deleting_an_organization_takes_its_configuration_off_disk(api):
    created = (await api.post("/api/v1/organizations", json={"name": "Bee", "slug": "bee",
                                                             "sip_domain": "bee.example.com"})).json()
    bee = {**api.headers, "X-Organization": "bee"}
    await api.post("/api/v1/users", json={"first_name": "B", "extension": "next"}, headers=bee)
    assert (await api.post(APPLY, json={}, headers=bee)).status_code == 200
    assert (api.settings.config_dir / "bee" / "current" / "kamailio" / "subscriber").exists()
    assert (await api.delete(f"/api/v1/organizations/{created['id']}")).status_code == 204
    assert not (api.settings.config_dir / "bee").exists()


async def test_names_and_values_a_renderer_would_refuse_are_refused_by_the_api(api):
    for body, field in (({"first_name": 'Anna "Ania"'}, "first_name"), ({"first_name": "A", "last_name": "<x>"}, "last_name"),
                        ({"first_name": "A", "email": "jan=x@example.com"}, "email")):
        response = await api.post("/api/v1/users", json=body)
        assert response.status_code == 422 and ["body", field] in [e["loc"] for e in response.json()["errors"]]
    bad_port = await api.patch("/api/v1/organization", json={"sip_proxy": "sip.example.com:99999"})
    assert bad_port.status_code == 422
    # A comma in a name is fine: the voicemail config gets a space instead.
    await api.create_user(first_name="Jan", last_name="Nowak, Jr.", extension="next", voicemail_enabled=True)
    result = await apply(api)
    assert "Jan Nowak Jr." in (live_dir(api) / "asterisk/voicemail.conf").read_text()
    assert result["created"] is True


async def test_applying_only_some_targets_keeps_the_configuration_pending(api):
    await api.create_user(extension="next")
    empty = await api.post(APPLY, json={"targets": []})
    assert empty.status_code == 422
    await apply(api, targets=["asterisk"])
    assert (await api.get(STATUS)).json()["pending"] is True
    await apply(api)
    assert (await api.get(STATUS)).json()["pending"] is False


async def test_out_of_range_numbers_and_naive_times_are_not_errors(api):
    assert (await api.get("/api/v1/audit-log", params={"since": "2026-01-01T00:00:00"})).status_code == 200
    assert (await api.get("/api/v1/users", params={"offset": 10**20})).status_code == 422
    assert (await api.get(f"/api/v1/config/revisions/{10**20}")).status_code == 422


async def test_a_real_apply_returns_diffs_when_asked(api):
    await api.create_user(first_name="Anna", extension="next")
    plain = await apply(api)
    assert all(f["diff"] is None for f in plain["files"])
    await api.create_user(first_name="Bruno", extension="next")
    with_diff = await apply(api, include_diff=True)
    pjsip = next(f for f in with_diff["files"] if f["path"] == "asterisk/pjsip.conf")
    assert with_diff["created"] is True and "+[101]" in pjsip["diff"]


async def test_a_device_token_never_reaches_another_devices_file(api):
    first = await api.create_user(extension="next")
    second = await api.create_user(extension="next")
    a = (await api.post("/api/v1/devices", json={"vendor": "yealink", "mac": "001565000001",
                                                 "sip_account_id": first["sip_account"]["id"]})).json()
    b = (await api.post("/api/v1/devices", json={"vendor": "polycom", "mac": "0004f2000002",
                                                 "sip_account_id": second["sip_account"]["id"]})).json()
    await apply(api)
    base_a = a["provisioning_url"].replace("http://testserver", "")
    assert (await api.client.get(base_a + "001565000001.cfg")).status_code == 200
    for foreign in ("0004f2000002.cfg", "phone0004f2000002.cfg", "accounts", "..%2F..%2Fkamailio%2Fsubscriber"):
        assert (await api.client.get(base_a + foreign)).status_code == 404, foreign
    base_b = b["provisioning_url"].replace("http://testserver", "")
    assert (await api.client.get(base_b + "phone0004f2000002.cfg")).status_code == 200
    # Desk phones' files also sit side by side, for a plain TFTP/HTTP server.
    assert (live_dir(api) / "provisioning" / "0004f2000002.cfg").exists()
