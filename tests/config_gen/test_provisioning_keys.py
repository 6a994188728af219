"""Programmable keys in the phones' provisioning files, in each vendor's documented syntax.

Every test's docstring names where its key names and values were checked: the vendor's manual or an
open-source provisioning template (repository and path). The fixture's phones: Anna (101) has a Yealink,
a Polycom, a Fanvil and a baresip softphone; account 104 has a Grandstream, a Snom and a Cisco MPP, and gets a
user here. The Fanvil and Cisco key syntaxes are tested in test_provisioning_vendors.py, with their sources.
"""

from __future__ import annotations

import dataclasses
from xml.etree import ElementTree

import pytest
from config_readers import key_value_lines
from golden_snapshot import BRUNO, fixture_snapshot, with_account, with_anna

from app.config_gen.provisioning import render_provisioning
from app.config_gen.snapshot import KeyInfo

YEALINK = "provisioning/001565aabb01.cfg"
GRANDSTREAM = "provisioning/cfg000b82aabb02.xml"
POLYCOM = "provisioning/phone0004f2aabb03.cfg"
SNOM = "provisioning/000413aabb04.xml"
FANVIL = "provisioning/0c383eaabb08.cfg"
CISCO = "provisioning/00562baabb09.xml"
BARESIP = "provisioning/baresip/dev-05/accounts"
PHONES = [YEALINK, GRANDSTREAM, POLYCOM, SNOM, FANVIL, CISCO]


def render_with_keys(*keys: KeyInfo) -> dict[str, str]:
    """Render the fixture with ``keys`` for Anna (Yealink, Polycom, baresip) and for 104's user (Grandstream, Snom)."""
    snapshot = with_anna(fixture_snapshot(), keys=keys)
    snapshot = with_account(snapshot, 104, user=dataclasses.replace(BRUNO, keys=keys))
    return render_provisioning(snapshot)


def yealink_settings(files: dict[str, str]) -> dict[str, str]:
    return dict(key_value_lines(files[YEALINK]))


def grandstream_values(files: dict[str, str]) -> dict[str, str | None]:
    config = ElementTree.fromstring(files[GRANDSTREAM]).find("config")
    assert config is not None
    return {child.tag: child.text for child in config}


def polycom_elements(files: dict[str, str]) -> dict[str, dict[str, str]]:
    root = ElementTree.fromstring(files[POLYCOM])
    return {child.tag: dict(child.attrib) for child in root}


def snom_fkeys(files: dict[str, str]) -> list[ElementTree.Element]:
    root = ElementTree.fromstring(files[SNOM])
    return root.findall("functionKeys/fkey")


def fanvil_fkeys(files: dict[str, str]) -> list[ElementTree.Element]:
    return ElementTree.fromstring(files[FANVIL]).findall("dsskey/dssSide/Fkey")


def cisco_line_keys(files: dict[str, str]) -> dict[str, str | None]:
    root = ElementTree.fromstring(files[CISCO])
    return {child.tag: child.text for child in root
            if child.tag.startswith(("Extension_", "Short_Name_", "Extended_Function_"))}


# --- Every vendor -------------------------------------------------------------------------------------------------


def test_users_without_keys_render_no_key_settings() -> None:
    """No user has keys in the fixture: no key setting of any vendor appears, and the files are those of before.

    Key names as in the vendor tests below: Yealink ``linekey.N.*``, Grandstream P301-P329 and P353-P396,
    Polycom ``attendant.*``/``softkey.*``/``feature.*``, Snom ``<functionKeys>``; Fanvil and Cisco MPP keep
    only position 1, the account's own line key, labelled (test_provisioning_vendors.py). The golden files
    (tests/config_gen/golden/provisioning) pin the bytes.
    """
    key_p_values = {f"P{n}" for n in [*range(301, 330), *range(353, 397)]}
    # The fixture (104 has no user) and 104 with a user who has no keys.
    for files in (render_provisioning(fixture_snapshot()), render_with_keys()):
        assert not any(key.startswith("linekey.") for key in yealink_settings(files))
        assert not key_p_values & set(grandstream_values(files))
        assert list(polycom_elements(files)) == ["reg"]
        assert ElementTree.fromstring(files[SNOM]).find("functionKeys") is None
        assert [(f.get("index"), f.findtext("Type"), f.findtext("Value")) for f in fanvil_fkeys(files)] == [
            ("1", "2", "SIP1")]
        assert cisco_line_keys(files) == {"Extension_1_": "1", "Short_Name_1_": "Back office",
                                          "Extended_Function_1_": None}


