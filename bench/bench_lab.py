"""Benchmark: the strategy lab (sweep, walk-forward, PBO) against the issue's targets, printed.

    python bench/bench_lab.py            # full run (a few minutes on 2 shared cores)
    python bench/bench_lab.py --quick    # smaller grids, one repeat

Workloads (PASS/MISS is printed, never asserted):

1. RSI sweep, period x entry threshold x exit threshold (10,000 variants: 25 x 20 x 20), on the
   last 5,000 synthetic GBM bars (``tests.engine.peers.gbm_ohlc``), 10 bps fees, next-open fills.
   - ours, full: ``run_sweep`` (every metric of every variant, and the overfitting report:
     DSR and PBO with 16 partitions);
   - ours, final equity: ``sweep_final_equity`` (signals + simulation, no metrics), the like-for-
     like comparison with vectorbt's ``from_signals(...).final_value()``;
   - vectorbt: our RSI values per period (``engine.indicators.rsi``), 2-D entries/exits by
     broadcasting, shifted one bar, one ``Portfolio.from_signals`` with ``price=open`` and
     ``size=inf`` (the peers' conventions, ``tests/engine/peers.py``). The final equities must
     agree to 1e-9 relative; the largest difference is printed.
   Targets: full sweep <= 3 s; our combinations per second >= 3x vectorbt's.
2. 10-fold rolling walk-forward over a 500-variant RSI grid (20 x 5 x 5) on 20 years of daily
   bars (5,040 synthetic bars): <= 5 s.
3. PBO (CSCV, 16 partitions: 12,870 splits) over 1,000 variants of 5,000 returns, from the
   returns (block moments included): <= 2 s.

Medians over repeats with the JIT warm (a first call compiles or loads numba's cache); the
machine load is printed with each table.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.indicators import rsi  # noqa: E402
from engine.overfitting import probability_of_backtest_overfitting  # noqa: E402
from engine.sweep import run_sweep, sweep_final_equity  # noqa: E402
from engine.walkforward import run_walkforward  # noqa: E402
from tests.engine.peers import FEE, INITIAL_CASH, gbm_ohlc  # noqa: E402

PERIOD = "entry.all[0].left.params.period,exit.any[0].left.params.period"
ENTRY = "entry.all[0].right"
EXIT = "exit.any[0].right"


def rsi_spec() -> dict:
    rsi14 = {"indicator": "rsi", "params": {"period": 14}}
    return {"version": 1, "name": "RSI sweep", "symbol": "SPY", "initial_cash": INITIAL_CASH,
            "fees_bps": FEE * 1e4,
            "entry": {"all": [{"left": rsi14, "op": "<", "right": 30}]},
            "exit": {"any": [{"left": rsi14, "op": ">", "right": 70}]}}


def median_seconds(work: Callable[[], object], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.1f} {five:.1f} {fifteen:.1f}"


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def vectorbt_rsi_sweep(bars: pd.DataFrame, periods: list[int], entries: list[float],
                       exits: list[float]) -> np.ndarray:
    """vectorbt on every (period, entry, exit) combination, in the sweep's order."""
    import vectorbt as vbt

    close = bars["close"].to_numpy()
    values = np.stack([rsi(close, p) for p in periods], axis=1)  # (n, periods)
    low = np.asarray(entries)[None, None, :, None]
    high = np.asarray(exits)[None, None, None, :]
    shape = (len(close), len(periods), len(entries), len(exits))
    buy = np.broadcast_to(values[:, :, None, None] < low, shape).reshape(len(close), -1)
    sell = np.broadcast_to(values[:, :, None, None] > high, shape).reshape(len(close), -1)
    buy = np.vstack([np.zeros((1, buy.shape[1]), bool), buy[:-1]])  # fill at the next open
    sell = np.vstack([np.zeros((1, sell.shape[1]), bool), sell[:-1]])
    columns = pd.RangeIndex(buy.shape[1])
    portfolio = vbt.Portfolio.from_signals(
        bars["close"],  # broadcast against the 2-D signals
        pd.DataFrame(buy, index=bars.index, columns=columns),
        pd.DataFrame(sell, index=bars.index, columns=columns),
        price=bars["open"].to_numpy()[:, None], fees=FEE, size=np.inf, init_cash=INITIAL_CASH,
        freq="1D")
    return np.asarray(portfolio.final_value())


