"""Authentication: JWTs for the API and the browser, the revocation list, the login rate limit,
and the protection of every page.

- API clients send ``Authorization: Bearer <access token>``; the browser holds the tokens in
  httponly cookies, and every unsafe request it makes carries the ``csrf_access_token``
  cookie's value in the ``X-CSRF-TOKEN`` header (Dash's renderer does so by itself).
- Access tokens live :attr:`Settings.access_token_minutes` (15), refresh tokens
  :attr:`Settings.refresh_token_days` (30). Logging out revokes both by ``jti``: in Redis
  (with a TTL) in server mode, in the ``revoked_tokens`` table in embedded mode.
- Pages: a request without a valid access cookie redirects to ``/login?next=...``. When the
  access token has merely expired and the refresh cookie is still good, the request goes
  through and the response carries a new access cookie, so nobody is logged out every 15
  minutes. For an unsafe request that fallback demands the CSRF header too, matched against the
  expired token (still signed by us).
"""

from __future__ import annotations

import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import redis
from flask import Flask, Response, g, redirect, request
from flask_jwt_extended import (
    JWTManager,
    create_access_token,
    create_refresh_token,
    decode_token,
    get_jwt_identity,
    set_access_cookies,
    set_refresh_cookies,
    unset_jwt_cookies,
    verify_jwt_in_request,
)
from flask_jwt_extended.exceptions import JWTExtendedException
from jwt import ExpiredSignatureError, PyJWTError
from sqlalchemy import delete
from sqlalchemy.orm import Session, sessionmaker

from app.api.errors import error_response, is_page_catch_all
from app.context import AppContext, arena
from app.models import RevokedToken, User, utcnow
from app.ratelimit import MemoryCounter, RateLimiter, RedisCounter, hashed
from app.services import session_scope
from app.services.errors import AuthenticationError, RateLimitedError
from app.services.users import authenticate, get_user

log = logging.getLogger(__name__)

ACCESS_COOKIE = "access_token_cookie"
REFRESH_COOKIE = "refresh_token_cookie"
CSRF_ACCESS_COOKIE = "csrf_access_token"
CSRF_HEADER = "X-CSRF-TOKEN"
CSRF_METHODS = ("POST", "PUT", "PATCH", "DELETE")
EXTENSION_KEY = "arena_auth"

#: Served without a login: the login/register forms, static assets, Dash's JavaScript bundles
#: and the websocket (it checks its own token). The API under /api/ checks its own tokens too
#: (/api/health and /api/v1/openapi.json are public). Everything else needs a login, and so
#: does any URL that would fall through to a Dash page.
PUBLIC_PATHS = frozenset({"/login", "/register", "/favicon.ico", "/_favicon.ico",
                          "/_reload-hash"})
PUBLIC_PREFIXES = ("/assets/", "/_dash-component-suites/", "/ws/")


class RevocationList:
    """Revoked token ids until their expiry: Redis keys with a TTL, or database rows."""

    def __init__(self, sessions: sessionmaker[Session], client: redis.Redis | None) -> None:
        self._sessions, self._redis = sessions, client

    def revoke(self, jti: str, expires: int) -> None:
        """Revoke ``jti`` until ``expires`` (the token's ``exp``, Unix seconds)."""
        expires_at = datetime.fromtimestamp(expires, UTC).replace(tzinfo=None)
        ttl = max(1, int((expires_at - utcnow()).total_seconds()) + 1)
        if self._redis is not None:
            self._redis.set(f"arena:revoked:{jti}", "1", ex=ttl)
            return
        with session_scope(self._sessions) as session:
            session.execute(delete(RevokedToken).where(RevokedToken.expires_at < utcnow()))
            session.merge(RevokedToken(jti=jti, expires_at=expires_at))

    def is_revoked(self, jti: str) -> bool:
        """True when revoked; also True when the list can't be read (fail closed)."""
        try:
            if self._redis is not None:
                return bool(self._redis.exists(f"arena:revoked:{jti}"))
            with self._sessions() as session:
                return session.get(RevokedToken, jti) is not None
        except Exception as exc:  # Redis or database down: refuse the token, say why in the log
            log.error("token revocation list unavailable, refusing tokens: %s", exc)
            return True


@dataclass
class AuthState:
    revocations: RevocationList
    login_limiter: RateLimiter
    refresh_seconds: int
    access_seconds: int


