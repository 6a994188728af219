"""Fanvil X-series and Cisco MPP provisioning files: names, accounts, keys and escaping, read back like the phones do.

Every test's docstring names where its file names, element names and values were checked: the vendor's manual
or an open-source provisioning template (repository and path). The fixture's phones: Anna (101) has a Fanvil
X4U ("Sales desk"), the pool account 104 (password ``pool&<Secret>"104"``) a Cisco 8841 ("Back office"), and
gets a user here when it needs keys. The last tests create both phones through the API and fetch their files.
"""

from __future__ import annotations

import dataclasses
from urllib.parse import urlsplit
from xml.etree import ElementTree

import pytest
from golden_snapshot import BRUNO, PASSWORDS, fixture_snapshot, with_account, with_anna

from app.config_gen.provisioning import device_files, provisioning_filename, render_provisioning
from app.config_gen.snapshot import KeyInfo, Snapshot

FANVIL = "provisioning/0c383eaabb08.cfg"
CISCO = "provisioning/00562baabb09.xml"
HOSTILE_PASSWORDS = ['p"w', "p<w>&x", "p;w", "]]>", "p w", "p=w;fnc=dnd", "&amp;"]


def render_with_keys(*keys: KeyInfo) -> dict[str, str]:
    """Render with ``keys`` for Anna (the Fanvil) and for a user given to account 104 (the Cisco)."""
    snapshot = with_anna(fixture_snapshot(), keys=keys)
    snapshot = with_account(snapshot, 104, user=dataclasses.replace(BRUNO, keys=keys))
    return render_provisioning(snapshot)


def without_baresip(snapshot: Snapshot) -> Snapshot:
    """Anna's devices without her baresip softphone, which refuses a ``"`` in a password (a quoted value)."""
    return dataclasses.replace(snapshot, devices=tuple(d for d in snapshot.devices if d.vendor != "baresip"))


def without_proxy(snapshot: Snapshot) -> Snapshot:
    return dataclasses.replace(snapshot, organization=dataclasses.replace(snapshot.organization, sip_proxy=None))


def fanvil_line(text: str) -> dict[str, str]:
    """The settings of SIP line 1, ``<sysConf><sip><line index="1">``, as {element: text}."""
    root = ElementTree.fromstring(text)
    assert root.tag == "sysConf"
    (line,) = root.findall("sip/line")
    assert line.get("index") == "1"
    return {child.tag: child.text or "" for child in line}


def fanvil_keys(text: str) -> dict[int, dict[str, str]]:
    """The DSS side keys of page 1, as {Fkey index: {Type, Value[, Title]}}."""
    (side,) = ElementTree.fromstring(text).findall("dsskey/dssSide")
    assert side.get("index") == "1"
    keys = {int(fkey.get("index")): {child.tag: child.text or "" for child in fkey} for fkey in side}
    assert len(keys) == len(side), "one Fkey per index"
    return keys


def cisco_profile(text: str) -> dict[str, str]:
    """The ``<flat-profile>`` parameters as {element: text}, each once and read-only for the phone's user."""
    root = ElementTree.fromstring(text)
    assert root.tag == "flat-profile"
    assert all(child.get("ua") == "na" for child in root)
    profile = {child.tag: child.text or "" for child in root}
    assert len(profile) == len(root), "a later duplicate would silently override an earlier parameter"
    return profile


def function_fields(function: str) -> dict[str, str]:
    """Split an Extended Function ``fnc=type(;name=value)*`` the way the phone does: pairs at ``;``."""
    pairs = [field.split("=", 1) for field in function.split(";")]
    fields = dict(pairs)
    assert len(fields) == len(pairs)
    return fields


# --- Fanvil -------------------------------------------------------------------------------------------------------


def test_a_fanvil_phone_fetches_its_mac_dot_cfg_in_lower_case() -> None:
    """X-series auto provisioning asks the server for ``<mac>.cfg``: 12 lower-case hex digits, then ``.cfg``.

    wazo-platform/wazo-provd-plugins plugins/wazo_fanvil/common/common.py (``_dev_specific_filename``:
    ``format_mac(mac, separator='', uppercase=False)`` + ``.cfg``; the device extractor matches requests on
    ``[\\da-f]{12}\\.cfg``); fusionpbx/fusionpbx resources/templates/provision/fanvil/x4u/{$mac}.cfg. The
    provisioning endpoint answers other cases of the MAC too (tests/api/test_phone_requests.py).
    """
    assert provisioning_filename("fanvil", "0c383eaabb08") == "0c383eaabb08.cfg"
    assert device_files("fanvil", "0c383eaabb08", "dev-08") == {"0c383eaabb08.cfg": FANVIL}
    assert provisioning_filename("fanvil", None) is None
    assert FANVIL in render_provisioning(fixture_snapshot())


