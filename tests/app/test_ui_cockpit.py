"""The cockpit in headless Chromium against the real backend (embedded mode): build a rule by
clicking, preview, save, run and read the result; invalid values shown beside their fields;
a pasted spec saved back identical; compare two runs; another user's ids "not found"."""

from __future__ import annotations

import json
import re

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.expected_conditions import presence_of_element_located
from selenium.webdriver.support.ui import Select, WebDriverWait

from app import create_app
from app.context import arena
from app.services.prices import load_prices
from app.services.strategies import get_strategy, list_strategies
from components.metric_info import NOT_METRICS
from engine.backtest import run_backtest
from engine.spec import load_example
from tests.app.cockpit_helpers import finished_run, save
from tests.app.conftest import PASSWORD, create_user, example_spec, login_in_browser, unique_email

pytestmark = [pytest.mark.ui, pytest.mark.slow]


def control(dash_duo, **id_):
    """The element of a pattern-matching id (Dash writes it as sorted, compact JSON)."""
    dom_id = json.dumps(id_, sort_keys=True, separators=(",", ":"))
    return WebDriverWait(dash_duo.driver, 10).until(
        presence_of_element_located((By.XPATH, f"//*[@id='{dom_id}']")))


def click(dash_duo, selector):
    element = dash_duo.wait_for_element(selector)
    # a DOM click: the button may sit above the part of the page scrolled to
    dash_duo.driver.execute_script("arguments[0].click()", element)


def pick(dash_duo, value, **id_):
    Select(control(dash_duo, **id_)).select_by_value(value)


def type_into(dash_duo, text, **id_):
    element = control(dash_duo, **id_)
    dash_duo.clear_input(element)
    element.send_keys(text)


def wait_for_new_element(dash_duo, dom_id, timeout=10):
    dash_duo.wait_for_element(f"[id='{dom_id}']", timeout=timeout)


def test_a_new_user_builds_previews_saves_runs_and_reads_the_engine_s_numbers(
        dash_duo, embedded_settings):
    app = create_app(embedded_settings)
    dash_duo.start_server(app, navigate=False)
    dash_duo.driver.set_window_size(1280, 900)
    email = unique_email("cockpit")
    dash_duo.driver.get(dash_duo.server.url + "/register?next=/builder")
    dash_duo.wait_for_element("#email").send_keys(email)
    dash_duo.find_element("#password").send_keys(PASSWORD)
    dash_duo.find_element("#confirm").send_keys(PASSWORD)
    dash_duo.find_element("#submit").click()
    dash_duo.wait_for_contains_text("#builder-summary", "Buy when RSI(14) < 30; sell when close",
                                    timeout=20)

    # exit: close > SMA(20)  ->  RSI(14) > 70, by clicking
    pick(dash_duo, "indicator", type="spec-shape", path="exit.any[0].left", part="kind")
    dash_duo.wait_for_contains_text("#builder-summary", "sell when RSI(14) > SMA(20)")
    pick(dash_duo, "number", type="spec-shape", path="exit.any[0].right", part="kind")
    dash_duo.wait_for_contains_text("#builder-summary", "sell when RSI(14) > 30")
    type_into(dash_duo, "70", type="spec-value", path="exit.any[0].right")
    type_into(dash_duo, "5", type="spec-value", path="stop_loss_pct")
    dash_duo.wait_for_text_to_equal(
        "#builder-summary", "Buy when RSI(14) < 30; sell when RSI(14) > 70 or the price falls "
        "5 % below entry.")
    dash_duo.wait_for_element("#builder-preview-chart .boxlayer .trace", timeout=60)
    preview = json.dumps({"type": "preview-metric", "key": "sharpe"}, sort_keys=True,
                         separators=(",", ":"))
    dash_duo.wait_for_element(f"[id='{preview}']")

    click(dash_duo, "#builder-save")
    dash_duo.wait_for_text_to_equal("#builder-version", "version 1")
    click(dash_duo, "#builder-run")
    dash_duo.wait_for_element("#results-report", timeout=120)
    assert re.search(r"/runs/\d+$", dash_duo.driver.current_url)

    context = app.server.extensions["arena"]
    with context.sessions() as session:
        user_strategies = [s for s in list_strategies(session, _user_id(app, email))]
        spec = dict(user_strategies[0].spec)
    assert spec["exit"]["any"][0]["left"]["indicator"] == "rsi"
    assert spec["stop_loss_pct"] == 5
    with app.server.test_request_context():
        expected = run_backtest(spec, load_prices(arena().prices, "SPY"),
                                risk_free=context.settings.risk_free_rate).to_dict()
    for key, value in expected["metrics"].items():
        if key in NOT_METRICS:  # the reasons of null metrics: shown in the cards' tooltips
            continue
        dom_id = json.dumps({"type": "metric-value", "key": key}, sort_keys=True,
                            separators=(",", ":"))
        card = dash_duo.find_element(f"[id='{dom_id}']")
        assert card.get_attribute("data-value") == repr(value), key
    trades = len(expected["trades"])
    assert dash_duo.find_element("#results-report h4").text == f"Trades ({trades})"
    rows = dash_duo.find_elements("#trade-table tbody tr")
    assert len(rows) - 2 == min(trades, 15)  # a header row and a filter row, then trades
    for graph in ("results-equity", "results-drawdown", "results-prices", "results-monthly"):
        dash_duo.wait_for_element(f"#{graph} .main-svg")
    assert dash_duo.get_logs() == []


