"""Anonymous learner cookie and CSRF protection of every POST."""

from __future__ import annotations

from fastapi.testclient import TestClient

from app.identity import COOKIE_NAME, Identity


def test_a_new_visitor_gets_a_signed_learner_cookie_once(client: TestClient) -> None:
    first = client.get("/")
    cookie = first.cookies.get(COOKIE_NAME)
    assert cookie
    set_cookie = first.headers["set-cookie"]
    assert "HttpOnly" in set_cookie and "SameSite=Lax" in set_cookie
    again = client.get("/")
    assert COOKIE_NAME not in again.headers.get("set-cookie", "")


def test_a_forged_cookie_is_replaced(client: TestClient) -> None:
    identity: Identity = client.app.state.site.identity
    forged = identity.cookie_value("f" * 32)[:-3] + "AAA"
    client.cookies.set(COOKIE_NAME, forged)
    response = client.get("/")
    new = response.cookies.get(COOKIE_NAME)
    assert new and new != forged
    assert identity.learner_from_cookie(new) is not None


def test_csrf_tokens_are_bound_to_the_learner() -> None:
    identity = Identity("k" * 40)
    token = identity.csrf_token("a" * 32)
    assert identity.csrf_valid("a" * 32, token)
    assert not identity.csrf_valid("b" * 32, token)
    assert not identity.csrf_valid("a" * 32, None)
    assert not identity.csrf_valid("a" * 32, token + "x")
    assert not Identity("other-secret" * 4).csrf_valid("a" * 32, token)


def test_a_post_without_a_token_is_refused_with_a_message(client: TestClient) -> None:
    client.get("/")
    response = client.post("/panel/playground/sql", data={"sql": "SELECT 1", "env": "dev"})
    assert response.status_code == 403
    assert "Reload the page" in response.text


def test_a_post_with_another_learners_token_is_refused(client: TestClient) -> None:
    client.get("/")
    other = client.app.state.site.identity.csrf_token("c" * 32)
    response = client.post(
        "/panel/playground/sql", data={"sql": "SELECT 1", "env": "dev", "csrf_token": other}
    )
    assert response.status_code == 403


def test_a_checked_signature_is_remembered_only_when_good() -> None:
    identity = Identity("k" * 40)
    value = identity.cookie_value("a" * 32)
    forged = value[:-3] + ("AAA" if not value.endswith("AAA") else "BBB")
    for _ in range(2):  # the second time from what this process remembers
        assert identity.learner_from_cookie(value) == "a" * 32
        assert identity.learner_from_cookie(forged) is None
        assert identity.csrf_valid("a" * 32, identity.csrf_token("a" * 32))
        assert not identity.csrf_valid("b" * 32, identity.csrf_token("a" * 32))
    assert identity.learner_from_cookie(value[:-1]) is None
