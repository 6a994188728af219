"""Logins: hashed off the event loop, throttled atomically per username and client address; tokens that die
with the credentials they were issued for."""

from __future__ import annotations

import asyncio
import threading
import time
from contextlib import asynccontextmanager

import httpx
from jose import jwt
from sqlalchemy import func, select

from app.core import security
from app.models import LoginThrottle
from problems import locs, problem
from tests.conftest import BOOTSTRAP_PASSWORD

TOKEN = "/api/v1/auth/token"
ME = "/api/v1/auth/me"


@asynccontextmanager
async def client_at(api, address: str):
    """An HTTP client whose requests come from another client address."""
    transport = httpx.ASGITransport(app=api.app, client=(address, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


async def login(client, username: str, password: str) -> httpx.Response:
    return await client.post(TOKEN, data={"username": username, "password": password})


async def throttle_rows(api) -> list[LoginThrottle]:
    async with api.app.state.sessionmaker() as session:
        return list((await session.execute(select(LoginThrottle))).scalars())


# --- hashing off the event loop ------------------------------------------------------------------------------

async def test_password_checks_run_in_worker_threads_at_most_the_configured_number_at_a_time(api, monkeypatch):
    threads, running, most = set(), 0, 0
    lock = threading.Lock()
    real_verify = security.verify_password

    def observed_verify(password, password_hash):
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        threads.add(threading.current_thread().name)
        time.sleep(0.02)  # hold the thread, so that overlapping checks would be seen
        with lock:
            running -= 1
        return real_verify(password, password_hash)

    monkeypatch.setattr(security, "verify_password", observed_verify)
    responses = await asyncio.gather(*(login(api.client, "admin", BOOTSTRAP_PASSWORD) for _ in range(5)))

    assert [r.status_code for r in responses] == [200] * 5
    assert threading.main_thread().name not in threads
    assert all(name.startswith("password-hash") for name in threads)
    assert most <= api.settings.password_hash_concurrency


async def test_a_login_beyond_the_admission_queue_gets_503_with_retry_after_at_once(api, monkeypatch):
    api.app.state.login_queue.max_in_flight = 1
    release = threading.Event()
    real_verify = security.verify_password

    def held_verify(password, password_hash):
        release.wait(10)
        return real_verify(password, password_hash)

    monkeypatch.setattr(security, "verify_password", held_verify)
    first = asyncio.create_task(login(api.client, "admin", BOOTSTRAP_PASSWORD))
    while api.app.state.login_queue.in_flight == 0:
        await asyncio.sleep(0)
    refused = await login(api.client, "admin", BOOTSTRAP_PASSWORD)
    release.set()

    problem(refused, 503)
    assert int(refused.headers["Retry-After"]) >= 1
    assert (await first).status_code == 200


# --- throttling --------------------------------------------------------------------------------------------

async def test_forty_parallel_wrong_guesses_count_as_forty_and_only_the_allowed_number_is_checked(api, monkeypatch):
    checked = 0
    real_verify = security.verify_password

    def counted_verify(password, password_hash):
        nonlocal checked
        checked += 1
        return real_verify(password, password_hash)

    monkeypatch.setattr(security, "verify_password", counted_verify)
    responses = await asyncio.gather(*(login(api.client, "admin", f"wrong-{n}") for n in range(40)))

    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(401) == api.settings.login_max_failures
    assert statuses.count(429) == 40 - api.settings.login_max_failures
    assert checked == api.settings.login_max_failures
    pair = [row for row in await throttle_rows(api) if row.username == "admin"]
    assert [row.attempts for row in pair] == [40]


async def test_a_stranger_guessing_the_owners_password_does_not_lock_the_owner_out(api):
    async with client_at(api, "203.0.113.66") as stranger, client_at(api, "198.51.100.7") as owner:
        for _ in range(api.settings.login_max_failures + 2):
            await login(stranger, "admin", "guess-123")

        locked = await login(stranger, "admin", BOOTSTRAP_PASSWORD)
        allowed = await login(owner, "admin", BOOTSTRAP_PASSWORD)

    problem(locked, 429)
    assert int(locked.headers["Retry-After"]) > 0
    assert allowed.status_code == 200, allowed.text


async def test_one_address_spraying_passwords_over_many_usernames_is_throttled_too(api):
    api.settings.login_client_max_failures = 5
    async with client_at(api, "203.0.113.9") as sprayer, client_at(api, "198.51.100.8") as other:
        answers = [await login(sprayer, f"user{n}", "Password-123") for n in range(7)]
        elsewhere = await login(other, "admin", BOOTSTRAP_PASSWORD)

    assert [r.status_code for r in answers] == [401] * 5 + [429] * 2
    assert elsewhere.status_code == 200


async def test_a_successful_login_clears_its_own_failures(api):
    for _ in range(api.settings.login_max_failures - 1):
        problem(await login(api.client, "admin", "wrong-password"), 401)
    assert (await login(api.client, "admin", BOOTSTRAP_PASSWORD)).status_code == 200

    for _ in range(api.settings.login_max_failures - 1):
        problem(await login(api.client, "admin", "wrong-password"), 401)
    assert (await login(api.client, "admin", BOOTSTRAP_PASSWORD)).status_code == 200


async def test_expired_windows_are_pruned_and_the_throttle_table_stays_bounded(api):
    api.settings.login_throttle_max_rows = 10
    async with client_at(api, "203.0.113.20") as client:
        for n in range(30):
            await login(client, f"nobody-{n}", "Password-123")
    assert len(await throttle_rows(api)) <= 10 + 2

    api.settings.login_lockout_seconds = 1
    async with api.app.state.sessionmaker() as session:  # age every window past its end
        rows = (await session.execute(select(LoginThrottle))).scalars().all()
        for row in rows:
            row.window_started -= 5
        await session.commit()
    await login(api.client, "someone-new", "Password-123")
    usernames = {row.username for row in await throttle_rows(api)}
    assert usernames <= {"someone-new", "*"}


async def test_a_username_longer_than_the_column_is_422_naming_it_never_500(api):
    response = await login(api.client, "a" * 151, "Password-123")

    assert ["body", "username"] in locs(problem(response, 422))
    async with api.app.state.sessionmaker() as session:
        assert (await session.execute(select(func.count()).select_from(LoginThrottle))).scalar_one() == 0


async def test_a_username_with_a_nul_character_is_422_naming_it(api):
    response = await login(api.client, "ad\x00min", "Password-123")

    assert ["body", "username"] in locs(problem(response, 422))


# --- tokens die with the credentials -----------------------------------------------------------------------

async def _user_and_token(api, role="readonly", scope="all"):
    user, headers = await api.user_with_role(role, scope)
    assert (await api.get(ME, headers=headers)).status_code == 200
    return user, headers


async def test_changing_the_password_makes_older_tokens_401(api):
    user, old = await _user_and_token(api)

    assert (await api.patch(f"/api/v1/users/{user['id']}", json={"access": {"password": "Another-Pass-456"}})).status_code == 200

    problem(await api.get(ME, headers=old), 401)
    fresh = await api.login(user["access"]["username"], "Another-Pass-456")
    assert (await api.get(ME, headers=fresh)).status_code == 200


async def test_a_user_changing_its_own_password_invalidates_its_own_older_tokens(api):
    user, old = await _user_and_token(api, role="user", scope="own")

    changed = await api.patch(f"/api/v1/users/{user['id']}", json={"access": {"password": "Another-Pass-456"}},
                              headers=old)

    assert changed.status_code == 200, changed.text
    problem(await api.get(ME, headers=old), 401)


async def test_removing_and_re_adding_a_login_keeps_the_old_token_dead(api):
    user, old = await _user_and_token(api)
    username = user["access"]["username"]

    await api.patch(f"/api/v1/users/{user['id']}", json={"access": None})
    readded = await api.patch(f"/api/v1/users/{user['id']}",
                              json={"access": {"username": username, "password": "Password-123", "role": "readonly",
                                               "scope": "all"}})

    assert readded.status_code == 200, readded.text
    problem(await api.get(ME, headers=old), 401)
    assert (await api.get(ME, headers=await api.login(username, "Password-123"))).status_code == 200


async def test_changing_the_role_or_the_scope_makes_older_tokens_401(api):
    user, by_role = await _user_and_token(api)
    await api.patch(f"/api/v1/users/{user['id']}", json={"access": {"role": "manager"}})
    problem(await api.get(ME, headers=by_role), 401)

    other, by_scope = await _user_and_token(api)
    await api.patch(f"/api/v1/users/{other['id']}", json={"access": {"scope": "own"}})
    problem(await api.get(ME, headers=by_scope), 401)


async def test_deactivating_a_user_makes_its_tokens_401_and_refuses_its_logins(api):
    user, old = await _user_and_token(api)
    username = user["access"]["username"]

    deactivated = await api.patch(f"/api/v1/users/{user['id']}", json={"active": False})

    assert deactivated.json()["active"] is False
    problem(await api.get(ME, headers=old), 401)
    problem(await login(api.client, username, "Password-123"), 401)
    await api.patch(f"/api/v1/users/{user['id']}", json={"active": True})
    problem(await api.get(ME, headers=old), 401)  # reactivation does not revive old tokens
    assert (await login(api.client, username, "Password-123")).status_code == 200


async def test_nobody_deactivates_themselves(api):
    me = (await api.get("/api/v1/users", params={"q": "admin"})).json()["items"][0]

    problem(await api.patch(f"/api/v1/users/{me['id']}", json={"active": False}), 403)


async def test_changing_a_users_profile_keeps_its_tokens_valid(api):
    user, headers = await _user_and_token(api)

    await api.patch(f"/api/v1/users/{user['id']}", json={"first_name": "Renamed"})

    assert (await api.get(ME, headers=headers)).status_code == 200


async def test_a_jwt_without_exp_or_without_a_credentials_version_is_refused(api):
    me = (await api.get(ME)).json()
    claims = {"sub": me["id"], "org": "x", "ver": 1, "iat": int(time.time()), "typ": "access"}
    key = api.settings.jwt_key()

    without_exp = jwt.encode(claims, key, algorithm="HS256")
    without_version = jwt.encode({**claims, "exp": int(time.time()) + 600} | {"ver": None}, key, algorithm="HS256")
    expired = jwt.encode({**claims, "exp": int(time.time()) - 1}, key, algorithm="HS256")

    for token in (without_exp, without_version, expired):
        problem(await api.get(ME, headers={"Authorization": f"Bearer {token}"}), 401)
