"""The size of a run, estimated before it runs, and the limits it must fit.

A request that passes validation must finish in bounded time and memory, so a run is sized when
it is created (:func:`check_run_size`) and refused with the field to change when it is too
large. The estimate counts simulated bars: the trading days of the spec's range plus the
warm-up its indicators need (``start``/``end`` null count as the widest dates the spec allows),
times the variants a run simulates (sweep combinations). Stress runs are bounded by their
options model (paths x horizon, at most 30 windows) and the spec limits.
"""

from __future__ import annotations

import math
from datetime import date
from typing import Any

from engine.options import OptionsError, SweepOptions, combination_count
from engine.signals import max_warmup
from engine.spec import StrategySpec
from engine.spec.limits import EARLIEST_DATE

TRADING_DAYS_PER_YEAR = 252
#: combinations x bars of one sweep: about a minute of work and 1 GB of memory at most
MAX_SWEEP_BAR_SIMULATIONS = 25_000_000


def estimated_bars(spec: StrategySpec, today: date | None = None) -> int:
    """Daily bars a backtest of ``spec`` simulates, warm-up included (an upper estimate)."""
    first = spec.start or EARLIEST_DATE
    last = spec.end or today or date.today()
    days = max(0, (last - first).days)
    warmup = max(max_warmup(spec.entry.model_dump()), max_warmup(spec.exit.model_dump()))
    return math.ceil(days * TRADING_DAYS_PER_YEAR / 365.25) + warmup


def check_run_size(spec: StrategySpec, options: Any, today: date | None = None) -> None:
    """OptionsError naming the option to change when the run would be too large."""
    if isinstance(options, SweepOptions):
        combinations = combination_count(options.grid)
        bars = estimated_bars(spec, today)
        if combinations * bars > MAX_SWEEP_BAR_SIMULATIONS:
            fits = max(1, MAX_SWEEP_BAR_SIMULATIONS // max(bars, 1))
            raise OptionsError({"grid": (
                f"{combinations:,} combinations x about {bars:,} bars is more than "
                f"{MAX_SWEEP_BAR_SIMULATIONS:,} simulated bars; use at most {fits:,} "
                "combinations over this date range, or a shorter range")})
