"""``/login`` and ``/register``: plain HTML forms served by Flask (no Dash callbacks), so they work
before anyone is logged in while every Dash route stays protected.

A successful form sets the same httponly JWT cookies as ``POST /api/v1/auth/login`` and
redirects to ``next`` (a path on this site only: see :func:`safe_next`). The forms carry their
own double-submit token (cookie + hidden field) against login CSRF. A field with a NUL character
or a lone surrogate is refused at the edge (:mod:`app.request_guard`); here it re-renders the
form with a message.
"""

from __future__ import annotations

import hmac
import re
import secrets
from urllib.parse import quote, unquote

from flask import Blueprint, Response, redirect, render_template_string, request

from app.auth import check_registration_rate, issue_tokens, login_user, set_browser_cookies
from app.context import arena
from app.request_guard import UnsafeTextError
from app.services import session_scope
from app.services.demo import DEMO_EMAIL, DEMO_PASSWORD
from app.services.errors import AuthenticationError, RateLimitedError, ServiceError
from app.services.users import MIN_PASSWORD_LENGTH, register_user

bp = Blueprint("login_pages", __name__)
FORM_COOKIE = "arena_form_token"

PAGE = """<!doctype html>
<html lang="en" data-bs-theme="dark">
<head>
  <meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{{ title }} · Strategy Arena</title>
  <link rel="stylesheet" href="/assets/00-bootstrap-slate.min.css">
</head>
<body>
<nav class="navbar navbar-dark bg-dark mb-4"><div class="container-fluid">
  <a class="navbar-brand" href="/">Strategy Arena</a></div></nav>
<main class="container" style="max-width: 26rem">
  <h1 class="h3 mb-3 page-title">{{ title }}</h1>
  {% if error %}
  <div class="alert alert-danger" id="form-error" role="alert">{{ error }}</div>
  {% endif %}
  <form method="post" action="{{ action }}" novalidate>
    <input type="hidden" name="form_token" value="{{ form_token }}">
    <input type="hidden" name="next" value="{{ next }}">
    <div class="mb-3">
      <label class="form-label" for="email">Email</label>
      <input class="form-control{% if fields.email %} is-invalid{% endif %}" type="email"
             id="email" name="email" value="{{ email }}" autocomplete="username" required
             autofocus>
      {% if fields.email %}<div class="invalid-feedback">{{ fields.email }}</div>{% endif %}
    </div>
    <div class="mb-3">
      <label class="form-label" for="password">Password</label>
      <input class="form-control{% if fields.password %} is-invalid{% endif %}" type="password"
             id="password" name="password" required
             autocomplete="{{ 'new-password' if register else 'current-password' }}">
      {% if fields.password %}<div class="invalid-feedback">{{ fields.password }}</div>{% endif %}
      {% if register %}<div class="form-text">At least {{ min_length }} characters, and not a
        common password.</div>{% endif %}
    </div>
    {% if register %}
    <div class="mb-3">
      <label class="form-label" for="confirm">Repeat the password</label>
      <input class="form-control{% if fields.confirm %} is-invalid{% endif %}" type="password"
             id="confirm" name="confirm" autocomplete="new-password" required>
      {% if fields.confirm %}<div class="invalid-feedback">{{ fields.confirm }}</div>{% endif %}
    </div>
    {% endif %}
    <button class="btn btn-primary w-100" type="submit" id="submit">{{ button }}</button>
  </form>
  <p class="mt-3">
  {% if register %}Already have an account? <a href="/login{{ next_query }}">Log in</a>
  {% else %}No account yet? <a href="/register{{ next_query }}" id="register-link">Create one</a>
  {% endif %}</p>
  {% if demo %}<p class="text-muted small" id="demo-hint">Demo account: {{ demo[0] }} /
    {{ demo[1] }}</p>{% endif %}
</main>
</body>
</html>"""


#: Characters a browser drops from a URL or reads as ``/`` (tab, newline, backslash) and other
#: controls and spaces: none belongs in a path we redirect to.
_NOT_IN_A_LOCAL_PATH = re.compile(r"[\x00-\x20\x7f\\]")
_CONTROLS = re.compile(r"[\x00-\x20\x7f]")


