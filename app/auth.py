"""Authentication: JWTs for the API and the browser, the login and registration limits, and the
protection of every page.

- API clients send ``Authorization: Bearer <access token>``; the browser holds the tokens in
  httponly cookies, and every unsafe request it makes carries the ``csrf_access_token``
  cookie's value in the ``X-CSRF-TOKEN`` header (Dash's renderer does so by itself).
- Access tokens live :attr:`Settings.access_token_minutes` (15), refresh tokens
  :attr:`Settings.refresh_token_days` (30); a token without ``exp`` or ``jti`` is refused.
  Every token of one login carries the same session id (``sid``). ``POST /auth/refresh``
  rotates the refresh token (the old one is revoked). Logging out revokes the token and its
  session, so the other token of the pair stops working too (:mod:`app.revocation`, in the
  database in both modes).
- Limits (:mod:`app.ratelimit`): failed logins per account and IP address, an exponential
  delay per account, registrations per IP address. Counted in Redis in server mode, in this
  process while Redis is down and in embedded mode.
- Pages: a request without a valid access cookie redirects to ``/login?next=...``. When the
  access token has merely expired and the refresh cookie is still good, the request goes
  through and the response carries a new access cookie, so nobody is logged out every 15
  minutes. For an unsafe request that fallback demands the CSRF header too, matched against the
  expired token (still signed by us). That renewal does not rotate the refresh cookie: a page
  fires several callbacks at once with the same cookie, and rotating in the first would log
  the others out.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import quote

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
from sqlalchemy.exc import SQLAlchemyError

from app.api.errors import error_response, is_page_catch_all
from app.context import AppContext, arena
from app.models import User
from app.ratelimit import (
    Counter,
    FixedWindowLimit,
    LoginThrottle,
    counter_backend,
    hashed,
    make_counter,
)
from app.revocation import RevocationCheckUnavailable, RevocationList
from app.services import session_scope
from app.services.errors import AuthenticationError, RateLimitedError
from app.services.users import authenticate, get_user, normalise_email

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


#: Claims every token we accept must carry.
REQUIRED_CLAIMS = ("exp", "jti", "sub")


@dataclass
class AuthState:
    revocations: RevocationList
    counter: Counter
    login_throttle: LoginThrottle
    registrations: FixedWindowLimit
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
    counter = make_counter(context.redis)
    server.extensions[EXTENSION_KEY] = AuthState(
        revocations=RevocationList(context.sessions, int(refresh.total_seconds())),
        counter=counter,
        login_throttle=LoginThrottle(counter, settings.login_rate_limit,
                                     settings.login_max_delay_seconds),
        registrations=FixedWindowLimit(counter, settings.register_rate_limit),
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
        try:
            with arena().sessions() as session:
                return get_user(session, user_id)
        except SQLAlchemyError as exc:
            log.error("cannot look up the user of a token: %s", exc)
            raise RevocationCheckUnavailable(
                "cannot check the login session right now: the account database is not "
                "answering; try again in a moment") from None

    @jwt.token_in_blocklist_loader
    def _revoked(_header: dict, payload: dict) -> bool:
        return _state().revocations.is_revoked(payload)

    @jwt.token_verification_loader
    def _complete(_header: dict, payload: dict) -> bool:
        return has_required_claims(payload)

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
        return error_response(401, "token_invalid", "invalid token (it lacks an expiry, id or "
                              "subject); log in again")


def has_required_claims(payload: dict[str, Any]) -> bool:
    """True when ``payload`` has every claim of :data:`REQUIRED_CLAIMS` (a token that never
    expires is never accepted, even with our signature)."""
    return all(payload.get(claim) is not None for claim in REQUIRED_CLAIMS)


def auth_backends() -> dict[str, str]:
    """Where revocations and the login/registration counters live right now (for health)."""
    return {"revocations": "database", "rate_limits": counter_backend(_state().counter)}


# --- issuing, revoking -----------------------------------------------------------------------


def issue_tokens(user: User) -> tuple[str, str]:
    """A new ``(access, refresh)`` token pair for ``user``: a new login session."""
    return session_tokens(str(user.id), secrets.token_urlsafe(16))


def session_tokens(identity: str, session_id: str | None) -> tuple[str, str]:
    """A new ``(access, refresh)`` pair of the login session ``session_id`` (None for tokens
    issued before sessions existed)."""
    claims = {"sid": session_id} if session_id else None
    return (create_access_token(identity=identity, additional_claims=claims),
            create_refresh_token(identity=identity, additional_claims=claims))


def session_access_token(identity: str, session_id: str | None) -> str:
    """A new access token of the login session ``session_id``."""
    claims = {"sid": session_id} if session_id else None
    return create_access_token(identity=identity, additional_claims=claims)


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
    """Check the credentials under the login limits (:class:`~app.ratelimit.LoginThrottle`).

    Raises RateLimitedError while this account may not try (from this address), and
    AuthenticationError for a wrong email or password.
    """
    throttle = _state().login_throttle
    account, address = normalise_email(email), request.remote_addr or "unknown"
    wait = throttle.retry_after(account, address)
    if wait:
        raise RateLimitedError(f"too many failed login attempts; try again in {wait} s", wait)
    try:
        with session_scope(arena().sessions) as session:
            user = authenticate(session, email, password)
    except AuthenticationError:
        throttle.failed(account, address)
        raise
    throttle.succeeded(account, address)
    return user


def check_registration_rate() -> None:
    """Count a registration attempt from this client address; RateLimitedError beyond
    :attr:`Settings.register_rate_limit` an hour.

    Registration answers 409 for a taken email (docs/api.md): without email verification, any
    sign-up form reveals that an address has an account (it can't create a second one). This
    limit bounds how fast anyone can probe, as the login limits do for passwords.
    """
    address = request.remote_addr or "unknown"
    wait = _state().registrations.attempt(hashed("register-ip", address))
    if wait:
        raise RateLimitedError(f"too many registrations from this address; try again in "
                               f"{wait} s", wait)


def revoke_token(payload: dict[str, Any]) -> None:
    """Revoke the token of ``payload`` and its login session."""
    _state().revocations.revoke(payload)


def is_revoked(payload: dict[str, Any]) -> bool:
    return _state().revocations.is_revoked(payload)


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
    if (claims.get("type") != "refresh" or not has_required_claims(claims)
            or _state().revocations.is_revoked(claims)):
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
    g.arena_renew_access_for = (user_id, claims.get("sid"))
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
    renew = g.pop("arena_renew_access_for", None)
    if renew is not None:
        user_id, session_id = renew
        set_access_cookies(response, session_access_token(str(user_id), session_id),
                           max_age=_state().refresh_seconds)
    return response
