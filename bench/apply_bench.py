"""Apply benchmark: one 900-account organization, then 100 of them applied one after another.

    make bench                      # SQLite and PostgreSQL
    python -m bench.apply_bench --backend sqlite --orgs 100 --accounts 900 --groups 50 --group-size 20

Each account has a user (with voicemail, its own forwarding rules and 10 phone keys) and a Yealink phone. Every user is in DEFAULT; 50 dialable
groups (ring all, hunt and queue in turn) of 20 members each are led by a manager holding every right,
two members per group may pick up calls, and the organization has a parking lot. 500 DIDs each have an
inbound rule to a user; half of them follow the default office hours (voicemail after hours). 20 outbound
routes (levels 0-95, two patterns each) share 3 trunks in failover order. 10 conference rooms (with PINs) and
10 IVR menus (a 5-second greeting each, three options) are dialable above the accounts' numbers. Prints wall time,
SQL statements and peak memory (RSS) per case. PostgreSQL runs in a throwaway
database created and dropped here (CENTRALINO_TEST_PG, default postgresql://postgres@127.0.0.1:5432/test).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import event, insert, select

from app.core.context import Context, system_principal
from bench.databases import create_database, drop_database
from app.core.db import PHASED, create_engine, create_sessionmaker, session_scope
from app.core.migrations import upgrade_async
from app.core.security import SecretBox, generate_auth_id, generate_sip_password
from app.core.settings import Settings
from app.models import (Device, Did, Group, GroupMember, InboundRule, Organization, SipAccount, User, UserForwarding,
                        UserKeys)
from app.models.forwarding import default_document
from app.models.office_hours import OfficeHours
from app.models.conferences import Conference
from app.models.ivr_menus import IvrGreeting, IvrMenu
from app.models.trunks import OutboundRoute, Trunk
from app.models.groups import DEFAULT_RIGHTS, GroupRole
from app.models.config import ApplyRequest
from app.models.organizations import OrganizationCreate
from app.services import config, organizations



def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def group_rows(org_id, user_ids: list, groups: int, group_size: int) -> tuple[list[dict], list[dict]]:
    """Dialable groups above the accounts' numbers, each with a manager holding every right and members."""
    strategies = ("ring_all", "hunt", "queue")
    rows, members = [], []
    for g in range(groups):
        group_id = uuid.uuid4()
        rows.append({"id": group_id, "organization_id": org_id, "name": f"Team {g}", "extension": 1000 + g,
                     "ring_strategy": strategies[g % 3], "ring_timeout": 20,
                     "no_answer_destination": {"type": "user", "user_id": str(user_ids[g])}})
        for position in range(group_size):
            role = GroupRole.manager if position == 0 else GroupRole.member
            rights = {**DEFAULT_RIGHTS[role], **({"operate_calls": True} if position in (1, 2) else {})}
            members.append({"group_id": group_id, "user_id": user_ids[(g * group_size + position) % len(user_ids)],
                            "organization_id": org_id, "role": role, "position": position, **rights})
    return rows, members


def call_handling_rows(org_id, user_ids: list) -> tuple[list[dict], list[dict]]:
    """Per user: forwarding rules of its own (busy to the next colleague, an exception, an outside number when
    away) and 10 keys (line, 8 BLF keys on the next colleagues, pickup)."""
    forwarding, keys = [], []
    for n, user_id in enumerate(user_ids):
        colleague = str(user_ids[(n + 1) % len(user_ids)])
        document = default_document(True)
        document["available"] = {**document["available"], "internal": {
            **document["available"]["internal"], "no_answer_seconds": 25,
            "busy": {"type": "user", "user_id": colleague}}}
        document["away"] = {**document["away"], "external": {"action": {"type": "external",
                                                                        "number": "+390612345678"}}}
        document["exceptions"] = [{"caller_id": "+3906*", "destination": {"type": "user", "user_id": colleague},
                                   "window": None}]
        forwarding.append({"id": uuid.uuid4(), "organization_id": org_id, "user_id": user_id, "document": document})
        blf = [{"index": i + 2, "type": "blf", "user_id": str(user_ids[(n + i + 1) % len(user_ids)])}
               for i in range(8)]
        keys.append({"id": uuid.uuid4(), "organization_id": org_id, "user_id": user_id, "count": 10,
                     "keys": [{"index": 1, "type": "line"}, *blf, {"index": 10, "type": "pickup"}]})
    return forwarding, keys


