"""Take the README's UI screenshots: start the app on a temporary embedded instance, log in as
the demo user in headless Chromium and save PNGs of the main pages to docs/screenshots/.

Usage: python scripts/screenshots.py [page ...]   (pages are URL paths, default: all below)
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.common.by import By

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots"
PAGES = {"/login": "login", "/": "home", "/strategies": "strategies",
         "/builder?example=rsi_mean_reversion": "builder", "/runs": "runs", "/stress": "stress"}
DEMO = ("demo@strategy-arena.local", "arena-demo")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main(paths: list[str]) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as instance:
        env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
        env["ARENA_INSTANCE_DIR"] = instance
        arena = Path(sys.executable).with_name("arena")
        server = subprocess.Popen([str(arena), "serve", "--port", str(port)], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for _ in range(200):
                try:
                    requests.get(f"{base}/api/health", timeout=1)
                    break
                except requests.ConnectionError:
                    time.sleep(0.3)
            options = Options()
            for arg in ("--headless=new", "--no-sandbox", "--disable-gpu",
                        "--window-size=1400,1000", "--disable-background-networking"):
                options.add_argument(arg)
            driver = webdriver.Chrome(options=options)
            try:
                driver.get(f"{base}/login")
                time.sleep(1)
                driver.save_screenshot(str(OUT / "login.png"))
                driver.find_element(By.NAME, "email").send_keys(DEMO[0])
                driver.find_element(By.NAME, "password").send_keys(DEMO[1])
                driver.find_element(By.CSS_SELECTOR, "form button, form [type=submit]").click()
                time.sleep(2)
                for path in paths or [p for p in PAGES if p != "/login"]:
                    driver.get(base + path)
                    time.sleep(4)
                    name = PAGES.get(path, path.strip("/").split("?")[0])
                    driver.save_screenshot(str(OUT / f"{name}.png"))
                    print("saved", path)
                    if path.startswith("/builder"):  # run it: the results page, then compare
                        driver.find_element(By.ID, "builder-run").click()
                        for _ in range(120):
                            if driver.find_elements(By.ID, "results-report"):
                                break
                            time.sleep(1)
                        time.sleep(4)
                        driver.save_screenshot(str(OUT / "results.png"))
                        print("saved results")
                    if path == "/runs":  # compare the two newest backtests when there are two
                        boxes = [b for b in driver.find_elements(
                            By.CSS_SELECTOR, "#runs-list input[type=checkbox]")
                            if b.is_enabled()][:2]
                        if len(boxes) == 2:
                            for box in boxes:
                                box.click()
                            time.sleep(1)
                            driver.find_element(By.ID, "runs-compare").click()
                            time.sleep(4)
                            driver.save_screenshot(str(OUT / "compare.png"))
                            print("saved compare")
                    if path == "/stress":  # run the first strategy's stress test, then the report
                        driver.find_element(By.ID, "stress-run").click()
                        for _ in range(120):
                            if driver.find_elements(By.ID, "stress-report"):
                                break
                            time.sleep(1)
                        time.sleep(3)
                        height = driver.execute_script("return document.body.scrollHeight")
                        driver.set_window_size(1400, min(int(height) + 100, 4000))
                        time.sleep(1)
                        driver.save_screenshot(str(OUT / "stress-report.png"))
                        driver.set_window_size(1400, 1000)
                        print("saved stress report")
            finally:
                driver.quit()
        finally:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    main(sys.argv[1:])
