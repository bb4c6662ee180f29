"""The Dash shell in headless Chromium: every page is reachable from the navbar."""

import time

import pytest
from selenium.common.exceptions import StaleElementReferenceException

from app import create_app
from components.navbar import NAV_ITEMS
from tests.app.conftest import create_user, login_in_browser

pytestmark = pytest.mark.ui


def start_logged_in(dash_duo, settings):
    """Serve a fresh app, then log a new user in through the /login form."""
    app = create_app(settings)
    user = create_user(app)
    dash_duo.start_server(app, navigate=False)
    login_in_browser(dash_duo, user.email)
    return app


def heading_text(dash_duo) -> str:
    """The page heading's text, retried while Dash swaps the page content under us."""
    for _ in range(50):
        try:
            return dash_duo.find_element(".page-title").text
        except StaleElementReferenceException:
            time.sleep(0.1)
    return dash_duo.find_element(".page-title").text


def test_navbar_reaches_every_page_without_browser_errors(dash_duo, embedded_settings):
    start_logged_in(dash_duo, embedded_settings)
    dash_duo.wait_for_text_to_equal(".page-title", "Strategy Arena")
    for label, href in NAV_ITEMS:
        dash_duo.find_element(f"#nav-{label.lower()}").click()
        dash_duo.wait_for_element(".page-title")
        assert dash_duo.driver.current_url.endswith(href)
        heading = heading_text(dash_duo)
        assert heading, f"{href} rendered no heading"
    dash_duo.find_element("#nav-home").click()
    dash_duo.wait_for_text_to_equal(".page-title", "Strategy Arena")
    # The theme is served locally: no CDN request failed, no JavaScript error.
    assert dash_duo.get_logs() == []


def test_dark_theme_is_applied(dash_duo, embedded_settings):
    start_logged_in(dash_duo, embedded_settings)
    dash_duo.wait_for_element(".page-title")
    background = dash_duo.driver.execute_script(
        "return getComputedStyle(document.body).backgroundColor")
    red, green, blue = (int(part) for part in background[background.index("(") + 1:
                                                          background.index(")")].split(",")[:3])
    assert max(red, green, blue) < 80, background
