"""Phone provisioning files, one directory per device: ``provisioning/<device id>/``.

Each vendor gets its own documented file name and keys. The SIP identity is
always ``<extension>@<organization SIP domain>`` (the digest realm the
registrars use); when the organization has a ``sip_proxy``, phones send their
requests there as an outbound proxy, otherwise straight to the SIP domain on
``options.registrar_port``.

Devices without an account, or whose account is inactive, get no file: the
registrar refuses such an account anyway, and no credentials are published
for it.

The programmable keys of the account's user (``UserInfo.keys``) go into the
same file, in each vendor's own syntax; a key a vendor cannot express is left
out, and a user without keys gets exactly the file they got before keys
existed. Directed pickup keys (``pickup`` with an extension) are left out on
every vendor: the dialplan has only the group pickup code, ``*8``, and the
phones would dial the code followed by the extension.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass

from app.config_gen import escaping
from app.config_gen.asterisk_groups import PICKUP_CODE
from app.config_gen.snapshot import AccountInfo, DeviceInfo, KeyInfo, Snapshot

_MAC = re.compile(r"[0-9a-f]{12}")
_KEY_KINDS = frozenset({"none", "blf", "speed_dial", "line", "pickup", "park",
                        "agent_login", "change_status", "switch"})
# What a key may dial: digits, * and # (feature codes), and a leading + (E.164). Nothing a file syntax reads.
_DIAL_STRING = re.compile(r"\+?[0-9*#]+")


@dataclass(frozen=True, slots=True)
class Registrar:
    """Where a phone registers: its SIP domain and port, and an optional outbound proxy."""

    domain: str
    port: int
    proxy_host: str | None
    proxy_port: int | None
    registration_interval: int
    # The firmware image Polycom phones are sent to (APP_FILE_PATH), on the provisioning server; None: none.
    polycom_firmware: str | None = None


@dataclass(frozen=True, slots=True)
class Line:
    """The values of one phone line (account 1 on the device), already free of control characters."""

    extension: str
    auth_id: str
    password: str
    display_name: str
    label: str


@dataclass(frozen=True, slots=True)
class Key:
    """One programmable key as the renderers write it: a checked value and a label free of control characters.

    ``kind`` is the ``KeyInfo`` kind; ``value`` is only dial characters (a group pickup key holds the pickup
    code); ``label`` is None when the phone shows its own default.
    """

    index: int
    kind: str
    value: str
    label: str | None


def provisioning_filename(vendor: str, mac: str | None) -> str | None:
    """Return the file a device of ``vendor`` fetches first, or None when it has none (unknown vendor, no MAC)."""
    if vendor == "baresip":
        return "accounts"
    name_for_mac = _FILE_NAMES.get(vendor)
    if name_for_mac is None or mac is None or not _MAC.fullmatch(mac):
        return None
    return name_for_mac(mac)


def device_files(vendor: str, mac: str | None, device_id: str) -> dict[str, str]:
    """The files a device may fetch, as {name it asks for: path in the applied set}.

    Desk phones' files sit side by side in ``provisioning/`` under the names the
    vendors use (MACs are unique in an organization), so a plain TFTP/HTTP
    server can serve the directory too; a softphone's ``accounts`` has no MAC and
    gets a directory of its own. The provisioning endpoint serves a device only
    these names, so one device's token never reaches another device's file.
    """
    first = provisioning_filename(vendor, mac)
    if first is None:
        return {}
    if vendor == "baresip":
        return {first: f"provisioning/baresip/{escaping.identifier(device_id, 'device id')}/{first}"}
    names = [first] + ([f"phone{mac}.cfg"] if vendor == "polycom" else [])
    return {name: f"provisioning/{name}" for name in names}


def registrar_for(snapshot: Snapshot) -> Registrar:
    """Work out the registrar address phones use from the organization and deployment options."""
    organization = snapshot.organization
    options = snapshot.options
    domain = escaping.hostname(organization.sip_domain, "organization SIP domain")
    proxy_host = proxy_port = None
    if organization.sip_proxy:
        proxy_host, proxy_port = escaping.host_port(
            organization.sip_proxy, options.registrar_port, "organization SIP proxy"
        )
    if options.registration_interval < 60:
        raise ValueError(f"registration interval must be at least 60 seconds, got {options.registration_interval}")
    return Registrar(domain, options.registrar_port, proxy_host, proxy_port, options.registration_interval,
                     options.polycom_firmware)


def render_provisioning(snapshot: Snapshot) -> dict[str, str]:
    """Render every device's provisioning file(s), at the paths ``device_files`` gives."""
    registrar = registrar_for(snapshot)
    files: dict[str, str] = {}
    for device in sorted(snapshot.devices, key=lambda d: d.id):
        account = device.account
        if account is None or not account.active:
            continue
        renderer = _RENDERERS.get(device.vendor)
        if renderer is None:
            raise ValueError(f"device {device.id}: no provisioning format for vendor {device.vendor!r}")
        paths = device_files(device.vendor, device.mac, device.id)
        for file_name, text in renderer(device, _line(device, account), registrar, _keys(device, account)).items():
            path = paths[file_name]
            if path in files:
                raise ValueError(f"device {device.id}: another device already has the file {file_name}")
            files[path] = text
    return dict(sorted(files.items()))


