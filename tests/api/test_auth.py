"""Login, the current principal, refusals of missing or bad credentials, and login throttling."""

from __future__ import annotations

from tests.conftest import BOOTSTRAP_PASSWORD
from problems import problem

TOKEN = "/api/v1/auth/token"


async def attempt(api, username: str, password: str):
    return await api.client.post(TOKEN, data={"username": username, "password": password})


async def test_the_bootstrap_owner_logs_in_and_me_describes_it(api):
    response = await attempt(api, "admin", BOOTSTRAP_PASSWORD)

    assert response.status_code == 200, response.text
    token = response.json()
    assert token["token_type"] == "bearer" and token["expires_in"] > 0
    me = (await api.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token['access_token']}"})).json()
    assert (me["kind"], me["name"], me["organization"], me["role"], me["scope"]) == ("user", "admin", "default", "owner", "all")
    assert me["platform_admin"] is True
    assert {"users.write", "sip_secrets.read", "organization.write"} <= set(me["permissions"])


async def test_a_user_with_a_login_logs_in_with_its_role_and_scope(api):
    _, headers = await api.user_with_role("manager", "all")

    me = (await api.get("/api/v1/auth/me", headers=headers)).json()

    assert (me["role"], me["scope"], me["platform_admin"]) == ("manager", "all", False)
    assert "organization.write" not in me["permissions"]


async def test_a_wrong_username_and_a_wrong_password_give_identical_401_bodies(api):
    unknown_user = await attempt(api, "nobody-here", "whatever-123")
    wrong_password = await attempt(api, "admin", "not-the-password")

    assert problem(unknown_user, 401) == problem(wrong_password, 401)
    assert unknown_user.headers.get("www-authenticate") == wrong_password.headers.get("www-authenticate")


async def test_after_repeated_failures_even_the_right_password_gets_429_with_retry_after(api):
    for _ in range(api.settings.login_max_failures):
        problem(await attempt(api, "admin", "wrong-password"), 401)

    locked = await attempt(api, "admin", BOOTSTRAP_PASSWORD)

    problem(locked, 429)
    assert int(locked.headers["Retry-After"]) > 0
    assert "access_token" not in locked.text


async def test_failures_below_the_limit_do_not_lock_the_username(api):
    for _ in range(api.settings.login_max_failures - 1):
        problem(await attempt(api, "admin", "wrong-password"), 401)

    assert (await attempt(api, "admin", BOOTSTRAP_PASSWORD)).status_code == 200


async def test_locking_one_username_leaves_other_users_able_to_log_in(api):
    user, _ = await api.user_with_role("readonly", "all")
    for _ in range(api.settings.login_max_failures):
        await attempt(api, "admin", "wrong-password")
    assert (await attempt(api, "admin", BOOTSTRAP_PASSWORD)).status_code == 429

    assert (await attempt(api, user["access"]["username"], "Password-123")).status_code == 200


async def test_no_token_is_401_with_www_authenticate_as_problem_json(api):
    response = await api.client.get("/api/v1/users")

    problem(response, 401)
    assert response.headers["WWW-Authenticate"].lower().startswith("bearer")


async def test_a_garbage_token_a_forged_jwt_an_unknown_api_key_or_basic_auth_is_401_with_www_authenticate(api):
    for authorization in ("Bearer garbage", "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl",
                          "Bearer cnt_not-a-real-key", "Basic YWRtaW46YWRtaW4=", "Bearer "):
        response = await api.client.get("/api/v1/users", headers={"Authorization": authorization})

        problem(response, 401)
        assert "WWW-Authenticate" in response.headers, authorization


async def test_a_token_of_a_deleted_user_stops_working(api):
    user, headers = await api.user_with_role("readonly", "all")
    assert (await api.get("/api/v1/auth/me", headers=headers)).status_code == 200

    assert (await api.delete(f"/api/v1/users/{user['id']}")).status_code == 204

    problem(await api.get("/api/v1/auth/me", headers=headers), 401)


async def test_removing_a_users_login_revokes_its_token(api):
    user, headers = await api.user_with_role("readonly", "all")

    assert (await api.patch(f"/api/v1/users/{user['id']}", json={"access": None})).status_code == 200

    problem(await api.get("/api/v1/auth/me", headers=headers), 401)
    problem(await attempt(api, user["access"]["username"], "Password-123"), 401)