def test_the_fanvil_file_is_the_x_series_sysconf_xml() -> None:
    """Current X-series firmware (X4U, X6U, X210...) reads the XML ``<sysConf>`` file with ``<Version>``.

    fusionpbx/fusionpbx resources/templates/provision/fanvil/x4u/{$mac}.cfg ("optimized for firmware ver 2.2.10
    and newer"; also x6u, x210), wazo-platform/wazo-provd-plugins plugins/wazo_fanvil/common/templates/
    base-new.tpl (used by X4U.tpl, X6U.tpl, X210.tpl of plugins/wazo_fanvil/serie_x): ``<?xml ...?>``,
    ``<sysConf><Version>2.0000000000</Version>``, ``<sip><line index="1">``, ``<dsskey><dssSide index="1">``.
    The older ``<<VOIP CONFIG FILE>>`` text and ``<VOIP_CONFIG_FILE>`` formats are those of earlier models (x3sp, x4).
    """
    text = render_provisioning(fixture_snapshot())[FANVIL]
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    root = ElementTree.fromstring(text)
    assert [child.tag for child in root] == ["Version", "sip", "dsskey"]
    assert root.findtext("Version") == "2.0000000000"


def test_the_fanvil_line_registers_the_extension_with_the_auth_id_on_the_sip_domain() -> None:
    """``PhoneNumber`` (URI user) = extension, ``RegisterUser`` = auth ID, ``RegisterPswd``, ``RegisterAddr``/
    ``RegisterPort``, ``RegisterTTL`` (expiry), ``EnableReg``, ``Transport`` 0 (UDP), ``DisplayName``.

    fusionpbx/fusionpbx resources/templates/provision/fanvil/x4u/{$mac}.cfg (PhoneNumber = user_id, RegisterUser
    = auth_id, RegisterTTL = register_expires, Transport 0 for udp); wazo-platform/wazo-provd-plugins
    plugins/wazo_fanvil/common/common.py (``_SIP_TRANSPORT``: udp '0').
    """
    line = fanvil_line(render_provisioning(fixture_snapshot())[FANVIL])
    assert {key: line[key] for key in ("PhoneNumber", "RegisterUser", "RegisterPswd", "RegisterAddr", "RegisterPort",
                                       "RegisterTTL", "EnableReg", "Transport", "DisplayName")} == {
        "PhoneNumber": "101", "RegisterUser": "u101x", "RegisterPswd": PASSWORDS[101],
        "RegisterAddr": "pbx.acme.example", "RegisterPort": "5060", "RegisterTTL": "600", "EnableReg": "1",
        "Transport": "0", "DisplayName": "Anna Rossi"}


def test_the_fanvil_line_sends_through_the_outbound_proxy_and_clears_it_without_one() -> None:
    """``ProxyAddr``/``ProxyPort`` with ``ProxyUser``/``ProxyPswd`` (the same credentials) when the organization has
    a SIP proxy; an empty ``ProxyAddr`` otherwise, so a proxy provisioned before does not stay on the phone.

    fusionpbx/fusionpbx resources/templates/provision/fanvil/x4u/{$mac}.cfg (ProxyAddr = outbound_proxy_primary,
    ProxyUser = auth_id, ProxyPswd = password); wazo-platform/wazo-provd-plugins plugins/wazo_fanvil/common/
    templates/base-new.tpl (ProxyAddr, ProxyPort, ProxyUser, ProxyPswd).
    """
    line = fanvil_line(render_provisioning(fixture_snapshot())[FANVIL])
    assert [line[key] for key in ("ProxyAddr", "ProxyPort", "ProxyUser", "ProxyPswd")] == [
        "sip.acme.example", "5070", "u101x", PASSWORDS[101]]
    line = fanvil_line(render_provisioning(without_proxy(fixture_snapshot()))[FANVIL])
    assert line["ProxyAddr"] == ""
    assert not {"ProxyPort", "ProxyUser", "ProxyPswd"} & set(line)
    assert line["RegisterAddr"] == "pbx.acme.example"