def _line(device: DeviceInfo, account: AccountInfo) -> Line:
    what = f"device {device.id} (extension {account.extension})"
    user = account.user
    display_name = user.display_name if user is not None and user.display_name else str(account.extension)
    return Line(
        extension=str(account.extension),
        auth_id=escaping.sip_user(account.auth_id, f"{what} auth_id"),
        password=escaping.refuse_control_characters(
            escaping.require_non_empty(account.password, f"{what} password"), f"{what} password"
        ),
        display_name=escaping.refuse_control_characters(display_name, f"{what} display name"),
        label=escaping.refuse_control_characters(device.label or str(account.extension), f"{what} label"),
    )


def _keys(device: DeviceInfo, account: AccountInfo) -> tuple[Key, ...]:
    """The user's keys that can reach a phone, by index: ``none`` and directed pickup keys left out, values checked."""
    user = account.user
    if user is None:
        return ()
    keys: list[Key] = []
    seen: set[int] = set()
    for key in sorted(user.keys, key=lambda k: k.index):
        what = f"device {device.id} (extension {account.extension}) key {key.index}"
        if key.kind not in _KEY_KINDS:
            raise ValueError(f"{what} has an unknown kind {key.kind!r}")
        if key.index < 1 or key.index in seen:
            raise ValueError(f"{what}: key positions start at 1 and hold one key each")
        seen.add(key.index)
        if key.kind == "none":
            continue
        if key.kind == "pickup":
            if key.value is not None:
                # Directed pickup is not in the dialplan (see the module docstring): such a key would fail.
                continue
            value = PICKUP_CODE
        else:
            value = _key_value(key, what)
        if key.kind == "line" and value != "1":
            # The files configure one account, line 1: a key for another line would stay dead.
            continue
        label = escaping.refuse_control_characters(key.label, f"{what} label") if key.label else None
        keys.append(Key(key.index, key.kind, value, label))
    return tuple(keys)


def _key_value(key: KeyInfo, what: str) -> str:
    """The key's value, or ValueError when it is missing or holds anything a phone should not dial."""
    if key.value is None:
        raise ValueError(f"{what} ({key.kind}) has no value")
    if key.kind in ("blf", "line", "park"):
        return escaping.digits(key.value, f"{what} ({key.kind}) value")
    if not _DIAL_STRING.fullmatch(key.value):
        raise ValueError(f"{what} ({key.kind}) value {key.value!r} is not a number to dial")
    return key.value