def init_auth(server: Flask, context: AppContext) -> None:
    """Configure flask-jwt-extended on ``server`` and protect the pages."""
    settings = context.settings
    secret = settings.jwt_secret_key
    if not secret:  # Settings built by hand in development: sessions end with the process
        secret = secrets.token_urlsafe(48)
    access = timedelta(minutes=settings.access_token_minutes)
    refresh = timedelta(days=settings.refresh_token_days)
    server.config.update(
        JWT_SECRET_KEY=secret,
        JWT_TOKEN_LOCATION=["headers", "cookies"],
        JWT_ACCESS_TOKEN_EXPIRES=access,
        JWT_REFRESH_TOKEN_EXPIRES=refresh,
        JWT_COOKIE_SECURE=settings.cookie_secure,
        JWT_COOKIE_SAMESITE="Lax",
        JWT_COOKIE_CSRF_PROTECT=True,
        JWT_CSRF_IN_COOKIES=True,
        JWT_CSRF_METHODS=list(CSRF_METHODS),
        JWT_ACCESS_CSRF_HEADER_NAME=CSRF_HEADER,
        JWT_REFRESH_CSRF_HEADER_NAME=CSRF_HEADER,
        JWT_SESSION_COOKIE=False,
    )
    counter = MemoryCounter() if context.redis is None else RedisCounter(context.redis)
    server.extensions[EXTENSION_KEY] = AuthState(
        revocations=RevocationList(context.sessions, context.redis),
        login_limiter=RateLimiter(counter, settings.login_rate_limit, window_seconds=60),
        refresh_seconds=int(refresh.total_seconds()),
        access_seconds=int(access.total_seconds()),
    )
    _install_callbacks(JWTManager(server))
    server.before_request(_protect_pages)
    server.after_request(_renew_browser_session)


def _state() -> AuthState:
    from flask import current_app

    return current_app.extensions[EXTENSION_KEY]


def _install_callbacks(jwt: JWTManager) -> None:
    @jwt.user_lookup_loader
    def _load_user(_header: dict, payload: dict) -> User | None:
        try:
            user_id = int(payload["sub"])
        except (KeyError, TypeError, ValueError):
            return None
        with arena().sessions() as session:
            return get_user(session, user_id)

    @jwt.token_in_blocklist_loader
    def _revoked(_header: dict, payload: dict) -> bool:
        return _state().revocations.is_revoked(str(payload.get("jti", "")))

    @jwt.expired_token_loader
    def _expired(_header: dict, _payload: dict) -> Response:
        return error_response(401, "token_expired", "the token has expired: get a new access "
                              "token from POST /api/v1/auth/refresh, or log in again")

    @jwt.invalid_token_loader
    def _invalid(reason: str) -> Response:
        return error_response(401, "token_invalid", f"invalid token ({reason}); log in again")

    @jwt.unauthorized_loader
    def _unauthorized(reason: str) -> Response:
        if "CSRF" in reason:
            return error_response(401, "csrf_failed", "missing or wrong CSRF token: with cookie "
                                  f"authentication, send the {CSRF_ACCESS_COOKIE} cookie's "
                                  f"value in the {CSRF_HEADER} header")
        return error_response(401, "unauthorized", "authentication required: send "
                              "Authorization: Bearer <access token>, or log in")

    @jwt.revoked_token_loader
    def _revoked_response(_header: dict, _payload: dict) -> Response:
        return error_response(401, "token_revoked", "the token has been revoked (logged out); "
                              "log in again")

    @jwt.user_lookup_error_loader
    def _user_gone(_header: dict, _payload: dict) -> Response:
        return error_response(401, "unauthorized", "the account of this token no longer exists")

    @jwt.needs_fresh_token_loader
    def _needs_fresh(_header: dict, _payload: dict) -> Response:
        return error_response(401, "fresh_token_required", "log in again to do this")

    @jwt.token_verification_failed_loader
    def _failed(_header: dict, _payload: dict) -> Response:
        return error_response(401, "token_invalid", "the token was refused; log in again")


# --- issuing, revoking -----------------------------------------------------------------------


def issue_tokens(user: User) -> tuple[str, str]:
    """A new ``(access, refresh)`` token pair for ``user``."""
    identity = str(user.id)
    return create_access_token(identity=identity), create_refresh_token(identity=identity)


def set_browser_cookies(response: Response, access: str, refresh: str | None = None) -> None:
    """Put the tokens in httponly cookies (with their CSRF cookies).

    The access cookie lives as long as the refresh token although its token expires sooner:
    the expired token then still proves which CSRF value belongs to this browser.
    """
    max_age = _state().refresh_seconds
    set_access_cookies(response, access, max_age=max_age)
    if refresh is not None:
        set_refresh_cookies(response, refresh, max_age=max_age)


def access_token_seconds() -> int:
    return _state().access_seconds


def login_user(email: str, password: str) -> User:
    """Check the credentials under the rate limit (per email and per client address).

    Raises RateLimitedError once :attr:`Settings.login_rate_limit` attempts failed within a
    minute, AuthenticationError for a wrong email or password.
    """
    limiter = _state().login_limiter
    keys = (hashed("login-email", email.strip().lower()),
            hashed("login-ip", request.remote_addr or "unknown"))
    wait = limiter.retry_after(*keys)
    if wait:
        raise RateLimitedError(f"too many failed login attempts; try again in {wait} s", wait)
    try:
        with session_scope(arena().sessions) as session:
            return authenticate(session, email, password)
    except AuthenticationError:
        limiter.hit(*keys)
        raise


