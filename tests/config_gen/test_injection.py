"""Text from users must not add lines, sections, keys or elements to any generated file.

Each case puts a hostile value into one field and renders every target. The
renderer must either refuse it with a ValueError naming the field, or write a
file whose parsed structure is exactly that of the clean file and whose value
reads back unchanged.
"""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ElementTree

import pytest
from config_readers import asterisk_entries, asterisk_shape, baresip_accounts, db_text_rows, key_value_lines
from golden_snapshot import fixture_snapshot, with_account, with_anna

from app.config_gen.render import TARGETS, render_targets
from app.config_gen.snapshot import Snapshot

ALL_TARGETS = sorted(TARGETS)

LINE_BREAKERS = {
    "newline": "Anna\n[evil]\ntype=endpoint",
    "carriage return": "Anna\r[evil]",
    "NUL": "Anna\0evil",
    "unicode line separator": "Anna\u2028evil",
    "bidi override": "Anna\u202eevil",
}

MAILBOX_OPTIONS = "attach=yes|delete=no|saycid=no|envelope=yes"  # Anna: the message attached


def shape(path: str, text: str) -> object:
    """Return what an injection must not change in a file, read the way its program reads it."""
    if path.startswith("asterisk/"):
        return asterisk_shape(text)
    if path.startswith("kamailio/"):
        return [len(row) for row in db_text_rows(text)]
    if path.endswith("/accounts"):
        return [sorted(account) for account in baresip_accounts(text)]
    if text.startswith("#!version"):
        return [key for key, _value in key_value_lines(text)]
    return [(element.tag, sorted(element.attrib)) for element in ElementTree.fromstring(text).iter()]


def assert_same_structure(clean: Snapshot, hostile: Snapshot) -> dict[str, str]:
    """The hostile snapshot's text files have the shape of the clean one's (sounds hold no user text)."""
    expected = render_targets(clean, ALL_TARGETS)
    actual = render_targets(hostile, ALL_TARGETS)
    assert sorted(actual) == sorted(expected)
    actual = {path: content for path, content in actual.items() if isinstance(content, str)}
    for path, text in actual.items():
        assert text.count("\n") == expected[path].count("\n"), f"{path} gained or lost lines"
        assert shape(path, text) == shape(path, expected[path]), f"{path} changed structure"
    return actual


@pytest.mark.parametrize("payload", LINE_BREAKERS.values(), ids=LINE_BREAKERS.keys())
@pytest.mark.parametrize("field", ["first_name", "last_name", "email"])
def test_line_breaks_in_user_text_are_refused(field: str, payload: str) -> None:
    with pytest.raises(ValueError, match="control character"):
        render_targets(with_anna(fixture_snapshot(), **{field: payload}), ALL_TARGETS)


@pytest.mark.parametrize("payload", LINE_BREAKERS.values(), ids=LINE_BREAKERS.keys())
def test_line_breaks_in_device_label_are_refused(payload: str) -> None:
    snapshot = fixture_snapshot()
    devices = tuple(dataclasses.replace(d, label=payload) if d.id == "dev-01" else d for d in snapshot.devices)
    with pytest.raises(ValueError, match="device dev-01 .*label contains a control character"):
        render_targets(dataclasses.replace(snapshot, devices=devices), ALL_TARGETS)


@pytest.mark.parametrize("payload", LINE_BREAKERS.values(), ids=LINE_BREAKERS.keys())
def test_line_breaks_in_password_are_refused(payload: str) -> None:
    with pytest.raises(ValueError, match="password contains a control character"):
        render_targets(with_account(fixture_snapshot(), 101, password=payload), ALL_TARGETS)


@pytest.mark.parametrize("name", ["Anna;--", "Anna ; comment", "[evil]", "Anna [x]", "#include evil"])
def test_comment_and_section_syntax_in_names_is_escaped(name: str) -> None:
    files = assert_same_structure(fixture_snapshot(), with_anna(fixture_snapshot(), last_name=name))
    expected_name = f"Anna {name}"
    pjsip = asterisk_entries(files["asterisk/pjsip.conf"])
    assert ("101", "callerid", f'"{expected_name}" <101>') in pjsip
    voicemail = asterisk_entries(files["asterisk/voicemail.conf"])
    assert ("acme", "101", f"4321,{expected_name},anna.rossi@acme.example,,{MAILBOX_OPTIONS}") in voicemail