def did_rows(org_id, index: int, user_ids: list, dids: int, schedule_id) -> tuple[list[dict], list[dict]]:
    """DIDs (+44 20 then the organization's and the DID's index: unique on the platform) with a rule each."""
    numbers, rules = [], []
    for n in range(dids):
        did_id, user_id = uuid.uuid4(), str(user_ids[n % len(user_ids)])
        numbers.append({"id": did_id, "organization_id": org_id, "number": f"+4420{index:04d}{n:05d}",
                        "sms_enabled": False})
        timed = n % 2 == 0
        rules.append({"id": uuid.uuid4(), "organization_id": org_id, "name": f"Line {n}", "did_id": did_id,
                      "destination": {"type": "user", "user_id": user_id},
                      "office_hours_id": schedule_id if timed else None,
                      "out_of_hours_destination": {"type": "voicemail", "user_id": user_id} if timed else None})
    return numbers, rules


def routing_rows(org_id, box: SecretBox, routes: int) -> tuple[list[dict], list[dict]]:
    """3 trunks (one registering with a password) and ``routes`` routes over them."""
    trunks = [{"id": uuid.uuid4(), "organization_id": org_id, "name": f"carrier-{t}", "host": f"198.51.100.{t + 1}",
               "port": 5060, "transport": "udp", "username": "acct" if t == 0 else None,
               "password_encrypted": box.encrypt("Trunk-Secret-1") if t == 0 else None, "registers": t == 0,
               "codecs": ["alaw", "ulaw"], "match": []} for t in range(3)]
    ids = [str(t["id"]) for t in trunks]
    rows = [{"id": uuid.uuid4(), "organization_id": org_id, "name": f"Route {r}", "patterns": [f"_{r:02d}X.", f"_9{r:02d}X."],
             "strip": 0, "prepend": "", "trunk_ids": ids[r % 3:] + ids[:r % 3], "caller_id_mode": "user",
             "min_permission_level": r * 5, "priority": r, "emergency": r == 0} for r in range(routes)]
    return trunks, rows


def media_rows(org_id, box: SecretBox, user_ids: list, count: int) -> tuple[list[dict], list[dict], list[dict]]:
    """Conference rooms (1100+) and IVR menus (1200+) with greetings; menu options ring users and rooms."""
    rooms = [{"id": uuid.uuid4(), "organization_id": org_id, "name": f"Room {n}", "extension": 1100 + n,
              "pin_encrypted": box.encrypt("2468"), "admin_pin_encrypted": box.encrypt("97531"),
              "max_members": 20, "record": n % 2 == 0} for n in range(count)]
    greeting = b"RIFF" + b"\x00" * 40 + b"\x00\x00" * 40_000  # 5 s at 8 kHz: only its size matters here
    menus, greetings = [], []
    for n in range(count):
        menu_id = uuid.uuid4()
        menus.append({"id": menu_id, "organization_id": org_id, "name": f"Menu {n}", "extension": 1200 + n,
                      "options": {"1": {"type": "user", "user_id": str(user_ids[n])},
                                  "2": {"type": "conference", "conference_id": str(rooms[n]["id"])},
                                  "0": {"type": "user", "user_id": str(user_ids[0])}},
                      "timeout_seconds": 10, "timeout_destination": {"type": "hangup"},
                      "invalid_destination": {"type": "hangup"}, "dial_by_extension": True, "directory": n == 0})
        greetings.append({"ivr_menu_id": menu_id, "organization_id": org_id, "wav": greeting, "duration_ms": 5000,
                          "size_bytes": len(greeting), "sha256": "0" * 64, "uploaded_format": "PCM 16-bit, 1 channel"})
    return rooms, menus, greetings


