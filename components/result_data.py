"""Series and tables derived from a stored backtest result (docs/results.md#backtest-result), for
the results and
compare pages and the downloads. Pure pandas on the result document; no Dash.

Conventions (the engine's, ``engine/metrics.py``): returns are simple returns as fractions; the
starting cash ``spec.initial_cash`` is the value before the first bar and the first peak.
"""

from __future__ import annotations

import csv
import io
import math
from typing import Any

import numpy as np
import pandas as pd

from engine.metrics import PERIODS_PER_YEAR, drawdown_series, per_period_risk_free

#: Bars in the rolling Sharpe window: about six months of trading days.
ROLLING_SHARPE_BARS = 126
TRADE_COLUMNS = ("side", "entry_date", "entry_price", "exit_date", "exit_price", "units", "pnl",
                 "return", "exit_reason")
EQUITY_COLUMNS = ("date", "equity", "position", "benchmark_equity")


def equity_frame(document: dict[str, Any]) -> pd.DataFrame:
    """Columns equity, position, benchmark_equity (NaN without a benchmark), by date."""
    rows = document.get("equity") or []
    frame = pd.DataFrame(rows, columns=list(EQUITY_COLUMNS))
    frame["date"] = pd.to_datetime(frame["date"])
    frame = frame.set_index("date")
    return frame.astype({"equity": float, "position": float, "benchmark_equity": float})


def initial_cash(document: dict[str, Any]) -> float:
    return float(document["spec"]["initial_cash"])


def drawdowns(document: dict[str, Any]) -> pd.DataFrame:
    """Drawdown of the strategy and the benchmark at each bar (``engine.metrics.drawdown_series``:
    ``equity_t / max(initial cash, running max) − 1``)."""
    frame = equity_frame(document)
    cash = initial_cash(document)
    result = pd.DataFrame(index=frame.index)
    result["strategy"] = drawdown_series(frame["equity"].to_numpy(), cash) if len(frame) else []
    bench = frame["benchmark_equity"]
    result["benchmark"] = (drawdown_series(bench.to_numpy(), cash)
                           if len(frame) and bench.notna().all() else np.nan)
    return result


def _period_returns(equity: pd.Series, cash: float, rule: str) -> pd.Series:
    """Return of each calendar period: last equity of the period / last of the previous − 1,
    the first period measured from the starting cash."""
    closes = equity.resample(rule).last().dropna()
    previous = closes.shift(1)
    previous.iloc[:1] = cash
    return closes / previous - 1.0


def monthly_returns(document: dict[str, Any]) -> pd.DataFrame:
    """Years × months (1..12) table of monthly returns (fractions; NaN where no bars)."""
    frame = equity_frame(document)
    if frame.empty:
        return pd.DataFrame(columns=range(1, 13))
    months = _period_returns(frame["equity"], initial_cash(document), "ME")
    table = pd.DataFrame({"year": months.index.year, "month": months.index.month,
                          "value": months.to_numpy()})
    return table.pivot(index="year", columns="month", values="value").reindex(
        columns=range(1, 13))


def yearly_returns(document: dict[str, Any]) -> pd.DataFrame:
    """Calendar-year returns of the strategy and the benchmark (columns), indexed by year."""
    frame = equity_frame(document)
    cash = initial_cash(document)
    if frame.empty:
        return pd.DataFrame(columns=["strategy", "benchmark"])
    years = pd.DataFrame({"strategy": _period_returns(frame["equity"], cash, "YE")})
    if frame["benchmark_equity"].notna().all():
        years["benchmark"] = _period_returns(frame["benchmark_equity"], cash, "YE")
    years.index = years.index.year
    return years


def rolling_sharpe(document: dict[str, Any], window: int = ROLLING_SHARPE_BARS) -> pd.Series:
    """Sharpe over the last ``window`` bars at each bar, the engine's convention:
    ``mean(e) / std(e, ddof=1) × √252`` with ``e`` the daily return minus the per-day risk-free
    rate (``meta.risk_free`` annual). NaN until ``window`` returns exist or when std is 0."""
    frame = equity_frame(document)
    if frame.empty:
        return pd.Series(dtype=float)
    equity = frame["equity"]
    returns = equity / equity.shift(1).fillna(initial_cash(document)) - 1.0
    risk_free = float((document.get("meta") or {}).get("risk_free", 0.0) or 0.0)
    excess = returns - per_period_risk_free(risk_free, PERIODS_PER_YEAR)
    rolling = excess.rolling(window)
    std = rolling.std(ddof=1)
    return (rolling.mean() / std.where(std > 0)) * math.sqrt(PERIODS_PER_YEAR)


def trade_returns(document: dict[str, Any]) -> list[float]:
    return [float(t["return"]) for t in document.get("trades") or [] if t.get("return") is not None]


def _csv(columns: tuple[str, ...], rows: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), extrasaction="ignore",
                            lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if row.get(k) is None else row.get(k)) for k in columns})
    return buffer.getvalue()


def trades_csv(document: dict[str, Any]) -> str:
    """The run's trades, one line each, docs/results.md#backtest-result fields as columns (full
    float precision)."""
    return _csv(TRADE_COLUMNS, document.get("trades") or [])


def equity_csv(document: dict[str, Any]) -> str:
    """The run's daily equity: date, equity, position, benchmark_equity."""
    return _csv(EQUITY_COLUMNS, document.get("equity") or [])


def rebased(document: dict[str, Any], column: str = "equity") -> pd.Series:
    """Equity rebased to 100 at the starting cash (for overlaying runs of different sizes)."""
    frame = equity_frame(document)
    return frame[column] / initial_cash(document) * 100.0