def _file_name(device: DeviceInfo) -> str:
    name = provisioning_filename(device.vendor, device.mac)
    if name is None:
        raise ValueError(f"device {device.id}: {device.vendor} needs a MAC address of 12 lowercase hex digits")
    return name


def _yealink(device: DeviceInfo, line: Line, registrar: Registrar, keys: tuple[Key, ...]) -> dict[str, str]:
    # A value runs to the end of its line, and Line values hold no line breaks.
    settings = [
        ("account.1.enable", "1"),
        ("account.1.label", line.label),
        ("account.1.display_name", line.display_name),
        ("account.1.auth_name", line.auth_id),
        ("account.1.user_name", line.extension),
        ("account.1.password", line.password),
        ("account.1.sip_server.1.address", registrar.domain),
        ("account.1.sip_server.1.port", str(registrar.port)),
        ("account.1.sip_server.1.transport_type", "0"),  # 0 = UDP
        ("account.1.sip_server.1.expires", str(registrar.registration_interval)),
    ]
    if registrar.proxy_host is not None:
        settings += [
            ("account.1.outbound_proxy_enable", "1"),
            ("account.1.outbound_proxy.1.address", registrar.proxy_host),
            ("account.1.outbound_proxy.1.port", str(registrar.proxy_port)),
        ]
    else:
        settings.append(("account.1.outbound_proxy_enable", "0"))
    settings += _yealink_keys(keys)
    # The first line must be exactly this version marker, or the phone ignores the file.
    text = "#!version:1.0.0.1\n## Generated by Centralino: do not edit, every apply rewrites this file.\n"
    text += "".join(f"{key} = {setting}\n" for key, setting in settings)
    return {_file_name(device): text}


# linekey.N.type codes from Yealink's DSS key table (13 Speed Dial, 15 Line, 16 BLF, 10 Call Park). Group pickup
# and the feature codes are speed dials: the key dials the code, which is all the PBX asks for.
_YEALINK_KEY_TYPES = {"blf": "16", "speed_dial": "13", "line": "15", "pickup": "13", "park": "10",
                      "agent_login": "13", "change_status": "13", "switch": "13"}


def _yealink_keys(keys: tuple[Key, ...]) -> list[tuple[str, str]]:
    """``linekey.N.*`` settings, N the key's position (line keys count from 1), all on account 1.

    No ``linekey.N.pickup_value`` on BLF keys: Yealink dials that code followed by the watched number, and the
    dialplan has no directed pickup (``*8101`` would not exist).
    """
    settings: list[tuple[str, str]] = []
    for key in keys:
        prefix = f"linekey.{key.index}"
        settings += [(f"{prefix}.type", _YEALINK_KEY_TYPES[key.kind]), (f"{prefix}.line", "1")]
        if key.kind != "line":  # a line key is its account (linekey.N.line); it has no value
            settings.append((f"{prefix}.value", key.value))
        if key.label is not None:
            settings.append((f"{prefix}.label", key.label))
    return settings