def test_a_none_key_renders_nothing_on_any_phone() -> None:
    """A ``none`` key is an empty position: every file is byte for byte the file of a user without keys.

    Sources: the vendor tests below; ``none`` is never written, not even as Yealink's type 0 ("N/A"; Yealink
    SIP-T2/T4 Administrator Guide, DSS keys, https://www.easymanua.ls/yealink/t29g/manual/21622?p=200).
    """
    assert render_with_keys(KeyInfo(1, "none", None), KeyInfo(2, "none", None, "Empty")) == render_with_keys()


def test_a_directed_pickup_key_renders_nothing_on_any_phone() -> None:
    """A pickup key for one extension is left out everywhere: the dialplan only has the group pickup ``*8``.

    Phones dial a directed pickup code followed by the extension (Yealink "BLF issue" note, features
    ``blf_pickup_only_send_code`` = 0: "dial out feature access code of directed pick up plus monitored number",
    https://www.scribd.com/document/713131545/BLF-issue; Snom's ``blf ...|<code>`` suffix in
    wazo-platform/wazo-provd-plugins plugins/wazo_snom/common/common.py), and ``*8101`` does not exist here.
    """
    assert render_with_keys(KeyInfo(1, "pickup", "102", "Bruno's calls")) == render_with_keys()


@pytest.mark.parametrize("path", PHONES)
def test_a_label_that_closes_the_element_stays_text(path: str) -> None:
    """A label like ``</fkey><x>`` or ``a"b`` is the key's label and nothing else, in every format.

    XML escaping per the XML formats the vendors document: Grandstream ``<gs_provision>`` P-values
    (fusionpbx/fusionpbx resources/templates/provision/grandstream/gxp21xx/{$mac}.xml), Polycom attributes
    (fusionpbx/fusionpbx resources/templates/provision/polycom/6.x/{$mac}.cfg), Snom ``<fkey label="...">``
    (https://service.snom.com/display/wiki/%3CfunctionKeys%3E+tag), Fanvil ``<Fkey><Title>``
    (wazo-platform/wazo-provd-plugins plugins/wazo_fanvil/common/templates/base-new.tpl), Cisco MPP
    ``<Short_Name_N_>`` and the ``nme`` of ``<Extended_Function_N_>`` (fusionpbx/fusionpbx
    resources/templates/provision/cisco/8841/{$mac}.xml); Yealink's ``key = value`` runs to the end of the line
    (wazo-platform/wazo-provd-plugins plugins/wazo_yealink/v87/common.py).
    """
    hostile = 'Bruno </fkey><x> & "co"'
    files = render_with_keys(KeyInfo(1, "blf", "102", hostile))
    if path == YEALINK:
        assert yealink_settings(files)["linekey.1.label"] == hostile
        assert sum(line.startswith("linekey.") for line in files[YEALINK].splitlines()) == 4
    elif path == GRANDSTREAM:
        assert grandstream_values(files)["P302"] == hostile
    elif path == POLYCOM:
        elements = polycom_elements(files)
        assert list(elements) == ["reg", "attendant"]
        assert elements["attendant"]["attendant.resourceList.1.label"] == hostile
    elif path == FANVIL:
        (fkey,) = fanvil_fkeys(files)
        assert [(child.tag, child.text) for child in fkey] == [("Type", "1"), ("Value", "102@1/ba"), ("Title", hostile)]
    elif path == CISCO:
        assert cisco_line_keys(files) == {
            "Extension_1_": "Disabled", "Short_Name_1_": hostile,
            "Extended_Function_1_": f"fnc=blf+sd;sub=102@pbx.acme.example;ext=102@pbx.acme.example;nme={hostile}"}
    else:
        (fkey,) = snom_fkeys(files)
        assert fkey.get("label") == hostile
        assert list(fkey) == []
        assert fkey.text == "blf sip:102@pbx.acme.example"