async def build_organization(maker, box: SecretBox, index: int, accounts: int, groups: int = 0,
                             group_size: int = 0, dids: int = 0, routes: int = 0, media: int = 0) -> Organization:
    """An organization with ``accounts`` users, SIP accounts and Yealink phones, and its groups, inserted in bulk."""
    async for session in session_scope(maker):
        org = await organizations.create_with_roles(session, OrganizationCreate(
            name=f"Bench {index}", slug=f"bench-{index}", sip_domain=f"bench{index}.example.com",
            extension_min=100, extension_max=1999, parking_extension=1900, parking_slots=10))
        users, sip_accounts, devices = [], [], []
        pin = box.encrypt("123456")
        for n in range(accounts):
            user_id, account_id = uuid.uuid4(), uuid.uuid4()
            users.append({"id": user_id, "organization_id": org.id, "first_name": f"First{n}", "last_name": f"Last{n}",
                          "email": f"user{n}@bench{index}.example.com", "voicemail_enabled": True,
                          "voicemail_pin_encrypted": pin})
            sip_accounts.append({"id": account_id, "organization_id": org.id, "extension": 100 + n,
                                 "auth_id": generate_auth_id(), "password_encrypted": box.encrypt(generate_sip_password()),
                                 "user_id": user_id})
            devices.append({"id": uuid.uuid4(), "organization_id": org.id, "vendor": "yealink",
                            "mac": f"0015{index:02x}{n:06x}", "model": "T54W", "label": f"Desk {n}",
                            "sip_account_id": account_id, "provisioning_token_hash": uuid.uuid4().hex + uuid.uuid4().hex})
        await session.execute(insert(User), users)
        await session.execute(insert(SipAccount), sip_accounts)
        await session.execute(insert(Device), devices)
        user_ids = [u["id"] for u in users]
        forwarding, keys = call_handling_rows(org.id, user_ids)
        await session.execute(insert(UserForwarding), forwarding)
        await session.execute(insert(UserKeys), keys)
        default = (await session.execute(select(Group.id).where(Group.organization_id == org.id,
                                                                Group.is_default))).scalar_one()
        memberships = [{"group_id": default, "user_id": u, "organization_id": org.id, "role": GroupRole.member,
                        **DEFAULT_RIGHTS[GroupRole.member]} for u in user_ids]
        group_table, group_members = group_rows(org.id, user_ids, groups, group_size)
        if group_table:
            await session.execute(insert(Group), group_table)
        await session.execute(insert(GroupMember), memberships + group_members)
        if dids:
            schedule = (await session.execute(select(OfficeHours.id).where(
                OfficeHours.organization_id == org.id, OfficeHours.is_default))).scalar_one()
            numbers, rules = did_rows(org.id, index, user_ids, dids, schedule)
            await session.execute(insert(Did), numbers)
            await session.execute(insert(InboundRule), rules)
        if routes:
            trunks, route_rows = routing_rows(org.id, box, routes)
            await session.execute(insert(Trunk), trunks)
            await session.execute(insert(OutboundRoute), route_rows)
        if media:
            rooms, menus, greetings = media_rows(org.id, box, user_ids, media)
            await session.execute(insert(Conference), rooms)
            await session.execute(insert(IvrMenu), menus)
            await session.execute(insert(IvrGreeting), greetings)
    return org


PUBLISH_SECONDS = [0.0]  # time spent writing the revision's files to disk (the rest is database and rendering)


def _timed_publish():
    from app.config_gen import writer

    original = writer.publish

    def publish(*args, **kwargs):
        begin = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            PUBLISH_SECONDS[0] += time.perf_counter() - begin

    writer.publish = publish


_timed_publish()


