"""Token hygiene: ``exp`` is required, refresh tokens rotate on use, and logging out with either
token of a login ends the whole session."""

from __future__ import annotations

import jwt
from flask_jwt_extended import create_access_token, create_refresh_token

from tests.app.conftest import API, PASSWORD, create_user, new_client, register_and_login
from tests.app.test_auth import error_of


def test_a_token_without_expiry_is_refused_even_with_our_signature(app):
    user = register_and_login(app)
    with app.server.app_context():
        eternal = create_access_token(identity=str(user.id), expires_delta=False)
        eternal_refresh = create_refresh_token(identity=str(user.id), expires_delta=False)
    assert "exp" not in jwt.decode(eternal, options={"verify_signature": False})
    answer = user.client.get(f"{API}/auth/me", headers={"Authorization": f"Bearer {eternal}"})
    assert answer.status_code == 401 and error_of(answer)["code"] == "token_invalid"
    assert "expiry" in error_of(answer)["message"]
    refresh = user.client.post(f"{API}/auth/refresh",
                               headers={"Authorization": f"Bearer {eternal_refresh}"})
    assert refresh.status_code == 401
    browser = new_client(app)
    browser.set_cookie("refresh_token_cookie", eternal_refresh)
    assert browser.get("/strategies").status_code == 302  # no renewal from it either
    out = user.client.post(f"{API}/auth/logout", headers={"Authorization": f"Bearer {eternal}"})
    assert out.status_code == 401


def test_refreshing_rotates_the_refresh_token_and_revokes_the_old_one(app):
    user = register_and_login(app)
    first = user.client.post(f"{API}/auth/refresh",
                             headers={"Authorization": f"Bearer {user.refresh_token}"})
    assert first.status_code == 200
    body = first.get_json()
    assert body["refresh_token"] != user.refresh_token and body["access_token"]
    again = user.client.post(f"{API}/auth/refresh",
                             headers={"Authorization": f"Bearer {user.refresh_token}"})
    assert again.status_code == 401 and error_of(again)["code"] == "token_revoked"
    second = user.client.post(f"{API}/auth/refresh",
                              headers={"Authorization": f"Bearer {body['refresh_token']}"})
    assert second.status_code == 200
    old_claims = jwt.decode(user.refresh_token, options={"verify_signature": False})
    new_claims = jwt.decode(body["refresh_token"], options={"verify_signature": False})
    assert new_claims["sid"] == old_claims["sid"]  # the same login session


def test_cookie_refresh_rotates_the_refresh_cookie(app):
    user = create_user(app)
    client = new_client(app)
    client.post(f"{API}/auth/login", json={"email": user.email, "password": PASSWORD})
    old = client.get_cookie("refresh_token_cookie").value
    csrf = client.get_cookie("csrf_refresh_token").value
    answer = client.post(f"{API}/auth/refresh", headers={"X-CSRF-TOKEN": csrf})
    assert answer.status_code == 200
    assert client.get_cookie("refresh_token_cookie").value not in (old, None)


def test_api_logout_with_the_access_token_alone_also_revokes_its_refresh_token(app):
    user = register_and_login(app)
    second = new_client(app).post(f"{API}/auth/login",
                                  json={"email": user.email, "password": PASSWORD})
    second_access = second.get_json()["access_token"]  # another session of the same account
    assert user.post("/auth/logout").status_code == 200  # no refresh token in the body
    refresh = user.client.post(f"{API}/auth/refresh",
                               headers={"Authorization": f"Bearer {user.refresh_token}"})
    assert refresh.status_code == 401 and error_of(refresh)["code"] == "token_revoked"
    # the other session of the same account is not logged out
    assert user.client.get(f"{API}/auth/me", headers={
        "Authorization": f"Bearer {second_access}"}).status_code == 200


def test_logout_with_the_refresh_token_revokes_its_access_token(app):
    user = register_and_login(app)
    out = user.client.post(f"{API}/auth/logout",
                           headers={"Authorization": f"Bearer {user.refresh_token}"})
    assert out.status_code == 200
    assert user.get("/auth/me").status_code == 401
