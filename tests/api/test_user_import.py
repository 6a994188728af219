"""Users from and to CSV (`POST /users/import`, `GET /users/export`): dry runs report per row, a real import is
all or nothing, rows match users by e-mail, and an export imports back unchanged."""

from __future__ import annotations

import pytest
from problems import problem

IMPORT, EXPORT, USERS = "/api/v1/users/import", "/api/v1/users/export", "/api/v1/users"
HEADER = "email;first_name;last_name;mobile;language;extension;groups"


async def send(api, text: str | bytes, headers=None, **params):
    data = text.encode() if isinstance(text, str) else text
    return await api.post(IMPORT, content=data, params=params,
                          headers={**(headers or api.headers), "Content-Type": "text/csv"})


def csv(*rows: str, header: str = HEADER, newline: str = "\r\n") -> str:
    return newline.join((header, *rows)) + newline


async def total(api) -> int:
    return (await api.get(USERS)).json()["total"]


async def test_a_dry_run_reports_each_row_and_writes_nothing(api):
    before = await total(api)

    checked = await send(api, csv("anna@example.com;Anna;Nowak;+48 601 234 567;pl;next;",
                                  "bruno@example.com;Bruno;Bianchi;;it;;"), dry_run="true")

    assert checked.status_code == 200, checked.text
    body = checked.json()
    assert (body["dry_run"], body["created"], body["errors"]) == (True, 2, [])
    assert [(r["row"], r["action"], r["extension"]) for r in body["rows"]] == [(2, "created", 100), (3, "created", None)]
    assert await total(api) == before


async def test_an_import_creates_users_with_sip_accounts_and_groups(api):
    sales = await api.post("/api/v1/groups", json={"name": "Sales"})
    assert sales.status_code == 201

    done = await send(api, csv("anna@example.com;Anna;Nowak;+48601234567;pl;105;Sales|DEFAULT",
                               "bruno@example.com;Bruno;Bianchi;;it;next;"))

    assert done.status_code == 200, done.text
    assert done.json()["created"] == 2
    anna = (await api.get(USERS, params={"email": "anna@example.com"})).json()["items"][0]
    assert anna["sip_account"]["extension"] == 105 and anna["mobile"] == "+48601234567"
    assert sorted(g["name"] for g in anna["groups"]) == ["DEFAULT", "Sales"]
    bruno = (await api.get(USERS, params={"email": "bruno@example.com"})).json()["items"][0]
    assert bruno["sip_account"]["extension"] == 100 and [g["name"] for g in bruno["groups"]] == ["DEFAULT"]
    secret = (await api.get(f"/api/v1/sip-accounts/{bruno['sip_account']['id']}/secret")).json()
    assert len(secret["password"]) >= 12


async def test_bad_rows_are_reported_with_row_column_and_message_and_nothing_is_written(api):
    before = await total(api)
    text = csv("anna@example.com;Anna;Nowak;not-a-phone;pl;105;",
               "anna@example.com;Anna;Twin;;pl;106;",
               "carla@example.com;;Verdi;;pl;105;",
               "dario@example.com;Dario;Rossi;;pl;1000;Nowhere")

    refused = await send(api, text)
    checked = (await send(api, text, dry_run="true")).json()

    assert problem(refused, 422)
    found = {(e["row"], e["column"]) for e in checked["errors"]}
    assert found == {(2, "mobile"), (3, "email"), (4, "first_name"), (5, "extension"), (5, "groups")}
    assert await total(api) == before


async def test_duplicate_extensions_inside_the_file_and_taken_numbers_are_refused(api):
    await api.create_user(extension=110)

    checked = (await send(api, csv("a@example.com;A;A;;en;120;", "b@example.com;B;B;;en;120;",
                                   "c@example.com;C;C;;en;110;"), dry_run="true")).json()

    assert {(e["row"], e["column"]) for e in checked["errors"]} == {(3, "extension"), (4, "extension")}
    assert "also in row 2" in checked["errors"][0]["message"]