@pytest.mark.parametrize("password", HOSTILE_PASSWORDS)
def test_a_fanvil_password_round_trips_through_xml_escaping(password: str) -> None:
    """Passwords are XML text (escaping.xml_text): what the phone's XML parser reads is the password itself.

    The file is XML (fusionpbx/fusionpbx resources/templates/provision/fanvil/x4u/{$mac}.cfg).
    """
    files = render_provisioning(without_baresip(with_account(fixture_snapshot(), 101, password=password)))
    line = fanvil_line(files[FANVIL])
    assert line["RegisterPswd"] == line["ProxyPswd"] == password


def test_a_fanvil_without_keys_labels_its_line_key() -> None:
    """Side key 1 is line SIP1 by default: it stays so, titled with the device label (the account has no label).

    wazo-platform/wazo-provd-plugins plugins/wazo_fanvil/common/templates/base-new.tpl (line keys:
    ``<Fkey index="n"><Type>2</Type><Value>SIP{n}</Value><Title>``); fusionpbx/fusionpbx
    resources/templates/provision/fanvil/x4u/{$mac}.cfg (type 2 = line, value ``SIP<line>``).
    """
    for files in (render_provisioning(fixture_snapshot()), render_with_keys(KeyInfo(1, "none", None))):
        assert fanvil_keys(files[FANVIL]) == {1: {"Type": "2", "Value": "SIP1", "Title": "Sales desk"}}


def test_fanvil_keys_are_memory_keys_blf_speed_dial_and_park_on_line_1() -> None:
    """Memory key type 1 with ``<number>@<line>/<function>``: ``ba`` BLF, ``f`` speed dial, ``c`` call park; the
    group pickup code and feature codes are speed dials; a line key is type 2 ``SIP1``. No label: no ``Title``.

    wazo-platform/wazo-provd-plugins plugins/wazo_fanvil/common/common.py (``_format_funckey_speeddial``
    ``{value}@{line}/f``, ``_format_funckey_blf`` ``{value}@{line}/ba``, ``_format_funckey_call_park``
    ``{value}@{line}/c``, type 1 for speed dial and BLF); fusionpbx/fusionpbx app/devices/app_config.php (Fanvil
    key functions: f "Speed Dial", ba "BLF - Attended Transfer", c "Call Park", line 1) and
    resources/templates/provision/fanvil/x4u/{$mac}.cfg (type 1 with ``{value}@{line}/{type}``, type 2 ``SIP{line}``).
    No pickup code follows the BLF value: that would be directed pickup, which the dialplan lacks.
    """
    files = render_with_keys(
        KeyInfo(1, "blf", "102", "Bruno"), KeyInfo(2, "speed_dial", "+390212345678"), KeyInfo(3, "park", "700", "Park"),
        KeyInfo(4, "pickup", None, "Pickup"), KeyInfo(5, "change_status", "*75#"), KeyInfo(6, "line", "1", "Me"))
    keys = fanvil_keys(files[FANVIL])
    assert keys == {
        1: {"Type": "1", "Value": "102@1/ba", "Title": "Bruno"},
        2: {"Type": "1", "Value": "+390212345678@1/f"},
        3: {"Type": "1", "Value": "700@1/c", "Title": "Park"},
        4: {"Type": "1", "Value": "*8@1/f", "Title": "Pickup"},
        5: {"Type": "1", "Value": "*75#@1/f"},
        6: {"Type": "2", "Value": "SIP1", "Title": "Me"},
    }


def test_a_fanvil_key_at_position_1_replaces_the_labelled_line_key_and_dead_keys_are_left_out() -> None:
    """A key at position 1 takes it (no line key is added); a line key for another account and directed pickup
    are left out as on every vendor (app.config_gen.provisioning module docstring).

    wazo-platform/wazo-provd-plugins plugins/wazo_fanvil/common/templates/base-new.tpl (one ``Fkey`` per index).
    """
    keys = fanvil_keys(render_with_keys(
        KeyInfo(1, "speed_dial", "103"), KeyInfo(2, "line", "2"), KeyInfo(3, "pickup", "102"))[FANVIL])
    assert keys == {1: {"Type": "1", "Value": "103@1/f"}}


