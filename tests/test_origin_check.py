"""State changes are refused when the browser says they come from another site."""

import pytest


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
    ],
)
def test_cross_site_posts_are_refused(client, auth, world, headers):
    auth.login(world.manager_maria)
    response = client.post("/signout", headers=headers)
    assert response.status_code == 403
    assert client.get("/today").status_code == 200  # still signed in


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Sec-Fetch-Site": "same-origin", "Origin": "http://localhost"},
        {"Sec-Fetch-Site": "none"},
    ],
)
def test_same_origin_posts_pass(client, auth, world, headers):
    auth.login(world.manager_maria)
    assert client.post("/signout", headers=headers).status_code == 303


def test_cross_site_reads_are_not_blocked(client, auth, world):
    auth.login(world.manager_maria)
    assert client.get("/today", headers={"Sec-Fetch-Site": "cross-site"}).status_code == 200