@pytest.mark.parametrize("label", ["a\nb", "a\rlinekey.9.type = 16", "a\x00b", "a\u2028b"])
def test_a_label_with_a_line_break_or_control_character_is_refused(label: str) -> None:
    """Control characters and line breaks are refused (escaping.refuse_control_characters), never written.

    A line break would start a new ``linekey.N.*`` setting in a Yealink file
    (wazo-platform/wazo-provd-plugins plugins/wazo_yealink/v87/common.py writes one ``key = value`` per line).
    """
    with pytest.raises(ValueError, match="control character"):
        render_with_keys(KeyInfo(1, "blf", "102", label))


@pytest.mark.parametrize("key", [
    KeyInfo(1, "blf", "10a"),
    KeyInfo(1, "blf", None),
    KeyInfo(1, "park", "*700"),
    KeyInfo(1, "speed_dial", "101\nlinekey.9.type = 16"),
    KeyInfo(1, "speed_dial", "sip:101@x"),
    KeyInfo(1, "agent_login", "*45$Cwc$"),
])
def test_a_value_that_is_not_a_number_to_dial_is_refused(key: KeyInfo) -> None:
    """Values are digits (BLF, park, line) or a number to dial (digits, ``*``, ``#``, a leading ``+``).

    Anything else could be read by a file syntax or a phone's macro language (Polycom's ``$...$`` action fields,
    https://documents.polycom.com/bundle/ucs-ag-5-8/page/r-ucs-ag-macro-actions.html), so it is refused.
    """
    with pytest.raises(ValueError):
        render_with_keys(key)


def test_two_keys_at_one_position_are_refused() -> None:
    """One position holds one key: two would write the same settings twice (e.g. Yealink ``linekey.3.type``)."""
    with pytest.raises(ValueError, match="one key each"):
        render_with_keys(KeyInfo(3, "blf", "102"), KeyInfo(3, "speed_dial", "103"))


def test_a_baresip_softphone_gets_no_keys() -> None:
    """baresip has no programmable keys: its accounts file is one SIP account per line, with only account
    parameters (baresip/baresip docs/examples/accounts), so keys leave it unchanged.
    """
    files = render_with_keys(KeyInfo(1, "blf", "102", "Bruno"), KeyInfo(2, "speed_dial", "103"))
    assert files[BARESIP] == render_provisioning(fixture_snapshot())[BARESIP]


# --- Yealink ------------------------------------------------------------------------------------------------------


def test_a_blf_key_on_a_yealink_phone_is_linekey_type_16_with_the_watched_extension() -> None:
    """``linekey.X.type=16``, ``linekey.X.line=1``, ``linekey.X.value=<number>``, ``linekey.X.label=<name>``.

    Yealink T5 Series Administrator Guide, "BLF Key Configuration" (https://easymanua.ls/yealink/t5-series/manual/
    730711?p=349); wazo-platform/wazo-provd-plugins plugins/wazo_yealink/v87/common.py (_format_funckey_blf). No
    ``pickup_value``: Yealink would dial it followed by the watched number, a directed pickup this PBX lacks.
    """
    settings = yealink_settings(render_with_keys(KeyInfo(1, "blf", "102", "Bruno")))
    keys = {key: value for key, value in settings.items() if key.startswith("linekey.")}
    assert keys == {"linekey.1.type": "16", "linekey.1.line": "1", "linekey.1.value": "102",
                    "linekey.1.label": "Bruno"}


