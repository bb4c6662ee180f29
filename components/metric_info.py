"""What each result metric (docs/results.md#backtest-result ``metrics``) is called, how it is
shown, which way is
better, and its formula and convention as the tooltip says it (from ``engine/metrics.py``).

Declared once here; metric cards, the runs list and the compare table all read it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from engine.metrics import METRIC_KEYS

Unit = Literal["percent", "ratio", "days", "count", "money", "flag", "text"]


@dataclass(frozen=True)
class MetricInfo:
    label: str
    unit: Unit
    better: Literal["higher", "lower"] | None  # None: neither is better (exposure, beta, ...)
    formula: str


METRICS: dict[str, MetricInfo] = {
    "total_return": MetricInfo("Total return", "percent", "higher",
                               "final equity / initial cash − 1"),
    "cagr": MetricInfo("CAGR", "percent", "higher",
                       "(final / initial cash)^(365.25 / calendar days) − 1; calendar time, "
                       "not bars / 252"),
    "volatility": MetricInfo("Volatility", "percent", "lower",
                             "std(daily returns, ddof 1) × √252, a fraction a year"),
    "sharpe": MetricInfo("Sharpe", "ratio", "higher",
                         "mean(excess) / std(excess, ddof 1) × √252 (arithmetic); excess = daily "
                         "return − ((1 + annual risk-free)^(1/252) − 1)"),
    "sortino": MetricInfo("Sortino", "ratio", "higher",
                          "mean(excess) × 252 / (DD × √252), DD = √mean(min(excess, 0)²) over "
                          "ALL days (not the std of the negative days)"),
    "max_drawdown": MetricInfo("Max drawdown", "percent", "higher",
                               "min over t of equity_t / running peak − 1; the starting cash is "
                               "the first peak (a negative fraction)"),
    "max_drawdown_duration_days": MetricInfo(
        "Longest drawdown", "days", "lower",
        "calendar days from a peak until equity is back at it (or the last date if never)"),
    "calmar": MetricInfo("Calmar", "ratio", "higher", "CAGR / |max drawdown|"),
    "num_trades": MetricInfo("Trades", "count", None, "closed and open trades of the run"),
    "win_rate": MetricInfo("Win rate", "percent", "higher", "share of trades with pnl > 0"),
    "profit_factor": MetricInfo("Profit factor", "ratio", "higher",
                                "sum of winning pnl / |sum of losing pnl| (none without losses)"),
    "avg_trade_return": MetricInfo("Avg trade return", "percent", "higher",
                                   "mean of the trades' returns (exit / entry − 1, by side)"),
    "exposure": MetricInfo("Exposure", "percent", None,
                           "share of bars with a position (including trades opened and closed "
                           "within one bar)"),
    "var_95": MetricInfo("VaR 95 %", "percent", "higher",
                         "5th percentile of daily returns (historical, linear interpolation); "
                         "a loss is negative"),
    "cvar_95": MetricInfo("CVaR 95 %", "percent", "higher",
                          "mean of the daily returns at or below VaR 95 % (order statistics)"),
    "beta": MetricInfo("Beta", "ratio", None,
                       "cov(strategy, benchmark daily returns, ddof 1) / var(benchmark)"),
    "alpha": MetricInfo("Alpha", "percent", "higher",
                        "Jensen's alpha, annualised arithmetically: (mean(excess) − beta × "
                        "mean(benchmark excess)) × 252"),
    "final_equity": MetricInfo("Final equity", "money", "higher", "equity at the last close"),
    "total_fees": MetricInfo("Fees paid", "money", "lower",
                             "sum of fees_bps × traded notional over every fill"),
    "exposure_at_close": MetricInfo("In market at close", "percent", None,
                                    "share of bars that end with a position"),
    "ruined": MetricInfo("Ruined", "flag", None,
                         "equity reached 0: the position was liquidated and trading stopped"),
    "ruined_date": MetricInfo("Ruined on", "text", None, "the bar on which equity reached 0"),
    "ruin_deficit": MetricInfo("Loss beyond the account", "money", "lower",
                               "what a gap through the ruin price lost beyond the equity"),
}
#: Keys of a result's metrics that are not metrics: the reason each null metric is null.
NOT_METRICS = frozenset({"null_reasons"})

#: Metrics a results page shows, in this order: docs/results.md#backtest-result first, then any
#: extras.
METRIC_ORDER: tuple[str, ...] = (*METRIC_KEYS, "total_fees")
#: The four numbers the Builder's quick preview and the runs list show.
HEADLINE: tuple[str, ...] = ("total_return", "cagr", "sharpe", "max_drawdown")


def info(key: str) -> MetricInfo:
    """The metric's description; an unknown key gets a plain one (new engine metrics show up)."""
    return METRICS.get(key, MetricInfo(key.replace("_", " ").capitalize(), "ratio", None, key))


def ordered_keys(metrics: dict[str, Any]) -> list[str]:
    """``METRIC_ORDER`` first, then any other key of ``metrics`` (nothing is left out)."""
    return [k for k in METRIC_ORDER if k in metrics] + sorted(
        set(metrics) - set(METRIC_ORDER) - NOT_METRICS)


def format_metric(key: str, value: Any) -> str:
    """A metric as the pages show it: ``12.34 %``, ``1.27``, ``45 days``, ``10,234.56``;
    ``–`` when undefined (None)."""
    if value is None:
        return "–"
    unit = info(key).unit
    if unit == "flag" or isinstance(value, bool):
        return "yes" if value else "no"
    if unit == "text" or isinstance(value, str):
        return str(value)
    if unit == "percent":
        return f"{value * 100:.2f} %"
    if unit == "days":
        return f"{int(value):,} days"
    if unit == "count":
        return f"{int(value):,}"
    if unit == "money":
        return f"{value:,.2f}"
    return f"{value:.2f}"


def tooltip(key: str) -> str:
    item = info(key)
    better = {"higher": " Higher is better.", "lower": " Lower is better."}.get(item.better, "")
    return f"{item.label}: {item.formula}.{better}"


def best_index(key: str, values: list[Any]) -> int | None:
    """Position of the best value (by ``better``) among several runs; None when no order
    applies, fewer than two values are defined, or all are equal."""
    direction = info(key).better
    defined = [(v, i) for i, v in enumerate(values) if isinstance(v, int | float)]
    if direction is None or len(defined) < 2 or len({v for v, _ in defined}) == 1:
        return None
    pick = max if direction == "higher" else min
    return pick(defined)[1]
