"""Input loading and output formatting shared by the ``arena`` engine commands.

Invalid input exits with status 2 and the reasons on stderr (docs/cli.md).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click
import pandas as pd

from data.csv_prices import CsvPriceError, check_prices_csv
from data.errors import MarketDataError
from engine.prices import PriceDataError
from engine.spec import SpecError, StrategySpec, parse_spec

INVALID_INPUT_EXIT = 2
T = TypeVar("T")


def fail(message: str) -> NoReturn:
    click.echo(message, err=True)
    sys.exit(INVALID_INPUT_EXIT)


def load_spec(path: str) -> StrategySpec:
    try:
        text = Path(path).read_text()
    except OSError as exc:
        fail(f"cannot read spec {path}: {exc.strerror}")
    try:
        return parse_spec(text)
    except SpecError as exc:
        fail(f"invalid strategy spec {path}:\n{exc}")


def load_symbol(symbol: str) -> pd.DataFrame:
    """All daily bars of ``symbol`` through the data layer (cache, database, provider as
    configured); says on stderr which source served them. Exits 2 when the symbol is unknown
    (listing what is available and how to ingest) or has no bars."""
    from app.cli_data import explain_failure, load_prices
    from app.config import ConfigError, Settings

    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        fail(str(exc))
    try:
        result = load_prices(settings, symbol)
    except (MarketDataError, ValueError) as exc:
        fail(explain_failure(settings, symbol, exc))
    click.echo(f"prices: {result.describe()}", err=True)
    return result.frame


def load_benchmark(symbol: str) -> pd.DataFrame:
    """Like :func:`load_symbol`, but raising the data-layer errors (the benchmark is optional)."""
    from app.cli_data import load_prices
    from app.config import ConfigError, Settings

    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        fail(str(exc))
    result = load_prices(settings, symbol)
    click.echo(f"benchmark prices: {result.describe()}", err=True)
    return result.frame


def load_inputs(spec_path: str, prices_path: str | None
                ) -> tuple[StrategySpec, pd.DataFrame, pd.DataFrame | None]:
    """The spec, the traded symbol's bars and the benchmark's bars (None when unavailable or
    when the benchmark is the traded symbol: the engine then uses the traded bars themselves).

    ``--prices`` goes through the data layer's checks (:func:`data.csv_prices.check_prices_csv`)
    like bars from a provider: unusable rows exit 2 listing each one; warnings (an unadjusted
    split...) travel with the frame into the result's ``warnings``, which the printers show.
    With ``--prices`` and ``benchmark == symbol``, the benchmark is the user's own series.
    """
    spec = load_spec(spec_path)
    if prices_path is None:
        prices = load_symbol(spec.symbol)
    else:
        try:
            prices, report = check_prices_csv(prices_path)
        except CsvPriceError as exc:
            fail(str(exc))
        if report.warnings:
            click.echo(f"{prices_path}: {len(report.warnings)} suspicious bar(s), kept as they "
                       "are (listed with the result)", err=True)
    benchmark = None
    if spec.benchmark != spec.symbol:
        try:
            benchmark = load_benchmark(spec.benchmark)
        except (MarketDataError, ValueError):
            click.echo(f"note: no prices for benchmark {spec.benchmark}; "
                       "benchmark metrics omitted", err=True)
    return spec, prices, benchmark


def echo_warnings(warnings: list[dict[str, Any]], err: bool = False) -> None:
    """One line per result warning: ``warning DATE [SYMBOL] KIND: message``."""
    for warning in warnings:
        symbol = f" {warning['symbol']}" if warning.get("symbol") else ""
        click.echo(f"warning {warning['date']}{symbol} {warning['kind']}: {warning['message']}",
                   err=err)


def run_or_exit(work: Callable[[], T]) -> T:
    try:
        return work()
    except (SpecError, PriceDataError) as exc:
        fail(str(exc))


def _fmt(value: Any, percent: bool = False) -> str:
    if value is None:
        return "n/a"
    if percent:
        return f"{value * 100:,.2f} %"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,.3f}"


SUMMARY_ROWS = (
    ("final_equity", "Final equity", False), ("total_return", "Total return", True),
    ("cagr", "CAGR", True), ("volatility", "Volatility (ann.)", True),
    ("sharpe", "Sharpe", False), ("sortino", "Sortino", False),
    ("max_drawdown", "Max drawdown", True),
    ("max_drawdown_duration_days", "Longest drawdown (days)", False),
    ("calmar", "Calmar", False), ("num_trades", "Trades", False),
    ("win_rate", "Win rate", True), ("profit_factor", "Profit factor", False),
    ("exposure", "Time in market", True), ("exposure_at_close", "In market at close", True),
    ("var_95", "VaR 95 % (1 bar)", True), ("cvar_95", "CVaR 95 % (1 bar)", True),
    ("beta", "Beta", False),
    ("alpha", "Alpha (ann.)", True),
    ("total_fees", "Fees paid", False),
)


def ruin_line(metrics: dict[str, Any]) -> str | None:
    """The summary's ruin line, ``None`` when the account was not ruined."""
    if not metrics.get("ruined"):
        return None
    deficit = metrics.get("ruin_deficit") or 0.0
    beyond = f", {deficit:,.2f} lost beyond the account (gap)" if deficit > 0 else ""
    return (f"RUINED on {metrics['ruined_date']}: equity reached 0, the position was liquidated "
            f"and nothing traded after{beyond}; ratios cover the bars up to the ruin.")


def print_backtest(result: Any, as_json: bool) -> None:
    """Print a BacktestResult as docs/results.md#backtest-result JSON or as a readable table."""
    if as_json:
        click.echo(json.dumps(result.to_dict(), allow_nan=False))
        echo_warnings(result.warnings, err=True)
        return
    spec, meta = result.spec, result.meta
    click.echo(f"{spec['name']} on {spec['symbol']}: {meta['first_date']} to {meta['last_date']}"
               f" ({meta['bars']} bars, {meta['price_basis']} prices, fills {spec['fill']}, "
               f"{meta['periods_per_year']:g} periods a year "
               f"{meta.get('periods_per_year_source', 'inferred')})")
    ruin = ruin_line(result.metrics)
    if ruin:
        click.echo(ruin)
    bench = result.benchmark_metrics
    click.echo(f"{'':26}{'strategy':>16}{'buy & hold ' + spec['benchmark']:>22}")
    for key, label, percent in SUMMARY_ROWS:
        other = _fmt(bench.get(key), percent) if bench else "n/a"
        click.echo(f"{label:26}{_fmt(result.metrics.get(key), percent):>16}{other:>22}")
    if result.warnings:
        click.echo("")
        echo_warnings(result.warnings)
