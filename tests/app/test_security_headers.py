"""Every response carries the security headers; the CSP admits exactly Dash's inline script;
HSTS only in production; no server banner with versions, even from Werkzeug's own server."""

from __future__ import annotations

import base64
import hashlib
import re
import threading
import urllib.request
from dataclasses import replace

import pytest
from werkzeug.serving import make_server

from app import create_app
from tests.app.conftest import API, PASSWORD, create_user, new_client, sqlite_settings

COMMON = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


@pytest.fixture
def embedded_app(tmp_path):
    dash_app = create_app(sqlite_settings(tmp_path / "instance"))
    yield dash_app
    dash_app.server.extensions["arena"].close()


def csp_directives(response) -> dict[str, list[str]]:
    policy = response.headers["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in policy.split("; ")}


@pytest.mark.parametrize("path", ["/login", "/api/health", "/api/v1/openapi.json", "/",
                                  "/api/v1/nowhere", "/assets/00-bootstrap-slate.min.css"])
def test_every_response_carries_the_security_headers(embedded_app, path):
    answer = new_client(embedded_app).get(path)
    for name, value in COMMON.items():
        assert answer.headers[name] == value, (path, name)
    directives = csp_directives(answer)
    assert directives["default-src"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["object-src"] == ["'none'"]
    assert "'unsafe-inline'" not in directives["script-src"]
    assert "'unsafe-eval'" not in directives["script-src"]
    assert "Strict-Transport-Security" not in answer.headers  # development


def test_the_csp_allows_the_inline_scripts_of_the_dash_page_and_no_other(embedded_app):
    user = create_user(embedded_app)
    client = new_client(embedded_app)
    client.post(f"{API}/auth/login", json={"email": user.email, "password": PASSWORD})
    page = client.get("/strategies")
    assert page.status_code == 200
    html = re.sub(r"<!--.*?-->", "", page.get_data(as_text=True), flags=re.S)  # IE-only part
    inline = re.findall(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>(.*?)</script>",
                        html, flags=re.S)
    assert inline, "the Dash page has its renderer start-up script inline"
    allowed = set(csp_directives(page)["script-src"]) - {"'self'"}
    hashes = {f"'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'"
              for s in inline}
    assert hashes <= allowed


def test_hsts_is_sent_in_production_only(tmp_path):
    settings = replace(sqlite_settings(tmp_path / "instance"), env="production",
                       jwt_secret_key="x" * 40, cookie_secure=True)
    dash_app = create_app(settings)
    answer = dash_app.server.test_client().get("/api/health")
    assert answer.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    dash_app.server.extensions["arena"].close()


def test_production_cookies_are_secure(tmp_path):
    settings = replace(sqlite_settings(tmp_path / "instance"), env="production",
                       jwt_secret_key="x" * 40, cookie_secure=True)
    dash_app = create_app(settings)
    user = create_user(dash_app)
    login = new_client(dash_app).post(f"{API}/auth/login",
                                      json={"email": user.email, "password": PASSWORD})
    cookies = login.headers.getlist("Set-Cookie")
    assert len(cookies) == 4 and all("; Secure" in cookie for cookie in cookies)
    form = dash_app.server.test_client().get("/login")
    assert "; Secure" in form.headers["Set-Cookie"]
    dash_app.server.extensions["arena"].close()


def test_werkzeugs_own_server_announces_no_versions(embedded_app):
    server = make_server("127.0.0.1", 0, embedded_app.server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/api/health") as answer:
            banner = answer.headers.get_all("Server")
    finally:
        server.shutdown()
        thread.join()
    assert banner == ["Strategy Arena"]