async def apply_once(maker, settings: Settings, box: SecretBox, org: Organization) -> bool:
    async for session in session_scope(maker, mode=PHASED):  # as the API runs it
        ctx = Context(session=session, principal=system_principal(org, "bench"), settings=settings, request_id=None,
                      secret_box=box)
        result = await config.apply(ctx, ApplyRequest())
    return result.created


async def run_backend(backend: str, orgs: int, accounts: int, groups: int, group_size: int,
                      dids: int, routes: int, media: int) -> list[str]:
    work = Path(tempfile.mkdtemp(prefix=f"centralino-bench-{backend}-"))
    url, database_name = await create_database(backend, work, "centralino_bench")
    lines = []
    try:
        await upgrade_async(url)
        settings = Settings(_env_file=None, database_url=url, secret_key="b" * 40, encryption_key="e" * 40,
                            config_dir=work / "generated", config_keep_revisions=5)
        box = SecretBox(settings.fernet_key_material())
        engine = create_engine(settings)
        maker = create_sessionmaker(engine)
        statements = {"n": 0}
        event.listen(engine.sync_engine, "before_cursor_execute", lambda *a, **k: statements.__setitem__("n", statements["n"] + 1))

        # One organization alone, on a database holding just it (first apply: every file is new).
        built = time.perf_counter()
        created = [await build_organization(maker, box, 0, accounts, groups, group_size, dids, routes,
                                              media)]
        build_seconds = time.perf_counter() - built
        # The apply flushes its files to disk (syncfs); the organization just built is still dirty in the page
        # cache, and flushing it is the bench set-up's cost, not the apply's.
        os.sync()
        statements["n"] = 0
        PUBLISH_SECONDS[0] = 0.0
        start = time.perf_counter()
        await apply_once(maker, settings, box, created[0])
        one = time.perf_counter() - start
        lines.append(f"{backend:10} 1 org x {accounts} accounts (each with forwarding rules, 10 keys, voicemail), "
                     f"{groups} groups x {group_size} members, {dids} DIDs, {routes} routes, {media} rooms and menus: "
                     f"apply {one:.3f} s (database and rendering {one - PUBLISH_SECONDS[0]:.3f} s, writing the "
                     f"files {PUBLISH_SECONDS[0]:.3f} s), {statements['n']} SQL statements, "
                     f"peak RSS {peak_rss_mb():.0f} MB")

        # Then the other organizations, applied one after another.
        built = time.perf_counter()
        created += [await build_organization(maker, box, i, accounts, groups, group_size, dids, routes, media)
                    for i in range(1, orgs)]
        build_seconds += time.perf_counter() - built
        os.sync()
        statements["n"] = 0
        start = time.perf_counter()
        slowest = one
        for org in created[1:]:
            begin = time.perf_counter()
            await apply_once(maker, settings, box, org)
            slowest = max(slowest, time.perf_counter() - begin)
        total = one + time.perf_counter() - start
        if orgs > 1:
            lines.append(f"{backend:10} {orgs} orgs x {accounts} = {orgs * accounts} accounts one after another: "
                         f"{total:.1f} s (slowest org {slowest:.3f} s), {statements['n'] / (orgs - 1):.0f} SQL statements "
                         f"per org, peak RSS {peak_rss_mb():.0f} MB (building them took {build_seconds:.1f} s)")
        await engine.dispose()
    finally:
        await drop_database(database_name)
        import shutil

        shutil.rmtree(work, ignore_errors=True)
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--orgs", type=int, default=100)
    parser.add_argument("--accounts", type=int, default=900)
    parser.add_argument("--groups", type=int, default=50)
    parser.add_argument("--group-size", type=int, default=20)
    parser.add_argument("--dids", type=int, default=500)
    parser.add_argument("--routes", type=int, default=20)
    parser.add_argument("--media", type=int, default=10, help="conference rooms, and as many IVR menus")
    args = parser.parse_args()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    for backend in backends:
        for line in asyncio.run(run_backend(backend, args.orgs, args.accounts, args.groups, args.group_size,
                                             args.dids, args.routes, args.media)):
            print(line, flush=True)


if __name__ == "__main__":
    main()
