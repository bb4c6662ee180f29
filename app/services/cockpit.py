"""What the cockpit pages (Builder, Results, Runs, Compare, Home) need beyond the plain run and
strategy services: the price panel of a spec (bars of its window, the indicators it uses, where
its entry and exit conditions hold), the in-process preview backtest, and run summaries.

Thin: prices come from :mod:`app.services.prices`, maths from the engine, rows from
:mod:`app.runs.service` / :mod:`app.services.strategies`. No SQL here either.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from app.runs import service as run_service
from app.services import strategies as strategy_service
from app.services.errors import NotFoundError
from app.services.prices import load_prices
from engine.backtest import BacktestResult, run_backtest
from engine.prices import price_arrays
from engine.signals import IndicatorCache, evaluate_rules, operand_values
from engine.spec import StrategySpec, parse_spec

if TYPE_CHECKING:
    from app.context import AppContext

#: The preview backtest covers at most this many years (the last ones of the chosen range).
PREVIEW_MAX_YEARS = 20
#: An indicator output whose median lies within this factor of the median close is drawn over
#: the candles (moving averages, bands, channels); anything else in a panel below (oscillators).
OVERLAY_RATIO = 3.0


@dataclass(frozen=True)
class IndicatorLine:
    operand: dict[str, Any]  # the rule operand, e.g. {"indicator": "rsi", "params": ...}
    values: np.ndarray  # one value per bar of the window (NaN during warm-up)
    overlay: bool       # True: price units, drawn over the candles


@dataclass(frozen=True)
class PricePanel:
    """The bars of a spec's window (adjusted like the backtest uses them), the indicators its
    rules use, and the bars where its entry / exit rule trees hold."""

    bars: pd.DataFrame          # open, high, low, close, volume by date
    indicators: list[IndicatorLine]
    entry_holds: np.ndarray     # bool per bar
    exit_holds: np.ndarray
    note: str | None = None     # e.g. "preview limited to the last 20 years"


@dataclass(frozen=True)
class Preview:
    panel: PricePanel
    result: BacktestResult


def _benchmark_prices(context: AppContext, spec: StrategySpec) -> pd.DataFrame | None:
    if spec.benchmark == spec.symbol:
        return None
    try:
        return load_prices(context.prices, spec.benchmark)
    except NotFoundError:
        return None


def limit_years(spec: dict[str, Any], last_date: date, years: int = PREVIEW_MAX_YEARS
                ) -> tuple[dict[str, Any], str | None]:
    """``spec`` with ``start`` moved so the window spans at most ``years`` (and a note saying
    so), or ``spec`` unchanged."""
    end = date.fromisoformat(spec["end"]) if spec.get("end") else last_date
    earliest = end.replace(year=end.year - years) if not (end.month == 2 and end.day == 29) \
        else end.replace(year=end.year - years, day=28)
    start = date.fromisoformat(spec["start"]) if spec.get("start") else None
    if start is not None and start >= earliest:
        return spec, None
    note = f"The preview covers the last {years} years of the range ({earliest} to {end})."
    return {**spec, "start": earliest.isoformat()}, note


def price_panel(spec: StrategySpec | dict[str, Any], prices: pd.DataFrame,
                operands: list[dict[str, Any]], note: str | None = None) -> PricePanel:
    """The panel of ``spec`` on ``prices`` (the symbol's bars; history before the window warms
    the indicators up, exactly as in ``engine.backtest.run_backtest``) with the values of the
    indicator ``operands`` (rule operands of the spec, chosen by the caller)."""
    normalised = parse_spec(spec).to_dict()
    bars = price_arrays(prices, True, what=f"prices of {normalised['symbol']}")
    history = bars.slice(bars.positions(None, normalised["end"]))
    window = history.positions(normalised["start"], None)
    columns = history.columns()
    cache = IndicatorCache()
    entry = evaluate_rules(normalised["entry"], columns, cache)[window]
    exit_ = evaluate_rules(normalised["exit"], columns, cache)[window]
    frame = history.slice(window).frame()
    typical = float(np.nanmedian(frame["close"])) if len(frame) else 1.0
    lines = []
    for operand in operands:
        values = np.asarray(operand_values(operand, columns, cache))[window]
        level = float(np.nanmedian(np.abs(values))) if np.isfinite(values).any() else 0.0
        overlay = typical > 0 and 1 / OVERLAY_RATIO <= level / typical <= OVERLAY_RATIO
        lines.append(IndicatorLine(operand, values, overlay))
    return PricePanel(frame, lines, entry, exit_, note)


def preview(context: AppContext, spec: dict[str, Any], operands: list[dict[str, Any]]
            ) -> Preview:
    """Price panel and quick backtest of a (valid) spec, in-process, over at most
    ``PREVIEW_MAX_YEARS`` years. Raises SpecError, PriceDataError or a ServiceError."""
    model = parse_spec(spec)
    prices = load_prices(context.prices, model.symbol)
    limited, note = limit_years(model.to_dict(), prices.index[-1].date())
    model = parse_spec(limited)
    result = run_backtest(model, prices, _benchmark_prices(context, model),
                          risk_free=context.settings.risk_free_rate)
    return Preview(price_panel(model, prices, operands, note), result)


def result_panel(context: AppContext, spec: dict[str, Any], operands: list[dict[str, Any]]
                 ) -> PricePanel:
    """The price panel of a finished run's spec snapshot (for its candlestick chart)."""
    model = parse_spec(spec)
    return price_panel(model, load_prices(context.prices, model.symbol), operands)