def _user_id(app, email):
    from app.services.users import find_user_by_email

    with app.server.extensions["arena"].sessions() as session:
        return find_user_by_email(session, email).id


def test_invalid_values_paste_compare_and_another_user_s_ids(dash_duo, embedded_settings):
    app = create_app(embedded_settings)
    owner, stranger = create_user(app), create_user(app)
    first = save(app, owner.id, example_spec("rsi_mean_reversion"))
    second = save(app, owner.id, example_spec("sma_crossover"))
    runs = [finished_run(app, owner.id, first), finished_run(app, owner.id, second)]
    dash_duo.start_server(app, navigate=False)
    login_in_browser(dash_duo, owner.email, next_path=f"/builder/{first}")

    # RSI period 0 and a 150 % stop: the message beside each field, Save disabled
    dash_duo.wait_for_text_to_equal("#builder-version", "version 1", timeout=20)
    type_into(dash_duo, "0", type="spec-value", path="entry.all[0].left.params.period")
    type_into(dash_duo, "150", type="spec-value", path="stop_loss_pct")
    period_error = json.dumps({"type": "field-error", "path": "entry.all[0].left.params.period"},
                              sort_keys=True, separators=(",", ":"))
    stop_error = json.dumps({"type": "field-error", "path": "stop_loss_pct"}, sort_keys=True,
                            separators=(",", ":"))
    dash_duo.wait_for_text_to_equal(f"[id='{period_error}']", "must be at least 1")
    dash_duo.wait_for_text_to_equal(f"[id='{stop_error}']", "must be less than 100")
    assert not dash_duo.find_element("#builder-save").is_enabled()

    # a pasted spec, applied and saved, comes back identical
    pasted = load_example("bollinger_breakout").to_dict()
    click(dash_duo, ".builder-tab-json a, .builder-tab-json button")
    box = dash_duo.wait_for_element("#builder-spec-json")
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(Keys.DELETE)
    box.send_keys(json.dumps(pasted))
    click(dash_duo, "#builder-json-apply")
    dash_duo.wait_for_contains_text("#builder-summary", "Buy when close crosses above BBANDS")
    click(dash_duo, "#builder-save")
    dash_duo.wait_for_text_to_equal("#builder-version", "version 2")
    with app.server.extensions["arena"].sessions() as session:
        assert get_strategy(session, owner.id, first).spec == pasted
    shown = dash_duo.find_element("#builder-spec-json").get_attribute("value")
    assert json.loads(shown) == pasted

    # compare: tick both runs on /runs
    dash_duo.driver.get(dash_duo.server.url + "/runs")
    for run_id in runs:
        box_id = json.dumps({"type": "run-select", "index": run_id}, sort_keys=True,
                            separators=(",", ":"))
        dash_duo.wait_for_element(f"[id='{box_id}']").click()
    dash_duo.wait_for_element("#runs-compare:not(.disabled)")
    click(dash_duo, "#runs-compare")
    dash_duo.wait_for_element("#compare-metrics", timeout=20)
    header = dash_duo.find_element("#compare-metrics thead").text
    assert f"#{runs[0]}" in header and f"#{runs[1]}" in header
    assert "★" in dash_duo.find_element("#compare-metrics").text
    dash_duo.wait_for_element("#compare-equity .main-svg")

    # another user sees "not found" for each of the owner's URLs
    dash_duo.find_element("#nav-logout").click()
    dash_duo.wait_for_element("#email")
    login_in_browser(dash_duo, stranger.email)
    dash_duo.wait_for_element(".page-title")
    for path, selector, text in (
            (f"/runs/{runs[0]}", "#results-not-found", f"run {runs[0]} not found"),
            (f"/builder/{first}", "#builder-not-found", f"strategy {first} not found"),
            (f"/runs/compare?ids={runs[0]},{runs[1]}", "#compare-problem",
             f"run {runs[0]} not found")):
        dash_duo.driver.get(dash_duo.server.url + path)
        dash_duo.wait_for_text_to_equal(selector, text)
    assert dash_duo.get_logs() == []