def test_dialling_keys_on_a_yealink_phone_are_speed_dials_type_13() -> None:
    """Speed dial is type 13 with the number as value; group pickup and feature codes dial their code the same way.

    provisioner/Provisioner endpoint/yealink/t3x/line_keys_38.json (line key types "Speed Dial" 13, "BLF" 16,
    "Line" 15); wazo-platform/wazo-provd-plugins plugins/wazo_yealink/v87/common.py (_format_funckey_speeddial:
    type 13, value = the number). The label is left out when the key has none (the phone then shows the value).
    """
    settings = yealink_settings(render_with_keys(
        KeyInfo(2, "speed_dial", "+390212345678"), KeyInfo(3, "pickup", None, "Pickup"),
        KeyInfo(4, "change_status", "*75", "Status")))
    assert settings["linekey.2.type"] == "13"
    assert settings["linekey.2.value"] == "+390212345678"
    assert "linekey.2.label" not in settings
    assert (settings["linekey.3.type"], settings["linekey.3.value"]) == ("13", "*8")
    assert settings["linekey.3.label"] == "Pickup"
    assert (settings["linekey.4.type"], settings["linekey.4.value"]) == ("13", "*75")


def test_a_park_key_on_a_yealink_phone_is_call_park_type_10_with_the_lot_number() -> None:
    """Call park is DSS type 10 with the park number as value.

    wazo-platform/wazo-provd-plugins plugins/wazo_yealink/v87/common.py (_format_funckey_park: type 10, value =
    the parking extension); provisioner/Provisioner endpoint/yealink/t3x/line_keys_38.json ("Call Park" 10).
    """
    settings = yealink_settings(render_with_keys(KeyInfo(5, "park", "700", "Park")))
    assert (settings["linekey.5.type"], settings["linekey.5.line"], settings["linekey.5.value"]) == ("10", "1", "700")
    assert settings["linekey.5.label"] == "Park"


def test_a_line_key_on_a_yealink_phone_is_type_15_on_account_1() -> None:
    """A line key is type 15 naming its account in ``linekey.X.line``; a line the file lacks is left out.

    wazo-platform/wazo-provd-plugins plugins/wazo_yealink/v87/common.py (_format_funckey_line: type 15, line =
    the account); Yealink Administrator Guide "linekey.X.line" ("1-Line 1 ... 16-Line 16",
    https://www.easymanua.ls/yealink/sip-t2-series/manual?p=617).
    """
    settings = yealink_settings(render_with_keys(KeyInfo(1, "line", "1", "Me"), KeyInfo(2, "line", "2")))
    keys = {key: value for key, value in settings.items() if key.startswith("linekey.")}
    assert keys == {"linekey.1.type": "15", "linekey.1.line": "1", "linekey.1.label": "Me"}


# --- Grandstream --------------------------------------------------------------------------------------------------


def test_a_blf_key_on_a_grandstream_phone_is_multi_purpose_key_mode_1() -> None:
    """MPK 1: key mode P323 (1 = BLF), account P301 (0 = Account 1), name P302, user ID P303.

    fusionpbx/fusionpbx resources/templates/provision/grandstream/gxp21xx/{$mac}.xml ("Multipurpose Key 1 ...
    0 - Speed Dial, 1 - BLF, ... 9 - CallPark"); wazo-platform/wazo-provd-plugins
    plugins/wazo_grandstream/common/common.py (_add_fkeys: P32{n+2}, then P3xx triples from P301);
    provisioner/Provisioner endpoint/grandstream/gxp/keys_18.json (0 Speed Dial, 1 BLF).
    """
    values = grandstream_values(render_with_keys(KeyInfo(1, "blf", "102", "Bruno")))
    assert {key: values[key] for key in ("P323", "P301", "P302", "P303")} == {
        "P323": "1", "P301": "0", "P302": "Bruno", "P303": "102"}


def test_grandstream_keys_7_and_8_follow_the_two_p_value_layouts() -> None:
    """MPK 7 is P329/P319/P320/P321; MPK 8 starts the second layout at P353 (mode, account, name, value).

    fusionpbx/fusionpbx resources/templates/provision/grandstream/gxp21xx/{$mac}.xml (Multipurpose Keys 7, 8 and
    18: P393-P396); the same numbers in resources/templates/provision/grandstream/gxp16xx/{$mac}.xml.
    """
    values = grandstream_values(render_with_keys(
        KeyInfo(7, "speed_dial", "+390212345678", "Shop"), KeyInfo(8, "park", "700", "Park"),
        KeyInfo(18, "pickup", None)))
    assert [values[p] for p in ("P329", "P319", "P320", "P321")] == ["0", "0", "Shop", "+390212345678"]
    assert [values[p] for p in ("P353", "P354", "P355", "P356")] == ["9", "0", "Park", "700"]
    assert [values[p] for p in ("P393", "P394", "P396")] == ["0", "0", "*8"]
    assert "P395" not in values  # no label: the phone's own default


