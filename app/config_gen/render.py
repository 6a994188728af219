"""Render the configuration targets of one organization and tell which files hold secrets."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from app.config_gen.asterisk import PJSIP_PATH, VOICEMAIL_PATH, render_asterisk
from app.config_gen.asterisk_media import CONFERENCE_PINS_PATH
from app.config_gen.asterisk_options import OUTBOUND_PINS_PATH
from app.config_gen.kamailio import SUBSCRIBER_PATH, render_kamailio
from app.config_gen.provisioning import render_provisioning
from app.config_gen.snapshot import Snapshot

Renderer = Callable[[Snapshot], dict[str, str | bytes]]  # text files, or bytes (sounds)

TARGETS: dict[str, Renderer] = {
    "asterisk": render_asterisk,
    "kamailio": render_kamailio,
    "provisioning": render_provisioning,
}

# pjsip.conf holds digest hashes, which are password equivalents for SIP;
# voicemail.conf, conference_pins.conf and outbound_pins.conf hold PINs; the subscriber table holds digest hashes.
_SECRET_FILES = frozenset({PJSIP_PATH, VOICEMAIL_PATH, SUBSCRIBER_PATH, CONFERENCE_PINS_PATH, OUTBOUND_PINS_PATH})
# Every provisioning file carries a SIP password in clear.
_SECRET_PREFIXES = ("provisioning/",)


def render_targets(snapshot: Snapshot, targets: Iterable[str]) -> dict[str, str | bytes]:
    """Render the named targets and merge their files into one dict sorted by path."""
    files: dict[str, str] = {}
    for target in sorted(set(targets)):
        renderer = TARGETS.get(target)
        if renderer is None:
            raise ValueError(f"unknown configuration target {target!r}; known: {', '.join(sorted(TARGETS))}")
        for path, text in renderer(snapshot).items():
            if path in files:
                raise ValueError(f"two targets render the same file {path!r}")
            files[path] = text
    return dict(sorted(files.items()))


def is_secret_path(path: str) -> bool:
    """Tell whether a rendered file holds secrets (passwords, digests or PINs) and must not be world-readable."""
    return path in _SECRET_FILES or path.startswith(_SECRET_PREFIXES)

