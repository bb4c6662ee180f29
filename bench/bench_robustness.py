"""Benchmark: the whole robustness report of a daily RSI(14) 30/70 strategy over 20 years.

    python bench/bench_robustness.py [--repeat 7] [--paths 5000]

Times ``engine.robustness.run_robustness`` on the bundled SPY history from 2004-11-08 to
2024-11-08 (about 5,040 bars): 4 fill assumptions, 11 cost points and both break-even
bisections, a trade-order Monte Carlo of 5,000 paths, the conventions and the data checks;
then the Results-page panel built from the stored document (``components.robustness_panel``,
no browser: building the Dash tree and the Plotly figures). Target from the issue: the report
<= 1 s on this machine. The first call compiles (or loads from numba's cache) the kernels and
is reported separately. Figures are printed with the machine's load average, never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

from components.robustness_panel import robustness_panel
from data.bundled import load_bundled
from engine.robustness import run_robustness

SPEC = {
    "version": 1, "name": "RSI 30/70", "symbol": "SPY", "start": "2004-11-08",
    "end": "2024-11-08", "initial_cash": 10000, "fees_bps": 10, "stop_loss_pct": 5,
    "take_profit_pct": 8,
    "entry": {"all": [{"left": {"indicator": "rsi", "params": {"period": 14}}, "op": "<",
                       "right": 30}]},
    "exit": {"any": [{"left": {"indicator": "rsi", "params": {"period": 14}}, "op": ">",
                      "right": 70}]},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--paths", type=int, default=5000)
    args = parser.parse_args()
    prices = load_bundled("SPY")
    started = time.perf_counter()
    result = run_robustness(SPEC, prices, paths=args.paths)
    print(f"first call (compile or cache load): {time.perf_counter() - started:.2f} s")
    report_times, panel_times = [], []
    for _ in range(args.repeat):
        started = time.perf_counter()
        result = run_robustness(SPEC, prices, paths=args.paths)
        report_times.append(time.perf_counter() - started)
        document = json.loads(json.dumps(result.to_dict(), allow_nan=False))
        started = time.perf_counter()
        robustness_panel(document)
        panel_times.append(time.perf_counter() - started)
    document = result.to_dict()
    print(f"bars {document['meta']['bars']}, trades "
          f"{document['trade_monte_carlo']['trades']}, paths {args.paths}")
    print(f"report: median {statistics.median(report_times) * 1000:.0f} ms, "
          f"min {min(report_times) * 1000:.0f} ms over {args.repeat} (target <= 1000 ms)")
    print(f"panel:  median {statistics.median(panel_times) * 1000:.0f} ms, "
          f"min {min(panel_times) * 1000:.0f} ms (target <= 1500 ms after the run)")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(document["verdict"])


if __name__ == "__main__":
    main()
