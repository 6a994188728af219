"""Operations: Prometheus metrics at /metrics, one structured log line per request (never a secret), and a
readiness probe that checks the database and the configuration directory."""

from __future__ import annotations

import json
import logging
import re
from urllib.parse import urlsplit

from pydantic import SecretStr

from app.core.observability import ACCESS_LOG, JsonFormatter


def sample(text: str, name: str, **labels: str) -> float | None:
    """The value of one sample of the Prometheus text ``text`` (None when absent)."""
    wanted = ",".join(f'{key}="{value}"' for key, value in labels.items())
    pattern = rf"^{re.escape(name)}{re.escape('{' + wanted + '}') if labels else ''} (\S+)$"
    found = re.search(pattern, text, re.MULTILINE)
    return float(found.group(1)) if found else None


async def metrics(api, headers=None) -> str:
    response = await api.client.get("/metrics", headers=headers or {})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


async def test_requests_are_counted_and_timed_by_route_template_never_by_raw_path(api):
    user = await api.create_user(extension="next")
    for _ in range(2):
        await api.get(f"/api/v1/users/{user['id']}")
    phone = (await api.post("/api/v1/devices", json={"vendor": "baresip",
                                                     "sip_account_id": user["sip_account"]["id"]})).json()
    token = urlsplit(phone["provisioning_url"]).path.split("/")[2]
    await api.client.get(f"/provisioning/{token}/accounts")

    text = await metrics(api)

    assert sample(text, "centralino_http_requests_total", method="GET", route="/api/v1/users/{user_id}",
                  status="200") == 2
    assert sample(text, "centralino_http_request_duration_seconds_count", method="GET",
                  route="/api/v1/users/{user_id}") == 2
    assert user["id"] not in text and token not in text, "ids and tokens stay out of the labels"


async def test_applies_revisions_pending_organizations_and_refused_logins_are_measured(api):
    await api.create_user(extension="next")
    pending = sample(await metrics(api), "centralino_config_pending_organizations")
    assert (await api.post("/api/v1/config/apply", json={})).status_code == 200
    await api.client.post("/api/v1/auth/token", data={"username": "admin", "password": "wrong"})

    text = await metrics(api)

    assert pending == 1 and sample(text, "centralino_config_pending_organizations") == 0
    assert sample(text, "centralino_config_revisions_total") == 1
    assert sample(text, "centralino_config_apply_duration_seconds_count") == 1
    assert sample(text, "centralino_login_failures_total") == 1


async def test_with_a_metrics_token_scrapers_must_send_it(api, monkeypatch):
    monkeypatch.setattr(api.settings, "metrics_token", SecretStr("scrape-Token-1"))

    refused = await api.client.get("/metrics")
    wrong = await api.client.get("/metrics", headers={"Authorization": "Bearer nope"})

    assert refused.status_code == 401 and wrong.status_code == 401
    assert refused.headers["content-type"].startswith("application/problem+json")
    await metrics(api, headers={"Authorization": "Bearer scrape-Token-1"})


async def test_each_request_logs_one_json_line_with_its_id_principal_route_status_and_duration(api, caplog):
    me = (await api.get("/api/v1/auth/me")).json()
    user = await api.create_user(extension="next")
    phone = (await api.post("/api/v1/devices", json={"vendor": "baresip",
                                                     "sip_account_id": user["sip_account"]["id"]})).json()
    token = urlsplit(phone["provisioning_url"]).path.split("/")[2]

    caplog.clear()
    with caplog.at_level(logging.INFO, logger=ACCESS_LOG):
        response = await api.get(f"/api/v1/users/{user['id']}", headers={**api.headers, "X-Request-ID": "req-42"})
        await api.client.get(f"/provisioning/{token}/accounts")
        await api.client.get(f"/provisioning/{token}/nothing-here")
    lines = [json.loads(JsonFormatter().format(record)) for record in caplog.records if record.name == ACCESS_LOG]

    assert response.status_code == 200
    first = lines[0]
    assert first["request_id"] == "req-42" and first["principal_id"] == me["id"]
    assert (first["method"], first["route"], first["status"]) == ("GET", "/api/v1/users/{user_id}", 200)
    assert first["duration_ms"] >= 0 and first["level"] == "info"
    assert len(lines) == 3 and all(token not in json.dumps(line) for line in lines), "never a provisioning token"
    assert api.headers["Authorization"].split()[1] not in caplog.text, "never a bearer token"


async def test_readiness_checks_the_database_and_the_configuration_directory(api, tmp_path, monkeypatch):
    assert (await api.client.get("/readyz")).json() == {"status": "ok"}
    not_a_directory = tmp_path / "file"
    not_a_directory.write_text("")
    monkeypatch.setattr(api.settings, "config_dir", not_a_directory / "generated")

    response = await api.client.get("/readyz")

    assert response.status_code == 503 and "CENTRALINO_CONFIG_DIR" in response.json()["detail"]
