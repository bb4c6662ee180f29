"""``/api/v1/auth``: register, login, refresh, logout, me (docs/api.md).

Refreshing rotates the refresh token: the answer carries a new ``refresh_token`` and the one
presented is revoked. Logging out revokes the whole login session (both tokens of the pair,
whichever one is presented).
"""

from __future__ import annotations

from flask import Blueprint, Response, g, jsonify, request
from flask_jwt_extended import get_jwt, get_jwt_request_location, jwt_required

from app.api.schemas import CredentialsIn, LogoutIn, user_json
from app.api.validation import parse_body
from app.auth import (
    ACCESS_COOKIE,
    REFRESH_COOKIE,
    access_token_seconds,
    check_registration_rate,
    current_user_id,
    issue_tokens,
    login_user,
    revoke_encoded,
    revoke_token,
    session_tokens,
    set_browser_cookies,
)
from app.context import arena
from app.services import session_scope
from app.services.users import get_user, register_user

bp = Blueprint("auth", __name__, url_prefix="/auth")


@bp.post("/register")
def register() -> tuple[Response, int]:
    """Create an account: 201 ``{user}``; 409 when the email is taken; 429 beyond the
    registrations allowed per address (see :func:`app.auth.check_registration_rate` for why
    the 409 stays)."""
    check_registration_rate()
    body = parse_body(CredentialsIn)
    with session_scope(arena().sessions) as session:
        user = register_user(session, body.email, body.password)
        return jsonify(user=user_json(user)), 201


@bp.post("/login")
def login() -> Response:
    """Tokens for API use, and the same tokens as httponly cookies for the browser."""
    body = parse_body(CredentialsIn)
    user = login_user(body.email, body.password)
    access, refresh = issue_tokens(user)
    response = jsonify(access_token=access, refresh_token=refresh, token_type="Bearer",
                       expires_in=access_token_seconds(), user=user_json(user))
    set_browser_cookies(response, access, refresh)
    return response


@bp.post("/refresh")
@jwt_required(refresh=True)
def refresh() -> Response:
    """A new access token and a new refresh token for a valid refresh token (Bearer header, or
    cookie + CSRF); the presented refresh token is revoked (rotation), so a stolen copy that
    was already used stops working."""
    claims = get_jwt()
    access, refresh_token = session_tokens(str(claims["sub"]), claims.get("sid"))
    revoke_token({"jti": claims["jti"], "exp": claims["exp"]})  # this token, not the session
    response = jsonify(access_token=access, refresh_token=refresh_token, token_type="Bearer",
                       expires_in=access_token_seconds())
    if get_jwt_request_location() == "cookies":
        set_browser_cookies(response, access, refresh_token)
    return response


@bp.post("/logout")
@jwt_required(verify_type=False)
def logout() -> Response:
    """Revoke the presented token and its login session (so the other token of the pair too),
    the refresh token in the body if any, and the cookies'."""
    body = parse_body(LogoutIn, optional=True)
    payload = get_jwt()
    revoke_token(payload)
    subject = str(payload["sub"])
    revoke_encoded(body.refresh_token, user_id=subject)
    for cookie in (ACCESS_COOKIE, REFRESH_COOKIE):
        revoke_encoded(request.cookies.get(cookie), user_id=subject)
    g.arena_logged_out = True  # the response clears the cookies
    return jsonify(message="logged out")


@bp.get("/me")
@jwt_required()
def me() -> Response:
    with arena().sessions() as session:
        user = get_user(session, current_user_id())
        return jsonify(user=user_json(user))