def test_a_hostile_fanvil_label_or_display_name_stays_text() -> None:
    """Labels and names are XML text (escaping.xml_text): ``</Title><Type>`` or ``&`` cannot add an element.

    The key's elements per wazo-platform/wazo-provd-plugins plugins/wazo_fanvil/common/templates/base-new.tpl.
    """
    hostile = 'Bruno </Title><Type>2</Type> & "co"'
    files = render_provisioning(with_anna(fixture_snapshot(), last_name="</DisplayName><EnableReg>0</EnableReg>",
                                          keys=(KeyInfo(2, "blf", "102", hostile),)))
    keys = fanvil_keys(files[FANVIL])
    assert keys[2] == {"Type": "1", "Value": "102@1/ba", "Title": hostile}
    line = fanvil_line(files[FANVIL])
    assert line["DisplayName"] == "Anna </DisplayName><EnableReg>0</EnableReg>"
    assert line["EnableReg"] == "1"


# --- Cisco MPP ----------------------------------------------------------------------------------------------------


def test_a_cisco_mpp_phone_fetches_the_lower_case_mac_dot_xml_its_profile_rule_names() -> None:
    """The file is ``<mac>.xml``: what a Profile Rule ``<provisioning URL>$MA.xml`` asks for, ``$MA`` being "MAC
    address using lower case hex digits, for example, 000e08aabbcc". (The factory rule, ``/$PSN.xml``, names the
    model, not the phone, and cannot carry the secret URL.)

    Cisco IP Phone 7800 Series and 7832 Multiplatform Phones Provisioning Guide, "Provisioning Parameters"
    (Profile Rule default ``/$PSN.xml``; macro variables MA, MAU, MAC; https://www.cisco.com/c/en/us/td/docs/
    voice_ip_comm/cuipph/MPP/7800/english/provisioning/pa2d_b_mpp-7800-provisioning-guide/
    pa2d_b_mpp-7800-provisioning-guide_chapter_0100.html); wazo-platform/wazo-provd-plugins
    plugins/wazo_cisco_sip/v12_0_1/templates/common/model.cfg.tpl (``<Profile_Rule_C>.../$MA.xml``).
    """
    assert provisioning_filename("cisco_mpp", "00562baabb09") == "00562baabb09.xml"
    assert device_files("cisco_mpp", "00562baabb09", "dev-09") == {"00562baabb09.xml": CISCO}
    assert provisioning_filename("cisco_mpp", None) is None
    assert CISCO in render_provisioning(fixture_snapshot())


def test_the_cisco_file_is_a_flat_profile_of_extension_1() -> None:
    """``<flat-profile>`` with ``Line_Enable_1_``, ``Display_Name_1_``, ``User_ID_1_`` (URI user = extension),
    ``Password_1_``, ``Auth_ID_1_`` (authentication user), ``Proxy_1_`` (SIP domain and port), ``Register_1_``,
    ``Register_Expires_1_`` and ``SIP_Transport_1_``, all ``ua="na"``. Element names are the web fields with ``_``
    for spaces and ``_1_`` for "[1]". No ``Use_Auth_ID_1_``: that is an SPA field; an MPP line uses its Auth ID
    when one is set.

    Cisco IP Conference Phone 7832 Multiplatform Phones Administration Guide, "Provisioning Formats" (element
    names, ua attribute, XML escapes; https://www.cisco.com/c/en/us/td/docs/voice_ip_comm/cuipph/MPP/7832/english/
    AG/cs78_b_7832-mpp-ag_new/cs78_b_7832-mpp-adminguide_chapter_0101.html); wazo-platform/wazo-provd-plugins
    plugins/wazo_cisco_sip/v12_0_1/templates/base.tpl (Line_Enable, Proxy = ip:port, Display_Name, User_ID,
    Password, Auth_ID); fusionpbx/fusionpbx resources/templates/provision/cisco/8841/{$mac}.xml (Register_1_,
    Register_Expires_1_, SIP_Transport_1_; Use_Auth_ID_1_ only in its spa templates).
    """
    text = render_provisioning(fixture_snapshot())[CISCO]
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    profile = cisco_profile(text)
    assert {key: profile[key] for key in (
        "Line_Enable_1_", "Display_Name_1_", "User_ID_1_", "Password_1_", "Auth_ID_1_", "Proxy_1_", "Register_1_",
        "Register_Expires_1_", "SIP_Transport_1_")} == {
        "Line_Enable_1_": "Yes", "Display_Name_1_": "104", "User_ID_1_": "104", "Password_1_": PASSWORDS[104],
        "Auth_ID_1_": "u104x", "Proxy_1_": "pbx.acme.example:5060", "Register_1_": "Yes", "Register_Expires_1_": "600",
        "SIP_Transport_1_": "UDP"}
    assert "Use_Auth_ID_1_" not in profile


