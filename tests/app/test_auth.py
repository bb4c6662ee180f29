"""Accounts and tokens: register, login, refresh, logout; bad tokens; CSRF; the login rate limit;
no plaintext password anywhere; pages behind the login."""

from __future__ import annotations

import logging
import re
from datetime import timedelta

import jwt
import pytest
from flask_jwt_extended import create_access_token, create_refresh_token

from app.models import User
from app.services import session_scope
from tests.app.conftest import (
    API,
    PASSWORD,
    create_user,
    new_client,
    register_and_login,
    unique_email,
)


def cookies_set(response) -> dict[str, str]:
    """Set-Cookie headers by cookie name."""
    return {header.split("=", 1)[0]: header for header in response.headers.getlist("Set-Cookie")}


def error_of(response) -> dict:
    body = response.get_json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "fields"}, body
    return body["error"]


def test_register_then_login_returns_tokens_and_httponly_cookies(app):
    client = new_client(app)
    email = unique_email()
    created = client.post(f"{API}/auth/register", json={"email": email, "password": PASSWORD})
    assert created.status_code == 201
    assert created.get_json()["user"]["email"] == email.lower()
    login = client.post(f"{API}/auth/login", json={"email": email.upper(), "password": PASSWORD})
    assert login.status_code == 200
    body = login.get_json()
    assert body["user"]["email"] == email.lower() and body["token_type"] == "Bearer"
    assert body["expires_in"] == 15 * 60
    cookies = cookies_set(login)
    for name in ("access_token_cookie", "refresh_token_cookie"):
        assert "HttpOnly" in cookies[name] and "SameSite=Lax" in cookies[name]
    for name in ("csrf_access_token", "csrf_refresh_token"):  # readable by the page's script
        assert "HttpOnly" not in cookies[name]
    me = client.get(f"{API}/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200 and me.get_json()["user"]["id"] == body["user"]["id"]


def test_token_lifetimes_are_15_minutes_and_30_days(app):
    user = register_and_login(app)
    access = jwt.decode(user.access_token, options={"verify_signature": False})
    refresh = jwt.decode(user.refresh_token, options={"verify_signature": False})
    assert access["exp"] - access["iat"] == 15 * 60
    assert refresh["exp"] - refresh["iat"] == 30 * 24 * 3600
    assert access["sub"] == str(user.id) and "email" not in access


def test_registration_rejects_taken_emails_short_passwords_and_bad_addresses(app):
    client = new_client(app)
    email = unique_email()
    assert client.post(f"{API}/auth/register",
                       json={"email": email, "password": PASSWORD}).status_code == 201
    taken = client.post(f"{API}/auth/register", json={"email": email.swapcase(),
                                                       "password": PASSWORD})
    assert taken.status_code == 409
    assert error_of(taken)["fields"] == {"email": "is already registered"}
    short = client.post(f"{API}/auth/register",
                        json={"email": unique_email(), "password": "short"})
    assert short.status_code == 422
    assert error_of(short)["fields"]["password"] == "must have at least 10 characters"
    bad = client.post(f"{API}/auth/register", json={"email": "not-an-email", "password": PASSWORD})
    assert bad.status_code == 422 and "email" in error_of(bad)["fields"]
    typed = client.post(f"{API}/auth/register", json={"email": 5, "password": ["x"]})
    assert typed.status_code == 422
    assert error_of(typed)["fields"] == {"email": "must be a string",
                                         "password": "must be a string"}


def test_wrong_password_and_unknown_email_get_the_same_401(app):
    user = register_and_login(app)
    client = new_client(app)
    wrong = client.post(f"{API}/auth/login", json={"email": user.email, "password": "wrong pass"})
    unknown = client.post(f"{API}/auth/login", json={"email": unique_email(), "password": "x" * 9})
    assert wrong.status_code == unknown.status_code == 401
    assert error_of(wrong) == error_of(unknown) == {
        "code": "invalid_credentials", "message": "wrong email or password", "fields": {}}


def test_refresh_gives_a_working_access_token_and_only_accepts_refresh_tokens(app):
    user = register_and_login(app)
    refreshed = user.client.post(f"{API}/auth/refresh",
                                 headers={"Authorization": f"Bearer {user.refresh_token}"})
    assert refreshed.status_code == 200
    token = refreshed.get_json()["access_token"]
    assert user.client.get(f"{API}/auth/me", headers={"Authorization": f"Bearer {token}"}
                           ).status_code == 200
    wrong_kind = user.client.post(f"{API}/auth/refresh", headers=user.headers)
    assert wrong_kind.status_code == 401 and error_of(wrong_kind)["code"] == "token_invalid"
    as_access = user.client.get(f"{API}/auth/me",
                                headers={"Authorization": f"Bearer {user.refresh_token}"})
    assert as_access.status_code == 401


def test_logout_revokes_the_access_and_refresh_tokens(app):
    user = register_and_login(app)
    out = user.post("/auth/logout", json={"refresh_token": user.refresh_token})
    assert out.status_code == 200
    again = user.get("/auth/me")
    assert again.status_code == 401
    assert error_of(again) == {"code": "token_revoked", "fields": {},
                               "message": "the token has been revoked (logged out); log in again"}
    refresh = user.client.post(f"{API}/auth/refresh",
                               headers={"Authorization": f"Bearer {user.refresh_token}"})
    assert refresh.status_code == 401 and error_of(refresh)["code"] == "token_revoked"
    # a fresh login still works
    assert new_client(app).post(f"{API}/auth/login", json={
        "email": user.email, "password": PASSWORD}).status_code == 200


def test_expired_tampered_and_foreign_tokens_get_401_with_a_message(app):
    user = register_and_login(app)
    with app.server.app_context():
        expired = create_access_token(identity=str(user.id), expires_delta=timedelta(seconds=-5))
    answer = user.client.get(f"{API}/auth/me", headers={"Authorization": f"Bearer {expired}"})
    assert answer.status_code == 401
    assert error_of(answer)["code"] == "token_expired"
    assert "refresh" in error_of(answer)["message"]

    header, payload, signature = user.access_token.split(".")
    tampered_signature = signature[:-4] + ("AAAA" if signature[-4:] != "AAAA" else "BBBB")
    claims = jwt.decode(user.access_token, options={"verify_signature": False})
    forged_payload = jwt.encode({**claims, "sub": str(user.id + 1000)}, "x" * 40).split(".")[1]
    foreign = jwt.encode(claims, "another secret that is long enough!!", algorithm="HS256")
    for token in (f"{header}.{payload}.{tampered_signature}", f"{header}.{forged_payload}."
                  f"{signature}", foreign, "not.a.jwt", "garbage"):
        answer = user.client.get(f"{API}/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 401, token
        assert error_of(answer)["code"] == "token_invalid"
        assert error_of(answer)["message"].startswith("invalid token")
    missing = user.client.get(f"{API}/auth/me")
    assert missing.status_code == 401 and error_of(missing)["code"] == "unauthorized"


def test_a_deleted_accounts_token_stops_working(app):
    user = register_and_login(app)
    with session_scope(app.server.extensions["arena"].sessions) as session:
        session.delete(session.get(User, user.id))
    answer = user.get("/auth/me")
    assert answer.status_code == 401
    assert "no longer exists" in error_of(answer)["message"]


def test_cookie_requests_need_the_csrf_header_for_unsafe_methods(app):
    client = new_client(app)
    email = unique_email()
    client.post(f"{API}/auth/register", json={"email": email, "password": PASSWORD})
    client.post(f"{API}/auth/login", json={"email": email, "password": PASSWORD})
    assert client.get(f"{API}/strategies").status_code == 200  # safe method: cookie alone
    from tests.app.conftest import example_spec

    body = {"spec": example_spec()}
    refused = client.post(f"{API}/strategies", json=body)
    assert refused.status_code == 401
    assert error_of(refused)["code"] == "csrf_failed"
    assert "X-CSRF-TOKEN" in error_of(refused)["message"]
    wrong = client.post(f"{API}/strategies", json=body, headers={"X-CSRF-TOKEN": "guess"})
    assert wrong.status_code == 401
    csrf = client.get_cookie("csrf_access_token").value
    accepted = client.post(f"{API}/strategies", json=body, headers={"X-CSRF-TOKEN": csrf})
    assert accepted.status_code == 201
    # the same for Dash callbacks, which the page protection checks
    dash = client.post("/_dash-update-component", json={})
    assert dash.status_code == 401


def test_login_is_limited_per_account_but_not_for_other_accounts_from_the_same_address(app):
    user = register_and_login(app)
    client = new_client(app)
    for _ in range(5):
        answer = client.post(f"{API}/auth/login",
                             json={"email": user.email, "password": "nope!!!!"})
        assert answer.status_code == 401
    limited = client.post(f"{API}/auth/login", json={"email": user.email, "password": PASSWORD})
    assert limited.status_code == 429
    assert error_of(limited)["code"] == "rate_limited"
    assert "too many failed login attempts" in error_of(limited)["message"]
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    # the same account from another address waits too (the account's delay) ...
    other = new_client(app)
    assert other.post(f"{API}/auth/login", json={"email": user.email,
                                                 "password": PASSWORD}).status_code == 429
    # ... but another account's correct login from the attacked address is not refused
    someone = register_and_login(app)
    assert client.post(f"{API}/auth/login", json={"email": someone.email,
                                                  "password": PASSWORD}).status_code == 200


def test_passwords_are_hashed_and_never_logged_or_echoed(app, caplog):
    caplog.set_level(logging.DEBUG)
    secret = "Plaintext-Secret-4711"
    client = new_client(app)
    email = unique_email()
    responses = [
        client.post(f"{API}/auth/register", json={"email": email, "password": secret}),
        client.post(f"{API}/auth/login", json={"email": email, "password": secret}),
        client.post(f"{API}/auth/login", json={"email": email, "password": secret + "x"}),
        client.post(f"{API}/auth/register", json={"email": email, "password": secret}),
        client.post(f"{API}/auth/register", json={"email": "bad", "password": secret[:5]}),
        client.post("/login", data={"email": email, "password": secret, "form_token": "x"}),
    ]
    for response in responses:
        assert secret not in response.get_data(as_text=True)
        assert secret[:5] not in response.get_data(as_text=True)
    assert secret not in caplog.text
    with app.server.extensions["arena"].sessions() as session:
        user = session.query(User).filter_by(email=email.lower()).one()
        assert user.password_hash.startswith("$argon2id$")
        assert secret not in user.password_hash and secret not in repr(user)


def test_production_hasher_is_argon2id_with_the_library_defaults():
    from app.services.users import default_hasher

    hashed = default_hasher().hash("a password")
    assert hashed.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert default_hasher().verify(hashed, "a password")


# --- pages --------------------------------------------------------------------------------------


def test_pages_redirect_to_login_while_health_login_and_assets_stay_public(app):
    client = new_client(app)
    for path in ("/", "/strategies", "/runs?ids=1,2", "/builder/3"):
        answer = client.get(path)
        assert answer.status_code == 302, path
        assert answer.headers["Location"].startswith("/login")
    assert client.get("/runs?ids=1,2").headers["Location"] == "/login?next=/runs%3Fids%3D1%2C2"
    assert client.get("/").headers["Location"] == "/login"
    for path in ("/api/health", "/login", "/register", "/assets/00-bootstrap-slate.min.css",
                 "/api/v1/openapi.json", "/_favicon.ico"):
        assert client.get(path).status_code == 200, path
    for path in ("/_dash-layout", "/_dash-dependencies"):
        assert client.get(path).status_code == 401, path


def form_token(page) -> str:
    return re.search(r'name="form_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)


def test_login_form_sets_cookies_and_goes_to_next_but_never_off_site(app):
    user = create_user(app)
    client = new_client(app)
    page = client.get("/login?next=/strategies")
    assert page.status_code == 200 and 'value="/strategies"' in page.get_data(as_text=True)
    done = client.post("/login", data={"email": user.email, "password": PASSWORD,
                                       "form_token": form_token(page), "next": "/strategies"})
    assert done.status_code == 303 and done.headers["Location"] == "/strategies"
    assert "HttpOnly" in cookies_set(done)["access_token_cookie"]
    assert client.get("/strategies").status_code == 200
    for evil in ("//evil.example", "https://evil.example/", "/\\evil.example"):
        again = client.post("/login", data={"email": user.email, "password": PASSWORD,
                                            "form_token": form_token(client.get("/login")),
                                            "next": evil})
        assert again.headers["Location"] == "/", evil


def test_login_form_rejects_a_missing_form_token_and_wrong_passwords(app):
    user = create_user(app)
    client = new_client(app)
    stale = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert stale.status_code == 400 and b"form expired" in stale.data
    wrong = client.post("/login", data={"email": user.email, "password": "wrong one",
                                        "form_token": form_token(client.get("/login"))})
    assert wrong.status_code == 401 and b"Wrong email or password" in wrong.data
    assert "access_token_cookie" not in cookies_set(wrong)


def test_register_form_creates_the_account_and_logs_in(app):
    client = new_client(app)
    email = unique_email()
    token = form_token(client.get("/register"))
    mismatch = client.post("/register", data={"email": email, "password": PASSWORD,
                                              "confirm": "different", "form_token": token})
    assert mismatch.status_code == 422 and b"passwords differ" in mismatch.data
    done = client.post("/register", data={"email": email, "password": PASSWORD,
                                          "confirm": PASSWORD, "form_token": token})
    assert done.status_code == 303
    assert client.get("/").status_code == 200
    taken = client.post("/register", data={"email": email, "password": PASSWORD,
                                           "confirm": PASSWORD, "form_token": token})
    assert taken.status_code == 409 and b"already exists" in taken.data


def test_an_expired_access_cookie_is_renewed_from_the_refresh_cookie(app):
    user = create_user(app)
    client = new_client(app)
    with app.server.test_request_context():
        expired = create_access_token(identity=str(user.id), expires_delta=timedelta(seconds=-5))
        refresh = create_refresh_token(identity=str(user.id))
    client.set_cookie("access_token_cookie", expired)
    client.set_cookie("refresh_token_cookie", refresh)
    page = client.get("/strategies")
    assert page.status_code == 200
    renewed = cookies_set(page)
    assert "access_token_cookie" in renewed and "csrf_access_token" in renewed
    # An unsafe request must prove it is this browser: the CSRF value of its expired token.
    client.set_cookie("access_token_cookie", expired)
    refused = client.post("/_dash-update-component", json={})
    assert refused.status_code == 401
    csrf = jwt.decode(expired, options={"verify_signature": False})["csrf"]
    passed = client.post("/_dash-update-component", json={}, headers={"X-CSRF-TOKEN": csrf})
    assert passed.status_code != 401  # authenticated (Dash then rejects the empty payload)
    # without a refresh cookie an expired access cookie means: log in again
    client.delete_cookie("refresh_token_cookie")
    client.set_cookie("access_token_cookie", expired)
    assert client.get("/strategies").status_code == 302


def test_browser_logout_revokes_both_cookies(app):
    from app.auth import logout_browser

    user = create_user(app)
    client = new_client(app)
    client.post(f"{API}/auth/login", json={"email": user.email, "password": PASSWORD})
    access = client.get_cookie("access_token_cookie").value
    refresh = client.get_cookie("refresh_token_cookie").value
    with app.server.test_request_context(headers={
            "Cookie": f"access_token_cookie={access}; refresh_token_cookie={refresh}"}):
        logout_browser()
    fresh = new_client(app)
    fresh.set_cookie("access_token_cookie", access)
    fresh.set_cookie("refresh_token_cookie", refresh)
    assert fresh.get("/").status_code == 302
    assert fresh.get(f"{API}/auth/me").status_code == 401


@pytest.mark.parametrize("path", ["/auth/register", "/auth/login"])
def test_auth_bodies_must_be_json_objects(app, path):
    client = new_client(app)
    assert client.post(API + path, data="email=a", content_type="text/plain").status_code == 415
    assert client.post(API + path, data="{", content_type="application/json").status_code == 400
    listed = client.post(API + path, json=[1, 2])
    assert listed.status_code == 422 and error_of(listed)["fields"] == {
        "$": "must be a JSON object, not an array"}
