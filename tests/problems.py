"""Assertions on RFC 9457 problem+json error responses, shared by the API tests."""

from __future__ import annotations

PROBLEM_JSON = "application/problem+json"


def problem(response, status: int) -> dict:
    """The problem+json body of an error response, after checking its status and shape."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    body = response.json()
    assert {"type", "title", "status", "detail"} <= body.keys()
    assert body["status"] == status
    return body


def locs(body: dict) -> list[list]:
    """The ``loc`` of every field error in a problem body."""
    return [entry["loc"] for entry in body.get("errors", [])]