def _grandstream(device: DeviceInfo, line: Line, registrar: Registrar, keys: tuple[Key, ...]) -> dict[str, str]:
    def text(value: str, what: str) -> str:
        return escaping.xml_text(value, f"device {device.id} {what}")

    file_name = _file_name(device)
    # P-value meanings from Grandstream's configuration templates.
    values = [
        ("P271", "1"),  # account active
        ("P270", text(line.label, "label")),  # account name
        ("P47", f"{registrar.domain}:{registrar.port}"),  # SIP server
    ]
    if registrar.proxy_host is not None:
        values.append(("P48", f"{registrar.proxy_host}:{registrar.proxy_port}"))  # outbound proxy
    values += [
        ("P35", line.extension),  # SIP user ID
        ("P36", text(line.auth_id, "auth_id")),  # authenticate ID
        ("P34", text(line.password, "password")),  # authenticate password
        ("P3", text(line.display_name, "display name")),  # name shown as caller id
        ("P32", str(math.ceil(registrar.registration_interval / 60))),  # register expiration, minutes
    ]
    for key in keys:
        mode = _GRANDSTREAM_KEY_MODES.get(key.kind)
        if mode is None:
            continue
        mode_p, account_p, name_p, value_p = _grandstream_mpk(key.index, f"device {device.id} key {key.index}")
        values += [(mode_p, mode), (account_p, "0")]  # account 0 = Account 1
        if key.label is not None:
            values.append((name_p, text(key.label, f"key {key.index} label")))
        values.append((value_p, text(key.value, f"key {key.index} value")))
    body = "".join(f"    <{key}>{value}</{key}>\n" for key, value in values)
    document = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        "<!-- Generated by Centralino: do not edit, every apply rewrites this file. -->\n"
        '<gs_provision version="1">\n'
        f"  <mac>{device.mac}</mac>\n"
        '  <config version="1">\n'
        f"{body}"
        "  </config>\n"
        "</gs_provision>\n"
    )
    return {file_name: document}


# Multi-purpose key modes (0 Speed Dial, 1 BLF, 9 CallPark). A multi-purpose key has no line mode (the line keys
# are separate P-values), so ``line`` keys are left out; group pickup and feature codes are speed dials.
_GRANDSTREAM_KEY_MODES = {"speed_dial": "0", "blf": "1", "pickup": "0", "park": "9",
                          "agent_login": "0", "change_status": "0", "switch": "0"}


def _grandstream_mpk(index: int, what: str) -> tuple[str, str, str, str]:
    """The P-values (key mode, account, name, value) of multi-purpose key ``index``.

    They follow no single rule: keys 1-7 have their modes in P323-P329 and (account, name, value) triples from
    P301, keys 8-18 four consecutive P-values each from P353. Grandstream's templates document no further keys in
    this format, so a key beyond 18 is refused rather than guessed.
    """
    if 1 <= index <= 7:
        first = 301 + 3 * (index - 1)
        return f"P{322 + index}", f"P{first}", f"P{first + 1}", f"P{first + 2}"
    if 8 <= index <= 18:
        mode = 353 + 4 * (index - 8)
        return f"P{mode}", f"P{mode + 1}", f"P{mode + 2}", f"P{mode + 3}"
    raise ValueError(f"{what}: Grandstream multi-purpose keys are numbered 1 to 18")


def _polycom(device: DeviceInfo, line: Line, registrar: Registrar, keys: tuple[Key, ...]) -> dict[str, str]:
    def attribute(value: str, what: str) -> str:
        return escaping.xml_attribute(value, f"device {device.id} {what}")

    master_file = _file_name(device)
    # The phone first fetches <mac>.cfg, a *master* configuration file that
    # only lists the configuration files to load; the line settings go into
    # the per-phone file it names.
    settings_file = f"phone{device.mac}.cfg"
    master = (
        '<?xml version="1.0" standalone="yes"?>\n'
        "<!-- Generated by Centralino: do not edit, every apply rewrites this file. -->\n"
        f'<APPLICATION APP_FILE_PATH="{attribute(registrar.polycom_firmware or "", "firmware file")}" '
        f'CONFIG_FILES="{settings_file}" MISC_FILES="" '
        'LOG_FILE_DIRECTORY="" OVERRIDES_DIRECTORY="" CONTACTS_DIRECTORY="" LICENSE_DIRECTORY=""/>\n'
    )
    attributes = [
        ("reg.1.displayName", attribute(line.display_name, "display name")),
        ("reg.1.address", line.extension),
        ("reg.1.label", attribute(line.label, "label")),
        ("reg.1.type", "private"),
        ("reg.1.auth.userId", attribute(line.auth_id, "auth_id")),
        ("reg.1.auth.password", attribute(line.password, "password")),
        ("reg.1.server.1.address", registrar.domain),
        ("reg.1.server.1.port", str(registrar.port)),
        ("reg.1.server.1.transport", "UDPOnly"),
        ("reg.1.server.1.expires", str(registrar.registration_interval)),
        ("reg.1.server.1.register", "1"),
    ]
    if registrar.proxy_host is not None:
        attributes += [
            ("reg.1.outboundProxy.address", registrar.proxy_host),
            ("reg.1.outboundProxy.port", str(registrar.proxy_port)),
            ("reg.1.outboundProxy.transport", "UDPOnly"),
        ]
    elements = [("reg", attributes), *_polycom_keys(keys, attribute)]
    settings = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        "<!-- Generated by Centralino: do not edit, every apply rewrites this file. -->\n"
        "<polycomConfig>\n"
        + "".join(
            f"  <{element}\n" + "".join(f'    {name}="{value}"\n' for name, value in values) + "  />\n"
            for element, values in elements
        )
        + "</polycomConfig>\n"
    )
    return {master_file: master, settings_file: settings}


