"""``run_robustness``: the whole robustness report of one spec (docs/results.md#robustness-result)
and its verdict
in plain words (:func:`describe`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from engine.robustness.conventions import convention_rows
from engine.robustness.costs import breakeven, cost_grid, cost_rows
from engine.robustness.fills import fill_rows, fill_spread
from engine.robustness.integrity import integrity_warnings
from engine.robustness.prepared import prepare
from engine.robustness.trade_order import closed_trade_returns, trade_order_monte_carlo
from engine.spec import StrategySpec

Progress = Callable[[float, str], None]

DEFAULT_PATHS = 5000
DEFAULT_MAX_COST_BPS = 100.0
DEFAULT_COST_POINTS = 11
#: Limits of a run's options (engine.options.RobustnessOptions): bounded time and memory.
MAX_TRADE_PATHS = 100_000
MAX_COST_BPS = 1000.0
MIN_COST_POINTS = 11
MAX_COST_POINTS = 201


@dataclass(frozen=True)
class RobustnessResult:
    """The robustness report; :meth:`to_dict` is docs/results.md#robustness-result."""

    spec: dict[str, Any]
    fills: list[dict[str, Any]]
    fill_spread: dict[str, dict[str, Any]]
    costs: list[dict[str, Any]]
    breakeven_bps: dict[str, float | None]
    breakeven_status: dict[str, str]
    trade_monte_carlo: dict[str, Any] | None
    conventions: list[dict[str, Any]]
    warnings: list[dict[str, Any]]
    meta: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        document = {
            "spec": self.spec, "fills": self.fills, "fill_spread": self.fill_spread,
            "costs": self.costs, "breakeven_bps": self.breakeven_bps,
            "breakeven_status": self.breakeven_status,
            "trade_monte_carlo": self.trade_monte_carlo, "conventions": self.conventions,
            "warnings": self.warnings, "meta": self.meta,
        }
        document["verdict"] = describe(document)
        return document


def run_robustness(spec: StrategySpec | dict[str, Any] | str, prices: pd.DataFrame,
                   benchmark_prices: pd.DataFrame | None = None, *,
                   paths: int = DEFAULT_PATHS, seed: int = 0,
                   max_cost_bps: float = DEFAULT_MAX_COST_BPS,
                   cost_points: int = DEFAULT_COST_POINTS, risk_free: float = 0.0,
                   adjust: bool = True, progress: Progress | None = None) -> RobustnessResult:
    """How much ``spec``'s result depends on fills, costs, luck and conventions.

    Parameters
    ----------
    spec, prices, benchmark_prices, risk_free, adjust : as :func:`engine.backtest.run_backtest`.
    paths, seed : trade-order Monte Carlo paths (0 skips it) and seed.
    max_cost_bps, cost_points : the cost grid, ``cost_points`` costs from 0 to ``max_cost_bps``
        per side (bps), inclusive.
    progress : called as ``progress(fraction_done, stage)``.

    Raises
    ------
    SpecError, PriceDataError : as ``run_backtest``.
    """
    report = progress or (lambda fraction, stage: None)
    prepared = prepare(spec, prices, benchmark_prices, risk_free=risk_free, adjust=adjust)
    report(0.05, "fill assumptions")
    fills = fill_rows(prepared)
    own = next((row for row in fills if row["is_spec"]), fills[0])
    report(0.25, "cost sensitivity")
    costs = cost_rows(prepared, cost_grid(max_cost_bps, cost_points))
    report(0.45, "break-even costs")
    breakeven_bps, statuses = breakeven(prepared, costs)
    report(0.6, "trade-order Monte Carlo")
    base = prepared.simulate(prepared.config)
    monte_carlo = (trade_order_monte_carlo(closed_trade_returns(base), paths, seed)
                   if paths > 0 else None)
    report(0.85, "conventions and data checks")
    conventions = convention_rows(base.equity, prepared.dates, prepared.initial_cash,
                                  own["metrics"], prepared.benchmark_returns(prepared.config),
                                  risk_free)
    warnings = prepared.warnings + integrity_warnings(
        prices, prepared.history_dates, prepared.history_volume, prepared.benchmark_dates)
    meta = {"bars": len(prepared.dates),
            "first_date": str(prepared.dates[0].astype("datetime64[D]")),
            "last_date": str(prepared.dates[-1].astype("datetime64[D]")),
            "price_basis": "adjusted" if prepared.adjusted else "as given",
            "periods_per_year": 252, "risk_free": risk_free,
            "max_cost_bps": float(max_cost_bps), "cost_points": int(cost_points),
            "benchmark_cagr": own_benchmark_cagr(costs, prepared.config.fees_bps)}
    report(1.0, "done")
    return RobustnessResult(prepared.spec, fills, fill_spread(fills), costs, breakeven_bps,
                            statuses, monte_carlo, conventions, warnings, meta)


