"""Cockpit timings in headless Chromium (printed, never asserted):

- the results page of a 20-year daily backtest: time from navigation until every callback has
  answered, and the bytes of its ``/_dash-update-component`` responses;
- the Builder preview (indicators, markers, quick backtest): time from a parameter change until
  the preview has been redrawn.

Usage: python bench/bench_ui.py   (serves the app on a temporary embedded instance)
"""

from __future__ import annotations

import json
import tempfile
import threading
import time
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from werkzeug.serving import make_server

from app import create_app
from app.config import Settings
from app.runs.service import get_run, start_run
from app.services import session_scope
from app.services.strategies import create_strategy
from app.services.users import register_user
from engine.spec import load_example

EMAIL, PASSWORD = "bench@example.com", "bench password 1"


def main() -> None:
    instance = Path(tempfile.mkdtemp()) / "instance"
    app = create_app(Settings.from_env({"ARENA_INSTANCE_DIR": str(instance),
                                        "ARENA_SEED_DEMO": "0"}))
    context = app.server.extensions["arena"]
    spec = load_example("rsi_mean_reversion").to_dict()
    spec.update(start="2004-11-08", end="2024-11-08")  # 20 years of SPY
    with session_scope(context.sessions) as session:
        user_id = register_user(session, EMAIL, PASSWORD).id
        strategy_id = create_strategy(session, user_id, spec).id
    run_id = start_run(context, user_id, strategy_id, "backtest", {})
    while True:
        with context.sessions() as session:
            if get_run(session, user_id, run_id).finished:
                break
        time.sleep(0.2)
    server = make_server("127.0.0.1", 0, app.server, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"

    options = Options()
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,900"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(options=options)
    try:
        driver.get(base + "/login")
        driver.find_element(By.ID, "email").send_keys(EMAIL)
        driver.find_element(By.ID, "password").send_keys(PASSWORD)
        driver.find_element(By.ID, "submit").click()
        time.sleep(2)
        driver.get(base + f"/builder/{strategy_id}")  # warm the kernels and the price cache
        time.sleep(5)
        driver.get_log("performance")

        for attempt in range(3):
            start = time.perf_counter()
            driver.get(base + f"/runs/{run_id}")
            while not driver.find_elements(By.CSS_SELECTOR, "#results-prices .main-svg"):
                time.sleep(0.02)
            while driver.execute_script(
                    "return !!document.querySelector('._dash-loading-callback')"):
                time.sleep(0.02)
            elapsed = time.perf_counter() - start
            sizes = _update_bytes(driver)
            print(f"results page, 20 years (attempt {attempt + 1}): callbacks done in "
                  f"{elapsed * 1000:.0f} ms; /_dash-update-component responses "
                  f"{sum(sizes) / 1e6:.2f} MB in {len(sizes)} responses")

        driver.get(base + f"/builder/{strategy_id}")
        time.sleep(5)
        dom_id = json.dumps({"type": "spec-value", "path": "entry.all[0].right"},
                            sort_keys=True, separators=(",", ":"))
        box = driver.find_element(By.XPATH, f"//*[@id='{dom_id}']")
        for value in ("25", "35", "30"):
            before = driver.find_element(By.ID, "builder-preview-note").text
            marker = driver.execute_script(
                "return document.querySelector('#builder-preview-chart .main-svg') "
                "&& document.querySelector('#builder-preview-chart').dataset.t")
            driver.execute_script(
                "document.querySelector('#builder-preview-chart').dataset.t = 'old'")
            box.send_keys(Keys.CONTROL, "a")
            box.send_keys(value)
            start = time.perf_counter()
            box.send_keys(Keys.TAB)  # ends the debounce at once
            while driver.execute_script(
                    "const g = document.querySelector('#builder-preview-chart .js-plotly-plot');"
                    "return !g || !g._fullData || g.dataset.t === 'old' && "
                    "!document.querySelector('._dash-loading-callback') === false;"):
                time.sleep(0.005)
            while driver.execute_script(
                    "return !!document.querySelector('._dash-loading-callback')"):
                time.sleep(0.005)
            elapsed = time.perf_counter() - start
            del before, marker
            print(f"builder preview after a parameter change (entry threshold {value}): "
                  f"{elapsed * 1000:.0f} ms")
    finally:
        driver.quit()
        server.shutdown()
        context.close()


def _update_bytes(driver: webdriver.Chrome) -> list[int]:
    """Encoded sizes of the /_dash-update-component responses since the last call."""
    requests: dict[str, str] = {}
    sizes = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        params = message.get("params", {})
        if message["method"] == "Network.responseReceived":
            if "_dash-update-component" in params["response"]["url"]:
                requests[params["requestId"]] = params["response"]["url"]
        elif message["method"] == "Network.loadingFinished" and params["requestId"] in requests:
            sizes.append(int(params["encodedDataLength"]))
    return sizes


if __name__ == "__main__":
    main()
