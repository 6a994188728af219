"""Kamailio registrar data: the db_text ``subscriber`` and ``version`` tables.

The reference config (``deploy/kamailio/kamailio.cfg``) reads these files with
``db_text`` in ``db_mode=1``, authenticates REGISTERs against the precomputed
HA1 digests (``calculate_ha1=0``), and loads the ``extension`` column to refuse
a REGISTER for any number but the account's own.
"""

from __future__ import annotations

import hashlib

from app.config_gen import escaping
from app.config_gen.snapshot import AccountInfo, Snapshot

SUBSCRIBER_PATH = "kamailio/subscriber"
VERSION_PATH = "kamailio/version"

# The plaintext ``password`` column of the stock schema is left out on purpose:
# with calculate_ha1=0 auth_db reads only ``ha1``/``ha1b``, so no password ever
# reaches the registrar host.
_SUBSCRIBER_HEADER = "id(int,auto) username(string) domain(string) ha1(string) ha1b(string) extension(string)"
_VERSION_HEADER = "id(int,auto) table_name(string) table_version(int)"
# auth_db in Kamailio 5.6 expects version 7 of the subscriber table.
_SUBSCRIBER_TABLE_VERSION = 7


def digest_ha1(username: str, realm: str, password: str) -> str:
    """Return the SIP digest HA1, ``md5(username:realm:password)``, as lowercase hex."""
    return hashlib.md5(f"{username}:{realm}:{password}".encode()).hexdigest()


def render_kamailio(snapshot: Snapshot) -> dict[str, str]:
    """Render the db_text ``subscriber`` and ``version`` tables for the active accounts."""
    domain = escaping.hostname(snapshot.organization.sip_domain, "organization SIP domain")
    active = sorted((a for a in snapshot.accounts if a.active), key=lambda a: a.extension)
    rows = [_subscriber_row(row_id, account, domain) for row_id, account in enumerate(active, start=1)]
    return {
        SUBSCRIBER_PATH: "".join(f"{line}\n" for line in [_SUBSCRIBER_HEADER, *rows]),
        VERSION_PATH: f"{_VERSION_HEADER}\n1:subscriber:{_SUBSCRIBER_TABLE_VERSION}\n",
    }


def _subscriber_row(row_id: int, account: AccountInfo, domain: str) -> str:
    what = f"SIP account {account.extension}"
    auth_id = escaping.sip_user(account.auth_id, f"{what} auth_id")
    escaping.require_non_empty(account.password, f"{what} password")
    columns = [
        str(row_id),
        escaping.db_text_value(auth_id, f"{what} auth_id"),
        escaping.db_text_value(domain, "organization SIP domain"),
        digest_ha1(auth_id, domain, account.password),
        digest_ha1(f"{auth_id}@{domain}", domain, account.password),
        str(account.extension),
    ]
    return ":".join(columns)
