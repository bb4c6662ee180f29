"""The Live page in headless Chromium, served by the real ASGI server (the socket lives there,
not in dash_duo's own Flask server): start streaming, follow a strategy, see it move."""

from __future__ import annotations

import time

import pytest

from engine.spec import load_example
from tests.live.conftest import PASSWORD

pytestmark = pytest.mark.ui


def test_the_live_page_streams_candles_a_ticker_and_the_followed_strategys_pnl(
        dash_duo, live_server):
    user = live_server.user()
    spec = {**load_example("sma_crossover").to_dict(), "name": "Live SMA"}
    live_server.save_strategy(user, spec)
    driver = dash_duo.driver
    driver.set_window_size(1280, 1000)
    driver.get(f"{live_server.base}/login?next=/live")
    dash_duo.wait_for_element("#email").send_keys(user["email"])
    dash_duo.find_element("#password").send_keys(PASSWORD)
    dash_duo.find_element("#submit").click()

    dash_duo.wait_for_text_to_equal(".page-title", "Live")
    dash_duo.wait_for_contains_text("#live-strategy", "Live SMA (SPY)")
    # the renderer may still be wiring the callbacks when the button first shows: press again
    for _attempt in range(5):
        dash_duo.find_element("#live-start").click()
        time.sleep(1.0)
        if dash_duo.find_element("#live-status").text != "idle":
            break
    dash_duo.wait_for_text_to_equal("#live-status", "live", timeout=15)
    dash_duo.wait_for_contains_text("#live-source", "simulated", timeout=15)
    seen = set()
    deadline = time.monotonic() + 20
    while len(seen) < 3 and time.monotonic() < deadline:
        seen.add(dash_duo.find_element("#live-ticker").text)
        time.sleep(0.2)
    assert len(seen) >= 3 and all("SPY" in text for text in seen), seen
    dash_duo.wait_for_contains_text("#live-equity-value", "10,000", timeout=15)
    dash_duo.wait_for_element("#live-chart .main-svg")
    dash_duo.wait_for_element("#live-chart .boxlayer .trace", timeout=15)  # candles
    dash_duo.wait_for_element("#live-equity .main-svg")
    assert dash_duo.find_element("#live-position").text in ("flat",) or \
        dash_duo.find_element("#live-position").text.startswith(("long", "short"))
    assert dash_duo.get_logs() == []
