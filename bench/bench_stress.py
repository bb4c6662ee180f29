"""Benchmark: the full stress suite of an RSI(14) 30/70 strategy on the bundled SPY history.

    python bench/bench_stress.py [--repeat 7] [--paths 1000] [--horizon 252]

Times ``engine.stress.run_stress`` with every library scenario (10 replays), the default three
shock transplants and a Monte Carlo of 1,000 paths x 252 days (block bootstrap, the strategy
simulated on every path), then each part on its own. Target from the issue: everything <= 1 s on
this machine. The first call compiles (or loads from numba's cache) the kernels and is reported
separately; the others are warm. Figures are printed with the machine's load average, never
asserted.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable

import numba

from data.bundled import load_bundled
from engine.stress import run_stress

SPEC = {
    "version": 1, "name": "RSI 30/70", "symbol": "SPY", "start": "2010-01-01",
    "end": "2024-11-08", "initial_cash": 10000, "fees_bps": 10, "stop_loss_pct": 5,
    "entry": {"all": [{"left": {"indicator": "rsi", "params": {"period": 14}}, "op": "<",
                       "right": 30}]},
    "exit": {"any": [{"left": {"indicator": "rsi", "params": {"period": 14}}, "op": ">",
                      "right": 70}]},
}


def timed(work: Callable[[], object], repeat: int) -> tuple[float, float]:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--paths", type=int, default=1000)
    parser.add_argument("--horizon", type=int, default=252)
    args = parser.parse_args()
    prices = load_bundled("SPY")
    load = os.getloadavg()
    print(f"machine: {os.cpu_count()} cores, numba threads {numba.get_num_threads()}, "
          f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")

    started = time.perf_counter()
    run_stress(SPEC, prices, paths=args.paths, horizon_days=args.horizon)
    print(f"first call (compile or load the numba cache): {time.perf_counter() - started:.2f} s")

    cases = {
        f"everything: 10 replays + 3 transplants + MC {args.paths} x {args.horizon}":
            lambda: run_stress(SPEC, prices, paths=args.paths, horizon_days=args.horizon),
        "10 replays only": lambda: run_stress(SPEC, prices, transplants=[], paths=0),
        "3 transplants only": lambda: run_stress(SPEC, prices, scenarios=[], paths=0),
        f"Monte Carlo only, {args.paths} x {args.horizon}":
            lambda: run_stress(SPEC, prices, scenarios=[], transplants=[], paths=args.paths,
                               horizon_days=args.horizon),
        "Monte Carlo with a -10 % gap and volatility x 1.5":
            lambda: run_stress(SPEC, prices, scenarios=[], transplants=[], paths=args.paths,
                               horizon_days=args.horizon, gap_pct=-10, gap_day=20,
                               vol_multiplier=1.5),
    }
    for label, work in cases.items():
        median, worst = timed(work, args.repeat)
        print(f"{label:58} median {median:7.1f} ms   max {worst:7.1f} ms")
    load = os.getloadavg()
    print(f"load average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


if __name__ == "__main__":
    main()
