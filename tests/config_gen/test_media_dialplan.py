"""The conference and IVR renderer: entry contexts, ConfBridge profiles and PIN files, the menus' dialplan,
greeting files, and refusals of data that would make a broken or unsafe file."""

from __future__ import annotations

import dataclasses

import pytest
from golden_snapshot import fixture_snapshot

from app.config_gen.asterisk import render_dialplan
from app.config_gen.asterisk_groups import GroupPlan
from app.config_gen.asterisk_media import (IVR_EXTENSIONS_CONTEXT, ConferenceInfo, IvrMenuInfo, conference_contexts,
                                           entry_contexts, internal_extensions, ivr_contexts, render_conference_pins,
                                           render_confbridge, sound_files)

OPEN = ConferenceInfo(id="c0000000-0000-4000-8000-000000000001", name="Stand-up", extension=800, pin=None,
                      admin_pin=None, max_members=10, record=False)
LOCKED = ConferenceInfo(id="c1000000-0000-4000-8000-000000000002", name="Board; private", extension=None,
                        pin="4711", admin_pin="987654", max_members=5, record=True)
SUB = IvrMenuInfo(id="a0000000-0000-4000-8000-000000000001", name="Support", extension=None, options=(),
                  timeout_seconds=5, timeout_destination={"type": "hangup"},
                  invalid_destination={"type": "hangup"}, dial_by_extension=False, directory=False)
MAIN = IvrMenuInfo(id="a1000000-0000-4000-8000-000000000002", name="Main", extension=710,
                   options=(("1", {"type": "user", "user_id": "user-anna"}),
                            ("2", {"type": "conference", "conference_id": OPEN.id}),
                            ("3", {"type": "ivr", "ivr_menu_id": SUB.id})),
                   timeout_seconds=7, timeout_destination={"type": "conference", "conference_id": LOCKED.id},
                   invalid_destination={"type": "not_configured"}, dial_by_extension=True, directory=True,
                   greeting=b"RIFF....WAVEfmt ")
SOUNDS = "/etc/asterisk/acme/sounds"


def plan_for(conferences=(OPEN, LOCKED), menus=(MAIN, SUB)) -> GroupPlan:
    snapshot = fixture_snapshot()
    plan = GroupPlan(snapshot, [a for a in snapshot.accounts if a.active])
    plan.entry_contexts.update(entry_contexts(conferences, menus))
    return plan


def dialplan(conferences=(OPEN, LOCKED), menus=(MAIN, SUB)) -> str:
    plan = plan_for(conferences, menus)
    return render_dialplan((*conference_contexts(conferences),
                            *ivr_contexts(menus, plan, conferences, sounds_dir=SOUNDS)))


def test_every_room_and_menu_has_an_entry_context_named_by_its_short_id():
    assert entry_contexts((OPEN, LOCKED), (MAIN, SUB)) == {
        OPEN.id: "conference-c0000000", LOCKED.id: "conference-c1000000",
        MAIN.id: "ivr-a1000000", SUB.id: "ivr-a0000000"}


def test_dialable_rooms_and_menus_go_to_their_entry_context_from_internal():
    lines = [(e.pattern, e.applications) for e in internal_extensions((OPEN, LOCKED), (MAIN, SUB))]

    assert lines == [("710", ("Goto(ivr-a1000000,s,1)",)), ("800", ("Goto(conference-c0000000,s,1)",))]


def test_an_open_room_joins_the_bridge_at_once_with_its_profiles():
    text = dialplan()

    assert ("[conference-c0000000]\nexten => s,1,ExecIf($[\"${CENTRALINO_NO_CONFERENCES}\" = \"1\"]?Hangup(21))\n"
            " same => n,Answer()\n same => n,Goto(member,1)\n"
            "exten => member,1,ConfBridge(conference-c0000000,conference-c0000000-bridge,conference-c0000000-user)"
            ) in text


def test_a_room_with_pins_asks_compares_with_the_pin_file_and_gives_up_after_three_tries():
    text = dialplan()
    context = text[text.index("[conference-c1000000]"):].split("\n\n")[0]

    assert " same => n,Read(PIN,conf-getpin,10,,1,10)" in context
    assert ('GotoIf($["${PIN}"!="" & "${PIN}"="${AST_CONFIG(conference_pins.conf,conference-c1000000,admin_pin)}"]'
            '?admin,1)') in context
    assert '"${AST_CONFIG(conference_pins.conf,conference-c1000000,pin)}"]?member,1)' in context
    assert "GotoIf($[${PIN_TRIES}>=3]?denied,1)" in context
    assert "exten => admin,1,ConfBridge(conference-c1000000,conference-c1000000-bridge,conference-c1000000-admin)" \
        in context
    assert "4711" not in text and "987654" not in text, "no PIN in extensions.conf"


def test_a_room_with_only_an_admin_pin_lets_members_in_with_an_empty_entry():
    only_admin = dataclasses.replace(LOCKED, pin=None)

    text = dialplan(conferences=(only_admin,), menus=())

    assert 'GotoIf($["${PIN}"=""]?member,1)' in text
    assert ",pin)}" not in text