def test_the_cisco_line_sends_through_the_outbound_proxy_and_clears_it_without_one() -> None:
    """``Outbound_Proxy_1_`` is ``host:port`` of the organization's SIP proxy, or empty: an element with no value
    sets the parameter to empty (a self-closing one would leave the phone's value).

    Cisco 7832 MPP Administration Guide, "Provisioning Formats" ("Use an empty value to set the corresponding
    parameter to an empty string"; URL above); fusionpbx/fusionpbx resources/templates/provision/cisco/8841/
    {$mac}.xml (``<Outbound_Proxy_1_>`` = outbound_proxy_primary).
    """
    assert cisco_profile(render_provisioning(fixture_snapshot())[CISCO])["Outbound_Proxy_1_"] == "sip.acme.example:5070"
    text = render_provisioning(without_proxy(fixture_snapshot()))[CISCO]
    assert '<Outbound_Proxy_1_ ua="na"></Outbound_Proxy_1_>' in text
    assert cisco_profile(text)["Proxy_1_"] == "pbx.acme.example:5060"


@pytest.mark.parametrize("password", HOSTILE_PASSWORDS)
def test_a_cisco_password_round_trips_through_xml_escaping(password: str) -> None:
    """``&``, ``<``, ``>`` are escaped (escaping.xml_text); the phone reads the basic XML escapes.

    Cisco 7832 MPP Administration Guide, "Provisioning Formats", String Formats (XML escapes; URL above).
    """
    files = render_provisioning(with_account(fixture_snapshot(), 104, password=password))
    assert cisco_profile(files[CISCO])["Password_1_"] == password


@pytest.mark.parametrize("password", [" pw", "pw ", "\tpw"])
def test_a_cisco_password_with_outer_white_space_is_refused(password: str) -> None:
    """"Leading and trailing white space is allowed for readability but is removed from the parameter value": the
    phone would authenticate with another password than the registrar's, so such a password is refused.

    Cisco 7832 MPP Administration Guide, "Provisioning Formats", String Formats (URL above). A tab is a control
    character and is refused before that (escaping.refuse_control_characters).
    """
    with pytest.raises(ValueError, match="white space|control character"):
        render_provisioning(with_account(fixture_snapshot(), 104, password=password))


def test_a_cisco_without_keys_labels_line_key_1_with_the_device_label() -> None:
    """Line key 1 is extension 1 by default (``Extension_n_`` default n); it stays so, with the device label as its
    ``Short_Name_1_`` and no extended function.

    XML Reference Guide for Cisco IP Phone Multiplatform Phones, ``Extension_n_`` ("Default Value: n", "n|Disabled")
    and ``Extended_Function_n_`` (https://www.cisco.com/c/en/us/td/docs/voice_ip_comm/cuipph/MPP/common/
    xml_ref_guide/tpcc_b_xml-command-ref.html); fusionpbx/fusionpbx resources/templates/provision/cisco/8841/
    {$mac}.xml (Extension_n_, Short_Name_n_, Extended_Function_n_ per line key).
    """
    for files in (render_provisioning(fixture_snapshot()), render_with_keys(KeyInfo(1, "none", None))):
        profile = cisco_profile(files[CISCO])
        assert {key: value for key, value in profile.items() if key[:-3].endswith(("Extension", "Short_Name",
                                                                                    "Extended_Function"))} == {
            "Extension_1_": "1", "Short_Name_1_": "Back office", "Extended_Function_1_": ""}