async def test_rows_match_users_by_e_mail_skip_update_or_fail(api):
    await send(api, csv("anna@example.com;Anna;Nowak;;pl;;"))
    again = csv("anna@example.com;Anna;Kowalska;;pl;;")

    skipped = (await send(api, again, on_conflict="skip")).json()
    failed = await send(api, again, on_conflict="fail")
    updated = (await send(api, again, on_conflict="update")).json()

    assert skipped["skipped"] == 1 and problem(failed, 422)
    assert updated["updated"] == 1
    anna = (await api.get(USERS, params={"email": "anna@example.com"})).json()["items"]
    assert [u["last_name"] for u in anna] == ["Kowalska"]


async def test_an_export_imports_back_unchanged(api):
    await send(api, csv("anna@example.com;Anna;Nowak;+48601234567;pl;next;DEFAULT",
                        "bruno@example.com;Bruno;Bianchi;;it;;"))
    first = await api.get(EXPORT)

    again = (await send(api, first.content, on_conflict="update")).json()
    second = await api.get(EXPORT)

    assert first.status_code == 200 and first.headers["content-type"].startswith("text/csv")
    assert first.text.splitlines()[0].startswith("id,email,first_name,last_name")
    by_email = {r["email"]: r["action"] for r in again["rows"]}
    assert by_email["anna@example.com"] == "unchanged" and by_email["bruno@example.com"] == "unchanged"
    assert second.text == first.text


@pytest.mark.parametrize("encoding", ["bom", "comma", "mixed line endings"])
async def test_a_bom_commas_and_mixed_line_endings_are_read(api, encoding):
    if encoding == "bom":
        data = "\ufeff" + csv("anna@example.com;Anna;Nowak;;pl;;")
    elif encoding == "comma":
        data = csv("anna@example.com,Anna,Nowak,,pl,,", header=HEADER.replace(";", ","))
    else:
        data = HEADER + "\r\n" + "anna@example.com;Anna;Nowak;;pl;;\n" + "bruno@example.com;Bruno;B;;pl;;\r"

    done = await send(api, data, dry_run="true")

    assert done.status_code == 200, done.text
    assert done.json()["errors"] == [] and done.json()["created"] == (2 if encoding == "mixed line endings" else 1)


async def test_a_wrong_header_is_refused_naming_the_column(api):
    refused = await send(api, "mail;first_name\r\nanna@example.com;Anna\r\n")

    body = problem(refused, 422)
    assert body["errors"][0]["loc"] == ["body", "row", 1, "column", "mail"]


async def test_a_file_larger_than_the_upload_limit_is_refused_before_reading(api):
    refused = await api.post(IMPORT, content=b"x" * (api.settings.max_upload_bytes + 1),
                             headers={**api.headers, "Content-Type": "text/csv"})

    assert refused.status_code == 413


async def test_a_file_that_is_not_utf_8_is_refused(api):
    refused = await send(api, csv("anna@example.com;Ännä;Nowak;;pl;;").encode("latin-1"))

    assert problem(refused, 422)["errors"][0]["loc"][:2] == ["body", "row"]


async def test_importing_needs_scope_all(api):
    _me, headers = await api.user_with_role("manager", scope="groups")

    refused = await send(api, csv("anna@example.com;Anna;Nowak;;pl;;"), headers=headers)

    assert problem(refused, 403)


async def test_an_import_runs_the_same_number_of_sql_statements_for_3_users_or_60(api):
    from sqlalchemy import event

    counts = []
    await send(api, csv("warm-up@example.com;Warm;Up;;it;;"))  # the first request of a session does more
    for first, count in ((0, 3), (100, 60)):
        rows = [f"user{n}@example.com;User;{n};+3934700{n:05d};it;next;DEFAULT" for n in range(first, first + count)]
        statements = {"n": 0}

        def count_one(*_args, **_kwargs):
            statements["n"] += 1

        event.listen(api.app.state.engine.sync_engine, "before_cursor_execute", count_one)
        try:
            done = await send(api, csv(*rows))
        finally:
            event.remove(api.app.state.engine.sync_engine, "before_cursor_execute", count_one)
        assert done.status_code == 200, done.text
        counts.append(statements["n"])
    assert counts[0] == counts[1], f"statements grew with the file: {counts}"
