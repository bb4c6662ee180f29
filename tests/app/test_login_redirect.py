"""After logging in, the form only ever sends the browser to a path on this site: tabs, newlines,
backslashes and their percent-encoded forms cannot turn ``next`` into ``//evil.example``."""

from __future__ import annotations

import pytest

from app.login_pages import safe_next
from tests.app.conftest import PASSWORD, create_user, new_client
from tests.app.test_auth import form_token

OFF_SITE = [
    "//evil.example", "https://evil.example/", "/\\evil.example", "\\\\evil.example",
    "/\t/evil.example", "/\n/evil.example", "/\r\n/evil.example", "\t//evil.example",
    "/%09/evil.example", "/%0a/evil.example", "/%0D%0A/evil.example", "/%5Cevil.example",
    "/%2F/evil.example", "/%2f%2fevil.example", "/%252F%252Fevil.example", "/%2509/evil.example",
    " //evil.example", "/ /evil.example", "javascript:alert(1)", "evil.example", "",
]


@pytest.mark.parametrize("value", OFF_SITE)
def test_next_values_that_a_browser_could_read_as_another_site_lead_home(value):
    assert safe_next(value) == "/"


@pytest.mark.parametrize("value", ["/strategies", "/runs?ids=1%2C2", "/builder/3",
                                   "/runs/compare?ids=1,2", "/lab#section"])
def test_paths_on_this_site_are_kept(value):
    assert safe_next(value) == value


@pytest.mark.parametrize("value", ["/%09/evil.example", "/\t/evil.example", "/%5Cevil.example"])
def test_the_login_form_never_redirects_off_site(app, value):
    user = create_user(app)
    client = new_client(app)
    page = client.get("/login", query_string={"next": value})
    assert 'name="next" value="/"' in page.get_data(as_text=True)
    done = client.post("/login", data={"email": user.email, "password": PASSWORD,
                                       "form_token": form_token(page), "next": value})
    assert done.status_code == 303 and done.headers["Location"] == "/"


def test_the_encoded_tab_of_the_issue_is_not_followed_off_site(app):
    """``/login?next=/%09/evil.com`` used to answer ``Location: //evil.com``."""
    user = create_user(app)
    client = new_client(app)
    page = client.get("/login?next=/%09/evil.com")
    done = client.post("/login?next=/%09/evil.com", data={
        "email": user.email, "password": PASSWORD, "form_token": form_token(page),
        "next": "/\t/evil.com"})
    assert done.headers["Location"] == "/"
