"""Number allocation under concurrent requests: distinct extensions, lowest first, never a 5xx."""

from __future__ import annotations

import asyncio


async def test_50_concurrent_sip_account_creations_get_the_distinct_extensions_100_to_149(api):
    responses = await asyncio.gather(*(api.post("/api/v1/sip-accounts", json={}) for _ in range(50)))

    statuses = [r.status_code for r in responses]
    assert all(s < 500 for s in statuses), [r.text for r in responses if r.status_code >= 500][:3]
    assert statuses == [201] * 50, [r.text for r in responses if r.status_code != 201][:3]
    assert sorted(r.json()["extension"] for r in responses) == list(range(100, 150))
    assert len({r.json()["auth_id"] for r in responses}) == 50
    listed = (await api.get("/api/v1/sip-accounts", params={"limit": 500})).json()
    assert listed["total"] == 50


async def test_20_concurrent_user_creations_with_extension_next_get_distinct_numbers(api):
    responses = await asyncio.gather(*(
        api.post("/api/v1/users", json={"first_name": "Burst", "last_name": f"N{i:02d}", "extension": "next"})
        for i in range(20)))

    assert [r.status_code for r in responses] == [201] * 20, [r.text for r in responses if r.status_code != 201][:3]
    assert sorted(r.json()["sip_account"]["extension"] for r in responses) == list(range(100, 120))
    assert (await api.get("/api/v1/users", params={"q": "Burst"})).json()["total"] == 20


async def test_concurrent_requests_for_the_same_extension_give_one_201_and_409s(api):
    responses = await asyncio.gather(*(api.post("/api/v1/sip-accounts", json={"extension": 105}) for _ in range(10)))

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * 9, [r.text for r in responses]
    assert all("Extension 105 is already in use" in r.json()["detail"] for r in responses if r.status_code == 409)


async def test_two_concurrent_patches_with_the_same_if_match_let_only_one_through(api):
    user = await api.create_user(first_name="Anna")
    etag = (await api.get(f"/api/v1/users/{user['id']}")).headers["ETag"]
    headers = {**api.headers, "If-Match": etag}
    first, second = await asyncio.gather(
        api.patch(f"/api/v1/users/{user['id']}", json={"first_name": "Joanna"}, headers=headers),
        api.patch(f"/api/v1/users/{user['id']}", json={"first_name": "Marta"}, headers=headers),
    )
    assert sorted([first.status_code, second.status_code]) == [200, 412], (first.text, second.text)