def _polycom_keys(
    keys: tuple[Key, ...], attribute: Callable[[str, str], str]
) -> list[tuple[str, list[tuple[str, str]]]]:
    """The ``<attendant>``, ``<feature>`` and ``<softkey>`` elements for the keys (none without keys).

    BLF and park keys are monitored resources of the attendant list, which the phone lays out on the line keys
    after the registration's own, in list order (so the list is numbered without gaps): ``normal`` for a user
    (pressing calls it), ``automata`` for a park lot (pressing during a call parks the call there). Dialling keys
    (speed dial, group pickup, feature codes) are custom soft keys running an enhanced feature key action: a line
    key can only speed-dial an entry of a contact directory file, which these files do not provision. Line keys
    come from the registration itself (``reg.1.lineKeys``), so ``line`` keys are left out.
    """
    resources: list[tuple[str, str]] = []
    softkeys: list[tuple[str, str]] = []
    resource_count = softkey_count = 0
    for key in keys:
        label = None if key.label is None else attribute(key.label, f"key {key.index} label")
        if key.kind in ("blf", "park"):
            resource_count += 1
            prefix = f"attendant.resourceList.{resource_count}"
            resources += [(f"{prefix}.address", key.value),
                          (f"{prefix}.type", "normal" if key.kind == "blf" else "automata")]
            if label is not None:
                resources.append((f"{prefix}.label", label))
        elif key.kind != "line":
            softkey_count += 1
            prefix = f"softkey.{softkey_count}"
            # "$Tinvite$": dial the digits with a new call. A soft key without a label would be blank.
            softkeys += [(f"{prefix}.label", label or key.value), (f"{prefix}.action", f"{key.value}$Tinvite$"),
                         (f"{prefix}.enable", "1"), (f"{prefix}.use.idle", "1")]
    elements: list[tuple[str, list[tuple[str, str]]]] = []
    if resources:
        elements.append(("attendant", resources))
    if softkeys:
        elements += [("feature", [("feature.enhancedFeatureKeys.enabled", "1")]), ("softkey", softkeys)]
    return elements


def _snom(device: DeviceInfo, line: Line, registrar: Registrar, keys: tuple[Key, ...]) -> dict[str, str]:
    def text(value: str, what: str) -> str:
        return escaping.xml_text(value, f"device {device.id} {what}")

    values = [
        ("user_active", "on"),
        ("user_realname", text(line.display_name, "display name")),
        ("user_name", line.extension),
        ("user_host", f"{registrar.domain}:{registrar.port}"),
        ("user_pname", text(line.auth_id, "auth_id")),  # authentication user
        ("user_pass", text(line.password, "password")),
        ("user_expiry", str(registrar.registration_interval)),
    ]
    if registrar.proxy_host is not None:
        values.append(("user_outbound", f"{registrar.proxy_host}:{registrar.proxy_port};transport=udp"))
    # perm="R": the account is managed here, users must not change it on the phone.
    body = "".join(f'    <{key} idx="1" perm="R">{value}</{key}>\n' for key, value in values)
    document = (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        "<!-- Generated by Centralino: do not edit, every apply rewrites this file. -->\n"
        "<settings>\n"
        "  <phone-settings>\n"
        f"{body}"
        "  </phone-settings>\n"
        f"{_snom_function_keys(device, keys, registrar)}"
        "</settings>\n"
    )
    return {_file_name(device): document}