def test_confbridge_conf_has_a_bridge_and_user_profiles_per_room_and_no_pins():
    text = render_confbridge((OPEN, LOCKED))

    assert "[conference-c0000000-bridge]\ntype=bridge\nmax_members=10\n\n[conference-c0000000-user]\ntype=user\n" in text
    assert ("; conference Board; private\n[conference-c1000000-bridge]\ntype=bridge\nmax_members=5\n"
            "record_conference=yes\n\n[conference-c1000000-user]\ntype=user\n\n"
            "[conference-c1000000-admin]\ntype=user\nadmin=yes\nmarked=yes\n") in text
    assert "conference-c0000000-admin" not in text
    assert "4711" not in text


def test_the_pin_file_holds_each_rooms_pins_and_nothing_for_open_rooms():
    text = render_conference_pins((OPEN, LOCKED))

    assert "\n[conference-c1000000]\npin=4711\nadmin_pin=987654\n" in text
    assert "c0000000" not in text


def test_a_menu_answers_plays_its_greeting_and_waits_for_a_key():
    text = dialplan()

    assert ("[ivr-a1000000]\ninclude => ivr-extensions\nexten => s,1,Answer()\n same => n,Set(IVR_TRIES=0)\n"
            " same => n,Goto(menu,1)\nexten => menu,1,Set(TIMEOUT(digit)=3)\n"
            f" same => n,Background({SOUNDS}/ivr-a1000000)\n same => n,WaitExten(7)\n") in text


def test_keys_timeout_and_invalid_input_go_to_their_destinations():
    text = dialplan()
    main = text[text.index("[ivr-a1000000]"):text.index("[ivr-a0000000]")]

    assert "exten => 1,1,Goto(internal,101,1)" in main
    assert "exten => 2,1,Goto(conference-c0000000,s,1)" in main
    assert "exten => 3,1,Goto(ivr-a0000000,s,1)" in main
    assert "exten => t,1,Goto(conference-c1000000,s,1)" in main
    assert ("exten => i,1,Set(IVR_TRIES=$[${IVR_TRIES}+1])\n same => n,GotoIf($[${IVR_TRIES}<3]?retry,1)\n"
            " same => n,Answer()\n same => n,Playback(ss-noservice)\n same => n,Hangup()\n") in main
    assert "exten => retry,1,Playback(pbx-invalid)\n same => n,Goto(menu,1)" in main


def test_the_directory_is_on_the_hash_key_over_the_organizations_mailboxes():
    text = dialplan()

    assert "exten => #,1,Directory(acme,internal,b)\n same => n,Goto(menu,1)" in text


def test_a_menu_without_a_greeting_only_waits():
    text = dialplan()
    sub = text[text.index("[ivr-a0000000]"):]

    assert "exten => menu,1,Set(TIMEOUT(digit)=3)\n same => n,WaitExten(5)\n" in sub
    assert "Background" not in sub.split("[", 2)[1]


def test_dial_by_extension_reaches_exactly_the_organizations_numbers():
    text = dialplan()
    context = text[text.index(f"[{IVR_EXTENSIONS_CONTEXT}]"):]

    numbers = [line.split(",")[0].removeprefix("exten => ") for line in context.splitlines()
               if line.startswith("exten")]
    assert numbers == ["101", "102", "104", "600", "601", "602", "603", "710", "800"]
    assert "exten => 101,1,Goto(internal,101,1)" in context
    assert "_" not in "".join(numbers), "no pattern: a caller never reaches the outbound routes"


def test_no_menu_with_dial_by_extension_renders_no_extension_list():
    text = dialplan(menus=(SUB,))

    assert IVR_EXTENSIONS_CONTEXT not in text


def test_greetings_become_wav_files_named_by_the_menus():
    assert sound_files((MAIN, SUB)) == {"asterisk/sounds/ivr-a1000000.wav": MAIN.greeting}


def test_output_is_deterministic():
    assert dialplan() == dialplan()
    assert render_confbridge((OPEN, LOCKED)) == render_confbridge((OPEN, LOCKED))


@pytest.mark.parametrize("bad", [
    dataclasses.replace(LOCKED, pin="12a4"),
    dataclasses.replace(LOCKED, pin="123"),
    dataclasses.replace(LOCKED, admin_pin="1\n[x]"),
])
def test_a_pin_that_is_not_4_to_10_digits_is_refused(bad):
    with pytest.raises(ValueError, match="PIN|pin|digits"):
        render_conference_pins((bad,))


def test_names_with_line_breaks_are_refused():
    with pytest.raises(ValueError, match="control character"):
        render_confbridge((dataclasses.replace(OPEN, name="x\n[evil]"),))


def test_a_directory_menu_with_an_option_on_hash_or_a_bad_sounds_dir_is_refused():
    clash = dataclasses.replace(MAIN, options=(("#", {"type": "hangup"}),))

    with pytest.raises(ValueError, match="directory"):
        ivr_contexts((clash,), plan_for(menus=(clash,)), sounds_dir=SOUNDS)
    with pytest.raises(ValueError, match="sounds directory"):
        ivr_contexts((MAIN,), plan_for(), sounds_dir="/tmp/x,y)")
