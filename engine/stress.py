"""Stress tests of one strategy (docs/results.md#stress-result): historical replay, shock
transplant, Monte Carlo.

:func:`run_stress` runs, for one strategy spec and its symbol's prices,

1. a **historical replay** of each scenario window (``engine.scenarios``: the built-in crises and
   the user's own windows), strategy against buy-and-hold of the benchmark, measured from the
   close of the window's start to the close of its end (``engine.replay`` states every
   convention: the strategy enters flat or carries its position in, indicators are warm, the
   first fill is on the bar after the start, days to recover look past the window);
2. a **shock transplant** of some scenarios: their daily path (the benchmark's scaled by the
   symbol's beta, or the symbol's own) appended after the history, "what if 2020 happened next"
   (``engine.replay.transplant_window``);
3. a **Monte Carlo** of the strategy on block-bootstrapped futures of the symbol, with optional
   parametric shocks (``engine.montecarlo``).

"Now" is the last bar on or before ``spec.end`` (or the last bar): transplants and Monte Carlo
paths continue from its close. The beta and the bootstrap's source are the backtest window
``[spec.start, spec.end]``. Replays ignore the spec's dates: each window is where it is.

:func:`describe` turns a result into plain sentences for people.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from engine.backtest import periods_per_year, prepare_prices, sim_config, window_slice
from engine.metrics import beta_alpha
from engine.montecarlo import check_monte_carlo_options, run_monte_carlo
from engine.prices import PriceDataError, frame_warnings
from engine.replay import WindowRunner, replay_window, transplant_window
from engine.scenarios import (
    Scenario,
    StressInputError,
    parse_custom_scenarios,
    select_scenarios,
)
from engine.spec import StrategySpec, parse_spec

__all__ = ["DEFAULT_TRANSPLANTS", "StressResult", "describe", "run_stress"]

DEFAULT_TRANSPLANTS = ("gfc_2008", "covid_crash_2020", "inflation_bear_2022")

Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class StressResult:
    """Outcome of :func:`run_stress`; :meth:`to_dict` is docs/results.md#stress-result (plus
    ``skipped``,
    ``meta`` and ``warnings``: the data layer's warnings on the prices, each with its date, see
    ``engine.prices.frame_warnings``)."""

    spec: dict[str, Any]
    scenarios: list[dict[str, Any]]
    monte_carlo: dict[str, Any] | None
    skipped: list[dict[str, Any]] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
    warnings: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"spec": self.spec, "scenarios": self.scenarios, "monte_carlo": self.monte_carlo,
                "skipped": self.skipped, "meta": self.meta, "warnings": self.warnings}


def run_stress(
    spec: StrategySpec | dict[str, Any] | str,
    prices: pd.DataFrame,
    benchmark_prices: pd.DataFrame | None = None,
    *,
    scenarios: Sequence[str] | None = None,
    custom_scenarios: Sequence[dict[str, Any] | Scenario] | None = None,
    transplants: Sequence[str] = DEFAULT_TRANSPLANTS,
    transplant_source: str = "benchmark",
    paths: int = 1000,
    horizon_days: int = 252,
    block_length: float = 20,
    seed: int = 0,
    vol_multiplier: float = 1.0,
    gap_pct: float | None = None,
    gap_day: int = 1,
    loss_thresholds: Sequence[float] = (0.1, 0.2, 0.3),
    entry: str = "flat",
    risk_free: float = 0.0,
    adjust: bool = True,
    progress: Progress | None = None,
) -> StressResult:
    """Replay the scenarios, transplant shocks and run the Monte Carlo (module docstring).

    Parameters
    ----------
    spec, prices, benchmark_prices, risk_free, adjust : as for ``engine.backtest.run_backtest``
        (the benchmark defaults to ``prices`` when it is the traded symbol).
    scenarios : library ids to replay (default: all; ``[]`` for none).
    custom_scenarios : the user's own windows, ``Scenario`` objects or
        ``{"id", "start", "end", "name"?, "description"?}`` dicts.
    transplants : library ids whose path is appended after the history (``[]`` for none).
    transplant_source : ``"benchmark"`` (scaled by beta) or ``"symbol"``.
    paths, horizon_days, block_length, seed, vol_multiplier, gap_pct, gap_day,
    loss_thresholds : the Monte Carlo (``engine.montecarlo``); ``paths=0`` skips it.
    entry : ``"flat"`` or ``"carry"``: the position the strategy enters each window with.
    progress : ``progress(fraction, stage)``, fraction from 0 to 1.

    Raises
    ------
    SpecError, PriceDataError, StressInputError (unknown ids, bad windows or options).
    """
    report = progress or (lambda fraction, stage: None)
    normalised = (spec if isinstance(spec, StrategySpec) else parse_spec(spec)).to_dict()
    if entry not in ("flat", "carry"):
        raise StressInputError(f"entry: must be flat or carry, got {entry!r}")
    if transplant_source not in ("benchmark", "symbol"):
        raise StressInputError(f"transplant_source: must be benchmark or symbol, "
                               f"got {transplant_source!r}")
    check_monte_carlo_options(paths, horizon_days, block_length, vol_multiplier, gap_pct,
                              gap_day)
    customs = list(custom_scenarios or [])
    windows = (select_scenarios(scenarios) + [s for s in customs if isinstance(s, Scenario)]
               + parse_custom_scenarios([s for s in customs if not isinstance(s, Scenario)]))
    shocks = select_scenarios(transplants)

    symbol, benchmark_symbol = normalised["symbol"], normalised["benchmark"]
    bars = prepare_prices(prices, adjust, what=f"prices of {symbol}")
    benchmark = _benchmark_bars(normalised, bars, benchmark_prices, adjust)
    config = sim_config(normalised)
    run = WindowRunner(normalised, bars, config, entry)
    now = bars.iloc[: window_slice(bars.index, None, normalised.get("end")).stop]
    if now.empty:
        raise PriceDataError(f"no bars of {symbol} up to {normalised.get('end')}: the data "
                             f"starts on {bars.index[0].date()}")
    backtest = now.iloc[window_slice(now.index, normalised.get("start"), None)]
    if len(backtest) < 3:
        raise PriceDataError(f"fewer than 3 bars of {symbol} between {normalised.get('start')} "
                             f"and {now.index[-1].date()}: the Monte Carlo and the beta need "
                             "the backtest window's bars")
    steps = len(windows) + len(shocks) + (4 if paths else 0)

    results: list[dict[str, Any]] = []
    skipped: list[dict[str, Any]] = []
    for done, scenario in enumerate(windows):
        report(done / steps, f"scenario {scenario.id}")
        outcome = replay_window(run, scenario, benchmark)
        (results if "strategy" in outcome else skipped).append(outcome)

    beta = _beta(backtest, benchmark, symbol == benchmark_symbol)
    for done, scenario in enumerate(shocks, start=len(windows)):
        report(done / steps, f"transplant {scenario.id}")
        outcome = transplant_window(run, scenario, now, benchmark, beta, transplant_source)
        (results if "strategy" in outcome else skipped).append(outcome)

    periods, periods_source = periods_per_year(normalised, now.index)
    monte_carlo = None
    if paths:
        source = now.iloc[max(len(now) - len(backtest) - 1, 0):]  # + the close before
        done = len(windows) + len(shocks)
        monte_carlo = run_monte_carlo(
            normalised, source, now, config, paths=paths, horizon_days=horizon_days,
            block_length=block_length, seed=seed, vol_multiplier=vol_multiplier,
            gap_pct=gap_pct, gap_day=gap_day, risk_free=risk_free,
            periods_per_year=periods, loss_thresholds=loss_thresholds,
            progress=lambda f, stage: report((done + 4 * f) / steps, stage))
    report(1.0, "done")
    meta = {"price_basis": "adjusted" if adjust and "adj_close" in prices.columns else "as given",
            "entry": entry, "transplant_source": transplant_source,
            "beta": beta, "history_end": now.index[-1].strftime("%Y-%m-%d"),
            "benchmark_available": benchmark is not None,
            "periods_per_year": periods, "periods_per_year_source": periods_source}
    warnings = (frame_warnings(prices, symbol)
                + frame_warnings(benchmark_prices, benchmark_symbol))
    return StressResult(normalised, results, monte_carlo, skipped, meta, warnings)


def _benchmark_bars(spec: dict[str, Any], bars: pd.DataFrame,
                    benchmark_prices: pd.DataFrame | None, adjust: bool) -> pd.DataFrame | None:
    if benchmark_prices is not None:
        return prepare_prices(benchmark_prices, adjust,
                              what=f"benchmark prices of {spec['benchmark']}")
    return bars if spec["benchmark"] == spec["symbol"] else None


def _beta(backtest: pd.DataFrame, benchmark: pd.DataFrame | None, same: bool) -> float | None:
    """The symbol's beta to the benchmark on daily close returns over the backtest window."""
    if same:
        return 1.0
    if benchmark is None:
        return None
    beta, _ = beta_alpha(backtest["close"].pct_change().iloc[1:],
                         benchmark["close"].pct_change().iloc[1:])
    return beta