def test_a_blf_key_on_a_cisco_phone_is_a_disabled_extension_with_blf_and_speed_dial() -> None:
    """``Extension_N_`` Disabled, ``Short_Name_N_`` the label, ``Extended_Function_N_``
    ``fnc=blf+sd;sub=<ext>@<domain>;ext=<ext>@<domain>;nme=<label>``: watch the colleague, press to call. No ``cp``
    (BLF call pickup would need directed pickup, which the dialplan lacks).

    Cisco IP Phone 6800 Series MPP Administration Guide, Key Expansion Module chapter ("fnc=blf+sd;sub=...",
    "You can also enable busy lamp field only with call pickup or speed dial"; https://www.cisco.com/c/en/us/td/
    docs/voice_ip_comm/cuipph/MPP/6800/english/AG/p680_b_6800-mpp-ag_new/p680_m_6800-kem-1112.html); XML Reference
    Guide (Extended_Function_n_: "fnc=type(;name=value)*", on a line key whose Extension is disabled; URL above);
    wazo-platform/wazo-provd-plugins plugins/wazo_cisco_sip/v12_0_1/common.py (``_add_fkeys``: Extension
    Disabled, Short_Name, ``fnc=sd+blf+cp;sub={value}@$PROXY;nme={label}``).
    """
    profile = cisco_profile(render_with_keys(KeyInfo(2, "blf", "102", "Bruno"))[CISCO])
    assert (profile["Extension_2_"], profile["Short_Name_2_"]) == ("Disabled", "Bruno")
    assert function_fields(profile["Extended_Function_2_"]) == {
        "fnc": "blf+sd", "sub": "102@pbx.acme.example", "ext": "102@pbx.acme.example", "nme": "Bruno"}
    assert profile["Extension_1_"] == "1"


def test_cisco_speed_dials_pickup_and_codes_are_fnc_sd_and_line_keys_are_extension_1() -> None:
    """``fnc=sd;ext=<number>@<domain>[;nme=<label>]`` for speed dials, the group pickup code and feature codes
    (star codes are speed dials too); a line key is ``Extension_N_`` 1 with an empty function.

    Cisco IP Phone 7800 Series MPP Administration Guide, Phone Features and Setup ("fnc=sd;ext=starcode@$PROXY;
    nme=name"; https://www.cisco.com/c/en/us/td/docs/voice_ip_comm/cuipph/MPP/7800/english/adminguide/
    administration/pa2d_b_7800-mpp-ag-11/pa2d_b_7800-mpp-ag-11_chapter_01011.html); XML Reference Guide (PSK
    "fnc=sd;ext=extension_number@$PROXY;...;nme=display_name", "Vertical Service Activation Code: fnc=sd;
    ext=star_code@$PROXY"; URL above); wazo-platform/wazo-provd-plugins plugins/wazo_cisco_sip/v12_0_1/common.py
    (``fnc=sd;ext={value}@$PROXY;nme={label}``).
    """
    profile = cisco_profile(render_with_keys(
        KeyInfo(1, "line", "1", "Me"), KeyInfo(2, "speed_dial", "+390212345678"), KeyInfo(3, "pickup", None, "Pickup"),
        KeyInfo(4, "agent_login", "*45#"))[CISCO])
    assert (profile["Extension_1_"], profile["Short_Name_1_"], profile["Extended_Function_1_"]) == ("1", "Me", "")
    assert profile["Extension_2_"] == "Disabled" and "Short_Name_2_" not in profile
    assert profile["Extended_Function_2_"] == "fnc=sd;ext=+390212345678@pbx.acme.example"
    assert profile["Extended_Function_3_"] == "fnc=sd;ext=*8@pbx.acme.example;nme=Pickup"
    assert profile["Extended_Function_4_"] == "fnc=sd;ext=*45#@pbx.acme.example"


def test_a_park_key_is_left_out_on_a_cisco_phone() -> None:
    """A Cisco park key (``fnc=prk``) parks with the phone's Call Park Code and Call Unpark Code, which "must
    match the Feature Access Code configured on the server"; the dialplan's lot takes transferred calls and has no
    such codes, so the key is left out, and line key 1 keeps the account when the park key was there.

    Cisco IP Phone 7800 Series MPP Administration Guide, Phone Features and Setup, "Call Park" ("Configure Call Park
    with Star Codes", "Add Call Park to a Programmable Line Key": fnc=prk;sub=...; URL above).
    """
    assert render_with_keys(KeyInfo(3, "park", "700", "Park"))[CISCO] == render_with_keys()[CISCO]
    profile = cisco_profile(render_with_keys(KeyInfo(1, "park", "700", "Park"))[CISCO])
    assert (profile["Extension_1_"], profile["Short_Name_1_"]) == ("1", "Back office")
    assert "prk" not in render_with_keys(KeyInfo(1, "park", "700", "Park"))[CISCO]