def _snom_function_keys(device: DeviceInfo, keys: tuple[Key, ...], registrar: Registrar) -> str:
    """The ``<functionKeys>`` element (empty text without keys): ``<fkey idx="N-1">type argument</fkey>``.

    ``idx`` counts from 0; context "1" is identity 1, the only one the file configures. BLF keys subscribe to
    ``sip:<extension>@<SIP domain>``; a park key is a park orbit; dialling keys are speed dials. perm="R": the
    keys are managed here, like the account.
    """
    fkeys = []
    for key in keys:
        if key.kind == "blf":
            argument = f"blf sip:{key.value}@{registrar.domain}"
        elif key.kind == "park":
            argument = f"orbit {key.value}"
        elif key.kind == "line":
            argument = "line"
        else:
            argument = f"speed {key.value}"
        label = ""
        if key.label is not None:
            label = f' label="{escaping.xml_attribute(key.label, f"device {device.id} key {key.index} label")}"'
        argument = escaping.xml_text(argument, f"device {device.id} key {key.index} value")
        fkeys.append(f'    <fkey idx="{key.index - 1}" context="1"{label} perm="R">{argument}</fkey>\n')
    if not fkeys:
        return ""
    return "  <functionKeys>\n" + "".join(fkeys) + "  </functionKeys>\n"


def _own_line_key(line: Line, keys: tuple[Key, ...]) -> tuple[Key, ...]:
    """``keys`` with position 1 as the account's own line key, labelled with the line label, unless a key takes it.

    Fanvil and Cisco MPP phones have no label for the account itself: the label shows on the line key, which is
    position 1 on both by default (Fanvil side key 1 is line SIP1, Cisco line key 1 is extension 1). Writing that
    default with the label keeps what the phone does and shows the label, as ``account.1.label`` does on Yealink.
    """
    if any(key.index == 1 for key in keys):
        return keys
    return (Key(1, "line", "1", line.label), *keys)


def _fanvil(device: DeviceInfo, line: Line, registrar: Registrar, keys: tuple[Key, ...]) -> dict[str, str]:
    """The X-series ``<sysConf>`` XML file (firmware 2.x): SIP line 1 and the DSS side keys."""

    def text(value: str, what: str) -> str:
        return escaping.xml_text(value, f"device {device.id} {what}")

    values = [
        ("PhoneNumber", line.extension),  # the SIP user, in the URI
        ("DisplayName", text(line.display_name, "display name")),
        ("RegisterAddr", registrar.domain),
        ("RegisterPort", str(registrar.port)),
        ("RegisterUser", text(line.auth_id, "auth_id")),  # the authentication user
        ("RegisterPswd", text(line.password, "password")),
        ("RegisterTTL", str(registrar.registration_interval)),
        ("EnableReg", "1"),
        ("Transport", "0"),  # 0 = UDP
    ]
    if registrar.proxy_host is not None:
        values += [
            ("ProxyAddr", registrar.proxy_host),
            ("ProxyPort", str(registrar.proxy_port)),
            ("ProxyUser", text(line.auth_id, "auth_id")),
            ("ProxyPswd", text(line.password, "password")),
        ]
    else:
        values.append(("ProxyAddr", ""))  # no outbound proxy, also when the phone had one before
    body = "".join(f"            <{key}>{value}</{key}>\n" for key, value in values)
    fkeys = []
    for key in _own_line_key(line, keys):
        key_type, value = _fanvil_key(key)
        title = ""
        if key.label is not None:
            title = f"                <Title>{text(key.label, f'key {key.index} label')}</Title>\n"
        fkeys.append(f'            <Fkey index="{key.index}">\n'
                     f"                <Type>{key_type}</Type>\n"
                     f"                <Value>{text(value, f'key {key.index} value')}</Value>\n"
                     f"{title}"
                     "            </Fkey>\n")
    document = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        "<!-- Generated by Centralino: do not edit, every apply rewrites this file. -->\n"
        "<sysConf>\n"
        "    <Version>2.0000000000</Version>\n"
        "    <sip>\n"
        '        <line index="1">\n'
        f"{body}"
        "        </line>\n"
        "    </sip>\n"
        "    <dsskey>\n"
        '        <dssSide index="1">\n'
        f"{''.join(fkeys)}"
        "        </dssSide>\n"
        "    </dsskey>\n"
        "</sysConf>\n"
    )
    return {_file_name(device): document}


