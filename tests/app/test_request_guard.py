"""Hostile input at the edge: NUL characters and lone surrogates answer 422 (never a 500, never
the database), bodies over the size limit answer 413 without being read, and malformed Dash
callback requests answer 400."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from tests.app.conftest import API, PASSWORD, example_spec, new_client, unique_email
from tests.app.test_auth import error_of, form_token

NUL = '"a\\u0000@x.com"'  # JSON text: the escapes reach the server as written
SURROGATE = '"x\\ud800@x.com"'
INVALID_TEXT = "must not contain NUL characters or unpaired UTF-16 surrogates"


def post_raw(client, path: str, body: str, **kwargs: Any):
    return client.post(path, data=body, content_type="application/json", **kwargs)


@pytest.mark.parametrize("bad", [NUL, SURROGATE], ids=["nul", "surrogate"])
@pytest.mark.parametrize("path", ["/auth/login", "/auth/register"])
def test_unauthenticated_nul_or_surrogate_emails_get_a_422_not_a_500(app, path, bad):
    client = new_client(app)
    answer = post_raw(client, API + path, f'{{"email": {bad}, "password": "{PASSWORD}"}}')
    assert answer.status_code == 422
    assert error_of(answer) == {"code": "invalid_text", "message": "invalid characters in email",
                                "fields": {"email": INVALID_TEXT}}


@pytest.mark.parametrize("bad", [NUL, SURROGATE], ids=["nul", "surrogate"])
def test_strategy_names_and_spec_names_with_unsafe_text_get_a_422(user_a, bad):
    spec = json.dumps(example_spec())
    named = post_raw(user_a.client, f"{API}/strategies",
                     f'{{"name": {bad}, "spec": {spec}}}', headers=user_a.headers)
    assert named.status_code == 422 and error_of(named)["fields"] == {"name": INVALID_TEXT}
    spec_named = spec.replace('"name": "', f'"name": {bad[:-1]}', 1)
    inner = post_raw(user_a.client, f"{API}/strategies", f'{{"spec": {spec_named}}}',
                     headers=user_a.headers)
    assert inner.status_code == 422 and error_of(inner)["fields"] == {"spec.name": INVALID_TEXT}
    assert user_a.get("/strategies").get_json()["strategies"] == []


def test_unsafe_text_deep_in_run_options_and_in_keys_is_found(user_a):
    created = user_a.post("/strategies", json={"spec": example_spec()}).get_json()["strategy"]
    body = (f'{{"strategy_id": {created["id"]}, "kind": "stress", "options": {{"scenarios": '
            '[{"id": "mine", "name": "crash\\u0000"}]}}')
    answer = post_raw(user_a.client, f"{API}/runs", body, headers=user_a.headers)
    assert answer.status_code == 422
    assert error_of(answer)["fields"] == {"options.scenarios[0].name": INVALID_TEXT}
    key = post_raw(user_a.client, f"{API}/runs", '{"strategy_id": 1, "kind\\ud800": 1}',
                   headers=user_a.headers)
    assert key.status_code == 422 and error_of(key)["fields"] == {"$": INVALID_TEXT}


def test_query_parameters_with_nul_get_a_422(user_a):
    answer = user_a.get("/prices/SPY", query_string={"start": "2020-01-01\x00"})
    assert answer.status_code == 422
    assert error_of(answer)["fields"] == {"start": INVALID_TEXT}


def test_the_login_form_answers_unsafe_text_with_a_form_message(app):
    client = new_client(app)
    token = form_token(client.get("/login"))
    answer = client.post("/login", data={"email": "a\x00@x.com", "password": PASSWORD,
                                         "form_token": token})
    assert answer.status_code == 422 and answer.mimetype == "text/html"
    page = answer.get_data(as_text=True)
    assert "characters that are not allowed" in page and 'id="form-error"' in page
    assert "\x00" not in page
    register = client.post("/register", data={"email": unique_email(), "password": "p\x00" * 6,
                                              "confirm": "p\x00" * 6, "form_token": token})
    assert register.status_code == 422 and b"not allowed" in register.data


# --- size ---------------------------------------------------------------------------------------


class CountingStream(io.RawIOBase):
    """A request body of ``size`` bytes produced on demand, counting what the server reads."""

    def __init__(self, size: int) -> None:
        self.size, self.read_bytes = size, 0

    def readable(self) -> bool:
        return True


    def readinto(self, buffer: Any) -> int:
        count = min(len(buffer), self.size - self.read_bytes)
        buffer[:count] = b" " * count
        self.read_bytes += count
        return count


@pytest.mark.parametrize("path", [f"{API}/auth/login", "/login", "/_dash-update-component",
                                  "/nowhere"])
def test_a_200_mb_body_gets_413_without_being_read(app, path):
    body = CountingStream(200 * 1024 * 1024)
    answer = new_client(app).post(path, content_type="application/json", environ_overrides={
        "wsgi.input": body, "CONTENT_LENGTH": str(body.size)})
    assert answer.status_code == 413
    assert error_of(answer)["code"] == "too_large"
    assert "2097152 bytes" in error_of(answer)["message"]
    assert body.read_bytes == 0


def test_a_large_legitimate_callback_body_passes_the_limit(app):
    """A results page's callback can carry a few hundred KB of graph state: a 1.5 MB callback
    request passes the size check and Dash answers it."""
    client, headers = logged_in_browser(app)
    body = toggle_navbar_body(padding="y" * 1_500_000)
    raw = json.dumps(body)
    assert 1_500_000 < len(raw) < 2 * 1024 * 1024
    answer = post_raw(client, "/_dash-update-component", raw, headers=headers)
    assert answer.status_code == 200
    assert answer.get_json()["response"]["nav-collapse"] == {"is_open": True}


def toggle_navbar_body(**extra: Any) -> dict[str, Any]:
    """The request the renderer sends when the navbar's toggler is clicked."""
    return {"output": "nav-collapse.is_open",
            "outputs": {"id": "nav-collapse", "property": "is_open"},
            "inputs": [{"id": "nav-toggler", "property": "n_clicks", "value": 1}],
            "state": [{"id": "nav-collapse", "property": "is_open", "value": False}],
            "changedPropIds": ["nav-toggler.n_clicks"], **extra}