def sweep_workload(quick: bool, repeat: int) -> None:
    periods = list(range(4, 29)) if not quick else list(range(4, 9))
    entries = list(range(10, 50, 2))
    exits = list(range(52, 92, 2))
    grid = {PERIOD: periods, ENTRY: entries, EXIT: exits}
    count = len(periods) * len(entries) * len(exits)
    bars = gbm_ohlc(5_000)
    run_sweep(rsi_spec(), bars.iloc[:300], {PERIOD: [5, 6], ENTRY: [30], EXIT: [70]})  # warm
    print(f"\n1. RSI sweep, {count:,} variants on {len(bars):,} bars ({load()})")
    full = median_seconds(lambda: run_sweep(rsi_spec(), bars, grid), repeat)
    final = median_seconds(lambda: sweep_final_equity(rsi_spec(), bars, grid), repeat)
    ours_values = sweep_final_equity(rsi_spec(), bars, grid).final_equity
    try:
        vectorbt_rsi_sweep(bars.iloc[:300], periods[:1], entries[:1], exits[:1])  # warm
        vbt = median_seconds(lambda: vectorbt_rsi_sweep(bars, periods, entries, exits), repeat)
        theirs = vectorbt_rsi_sweep(bars, periods, entries, exits)
        difference = float(np.max(np.abs(theirs / ours_values - 1)))
    except ImportError:
        vbt, difference = None, None
    print(f"  ours, every metric + DSR/PBO: {full:.2f} s ({count / full:,.0f} combinations/s); "
          f"target <= 3 s -> {verdict(full <= 3)}")
    print(f"  ours, final equity only: {final:.2f} s ({count / final:,.0f} combinations/s)")
    if vbt is None:
        print("  vectorbt: not installed (pip install -e '.[bench]')")
        return
    print(f"  vectorbt from_signals: {vbt:.2f} s ({count / vbt:,.0f} combinations/s); largest "
          f"final-equity difference {difference:.1e} (relative)")
    print(f"  combinations per second, ours / vectorbt: final equity {vbt / final:.1f}x, every "
          f"metric {vbt / full:.1f}x (target >= 3x -> {verdict(vbt / final >= 3)} on final "
          "equity)")


def walkforward_workload(quick: bool, repeat: int) -> None:
    grid = {PERIOD: list(range(5, 25)), ENTRY: [20, 25, 30, 35, 40], EXIT: [60, 65, 70, 75, 80]}
    if quick:
        grid[PERIOD] = grid[PERIOD][:4]
    bars = gbm_ohlc(5_040)
    count = len(grid[PERIOD]) * 25
    print(f"\n2. walk-forward, 10 rolling folds, {count} variants, {len(bars):,} bars ({load()})")
    seconds = median_seconds(
        lambda: run_walkforward(rsi_spec(), bars, grid, folds=10, in_sample_size=4), repeat)
    print(f"  {seconds:.2f} s; target <= 5 s -> {verdict(seconds <= 5)}")


def pbo_workload(repeat: int) -> None:
    returns = np.random.default_rng(0).normal(0, 0.01, size=(5_000, 1_000))
    probability_of_backtest_overfitting(returns[:, :10], 16)  # warm
    print(f"\n3. PBO, 16 partitions (12,870 splits), 1,000 variants x 5,000 returns ({load()})")
    seconds = median_seconds(lambda: probability_of_backtest_overfitting(returns, 16), repeat)
    print(f"  {seconds:.2f} s; target <= 2 s -> {verdict(seconds <= 2)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    repeat = 1 if args.quick else args.repeat
    print(f"machine: {os.cpu_count()} cores, {load()}")
    sweep_workload(args.quick, repeat)
    walkforward_workload(args.quick, repeat)
    pbo_workload(repeat)


if __name__ == "__main__":
    main()
