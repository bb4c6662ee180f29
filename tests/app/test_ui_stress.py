"""The stress page in headless Chromium: run a stress test of a demo strategy and read it."""

from __future__ import annotations

import pytest

from app import create_app
from app.services import session_scope
from app.services.strategies import create_strategy
from engine.spec import load_example
from tests.app.conftest import create_user, login_in_browser

pytestmark = pytest.mark.ui


def test_a_stress_run_from_the_page_shows_the_table_the_charts_and_a_bookmark(
        dash_duo, embedded_settings):
    app = create_app(embedded_settings)
    user = create_user(app)
    with session_scope(app.server.extensions["arena"].sessions) as session:
        create_strategy(session, user.id, load_example("rsi_mean_reversion").to_dict())
    dash_duo.start_server(app, navigate=False)
    login_in_browser(dash_duo, user.email, next_path="/stress")

    dash_duo.wait_for_text_to_equal(".page-title", "Stress tests")
    dash_duo.wait_for_contains_text("#stress-strategy", "RSI mean reversion (SPY)")
    dash_duo.find_element("#stress-settings .accordion-button").click()
    paths = dash_duo.wait_for_element("#stress-paths")
    dash_duo.clear_input(paths)
    paths.send_keys("60")
    dash_duo.find_element("#stress-run").click()

    dash_duo.wait_for_element("#stress-table", timeout=90)
    rows = dash_duo.find_elements("#stress-table tbody tr")
    assert len(rows) == 10 + 3  # the library and the three default transplants
    assert "COVID-19 crash" in dash_duo.find_element("#stress-table").text
    dash_duo.wait_for_element("#stress-fan .main-svg")
    dash_duo.wait_for_element("#stress-histogram .main-svg")
    assert "60 paths" in dash_duo.find_element("#stress-fan").text
    assert "crises your strategy lost less than buy-and-hold of SPY" in \
        dash_duo.find_element("#stress-summary").text
    green_or_red = dash_duo.find_elements("#stress-table td.text-success, "
                                          "#stress-table td.text-danger")
    assert green_or_red

    bookmark = dash_duo.find_element("#stress-feedback a").get_attribute("href")
    assert "/stress?run=" in bookmark
    dash_duo.driver.get(bookmark)
    dash_duo.wait_for_element("#stress-table", timeout=30)
    dash_duo.wait_for_element("#stress-fan .main-svg")
    assert dash_duo.get_logs() == []
