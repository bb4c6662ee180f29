"""Benchmark: the most expensive runs the validators accept, measured in a fresh process each.

Prints the wall time and the peak resident memory (ru_maxrss) of: a backtest with the longest
look-back on the whole bundled SPY history, and a stress run with every library scenario, 20
custom windows and the largest Monte Carlo the options allow (paths x horizon = MAX_CELLS).
Figures are printed, not asserted (see bench/README.md).

    python bench/bench_limits.py
"""

from __future__ import annotations

import json
import subprocess
import sys

CHILD = r'''
import json, resource, sys, time
from data.bundled import load_bundled
from engine.spec import load_example
from engine.spec.limits import MAX_LOOKBACK_BARS
from engine.options import StressOptions, parse_options
from engine.montecarlo import MAX_CELLS, MAX_HORIZON_DAYS
prices = load_bundled("SPY")
spec = load_example("rsi_mean_reversion").to_dict()
spec.update(start=None, end=None)
spec["exit"]["any"][0]["left"]["params"]["period"] = min(MAX_LOOKBACK_BARS, 2000)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t = time.perf_counter()
if sys.argv[1] == "stress":
    from engine.stress import run_stress
    windows = [{"id": f"w{i}", "start": f"{2004 + i // 2}-0{1 + 6 * (i % 2)}-01",
                "end": f"{2004 + i // 2}-0{3 + 6 * (i % 2)}-30"} for i in range(20)]
    horizon = MAX_HORIZON_DAYS
    options = parse_options(StressOptions, {"paths": MAX_CELLS // horizon, "horizon_days": horizon,
                                            "custom_scenarios": windows})
    run_stress(spec, prices, **options.engine_kwargs())
    what = ("stress: 10 scenarios + 3 transplants + 20 windows + "
            f"{options.paths} paths x {horizon} days")
else:
    from engine.backtest import run_backtest
    run_backtest(spec, prices)
    look_back = spec["exit"]["any"][0]["left"]["params"]["period"]
    what = f"backtest: {len(prices)} bars, look-back {look_back}"
seconds = time.perf_counter() - t
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"what": what, "seconds": round(seconds, 2), "peak_rss_mb": round(peak / 1024),
                  "before_mb": round(before / 1024)}))
'''


def main() -> None:
    for kind in ("backtest", "stress"):
        out = subprocess.run([sys.executable, "-c", CHILD, kind], capture_output=True, text=True,
                             check=True).stdout.strip().splitlines()[-1]
        row = json.loads(out)
        print(f"{row['what']}: {row['seconds']} s, peak RSS {row['peak_rss_mb']} MB "
              f"({row['before_mb']} MB after imports)")


if __name__ == "__main__":
    main()
