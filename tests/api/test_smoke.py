async def test_bootstrap_owner_creates_users_with_next_extensions(api):
    first = await api.create_user(extension="next")
    assert first["sip_account"]["extension"] == 100
    second = await api.create_user(extension="next")
    assert second["sip_account"]["extension"] == 101
    assert (await api.delete(f"/api/v1/users/{first['id']}")).status_code == 204
    third = await api.create_user(extension="next")
    assert third["sip_account"]["extension"] == 100
