"""Historical replay and shock transplant: the strategy run through one window
(docs/results.md#stress-result).

Windows and their numbers
-------------------------
A window is a base bar (the close of the scenario's ``start``: the last bar on or before that
date) and the bars up to the close of ``end``. Everything is measured from the base close:

- The strategy enters the window FLAT with ``initial_cash`` (``entry="flat"``, the default:
  "the strategy meets the crisis in cash") or with whatever a run of the strategy since the first
  bar of the data holds at the base close (``entry="carry"``). Its first possible fill is on the
  bar after the base: a signal on the base's close fills at the next open (``fill: next_open``);
  with ``fill: close`` signals on the base bar are ignored, so nothing fills at the base close.
- Indicators are never cold: signals come from the rule trees evaluated on ALL the history, so
  inside a window they equal those of a full-history backtest on the same dates.
- The benchmark is buy-and-hold of ``spec.benchmark`` held through the window, without costs:
  its return is the market's move from the base close to the last close (0 trades, exposure 1).
  Its bars are never filled silently: without a bar on the base date, or with data ending
  before the window's end, the scenario has no benchmark numbers (``benchmark: null``) and a
  ``note`` says why; a hole inside its data carries the last close and the ``note`` lists the
  dates; days to recover look no further than its last bar.
- ``return`` = ``E_end / E_base - 1``; ``max_drawdown`` with ``E_base`` as the first peak;
  ``worst_day`` = the lowest close-to-close return inside the window; ``num_trades`` = positions
  opened inside the window; ``exposure`` = share of the window's bars (base excluded) holding a
  position at the close; ``days_to_recover`` = trading days from the window's trough (its lowest
  close) to the first close back at ``E_base`` or above, looking past the window's end through
  the rest of the data (the strategy keeps following its rules), 0 when the window never went
  below ``E_base``, null when not recovered by the end of the data.
- ``equity`` rows are both curves rebased to 100 at the base close.

Prices are those the backtest uses (``engine.backtest.prepare_prices``: adjusted by default, or
as given with ``adjust=False``). A window the data does not cover is reported in ``skipped``.

Shock transplant ("what if 2020 happened next"): the daily bars of a scenario window, relative
to each previous close, are appended after the last bar of the history (``spec.end``, or the last
bar), on business-day dates. With ``transplant_source="benchmark"`` (default) the path is the
benchmark's, each relative price ``x`` scaled to ``1 + beta * (x - 1)`` with the symbol's beta to
the benchmark over the backtest window (so every close-to-close return is ``beta`` times the
benchmark's); with ``"symbol"`` it is the symbol's own bars of that window. The strategy, warmed
up on the whole real history, meets the appended path as it meets a replay window.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from engine.metrics import max_drawdown
from engine.scenarios import Scenario
from engine.signals import IndicatorCache, evaluate_rules
from engine.simulate import SimConfig, simulate

__all__ = ["WindowRunner", "replay_window", "transplant_bars", "transplant_window",
           "window_stats"]

_OHLC = ["open", "high", "low", "close"]
_MIN_RELATIVE_PRICE = 0.01  # a transplanted bar loses at most 99 %


def window_stats(values: np.ndarray, window_bars: int, positions: np.ndarray | None = None,
                 num_trades: int = 0) -> dict[str, Any]:
    """docs/results.md#stress-result numbers of one curve (see the module docstring).

    ``values[0]`` is the base close, ``values[:window_bars]`` the window, anything after it the
    continuation used only for ``days_to_recover``. ``positions`` (the window's bars) gives the
    exposure; None means always invested (buy-and-hold).
    """
    window = values[:window_bars]
    base = float(window[0])
    trough = int(np.argmin(window))
    if window[trough] >= base:
        days_to_recover: int | None = 0
    else:
        back = np.flatnonzero(values[trough + 1:] >= base)
        days_to_recover = int(back[0]) + 1 if back.size else None
    days = window[1:] / window[:-1] - 1.0 if window_bars > 1 else np.array([])
    exposure = 1.0 if positions is None else (
        float(np.count_nonzero(positions[1:window_bars])) / (window_bars - 1)
        if window_bars > 1 else 0.0)
    return {
        "return": float(window[-1] / base - 1.0),
        "max_drawdown": max_drawdown(window[1:], base) if window_bars > 1 else 0.0,
        "worst_day": float(days.min()) if days.size else None,
        "days_to_recover": days_to_recover,
        "num_trades": int(num_trades),
        "exposure": exposure,
    }


def transplant_bars(source: pd.DataFrame, after: pd.DataFrame, beta: float = 1.0,
                    volume: float | None = None) -> pd.DataFrame:
    """The bars of ``source`` (a window with its base bar first) re-based on the last close of
    ``after`` and dated on the business days following it.

    Each relative price ``x = price_t / close_{t-1}`` becomes ``1 + beta * (x - 1)`` (floored at
    1 %; high and low swap when beta < 0), so close-to-close returns are ``beta`` times the
    source's. ``volume`` replaces the source's volumes when given.
    """
    prices = source[_OHLC].to_numpy(dtype=np.float64)
    rel = 1.0 + beta * (prices[1:] / prices[:-1, 3:4] - 1.0)
    rel = np.maximum(rel, _MIN_RELATIVE_PRICE)
    high, low = np.maximum(rel[:, 1], rel[:, 2]), np.minimum(rel[:, 1], rel[:, 2])
    closes = float(after["close"].iloc[-1]) * np.cumprod(rel[:, 3])
    previous = np.concatenate(([float(after["close"].iloc[-1])], closes[:-1]))
    open_ = previous * rel[:, 0]
    dates = pd.bdate_range(after.index[-1] + pd.Timedelta(days=1), periods=len(rel), name="date")
    frame = pd.DataFrame({
        "open": open_,
        "high": np.maximum(previous * high, np.maximum(open_, closes)),
        "low": np.minimum(previous * low, np.minimum(open_, closes)),
        "close": closes,
        "volume": (np.full(len(rel), volume) if volume is not None
                   else source["volume"].to_numpy(dtype=np.float64)[1:]),
    }, index=dates)
    return frame


class WindowRunner:
    """One strategy on one symbol's bars: its signals on the whole history (computed once) and
    its simulation from a window's base bar, flat or carrying a continuous run's position."""

    def __init__(self, spec: dict[str, Any], bars: pd.DataFrame, config: SimConfig,
                 entry: str) -> None:
        self.spec, self.bars, self.config, self.entry = spec, bars, config, entry
        cache = IndicatorCache()
        self.entries = evaluate_rules(spec["entry"], bars, cache)
        self.exits = evaluate_rules(spec["exit"], bars, cache)
        self._carried: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def from_base(self, frame: pd.DataFrame, entries: np.ndarray, exits: np.ndarray,
                  base: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(equity, position, entry bar of each trade) from bar ``base`` to the frame's end."""
        if self.entry == "carry":
            if frame is self.bars and self._carried is not None:
                equity, position, first = self._carried
            else:
                result = simulate(*(frame[c].to_numpy() for c in _OHLC), entries, exits,
                                  self.config)
                equity, position = result.equity, result.position
                first = result.trades["entry_index"]
                if frame is self.bars:
                    self._carried = equity, position, first
            return equity[base:], position[base:], first - base
        entries, exits = entries[base:].copy(), exits[base:].copy()
        if self.config.fill == "close":  # nothing fills at the base's close
            entries[0] = exits[0] = False
        window = frame.iloc[base:]
        result = simulate(*(window[c].to_numpy() for c in _OHLC), entries, exits, self.config)
        return result.equity, result.position, result.trades["entry_index"]


def _locate(index: pd.DatetimeIndex, scenario: Scenario) -> tuple[int, int] | str:
    """(base bar, last bar) positions of a window, or why the data cannot cover it."""
    base = int(index.searchsorted(pd.Timestamp(scenario.start), side="right")) - 1
    last = int(index.searchsorted(pd.Timestamp(scenario.end), side="right")) - 1
    covered = f"the data covers {index[0].date()} to {index[-1].date()}"
    if base < 0:
        return f"no bars on or before {scenario.start}: {covered}"
    if pd.Timestamp(scenario.end) > index[-1]:
        return f"the window ends after the data: {covered}"
    if last <= base:
        return f"no bars between {scenario.start} and {scenario.end}"
    return base, last


def _header(scenario: Scenario, kind: str) -> dict[str, Any]:
    return {"id": scenario.id, "name": scenario.name, "kind": kind, "start": scenario.start,
            "end": scenario.end, "description": scenario.description, "source": scenario.source}


def _skip(scenario: Scenario, kind: str, reason: str) -> dict[str, Any]:
    return {"id": scenario.id, "name": scenario.name, "kind": kind, "reason": reason}


def _curves(dates: pd.DatetimeIndex, strategy: np.ndarray,
            benchmark: np.ndarray | None) -> list[dict[str, Any]]:
    days = dates.strftime("%Y-%m-%d")
    strategy_rows = strategy / strategy[0] * 100.0
    bench_rows = (benchmark / benchmark[0] * 100.0) if benchmark is not None else None
    return [{"date": d, "strategy": float(s),
             "benchmark": None if bench_rows is None else float(bench_rows[i])}
            for i, (d, s) in enumerate(zip(days, strategy_rows, strict=True))]


def _outcome(header: dict[str, Any], dates: pd.DatetimeIndex, size: int,
             strategy: tuple[np.ndarray, np.ndarray, np.ndarray],
             benchmark_closes: np.ndarray | None) -> dict[str, Any]:
    equity, position, entry_bars = strategy
    opened = int(np.count_nonzero((entry_bars >= 1) & (entry_bars < size)))
    return {
        **header,
        "strategy": window_stats(equity, size, position, opened),
        "benchmark": (None if benchmark_closes is None else
                      {**window_stats(benchmark_closes, size), "num_trades": 0}),
        "equity": _curves(dates[:size], equity[:size],
                          None if benchmark_closes is None else benchmark_closes[:size]),
        "bars": size - 1,
    }


MAX_LISTED_DATES = 10  # missing benchmark dates named in a scenario's note


def _aligned_closes(benchmark: pd.DataFrame | None, dates: pd.DatetimeIndex, size: int,
                    name: str) -> tuple[np.ndarray | None, str | None]:
    """The benchmark's closes on ``dates`` (a window of ``size`` bars and its continuation),
    never silently filled: ``(closes, note)``.

    No numbers (None) when the benchmark has no bar on the base date or its data ends before
    the window does; the continuation (used for days to recover) stops at its last bar; a hole
    inside its data carries the last close, and ``note`` lists the dates.
    """
    if benchmark is None:
        return None, None
    closes = benchmark["close"].reindex(dates)
    kept = closes[np.asarray(dates <= benchmark.index[-1])]
    if len(kept) < size:
        return None, (f"benchmark {name} has no prices after {benchmark.index[-1].date()}, "
                      f"before the window's end {dates[size - 1].date()}")
    if np.isnan(kept.iloc[0]):
        return None, f"benchmark {name} has no prices on {dates[0].date()}"
    holes = kept.index[kept.isna().to_numpy()]
    note = None
    if len(holes):
        listed = ", ".join(d.strftime("%Y-%m-%d") for d in holes[:MAX_LISTED_DATES])
        more = f" and {len(holes) - MAX_LISTED_DATES} more" if len(holes) > MAX_LISTED_DATES \
            else ""
        note = (f"benchmark {name} has no bars on {len(holes)} date(s): {listed}{more}; its "
                "last close is carried over them")
    return kept.ffill().to_numpy(), note


def replay_window(run: WindowRunner, scenario: Scenario,
                  benchmark: pd.DataFrame | None) -> dict[str, Any]:
    """The docs/results.md#stress-result scenario object (``kind: "historical"``; ``custom: true``
    for a user's window)
    of a window, or a ``skipped`` entry ``{"id", "name", "kind", "reason"}`` when the symbol's
    data does not cover it."""
    where = _locate(run.bars.index, scenario)
    if isinstance(where, str):
        return _skip(scenario, "historical", f"{run.spec['symbol']}: {where}")
    base, last = where
    header = _header(scenario, "historical") | {
        "custom": scenario.custom, "first_date": run.bars.index[base].strftime("%Y-%m-%d"),
        "warmup_bars": base}
    strategy = run.from_base(run.bars, run.entries, run.exits, base)
    dates = run.bars.index[base:]
    size = last - base + 1
    closes, note = _aligned_closes(benchmark, dates, size, run.spec["benchmark"])
    if note:
        header["note"] = note
    return _outcome(header, dates, size, strategy, closes)


def transplant_window(run: WindowRunner, scenario: Scenario, now: pd.DataFrame,
                      benchmark: pd.DataFrame | None, beta: float | None,
                      source_kind: str = "benchmark") -> dict[str, Any]:
    """The docs/results.md#stress-result object (``kind: "transplant"``) of ``scenario``'s path
    appended after ``now``
    (the real history up to "now"), or a ``skipped`` entry; see the module docstring."""
    symbol, benchmark_symbol = run.spec["symbol"], run.spec["benchmark"]
    use_benchmark = source_kind == "benchmark" and symbol != benchmark_symbol
    source_bars = benchmark if use_benchmark else run.bars
    origin = benchmark_symbol if use_benchmark else symbol
    if source_bars is None:
        return _skip(scenario, "transplant", f"no prices of benchmark {benchmark_symbol}")
    where = _locate(source_bars.index, scenario)
    if isinstance(where, str):
        return _skip(scenario, "transplant", f"{origin}: {where}")
    base, last = where
    window = source_bars.iloc[base:last + 1]
    scale = (1.0 if beta is None else beta) if use_benchmark else 1.0
    volume = float(now["volume"].iloc[-20:].mean()) if use_benchmark else None
    appended = transplant_bars(window, now, scale, volume)
    frame = pd.concat([now[[*_OHLC, "volume"]], appended])
    cache = IndicatorCache()
    entries = evaluate_rules(run.spec["entry"], frame, cache)
    exits = evaluate_rules(run.spec["exit"], frame, cache)
    strategy = run.from_base(frame, entries, exits, len(now) - 1)
    how = (f"{benchmark_symbol}'s moves x beta {scale:.2f}" if use_benchmark
           else f"{symbol}'s own moves")
    header = {
        **_header(scenario, "transplant"),
        "id": f"{scenario.id}_transplant", "name": f"{scenario.name}, next",
        "start": now.index[-1].strftime("%Y-%m-%d"),
        "end": appended.index[-1].strftime("%Y-%m-%d"),
        "description": (f"{scenario.name} ({scenario.start} to {scenario.end}) replayed after "
                        f"{now.index[-1].date()}: {how}."),
        "scenario_id": scenario.id, "path_source": origin, "beta": scale,
    }
    market, note = _aligned_closes(benchmark, window.index, len(window), benchmark_symbol)
    if note:
        header["note"] = note
    return _outcome(header, frame.index[len(now) - 1:], len(window), strategy, market)