def test_a_line_key_is_not_a_grandstream_multi_purpose_key_and_is_skipped() -> None:
    """Multi-purpose key modes have no line (0-11: Speed Dial ... LDAP Search); line keys are other P-values.

    fusionpbx/fusionpbx resources/templates/provision/grandstream/gxp21xx/{$mac}.xml (MPK "Key Mode" 0-11; line
    keys are P1363 onwards with "0 - Line"). The key is left out, the other keys stay.
    """
    files = render_with_keys(KeyInfo(1, "line", "1", "Me"), KeyInfo(2, "blf", "102"))
    values = grandstream_values(files)
    assert "P323" not in values and "P302" not in values
    assert (values["P324"], values["P306"]) == ("1", "102")


def test_a_grandstream_key_beyond_the_18th_is_refused() -> None:
    """Grandstream's P-value templates document multi-purpose keys 1 to 18 only; key 19 is refused, not guessed.

    fusionpbx/fusionpbx resources/templates/provision/grandstream/gxp21xx/{$mac}.xml ends at "Multipurpose
    Key 18" (P393-P396). An empty (``none``) key 19 renders nothing and is accepted.
    """
    render_with_keys(KeyInfo(19, "none", None))
    with pytest.raises(ValueError, match="1 to 18"):
        render_with_keys(KeyInfo(19, "blf", "102"))


# --- Polycom ------------------------------------------------------------------------------------------------------


def test_a_blf_key_on_a_polycom_phone_is_a_normal_attendant_resource() -> None:
    """``attendant.resourceList.N.address`` (the user part), ``.type="normal"``, ``.label``.

    Polycom Engineering Advisory 62475, "Using Statically Configured Busy Lamp Field" ("normal" users are
    called and have their calls intercepted, "automata" such as park orbits have calls transferred to them;
    https://studylib.net/doc/18383840/using-statically-configured-busy-lamp-field); fusionpbx/fusionpbx
    resources/templates/provision/polycom/6.x/{$mac}.cfg; wazo-platform/wazo-provd-plugins
    plugins/wazo_polycom/common/common.py (_add_fkeys).
    """
    attendant = polycom_elements(render_with_keys(KeyInfo(4, "blf", "102", "Bruno")))["attendant"]
    assert attendant == {"attendant.resourceList.1.address": "102", "attendant.resourceList.1.type": "normal",
                         "attendant.resourceList.1.label": "Bruno"}


def test_a_park_key_on_a_polycom_phone_is_an_automata_resource_numbered_after_the_blf_keys() -> None:
    """Park is an ``automata`` resource (pressing during a call transfers the call to it); the list has no gaps.

    Polycom Engineering Advisory 62475 ("'automata' resources, such as park orbits, have calls transferred to
    them"); fusionpbx/fusionpbx resources/templates/provision/polycom/6.x/{$mac}.cfg (``.type`` normal or
    automata).
    """
    attendant = polycom_elements(render_with_keys(KeyInfo(2, "blf", "102"), KeyInfo(9, "park", "700", "Park")))[
        "attendant"]
    assert attendant == {"attendant.resourceList.1.address": "102", "attendant.resourceList.1.type": "normal",
                         "attendant.resourceList.2.address": "700", "attendant.resourceList.2.type": "automata",
                         "attendant.resourceList.2.label": "Park"}