@pytest.mark.parametrize("name", ['Anna "The Boss"', "Anna <evil>", "Anna\\"])
def test_callerid_breaking_characters_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="display name of extension 101"):
        render_targets(with_anna(fixture_snapshot(), last_name=name), ALL_TARGETS)


def test_a_voicemail_email_with_a_field_separator_is_refused() -> None:
    with pytest.raises(ValueError, match="voicemail of extension 101"):
        render_targets(with_anna(fixture_snapshot(), email="a,b@acme.example"), ["asterisk"])


@pytest.mark.parametrize("last_name", ["Rossi, Anna", "a|b", "a=b"])
def test_voicemail_field_separators_in_a_name_become_spaces(last_name: str) -> None:
    # "Nowak, Jr." is a real name: the one field it must stay is kept by replacing separators.
    files = render_targets(with_anna(fixture_snapshot(), last_name=last_name), ["asterisk"])
    line = next(ln for ln in files["asterisk/voicemail.conf"].splitlines() if ln.startswith("101 =>"))
    fields = line.split("=>", 1)[1].split(",")
    assert len(fields) == 5 and not any(c in fields[1] for c in ",|=")


@pytest.mark.parametrize(
    "password",
    ['p"w', "p<w>&x", "p;w", "[p]", "p w", "p\\w", "p:w", "=p", "'p'"],
)
def test_passwords_are_escaped_in_every_provisioning_file(password: str) -> None:
    # A password in quotes would end a baresip value: that one is refused, all others must round-trip.
    hostile = with_account(fixture_snapshot(), 101, password=password)
    if '"' in password:
        with pytest.raises(ValueError, match="device dev-05 password"):
            render_targets(hostile, ALL_TARGETS)
        return
    files = assert_same_structure(fixture_snapshot(), hostile)
    assert dict(key_value_lines(files["provisioning/001565aabb01.cfg"]))["account.1.password"] == password
    polycom = ElementTree.fromstring(files["provisioning/phone0004f2aabb03.cfg"]).find("reg")
    assert polycom.get("reg.1.auth.password") == password
    (baresip,) = baresip_accounts(files["provisioning/baresip/dev-05/accounts"])
    assert baresip["auth_pass"] == password


@pytest.mark.parametrize("label", ["<b>Desk</b>", 'Desk "A"', "Desk & Co", "Desk; [x]"])
def test_device_labels_are_escaped(label: str) -> None:
    snapshot = fixture_snapshot()
    devices = tuple(
        dataclasses.replace(d, label=label) if d.id in {"dev-01", "dev-03"} else d for d in snapshot.devices
    )
    files = assert_same_structure(snapshot, dataclasses.replace(snapshot, devices=devices))
    assert dict(key_value_lines(files["provisioning/001565aabb01.cfg"]))["account.1.label"] == label
    polycom = ElementTree.fromstring(files["provisioning/phone0004f2aabb03.cfg"]).find("reg")
    assert polycom.get("reg.1.label") == label


@pytest.mark.parametrize("slug", ["acme]\n[evil", "acme;x", "../acme", ""])
def test_hostile_slug_is_refused(slug: str) -> None:
    snapshot = fixture_snapshot()
    organization = dataclasses.replace(snapshot.organization, slug=slug)
    with pytest.raises(ValueError, match="organization slug"):
        render_targets(dataclasses.replace(snapshot, organization=organization), ["asterisk"])


@pytest.mark.parametrize("domain", ["pbx.acme.example\n", "pbx:5060", "pbx;x", "pbx acme", ""])
def test_hostile_sip_domain_is_refused(domain: str) -> None:
    snapshot = fixture_snapshot()
    organization = dataclasses.replace(snapshot.organization, sip_domain=domain)
    for target in ALL_TARGETS:
        with pytest.raises(ValueError, match="organization SIP domain"):
            render_targets(dataclasses.replace(snapshot, organization=organization), [target])


@pytest.mark.parametrize("auth_id", ["u101;x", "u101\nx", "u101@x", "u 101", "u101:x", ""])
def test_hostile_auth_id_is_refused(auth_id: str) -> None:
    hostile = with_account(fixture_snapshot(), 101, auth_id=auth_id)
    for target in ALL_TARGETS:
        with pytest.raises(ValueError, match="auth_id"):
            render_targets(hostile, [target])