def _percent(value: float) -> str:
    if round(value * 100, 1) == 0:
        return "0.0 %"
    return f"{value * 100:+.1f} %".replace("-", "−")


def describe(document: dict[str, Any]) -> list[str]:
    """Plain sentences summing up a docs/results.md#stress-result document (for the CLI and the
    stress page)."""
    benchmark = document["spec"]["benchmark"]
    sentences = []
    compared = [s for s in document["scenarios"] if s["kind"] != "transplant" and s["benchmark"]]
    crises = [s for s in compared if s["benchmark"]["return"] < 0]
    if crises:
        better = [s for s in crises if s["strategy"]["return"] > s["benchmark"]["return"]]
        worst = min(crises, key=lambda s: s["strategy"]["return"])
        sentences.append(
            f"In {len(better)} of {len(crises)} crises your strategy lost less than "
            f"buy-and-hold of {benchmark}. Its worst was the {worst['name']}: "
            f"{_percent(worst['strategy']['return'])} (buy-and-hold "
            f"{_percent(worst['benchmark']['return'])}).")
        deepest = min(crises, key=lambda s: s["strategy"]["max_drawdown"])
        sentences.append(
            f"Its deepest drawdown in a crisis was {_percent(deepest['strategy']['max_drawdown'])}"
            f" ({deepest['name']}; buy-and-hold {_percent(deepest['benchmark']['max_drawdown'])}).")
    rallies = [s for s in compared if s["benchmark"]["return"] >= 0]
    for rally in rallies:
        sentences.append(f"In the {rally['name']} it made {_percent(rally['strategy']['return'])}"
                         f" against {_percent(rally['benchmark']['return'])} for buy-and-hold.")
    for shock in (s for s in document["scenarios"] if s["kind"] == "transplant"):
        market = (f" ({benchmark} {_percent(shock['benchmark']['return'])})"
                  if shock["benchmark"] else "")
        sentences.append(f"If the {_original_name(shock)} happened after {shock['start']}, your "
                         f"strategy would return {_percent(shock['strategy']['return'])}{market}.")
    monte_carlo = document.get("monte_carlo")
    if monte_carlo:
        final = monte_carlo["final_return"]
        worse = monte_carlo["prob_loss_worse_than"]
        key = "0.1" if "0.1" in worse else next(iter(worse), None)
        chance = (f"; {worse[key] * 100:.1f} % of the paths lose more than "
                  f"{float(key) * 100:g} %" if key else "")
        sentences.append(
            f"Over {monte_carlo['horizon_days']} simulated trading days "
            f"({monte_carlo['paths']:,} paths) the median return is {_percent(final['p50'])}, "
            f"one path in 20 does worse than {_percent(final['p5'])}{chance}.")
    if document.get("skipped"):
        names = ", ".join(s["name"] for s in document["skipped"])
        sentences.append(f"Not covered by the data: {names}.")
    return sentences


def _original_name(scenario: dict[str, Any]) -> str:
    """A transplant's original scenario name (its name without the ", next" suffix)."""
    return scenario["name"].removesuffix(", next")