# DSS key types: 2 = line (value SIP<n>), 1 = memory key, whose value is <number>@<line>/<function>: f speed dial,
# ba BLF (pressing calls the watched number; during a call, an attended transfer to it), c call park. Group pickup
# and the feature codes are speed dials.
_FANVIL_MEMORY_FUNCTIONS = {"blf": "ba", "park": "c", "speed_dial": "f", "pickup": "f", "agent_login": "f",
                            "change_status": "f", "switch": "f"}


def _fanvil_key(key: Key) -> tuple[str, str]:
    """A key's ``<Type>`` and ``<Value>``: the line key is account 1, SIP1; every other key is on line 1."""
    if key.kind == "line":
        return "2", "SIP1"
    return "1", f"{key.value}@1/{_FANVIL_MEMORY_FUNCTIONS[key.kind]}"


def _cisco_mpp(device: DeviceInfo, line: Line, registrar: Registrar, keys: tuple[Key, ...]) -> dict[str, str]:
    """The multiplatform phones' XML ``<flat-profile>``: extension 1 and the line keys.

    Element names are the web page's field names with ``_`` for spaces and ``_<n>_`` for the extension or key
    number. ua="na": users cannot see or change these settings on the phone (the password included).
    """

    def text(value: str, what: str) -> str:
        return escaping.xml_text(value, f"device {device.id} {what}")

    # The phone strips leading and trailing white space from every value: such a password would not be the one the
    # registrar checks.
    if line.password != line.password.strip():
        raise ValueError(f"device {device.id} password starts or ends with white space, which a Cisco phone drops")
    outbound_proxy = "" if registrar.proxy_host is None else f"{registrar.proxy_host}:{registrar.proxy_port}"
    values = [
        ("Line_Enable_1_", "Yes"),
        ("Display_Name_1_", text(line.display_name, "display name")),
        ("User_ID_1_", line.extension),  # the SIP user, in the URI
        ("Password_1_", text(line.password, "password")),
        ("Auth_ID_1_", text(line.auth_id, "auth_id")),  # the authentication user
        ("Proxy_1_", f"{registrar.domain}:{registrar.port}"),  # the registrar, and the domain of the URI
        ("Outbound_Proxy_1_", outbound_proxy),  # empty: none, also when the phone had one before
        ("Register_1_", "Yes"),
        ("Register_Expires_1_", str(registrar.registration_interval)),
        ("SIP_Transport_1_", "UDP"),
    ]
    # Park keys are left out: a Cisco park key (fnc=prk) parks with the star codes of the phone's Call Park Code and
    # Call Unpark Code, which must be the server's; the dialplan has none (its lot takes calls transferred to it).
    for key in _own_line_key(line, tuple(key for key in keys if key.kind != "park")):
        values += _cisco_line_key(device, key, registrar)
    body = "".join(f'  <{name} ua="na">{value}</{name}>\n' for name, value in values)
    document = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        "<!-- Generated by Centralino: do not edit, every apply rewrites this file. -->\n"
        "<flat-profile>\n"
        f"{body}"
        "</flat-profile>\n"
    )
    return {_file_name(device): document}