def safe_next(value: str | None) -> str:
    """``value`` when it is a path on this site, else ``/``.

    Browsers strip tabs and newlines from a URL and read a backslash as ``/``, so ``/<tab>/x.com``
    and ``/<backslash>x.com`` lead to ``//x.com``, another site. A path is only kept when it
    starts with exactly one ``/`` and holds no control character, space or backslash, and
    when percent-decoding (``/%09/x.com``, ``/%5Cx.com``) and dropping controls doesn't make it
    start with ``//`` either; the login and register pages lead back to ``/``.
    """
    if (not value or not value.startswith("/") or _NOT_IN_A_LOCAL_PATH.search(value)
            or value.startswith(("/login", "/register"))):
        return "/"
    for decoded in (unquote(value), unquote(unquote(value))):
        if _CONTROLS.sub("", decoded).replace("\\", "/").startswith("//"):
            return "/"
    return value


def _render(kind: str, status: int = 200, error: str | None = None,
            fields: dict[str, str] | None = None, email: str = "") -> Response:
    register = kind == "register"
    next_path = safe_next(request.values.get("next"))
    token = request.cookies.get(FORM_COOKIE) or secrets.token_urlsafe(24)
    html = render_template_string(
        PAGE, title="Create an account" if register else "Log in", register=register,
        action="/register" if register else "/login", button="Create account" if register
        else "Log in", error=error, fields=fields or {}, email=email, next=next_path,
        next_query="" if next_path == "/" else f"?next={quote(next_path, safe='/')}",
        form_token=token,
        min_length=MIN_PASSWORD_LENGTH,
        demo=(DEMO_EMAIL, DEMO_PASSWORD) if arena().settings.seed_demo and not register else None,
    )
    response = Response(html, status=status, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    response.set_cookie(FORM_COOKIE, token, httponly=True, samesite="Strict",
                        secure=arena().settings.cookie_secure)
    return response


def _form_token_ok() -> bool:
    sent, kept = request.form.get("form_token", ""), request.cookies.get(FORM_COOKIE, "")
    return bool(sent) and bool(kept) and hmac.compare_digest(sent, kept)


def _logged_in(user) -> Response:
    access, refresh = issue_tokens(user)
    response = redirect(safe_next(request.form.get("next")), code=303)
    set_browser_cookies(response, access, refresh)
    return response


@bp.errorhandler(UnsafeTextError)
def _unsafe_text(error: UnsafeTextError) -> Response:
    kind = "register" if request.path == "/register" else "login"
    return _render(kind, 422, "The form holds characters that are not allowed (NUL or "
                              "unpaired surrogates); please retype it.",
                   {error.where: error.fields[error.where]})


@bp.get("/login")
def login_form() -> Response:
    return _render("login")


@bp.post("/login")
def login_submit() -> Response:
    email = request.form.get("email", "")
    if not _form_token_ok():
        return _render("login", 400, "The form expired; please try again.", email=email)
    try:
        user = login_user(email, request.form.get("password", ""))
    except RateLimitedError as exc:
        response = _render("login", 429, exc.message[0].upper() + exc.message[1:] + ".",
                           email=email)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    except AuthenticationError:
        return _render("login", 401, "Wrong email or password.", email=email)
    return _logged_in(user)


@bp.get("/register")
def register_form() -> Response:
    return _render("register")


@bp.post("/register")
def register_submit() -> Response:
    email = request.form.get("email", "")
    password = request.form.get("password", "")
    if not _form_token_ok():
        return _render("register", 400, "The form expired; please try again.", email=email)
    if password != request.form.get("confirm", ""):
        return _render("register", 422, "The passwords differ.",
                       {"confirm": "must repeat the password"}, email)
    try:
        check_registration_rate()
        with session_scope(arena().sessions) as session:
            user = register_user(session, email, password)
    except RateLimitedError as exc:
        response = _render("register", 429, exc.message[0].upper() + exc.message[1:] + ".",
                           email=email)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    except ServiceError as exc:
        status = 409 if exc.code == "conflict" else 422
        return _render("register", status, exc.message[0].upper() + exc.message[1:] + ".",
                       exc.fields, email)
    return _logged_in(user)