def revoke_token(payload: dict[str, Any]) -> None:
    _state().revocations.revoke(str(payload["jti"]), int(payload["exp"]))


def revoke_encoded(token: str | None, *, user_id: str | None = None) -> None:
    """Revoke an encoded token if it is ours (and belongs to ``user_id`` when given)."""
    if not token:
        return
    try:
        payload = decode_token(token, allow_expired=True)
    except (JWTExtendedException, PyJWTError):
        return
    if user_id is None or str(payload.get("sub")) == str(user_id):
        revoke_token(payload)


def logout_browser() -> None:
    """Revoke the tokens in this request's cookies and clear the cookies on the response."""
    access = request.cookies.get(ACCESS_COOKIE)
    user_id = _subject(access)
    revoke_encoded(access)
    revoke_encoded(request.cookies.get(REFRESH_COOKIE), user_id=user_id)
    g.arena_logged_out = True


def _subject(token: str | None) -> str | None:
    if not token:
        return None
    try:
        return str(decode_token(token, allow_expired=True).get("sub"))
    except (JWTExtendedException, PyJWTError):
        return None


# --- who is asking -----------------------------------------------------------------------------


def current_user_id() -> int:
    """Id of the logged-in user of this request (pages, Dash callbacks and API routes)."""
    user_id = g.get("arena_user_id")
    if user_id is not None:
        return user_id
    try:
        identity = get_jwt_identity()
    except RuntimeError:  # no token was verified in this request
        identity = None
    if identity is None:
        raise LookupError("no logged-in user in this request")
    return int(identity)


def browser_user_id() -> int | None:
    """The user of this browser request's cookies, or None (never raises)."""
    try:
        verify_jwt_in_request(locations=["cookies"])
        return int(get_jwt_identity())
    except ExpiredSignatureError:
        return _refresh_from_cookie()
    except (JWTExtendedException, PyJWTError) as exc:
        if request.cookies.get(ACCESS_COOKIE) is None and "CSRF" not in str(exc):
            return _refresh_from_cookie()
        return None


def _refresh_from_cookie() -> int | None:
    """Authenticate by the refresh cookie when the access token expired or went missing.

    Unsafe methods must send the CSRF header of this browser: the value bound to its
    (expired) access token or to its refresh token.
    """
    refresh = request.cookies.get(REFRESH_COOKIE)
    if not refresh:
        return None
    try:
        claims = decode_token(refresh)
    except (JWTExtendedException, PyJWTError):
        return None
    if claims.get("type") != "refresh" or _state().revocations.is_revoked(str(claims["jti"])):
        return None
    if request.method in CSRF_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        expected = [claims.get("csrf")]
        access = request.cookies.get(ACCESS_COOKIE)
        if access:
            try:
                expired = decode_token(access, allow_expired=True)
            except (JWTExtendedException, PyJWTError):
                return None
            if str(expired.get("sub")) != str(claims.get("sub")):
                return None
            expected.append(expired.get("csrf"))
        if not sent or not any(hmac.compare_digest(sent, str(e)) for e in expected if e):
            return None
    try:
        user_id = int(claims["sub"])
    except (KeyError, TypeError, ValueError):
        return None
    with arena().sessions() as session:
        if get_user(session, user_id) is None:
            return None
    g.arena_renew_access_for = user_id
    return user_id


def login_url(next_path: str | None = None) -> str:
    return "/login" if not next_path or next_path == "/" else f"/login?next={quote(next_path)}"


def _protect_pages() -> Response | None:
    path = request.path
    if path.startswith("/api/") or path in PUBLIC_PATHS or request.method == "OPTIONS":
        return None
    if path.startswith(PUBLIC_PREFIXES) and not is_page_catch_all(request.url_rule):
        return None
    user_id = browser_user_id()
    if user_id is not None:
        g.arena_user_id = user_id
        return None
    if path.startswith("/_dash-") or request.method != "GET":
        return error_response(401, "unauthorized", "your session has ended; log in again")
    query = request.query_string.decode("utf-8", "replace")
    return redirect(login_url(path + (f"?{query}" if query else "")))


def _renew_browser_session(response: Response) -> Response:
    if g.get("arena_logged_out"):
        unset_jwt_cookies(response)
        return response
    user_id = g.pop("arena_renew_access_for", None)
    if user_id is not None:
        set_access_cookies(response, create_access_token(identity=str(user_id)),
                           max_age=_state().refresh_seconds)
    return response