def _cisco_line_key(device: DeviceInfo, key: Key, registrar: Registrar) -> list[tuple[str, str]]:
    """Line key N as ``Extension_N_``, ``Short_Name_N_`` and ``Extended_Function_N_`` (all escaped XML text).

    A line key is extension 1 (the account) with no function. Any other key has its extension disabled, which
    the phone requires for a function: ``fnc=blf+sd`` (watch ``sub``, press to call ``ext``; no ``+cp``, whose
    pickup would need directed pickup) or ``fnc=sd`` (call ``ext``: speed dials, group pickup and the feature
    codes), on the SIP domain. The function string is ``;``-separated ``name=value`` pairs with no escape, so a
    ``;`` in the label becomes ``,`` in its ``nme`` (``Short_Name_N_`` keeps the label as it is) and cannot add a
    pair.
    """
    what = f"device {device.id} key {key.index}"
    short_name = []
    if key.label is not None:
        short_name.append((f"Short_Name_{key.index}_", escaping.xml_text(key.label, f"{what} label")))
    if key.kind == "line":
        return [(f"Extension_{key.index}_", "1"), *short_name, (f"Extended_Function_{key.index}_", "")]
    target = f"{key.value}@{registrar.domain}"
    function = f"fnc=blf+sd;sub={target};ext={target}" if key.kind == "blf" else f"fnc=sd;ext={target}"
    if key.label is not None:
        function += f";nme={key.label.replace(';', ',')}"
    return [(f"Extension_{key.index}_", "Disabled"), *short_name,
            (f"Extended_Function_{key.index}_", escaping.xml_text(function, f"{what} function"))]


def _baresip(device: DeviceInfo, line: Line, registrar: Registrar, keys: tuple[Key, ...]) -> dict[str, str]:
    # baresip has no programmable keys: an accounts file holds accounts only, so ``keys`` renders nothing here.
    def quoted(value: str, what: str) -> str:
        return escaping.baresip_quoted(value, f"device {device.id} {what}")

    account = (
        f"{quoted(line.display_name, 'display name')} "
        f"<sip:{line.extension}@{registrar.domain}:{registrar.port};transport=udp>"
        f";auth_user={quoted(line.auth_id, 'auth_id')}"
        f";auth_pass={quoted(line.password, 'password')}"
    )
    if registrar.proxy_host is not None:
        account += f';outbound="sip:{registrar.proxy_host}:{registrar.proxy_port};transport=udp"'
    account += f";regint={registrar.registration_interval}"
    return {_file_name(device): f"# Generated by Centralino: do not edit, every apply rewrites this file.\n{account}\n"}


# The first file each vendor's phones request, named after their MAC address.
_FILE_NAMES: dict[str, Callable[[str], str]] = {
    "yealink": lambda mac: f"{mac}.cfg",
    "grandstream": lambda mac: f"cfg{mac}.xml",
    "polycom": lambda mac: f"{mac}.cfg",  # the master configuration file
    "snom": lambda mac: f"{mac}.xml",
    "fanvil": lambda mac: f"{mac}.cfg",  # what its auto provisioning asks for: <MAC>.cfg
    "cisco_mpp": lambda mac: f"{mac}.xml",  # $MA.xml in a Profile Rule: the MAC in lower-case hex
}

_RENDERERS: dict[str, Callable[[DeviceInfo, Line, Registrar, tuple[Key, ...]], dict[str, str]]] = {
    "yealink": _yealink,
    "grandstream": _grandstream,
    "polycom": _polycom,
    "snom": _snom,
    "fanvil": _fanvil,
    "cisco_mpp": _cisco_mpp,
    "baresip": _baresip,
}
