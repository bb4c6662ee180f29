"""One backtest: strategy spec + prices -> trades, equity curve and metrics
(docs/results.md#backtest-result).

Pipeline: validate the spec (``engine.spec``), check and (by default) adjust the prices
(``engine.prices``), evaluate the entry/exit rule trees on the whole history up to ``spec.end``
so indicators are warmed up before ``spec.start`` (``engine.signals``), simulate fills inside
``[start, end]`` (``engine.simulate``), then compute metrics for the strategy and for buying and
holding the benchmark over the same bars (``engine.metrics``).

Buy-and-hold benchmark convention: all-in at the open of the window's first bar, paying the
spec's fees and slippage (units follow ``spec.fractional``), held to the end and valued at each
close, like an open strategy position (no exit fee at the end of the data).

Benchmark bars missing on traded dates are never filled silently (:func:`benchmark_closes`):

- none on the first traded date: a :class:`PriceDataError`;
- a hole inside the benchmark's data (a day its market was closed, a gap in the feed): its last
  close is carried over the missing dates, which are listed in a ``benchmark_missing_bars``
  warning; beta and alpha skip those dates and the day after each (a multi-day move);
- traded dates after the benchmark's last bar: no value there (``benchmark_equity`` null),
  ``benchmark_metrics`` null (a buy-and-hold over a shorter period is not comparable), beta and
  alpha from the dates both cover, and a ``benchmark_missing_bars`` warning that says so.

``warnings`` in the result lists these and the data layer's warnings on the prices
(``engine.prices.frame_warnings``, e.g. an unadjusted split), each with its date.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from engine.metrics import (
    PERIODS_PER_YEAR,
    RUINED_NULL_METRICS,
    RUINED_NULL_REASON,
    compute_metrics,
    infer_periods_per_year,
    period_returns,
)
from engine.prices import PriceDataError, frame_warnings, price_arrays
from engine.signals import IndicatorCache, evaluate_rules
from engine.simulate import EXIT_REASONS, SimConfig, SimResult, simulate
from engine.spec import StrategySpec, parse_spec

SIDES = {1: "long", -1: "short"}


@dataclass(frozen=True)
class BacktestResult:
    """Everything one backtest produced. :meth:`to_dict` is docs/results.md#backtest-result.

    The per-bar series are NumPy arrays (``dates`` are datetime64); :attr:`equity` gives them as
    a DataFrame indexed by date.
    """

    spec: dict[str, Any]
    metrics: dict[str, Any]
    benchmark_metrics: dict[str, Any] | None
    trades: list[dict[str, Any]]
    dates: np.ndarray
    equity_curve: np.ndarray
    position: np.ndarray
    cash: np.ndarray
    benchmark_equity: np.ndarray | None
    meta: dict[str, Any] = field(default_factory=dict)
    warnings: list[dict[str, Any]] = field(default_factory=list)

    @cached_property
    def equity(self) -> pd.DataFrame:
        """Columns equity, position, cash, benchmark_equity (NaN without a benchmark)."""
        benchmark = (np.full(len(self.dates), np.nan) if self.benchmark_equity is None
                     else self.benchmark_equity)
        return pd.DataFrame(
            {"equity": self.equity_curve, "position": self.position, "cash": self.cash,
             "benchmark_equity": benchmark},
            index=pd.DatetimeIndex(self.dates, name="date"),
        )

    def to_dict(self) -> dict[str, Any]:
        days = np.datetime_as_string(self.dates, unit="D").tolist()
        equity = self.equity_curve.tolist()
        position = self.position.tolist()
        benchmark = ([None] * len(days) if self.benchmark_equity is None
                     else [None if math.isnan(b) else b for b in self.benchmark_equity.tolist()])
        rows = [
            {"date": d, "equity": e, "position": p, "benchmark_equity": b}
            for d, e, p, b in zip(days, equity, position, benchmark, strict=True)
        ]
        return {
            "spec": self.spec,
            "metrics": self.metrics,
            "benchmark_metrics": self.benchmark_metrics,
            "trades": self.trades,
            "equity": rows,
            "meta": self.meta,
            "warnings": self.warnings,
        }


def sim_config(spec: dict[str, Any]) -> SimConfig:
    """The simulator settings of a normalised spec dict."""
    return SimConfig(
        initial_cash=float(spec["initial_cash"]),
        direction=spec["direction"],
        fill=spec["fill"],
        sizing_method=spec["sizing"]["method"],
        sizing_value=float(spec["sizing"]["value"]),
        fractional=bool(spec["fractional"]),
        fees_bps=float(spec["fees_bps"]),
        slippage_bps=float(spec["slippage_bps"]),
        stop_loss_pct=spec["stop_loss_pct"],
        take_profit_pct=spec["take_profit_pct"],
        trailing_stop_pct=spec["trailing_stop_pct"],
    )


def prepare_prices(prices: pd.DataFrame, adjust: bool = True, what: str = "prices"
                   ) -> pd.DataFrame:
    """Checked docs/prices.md bars as a DataFrame, adjusted by ``adj_close`` when present and
    ``adjust`` (see :func:`engine.prices.price_arrays`)."""
    return price_arrays(prices, adjust, what).frame()


def window_slice(index: pd.DatetimeIndex, start: str | None, end: str | None) -> slice:
    """Positions of the bars with ``start <= date <= end`` (ISO dates, inclusive, None = open)."""
    first = 0 if start is None else int(index.searchsorted(pd.Timestamp(start), side="left"))
    last = len(index) if end is None else int(index.searchsorted(pd.Timestamp(end), "right"))
    return slice(first, last)


def run_backtest(
    spec: StrategySpec | dict[str, Any] | str,
    prices: pd.DataFrame,
    benchmark_prices: pd.DataFrame | None = None,
    *,
    risk_free: float = 0.0,
    adjust: bool = True,
) -> BacktestResult:
    """Backtest ``spec`` on ``prices`` (docs/prices.md frame of ``spec.symbol``).

    Parameters
    ----------
    spec : a :class:`StrategySpec`, or its JSON form (validated here; raises ``SpecError``).
    prices : daily bars of the traded symbol; history before ``spec.start`` warms indicators up.
    benchmark_prices : bars of ``spec.benchmark``; when omitted and the benchmark is the traded
        symbol, ``prices`` serve; otherwise the benchmark metrics are ``None``.
    risk_free : ANNUAL risk-free rate for Sharpe, Sortino and alpha (0.02 = 2 %).
    adjust : use split/dividend-adjusted OHLC when the frame has ``adj_close`` (default).

    Ratios are annualised with ``spec.periods_per_year``, or when null with the periods a year
    the bar dates imply (:func:`engine.metrics.infer_periods_per_year` on the history up to
    ``end``); ``meta.periods_per_year`` states the value and ``meta.periods_per_year_source``
    whether it was ``"spec"`` or ``"inferred"``. A run whose equity reaches 0 is ruined
    (:func:`ruin_fields`).

    Raises
    ------
    SpecError : invalid spec. PriceDataError : unusable prices or an empty date range.
    """
    model = spec if isinstance(spec, StrategySpec) else parse_spec(spec)
    normalised = model.to_dict()
    start, end = normalised.get("start"), normalised.get("end")
    symbol = normalised["symbol"]
    bars = price_arrays(prices, adjust, what=f"prices of {symbol}")
    history = bars.slice(bars.positions(None, end))
    window = history.positions(start, None)
    if window.start >= len(history):
        raise PriceDataError(
            f"no bars of {symbol} between {start or 'the beginning'} and {end or 'the end'}: "
            f"the data covers {_day(bars.dates[0])} to {_day(bars.dates[-1])}"
        )

    cache = IndicatorCache()
    columns = history.columns()  # one object for both trees, so the cache is shared
    entries = evaluate_rules(normalised["entry"], columns, cache)[window]
    exits = evaluate_rules(normalised["exit"], columns, cache)[window]
    traded = history.slice(window)
    config = sim_config(normalised)
    result = simulate(traded.open, traded.high, traded.low, traded.close, entries, exits, config)

    warnings = (frame_warnings(prices, symbol, end)
                + frame_warnings(benchmark_prices, normalised["benchmark"], end))
    benchmark_returns = None
    complete = True
    if benchmark_prices is None and normalised["benchmark"] == symbol:
        holding = buy_and_hold_equity(traded.open[0], traded.close, config)
    else:
        holding = benchmark_holding(normalised, pd.DatetimeIndex(traded.dates), None,
                                    benchmark_prices, adjust)
        if holding is not None:
            holding, skip, coverage = holding
            warnings += coverage
            complete = not np.isnan(holding[0]).any()
            benchmark_returns = period_returns(np.nan_to_num(holding[0], nan=1.0),
                                               config.initial_cash)
            benchmark_returns[skip] = np.nan  # dropped from beta and alpha
    holding_equity = None if holding is None else holding[0]
    if holding is not None and benchmark_returns is None:
        benchmark_returns = period_returns(holding_equity, config.initial_cash)
    dates = traded.dates
    periods, periods_source = periods_per_year(normalised, history.dates)
    metrics = compute_metrics(
        result.equity, dates, config.initial_cash, positions=result.position,
        trade_pnl=result.trades["pnl"], trade_returns=result.trades["return"],
        benchmark_returns=benchmark_returns, risk_free=risk_free, periods_per_year=periods,
        exposed=result.exposed,
    )
    metrics.update(extra_metrics(result.total_fees, result.position, result.ruin_index,
                                 result.ruin_deficit, dates))
    if result.ruined:
        warnings.append(ruin_warning(metrics, result, dates))
    benchmark_metrics = None
    if holding is not None and complete:
        benchmark_metrics = buy_and_hold_metrics(holding, dates, config, risk_free, periods)
    meta = {
        "bars": len(dates),
        "first_date": _day(dates[0]),
        "last_date": _day(dates[-1]),
        "warmup_bars_available": int(window.start),
        "price_basis": "adjusted" if bars.adjusted else "as given",
        "periods_per_year": periods,
        "periods_per_year_source": periods_source,
        "risk_free": risk_free,
    }
    return BacktestResult(normalised, metrics, benchmark_metrics, trade_records(result, dates),
                          dates, result.equity, result.position, result.cash, holding_equity,
                          meta, warnings)


def _day(value: np.datetime64) -> str:
    return str(np.datetime_as_string(value, unit="D"))


def periods_per_year(spec: dict[str, Any], dates: np.ndarray | pd.DatetimeIndex
                     ) -> tuple[float, str]:
    """``(periods a year, "spec" or "inferred")``: the spec's ``periods_per_year`` when set,
    else :func:`engine.metrics.infer_periods_per_year` of the bar ``dates``."""
    if spec.get("periods_per_year") is not None:
        return float(spec["periods_per_year"]), "spec"
    return infer_periods_per_year(dates), "inferred"


def ruin_fields(ruin_index: int | None, deficit: float, dates: np.ndarray
                ) -> dict[str, Any]:
    """The metrics that say whether the account was ruined (its equity reached 0).

    ``ruined`` (bool); ``ruined_date`` (ISO date of the bar on which the position was
    liquidated, null if not ruined); ``ruin_deficit`` (what a gap through the ruin price lost
    beyond the account, currency; 0 without a gap or a ruin); ``null_reasons`` (metric key ->
    why it is null, for the metrics a ruin leaves undefined; empty otherwise).
    """
    ruined = ruin_index is not None
    return {
        "ruined": ruined,
        "ruined_date": _day(dates[ruin_index]) if ruined else None,
        "ruin_deficit": float(deficit),
        "null_reasons": dict.fromkeys(RUINED_NULL_METRICS, RUINED_NULL_REASON) if ruined else {},
    }


def extra_metrics(total_fees: float, position: np.ndarray, ruin_index: int | None,
                  deficit: float, dates: np.ndarray) -> dict[str, Any]:
    """The keys a backtest adds to the docs/results.md#backtest-result metrics: ``total_fees``,
    ``exposure_at_close`` (share of bars ending with a non-zero position) and
    :func:`ruin_fields`."""
    return {
        "total_fees": float(total_fees),
        "exposure_at_close": float(np.count_nonzero(position)) / len(position) if len(position)
        else None,
        **ruin_fields(ruin_index, deficit, dates),
    }


def ruin_warning(metrics: dict[str, Any], result: SimResult, dates: np.ndarray
                 ) -> dict[str, Any]:
    """The ``ruin`` entry of a result's ``warnings``: when, at what price, and what the metrics
    mean for a ruined account."""
    index = result.ruin_index
    exit_price = float(result.trades["exit_price"][-1])
    gap = (f"; the bar gapped through the ruin price, losing {result.ruin_deficit:,.2f} beyond "
           "the account" if result.ruin_deficit > 0 else "")
    return {
        "date": metrics["ruined_date"], "kind": "ruin",
        "message": f"the account was ruined on {metrics['ruined_date']}: its equity reached 0 "
                   f"and the position was liquidated at {exit_price:,.4f}{gap}. No trades "
                   "after that; total return and max drawdown are -100 %; volatility, VaR, "
                   f"CVaR and beta describe the {index + 1} bars up to the ruin; Sharpe, "
                   "Sortino and alpha are not reported (a mean of returns does not describe a "
                   "path that lost everything).",
    }


def trade_records(result: SimResult, dates: np.ndarray | pd.DatetimeIndex
                  ) -> list[dict[str, Any]]:
    """The simulator's trade columns as docs/results.md#backtest-result trade dicts (dates as ISO
    strings)."""
    trades = result.trades
    dates = np.asarray(dates, dtype="datetime64[ns]") if isinstance(dates, pd.DatetimeIndex) \
        else dates
    entry_days = np.datetime_as_string(dates[trades["entry_index"]], unit="D").tolist()
    exit_days = np.datetime_as_string(dates[trades["exit_index"]], unit="D").tolist()
    columns = {name: trades[name].tolist() for name in
               ("side", "entry_price", "exit_price", "units", "pnl", "return", "fees",
                "exit_reason")}
    return [
        {
            "side": SIDES[columns["side"][i]],
            "entry_date": entry_days[i],
            "entry_price": columns["entry_price"][i],
            "exit_date": exit_days[i],
            "exit_price": columns["exit_price"][i],
            "units": columns["units"][i],
            "pnl": columns["pnl"][i],
            "return": columns["return"][i],
            "fees": columns["fees"][i],
            "exit_reason": EXIT_REASONS[columns["exit_reason"][i]],
        }
        for i in range(len(entry_days))
    ]


MAX_LISTED_DATES = 20  # missing dates listed in one warning; the rest are counted


def benchmark_equity(spec: dict[str, Any], traded: pd.DataFrame | pd.DatetimeIndex,
                      bars: pd.DataFrame | None, benchmark_prices: pd.DataFrame | None,
                      adjust: bool) -> tuple[np.ndarray, float, float, float] | None:
    """Buy-and-hold of the benchmark on the traded bars' dates (None without its data), as
    :func:`buy_and_hold_equity` gives it; NaN on dates after the benchmark's data (see
    :func:`benchmark_holding`, which also says which dates are missing)."""
    found = benchmark_holding(spec, traded, bars, benchmark_prices, adjust)
    return None if found is None else found[0]


def benchmark_holding(spec: dict[str, Any], traded: pd.DataFrame | pd.DatetimeIndex,
                      bars: pd.DataFrame | None, benchmark_prices: pd.DataFrame | None,
                      adjust: bool
                      ) -> tuple[tuple[np.ndarray, float, float, float], np.ndarray,
                                 list[dict[str, Any]]] | None:
    """Buy-and-hold of the benchmark on the traded bars' dates (None without its data), with
    the missing-bar policy of the module docstring.

    Returns ``(holding, skip, warnings)``: ``holding`` as :func:`buy_and_hold_equity` gives it
    (equity NaN on dates after the benchmark's data), ``skip`` the bars whose benchmark return
    beta and alpha must not use, ``warnings`` the ``benchmark_missing_bars`` entries. ``traded``
    is the traded bars (or their dates); ``bars`` the traded symbol's prepared bars, used when
    the benchmark is the symbol.
    """
    dates = traded if isinstance(traded, pd.DatetimeIndex) else traded.index
    if dates.tz is not None:  # compare wall-clock dates, as price_arrays does
        dates = dates.tz_localize(None)
    if benchmark_prices is None:
        if spec["benchmark"] != spec["symbol"]:
            return None
        benchmark = bars
    else:
        benchmark = prepare_prices(benchmark_prices, adjust,
                                   what=f"benchmark prices of {spec['benchmark']}")
    if benchmark.index.tz is not None:
        benchmark = benchmark.tz_localize(None)
    first_open, closes, skip, warnings = benchmark_closes(benchmark, dates, spec["benchmark"])
    return buy_and_hold_equity(first_open, closes, sim_config(spec)), skip, warnings


def benchmark_closes(benchmark: pd.DataFrame, dates: pd.DatetimeIndex, name: str
                     ) -> tuple[float, np.ndarray, np.ndarray, list[dict[str, Any]]]:
    """The benchmark's first open and its closes on ``dates``, never silently filled.

    Returns ``(first_open, closes, skip, warnings)``: holes inside the benchmark's data carry
    the last close (listed in a warning); dates after its last bar are NaN (another warning);
    ``skip`` marks the bars whose close-to-close return is not a one-bar return (a hole, the bar
    after it, dates without data). Raises :class:`PriceDataError` without a bar on ``dates[0]``.
    """
    aligned = benchmark[["open", "close"]].reindex(dates)
    closes = aligned["close"].to_numpy(dtype="float64", copy=True)
    if np.isnan(closes[0]) or np.isnan(aligned["open"].iloc[0]):
        covered = f"{benchmark.index[0].date()} to {benchmark.index[-1].date()}"
        raise PriceDataError(
            f"benchmark {name} has no prices on {dates[0].date()}: its data "
            f"covers {covered}; choose a later start or another benchmark"
        )
    missing = np.isnan(closes)
    after_data = np.asarray(dates > benchmark.index[-1])
    holes = missing & ~after_data
    warnings = []
    if holes.any():
        warnings.append(_missing_bars_warning(
            name, dates[holes],
            "its last close is carried over them (a 0 % day each) and beta and alpha skip "
            "them and the day after"))
        closes = pd.Series(closes).ffill().to_numpy(copy=True)
        closes[after_data] = np.nan
    if after_data.any():
        warnings.append(_missing_bars_warning(
            name, dates[after_data],
            f"its data ends on {benchmark.index[-1].date()}, before the strategy's last date "
            f"{dates[-1].date()}: buy-and-hold metrics are omitted rather than held flat, and "
            "beta and alpha use only the dates both cover"))
    skip = missing.copy()
    skip[1:] |= missing[:-1]
    return float(aligned["open"].iloc[0]), closes, skip, warnings


def _missing_bars_warning(name: str, missing: pd.DatetimeIndex, consequence: str
                          ) -> dict[str, Any]:
    days = [d.strftime("%Y-%m-%d") for d in missing]
    listed = ", ".join(days[:MAX_LISTED_DATES])
    more = f" and {len(days) - MAX_LISTED_DATES} more" if len(days) > MAX_LISTED_DATES else ""
    return {"date": days[0], "dates": days[:MAX_LISTED_DATES], "count": len(days),
            "kind": "benchmark_missing_bars", "symbol": name,
            "message": f"benchmark {name} has no bars on {len(days)} traded date(s): "
                       f"{listed}{more}; {consequence}"}


def buy_and_hold_equity(first_open: float, closes: np.ndarray, config: SimConfig
                        ) -> tuple[np.ndarray, float, float, float]:
    """Equity of buying all-in at ``first_open`` (with fees and slippage) and holding.

    Returns ``(equity, units, entry_price, entry_fee)``.
    """
    fee_rate = config.fees_bps / 1e4
    entry_price = first_open * (1 + config.slippage_bps / 1e4)
    units = config.initial_cash / (entry_price * (1 + fee_rate))
    if not config.fractional:
        units = math.floor(units)
    entry_fee = units * entry_price * fee_rate
    cash = config.initial_cash - units * entry_price - entry_fee
    return cash + units * closes, units, entry_price, entry_fee


def buy_and_hold_metrics(holding: tuple[np.ndarray, float, float, float],
                         dates: pd.DatetimeIndex, config: SimConfig, risk_free: float,
                         periods_per_year: float = PERIODS_PER_YEAR) -> dict[str, Any]:
    """docs/results.md#backtest-result metrics of a buy-and-hold curve (``holding`` as
    :func:`buy_and_hold_equity`
    returns it): one trade, always in the market, benchmarked against itself, with the
    backtest's extra keys (a long that never borrows is never ruined)."""
    equity, units, entry_price, entry_fee = holding
    pnl = equity[-1] - config.initial_cash
    positions = np.full(len(equity), units)
    metrics = compute_metrics(
        equity, dates, config.initial_cash, positions=positions,
        trade_pnl=[pnl], trade_returns=[pnl / (units * entry_price)] if units else [0.0],
        benchmark_returns=period_returns(equity, config.initial_cash), risk_free=risk_free,
        periods_per_year=periods_per_year,
    )
    metrics.update(extra_metrics(entry_fee, positions, None, 0.0, np.asarray(dates)))
    return metrics
