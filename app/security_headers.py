"""Security headers on every response, and no server banner.

- ``Content-Security-Policy``: everything from this origin only. Scripts: our own files plus
  the SHA-256 hashes of Dash's inline scripts (the renderer's start-up line and the clientside
  callbacks Dash registers when it serves its first request), so no other inline script runs.
  Styles allow ``'unsafe-inline'`` because Dash components and Plotly set ``style``
  attributes and inject ``<style>`` elements. ``frame-ancestors 'none'`` (and
  ``X-Frame-Options: DENY`` for old browsers) forbid framing (clickjacking);
  ``form-action 'self'`` keeps the login form from posting elsewhere.
- ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: same-origin`` (a ``?next=`` or run id
  in a URL never leaks to another site), ``Cross-Origin-Opener-Policy: same-origin``.
- ``Strict-Transport-Security`` in production only (``ARENA_ENV=production`` is served over
  HTTPS behind its proxy; in development it would pin ``localhost`` to HTTPS).
- No version banner: Werkzeug's development server (``arena serve``) writes ``Server:
  Werkzeug/3.x Python/3.x`` itself, whatever the app answers; its request handler is told to
  write ``Server: Strategy Arena`` instead (a process-wide setting, made when the app is built).
  gunicorn's own header names no version.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from flask import Flask, Response
from werkzeug.serving import WSGIRequestHandler

from app.config import Settings

HSTS_SECONDS = 365 * 24 * 3600
SERVER_NAME = "Strategy Arena"


def content_security_policy(script_hashes: Iterable[str]) -> str:
    """The CSP header value; ``script_hashes`` like ``'sha256-...'`` (Dash's ``csp_hashes()``)."""
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'", *script_hashes],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],  # includes the same-origin websocket /ws/prices
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


def security_headers(settings: Settings, script_hashes: Iterable[str]) -> dict[str, str]:
    """The headers every response of an app with ``settings`` carries."""
    headers = {
        "Content-Security-Policy": content_security_policy(script_hashes),
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "Cross-Origin-Opener-Policy": "same-origin",
    }
    if settings.env == "production":
        headers["Strict-Transport-Security"] = f"max-age={HSTS_SECONDS}; includeSubDomains"
    return headers


def install_security_headers(server: Flask, settings: Settings,
                             script_hashes: Callable[[], Iterable[str]]) -> None:
    """Add :func:`security_headers` to every response of ``server`` (a route's own value of a
    header wins), and keep the development server's banner free of versions.

    ``script_hashes`` is asked on every response (Dash's ``app.csp_hashes``: a few SHA-256 of
    short strings), because Dash adds inline scripts when it serves its first request.
    """

    @server.after_request
    def _add_headers(response: Response) -> Response:
        for name, value in security_headers(settings, script_hashes()).items():
            response.headers.setdefault(name, value)
        return response

    WSGIRequestHandler.version_string = _server_banner  # type: ignore[method-assign]


def _server_banner(_handler: object) -> str:
    return SERVER_NAME