def own_benchmark_cagr(costs: list[dict[str, Any]], fees_bps: float) -> float | None:
    """The benchmark CAGR at the grid cost nearest the spec's own fees (for the verdict)."""
    if not costs:
        return None
    return min(costs, key=lambda row: abs(row["cost_bps"] - fees_bps))["benchmark_cagr"]


def _pct(value: float | None) -> str:
    if value is None:
        return "n/a"
    return "0.0 %" if round(value * 100, 1) == 0 else f"{value * 100:.1f} %"


def describe(document: dict[str, Any]) -> str:
    """One paragraph, in plain words, on how robust the result is
    (docs/results.md#robustness-result document)."""
    sentences = []
    breakeven_bps = document["breakeven_bps"]
    status = document.get("breakeven_status", {})
    max_cost = document.get("meta", {}).get("max_cost_bps", 100)
    edge = breakeven_bps.get("vs_benchmark")
    if edge is not None:
        sentences.append(f"The edge over buy-and-hold disappears above {edge:.1f} bps per side.")
    elif status.get("vs_benchmark") == "behind_at_zero":
        sentences.append("The strategy trails buy-and-hold even without any costs.")
    elif status.get("vs_benchmark") == "beyond_max":
        sentences.append(f"It stays ahead of buy-and-hold even at {max_cost:g} bps per side.")
    zero = breakeven_bps.get("vs_zero")
    if zero is not None:
        sentences.append(f"Its CAGR falls to zero above {zero:.1f} bps per side.")
    elif status.get("vs_zero") == "behind_at_zero":
        sentences.append("It loses money even without costs.")
    fills = document["fills"]
    own = next((row for row in fills if row["is_spec"]), fills[0])
    worst = min(fills, key=lambda row: -1e9 if row["metrics"]["cagr"] is None
                else row["metrics"]["cagr"])
    if worst is not own and own["metrics"]["cagr"] is not None:
        sentences.append(f"With {worst['label']} fills CAGR drops from "
                         f"{_pct(own['metrics']['cagr'])} to {_pct(worst['metrics']['cagr'])}.")
    else:
        sentences.append("No other fill assumption lowers its CAGR.")
    monte_carlo = document.get("trade_monte_carlo")
    if monte_carlo:
        drawdown = monte_carlo["max_drawdown"]
        sentences.append(
            f"Reordering its {monte_carlo['trades']} trades {monte_carlo['paths']:,} times, the "
            f"median maximum drawdown is {_pct(drawdown['p50'])} and one order in 20 is worse "
            f"than {_pct(drawdown['p5'])}; the final return ranges from "
            f"{_pct(monte_carlo['final_return']['p5'])} to "
            f"{_pct(monte_carlo['final_return']['p95'])} (5th to 95th percentile).")
    else:
        sentences.append("Too few closed trades for a trade-order Monte Carlo.")
    if document["warnings"]:
        kinds = sorted({w["kind"] for w in document["warnings"]})
        sentences.append(f"Check the data first: {len(document['warnings'])} warning(s) "
                         f"({', '.join(kinds)}).")
    return " ".join(sentences)