@pytest.mark.parametrize("label", ["Bruno; fnc=dnd", "a;ext=900123456@evil.example", 'R&D </Short_Name_3_> "x"'])
def test_a_hostile_cisco_label_cannot_add_a_function_field_or_an_element(label: str) -> None:
    """The function string has no escape for ``;``: a label's ``;`` becomes ``,`` in ``nme``, the last field, so a
    label cannot add ``fnc``/``ext`` fields; ``Short_Name_N_`` keeps the label as it is (XML text).

    XML Reference Guide, Extended_Function_n_ ("fnc=type(;name=value)*"; URL above); Cisco 7832 MPP
    Administration Guide, "Provisioning Formats" (XML escapes; URL above).
    """
    profile = cisco_profile(render_with_keys(KeyInfo(3, "speed_dial", "103", label))[CISCO])
    assert profile["Short_Name_3_"] == label
    fields = function_fields(profile["Extended_Function_3_"])
    assert fields == {"fnc": "sd", "ext": "103@pbx.acme.example", "nme": label.replace(";", ",")}


@pytest.mark.parametrize("label", ["a\nb", "a\rb", "a\x00b", "a\u2028b"])
def test_a_label_with_a_control_character_is_refused_for_both_vendors(label: str) -> None:
    """Control characters are refused (escaping.refuse_control_characters), never written: the Cisco parser turns
    new lines within a value into spaces, and no file should carry them (Cisco 7832 MPP Administration Guide,
    "Provisioning Formats"; URL above).
    """
    snapshot = fixture_snapshot()
    for device_id in ("dev-08", "dev-09"):
        devices = tuple(dataclasses.replace(d, label=label) if d.id == device_id else d for d in snapshot.devices)
        with pytest.raises(ValueError, match=f"device {device_id} .*control character"):
            render_provisioning(dataclasses.replace(snapshot, devices=devices))
    with pytest.raises(ValueError, match="control character"):
        render_with_keys(KeyInfo(2, "blf", "102", label))


# --- Through the API ----------------------------------------------------------------------------------------------


async def _phone(api, vendor: str, mac: str, model: str) -> dict:
    user = await api.create_user(extension="next")
    created = await api.post("/api/v1/devices", json={"vendor": vendor, "mac": mac, "model": model,
                                                      "sip_account_id": user["sip_account"]["id"]})
    assert created.status_code == 201, created.text
    return created.json() | {"extension": str(user["sip_account"]["extension"])}


async def test_fanvil_and_cisco_phones_created_through_the_api_fetch_their_files_by_mac(api):
    """``POST /api/v1/devices`` takes ``fanvil`` and ``cisco_mpp`` (with a MAC in any usual form), names the file
    the phone asks for, and after an apply the phone gets it behind its secret URL, whatever the MAC's case.

    The requests as a Fanvil and a Cisco MPP make them (see the file-name tests above for the sources).
    """
    fanvil = await _phone(api, "fanvil", "0C:38:3E:11:22:33", "X4U")
    cisco = await _phone(api, "cisco_mpp", "0062.EC11.2233", "CP-8841-3PCC")
    assert fanvil["provisioning_filename"] == "0c383e112233.cfg"
    assert cisco["provisioning_filename"] == "0062ec112233.xml"
    assert (await api.post("/api/v1/config/apply", json={})).status_code == 200

    base = {name: urlsplit(device["provisioning_url"]).path for name, device in (("fanvil", fanvil), ("cisco", cisco))}
    for asked in ("0c383e112233.cfg", "0C383E112233.cfg"):
        response = await api.client.get(f"{base['fanvil']}{asked}")
        assert response.status_code == 200, asked
        assert fanvil_line(response.text)["PhoneNumber"] == fanvil["extension"]
    response = await api.client.get(f"{base['cisco']}0062ec112233.xml")  # $MA.xml
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/xml")
    assert cisco_profile(response.text)["User_ID_1_"] == cisco["extension"]
    # Each URL serves its own phone only.
    assert (await api.client.get(f"{base['fanvil']}0062ec112233.xml")).status_code == 404
    assert (await api.client.get(f"{base['cisco']}0c383e112233.cfg")).status_code == 404


@pytest.mark.parametrize("vendor", ["fanvil", "cisco_mpp"])
async def test_a_fanvil_or_cisco_phone_needs_its_mac(api, vendor: str):
    """Both are desk phones found by their MAC (app.models.devices.HARDWARE_VENDORS): without one, a 422."""
    response = await api.post("/api/v1/devices", json={"vendor": vendor})
    assert response.status_code == 422, response.text
    assert "MAC" in response.text