# --- run and strategy summaries --------------------------------------------------------------


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    return None if start is None or end is None else (end - start).total_seconds()


def run_summary(run: Any) -> dict[str, Any]:
    """The plain data a runs list shows of one run."""
    return {"id": run.id, "kind": run.kind, "status": run.status, "progress": run.progress,
            "stage": run.stage, "error": run.error, "strategy_id": run.strategy_id,
            "strategy": run.strategy.name if run.strategy else run.spec.get("name"),
            "symbol": run.spec.get("symbol"), "created_at": run.created_at,
            "duration_seconds": _seconds(run.started_at, run.finished_at),
            "metrics": run.metrics or {}, "spec": run.spec, "options": run.options or {}}


def list_run_summaries(session: Session, user_id: int, *, strategy_id: int | None = None,
                       kind: str | None = None, status: str | None = None,
                       limit: int = 200) -> list[dict[str, Any]]:
    """The user's runs, newest first, as :func:`run_summary` dicts."""
    runs = run_service.list_runs(session, user_id, strategy_id=strategy_id, kind=kind,
                                 status=status, limit=limit)
    return [run_summary(run) for run in runs]


def strategy_summaries(session: Session, user_id: int, limit: int = 500
                       ) -> list[dict[str, Any]]:
    """The user's strategies, most recently updated first: id, name, symbol, version, spec."""
    return [{"id": s.id, "name": s.name, "symbol": s.spec.get("symbol"), "version": s.version,
             "updated_at": s.updated_at, "spec": s.spec}
            for s in strategy_service.list_strategies(session, user_id, limit=limit)]


def run_with_result(session: Session, user_id: int, run_id: int
                    ) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """A run's summary and, when it succeeded, its result document (NotFoundError otherwise
    someone else's or missing)."""
    run = run_service.get_run(session, user_id, run_id)
    document = run_service.get_result(session, user_id, run_id) \
        if run.status == "succeeded" else None
    summary = run_summary(run)
    summary["started_at"], summary["finished_at"] = run.started_at, run.finished_at
    return summary, document


def save_strategy(session: Session, user_id: int, spec: dict[str, Any],
                  strategy_id: int | None = None,
                  expected_version: int | None = None) -> tuple[int, int]:
    """Create the strategy (``strategy_id`` None) or save a new version of it, named like its
    spec; ``(id, version)``. Validation errors raise InvalidInputError with ``spec.`` paths."""
    if strategy_id is None:
        strategy = strategy_service.create_strategy(session, user_id, spec)
    else:
        strategy = strategy_service.update_strategy(
            session, user_id, strategy_id, spec=spec, name=spec.get("name"),
            expected_version=expected_version)
    return strategy.id, strategy.version
