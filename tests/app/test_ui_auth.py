"""Login, the strategies page and logout in headless Chromium."""

import pytest

from app import create_app
from app.services import session_scope
from app.services.strategies import create_strategy
from tests.app.conftest import create_user, example_spec, login_in_browser, sqlite_settings

pytestmark = pytest.mark.ui


def test_login_lands_on_next_lists_strategies_duplicates_and_logs_out(dash_duo, tmp_path):
    app = create_app(sqlite_settings(tmp_path / "instance"))
    user = create_user(app)
    with session_scope(app.server.extensions["arena"].sessions) as session:
        create_strategy(session, user.id, example_spec(), "My RSI")
    dash_duo.start_server(app, navigate=False)

    dash_duo.driver.get(dash_duo.server.url + "/strategies")  # not logged in: to the form
    dash_duo.wait_for_element("#email")
    assert "/login?next=/strategies" in dash_duo.driver.current_url
    login_in_browser(dash_duo, user.email, "wrong password", next_path="/strategies")
    dash_duo.wait_for_contains_text("#form-error", "Wrong email or password")
    assert "401" in str(dash_duo.get_logs())  # the refused form answers 401; drain the log
    login_in_browser(dash_duo, user.email, next_path="/strategies")

    dash_duo.wait_for_text_to_equal(".page-title", "Strategies")
    dash_duo.wait_for_text_to_equal("#nav-user", user.email)
    dash_duo.wait_for_contains_text("#strategies-list", "My RSI")
    dash_duo.find_element("#strategies-list button.btn-secondary").click()  # Duplicate
    dash_duo.wait_for_contains_text("#strategies-list", "My RSI (copy)")
    dash_duo.wait_for_contains_text("#strategies-feedback", "Created")

    dash_duo.find_element("#nav-logout").click()
    dash_duo.wait_for_element("#email")
    assert dash_duo.driver.current_url.endswith("/login")
    dash_duo.driver.get(dash_duo.server.url + "/strategies")
    dash_duo.wait_for_element("#email")  # the session is gone
    assert "/login" in dash_duo.driver.current_url
    assert dash_duo.get_logs() == []