# --- Dash callbacks -----------------------------------------------------------------------------


def logged_in_browser(app) -> tuple[Any, dict[str, str]]:
    from tests.app.conftest import create_user

    user = create_user(app)
    client = new_client(app)
    client.post(f"{API}/auth/login", json={"email": user.email, "password": PASSWORD})
    return client, {"X-CSRF-TOKEN": client.get_cookie("csrf_access_token").value}


@pytest.mark.parametrize(("body", "problem"), [
    ("{}", "'output' must be a string"),
    ("[1]", "the body must be a JSON object"),
    ('{"output": "nope.children", "inputs": []}', "no callback has this output"),
    ("{", "the body is not JSON"),
])
def test_malformed_dash_callback_requests_get_a_400(app, body, problem):
    client, headers = logged_in_browser(app)
    answer = post_raw(client, "/_dash-update-component", body, headers=headers)
    assert answer.status_code == 400
    assert problem in error_of(answer)["message"]


def test_callback_inputs_must_match_the_declared_ones(app):
    client, headers = logged_in_browser(app)
    output, callback = next((o, c) for o, c in app.callback_map.items() if c["inputs"])
    wrong_count = {"output": output, "inputs": [], "changedPropIds": []}
    answer = post_raw(client, "/_dash-update-component", json.dumps(wrong_count), headers=headers)
    assert answer.status_code == 400
    assert f"'inputs' must be a list of {len(callback['inputs'])} entries" in \
        error_of(answer)["message"]
    not_objects = {**wrong_count, "inputs": [5] * len(callback["inputs"])}
    answer = post_raw(client, "/_dash-update-component", json.dumps(not_objects),
                      headers=headers)
    assert answer.status_code == 400 and "'id' and 'property'" in error_of(answer)["message"]


def test_a_nul_typed_into_a_page_gets_a_422_before_its_callback(app):
    client, headers = logged_in_browser(app)
    body = {"output": "nav-user.children", "outputs": {"id": "nav-user", "property": "children"},
            "inputs": [{"id": "nav-location", "property": "pathname", "value": "/x\x00"}],
            "changedPropIds": ["nav-location.pathname"]}
    answer = post_raw(client, "/_dash-update-component", json.dumps(body), headers=headers)
    assert answer.status_code == 422 and error_of(answer)["code"] == "invalid_text"
    assert error_of(answer)["fields"] == {"inputs[0].value": INVALID_TEXT}
    body["inputs"][0]["value"] = "/x"
    assert post_raw(client, "/_dash-update-component", json.dumps(body),
                    headers=headers).status_code == 200


def test_an_anonymous_malformed_callback_is_refused_as_unauthenticated_first(app):
    answer = post_raw(new_client(app), "/_dash-update-component", "{}")
    assert answer.status_code == 401