def test_a_speed_dial_on_a_polycom_phone_is_a_soft_key_that_dials_the_number() -> None:
    """``softkey.N.label/action/enable/use.idle`` with the action ``<number>$Tinvite$``; EFK enabled.

    Polycom SIP 3.1 Administrator's Guide, "Soft Keys <softkey/>" (softkey.x.label, .action "the same syntax as
    the enhanced feature key action", .enable, .use.idle;
    https://www.manualslib.com/manual/521116/Polycom-Sip-3-1.html?page=257); UC Software 5.8 "Macro Actions"
    ($T<type>$ with invite; https://documents.polycom.com/bundle/ucs-ag-5-8/page/r-ucs-ag-macro-actions.html);
    fusionpbx/fusionpbx resources/templates/provision/polycom/6.x/{$mac}.cfg (feature.enhancedFeatureKeys.enabled,
    softkey.N.action "...$Tinvite$").
    """
    elements = polycom_elements(render_with_keys(
        KeyInfo(1, "speed_dial", "+390212345678", "Shop"), KeyInfo(2, "pickup", None)))
    assert elements["feature"] == {"feature.enhancedFeatureKeys.enabled": "1"}
    assert elements["softkey"] == {
        "softkey.1.label": "Shop", "softkey.1.action": "+390212345678$Tinvite$", "softkey.1.enable": "1",
        "softkey.1.use.idle": "1",
        "softkey.2.label": "*8", "softkey.2.action": "*8$Tinvite$", "softkey.2.enable": "1",
        "softkey.2.use.idle": "1"}
    assert "attendant" not in elements


def test_a_line_key_on_a_polycom_phone_is_left_to_the_registration() -> None:
    """Polycom line keys come from the registration (``reg.x.lineKeys``), not from a key list: left out.

    Polycom SIP 3.1 Administrator's Guide, reg.x.lineKeys ("The number of line keys on the phone to be associated
    with registration 'x'", https://www.manualslib.com/manual/521116/Polycom-Sip-3-1.html?page=263).
    """
    assert render_with_keys(KeyInfo(1, "line", "1", "Me"))[POLYCOM] == render_with_keys()[POLYCOM]


# --- Snom ---------------------------------------------------------------------------------------------------------


def test_a_blf_key_on_a_snom_phone_is_fkey_0_blf_with_the_sip_uri() -> None:
    """``<fkey idx="0" context="1" label="..." perm="R">blf sip:102@domain</fkey>``: idx counts from 0.

    https://service.snom.com/display/wiki/%3CfunctionKeys%3E+tag (``<functionKeys>`` inside ``<settings>``, idx
    0...n); https://service.snom.com/display/wiki/Function+Key+Types (blf, speed, orbit, line); Snom D7 User
    Manual, XML provisioning of settings (context = identity number, perm "R" read only, "dest
    sip:123@example.com" arguments; https://www.manualslib.com/manual/1204422/Snom-D7.html?page=20);
    wazo-platform/wazo-provd-plugins plugins/wazo_snom/common/common.py (idx = key number - 1).
    """
    (fkey,) = snom_fkeys(render_with_keys(KeyInfo(1, "blf", "102", "Bruno")))
    assert fkey.attrib == {"idx": "0", "context": "1", "label": "Bruno", "perm": "R"}
    assert fkey.text == "blf sip:102@pbx.acme.example"


def test_snom_speed_dial_park_and_line_keys_use_speed_orbit_and_line() -> None:
    """``speed <number>``, ``orbit <park number>`` (Park Orbit), ``line``; no label attribute without a label.

    https://service.snom.com/display/wiki/Function+Key+Types ("orbit = Park Orbit", "speed = Speed Dial",
    "line = Line"); wazo-platform/wazo-provd-plugins plugins/wazo_snom/common/common.py (speed / orbit / blf
    arguments as "<type> <value>"); fusionpbx/fusionpbx resources/templates/provision/snom/D785/{$mac}.xml.
    """
    fkeys = snom_fkeys(render_with_keys(
        KeyInfo(2, "speed_dial", "+390212345678"), KeyInfo(3, "park", "700", "Park"), KeyInfo(4, "line", "1"),
        KeyInfo(5, "pickup", None, "Pickup"), KeyInfo(6, "agent_login", "*45#")))
    assert [(f.get("idx"), f.get("label"), f.text) for f in fkeys] == [
        ("1", None, "speed +390212345678"), ("2", "Park", "orbit 700"), ("3", None, "line"),
        ("4", "Pickup", "speed *8"), ("5", None, "speed *45#")]
