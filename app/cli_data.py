"""The market-data side of the ``arena`` command line: ``arena ingest`` and loading a symbol's
bars for the engine commands through the data layer (cache -> database -> provider)."""

from __future__ import annotations

import sys
from functools import lru_cache

import click

from app.config import Settings
from app.context import AppContext, provider_options
from data.errors import MarketDataError, UnknownSymbolError
from data.frames import normalize_symbol, to_date
from data.providers import PROVIDER_NAMES, make_provider
from data.service import LOCAL_SOURCES, IngestSummary, PriceResult
from data.symbols import available_symbols

INVALID_INPUT_EXIT = 2


@lru_cache(maxsize=1)
def context(settings: Settings) -> AppContext:
    """One application context per CLI process and settings (its price cache lives as long)."""
    return AppContext.build(settings)


@lru_cache(maxsize=1)
def prepare_store(settings: Settings) -> None:
    """Make sure the price tables exist: embedded mode applies the migrations (as ``arena serve``
    does); server mode refuses a database that is behind, saying how to fix it (exit 2)."""
    from app.migrate import redact_url, schema_status, upgrade

    engine = context(settings).engine
    try:
        if settings.embedded:
            upgrade(engine)
            return
        status = schema_status(engine)
    except Exception as exc:  # unreachable database: say which one, exit 2
        _exit(f"database {redact_url(settings.database_url)} not usable: {exc}")
    if not status.up_to_date:
        _exit(status.describe(settings.database_url))


def load_prices(settings: Settings, symbol: str) -> PriceResult:
    """All daily bars of ``symbol`` through the data layer; raises the data-layer errors."""
    prices = context(settings).prices
    if prices.provider.name not in LOCAL_SOURCES:
        prepare_store(settings)
    return prices.get_prices(symbol)


def explain_failure(settings: Settings, symbol: str, exc: Exception) -> str:
    """The message for a symbol that could not be loaded; for an unknown symbol it lists what
    is available locally and how to fetch more."""
    if not isinstance(exc, UnknownSymbolError):
        return f"cannot load prices for {symbol}: {exc}"
    try:
        store = context(settings).prices.store
        local = sorted({entry["symbol"] for entry in available_symbols(store)})
    except Exception:  # the listing is a courtesy: never hide the real error behind another
        local = sorted({entry["symbol"] for entry in available_symbols(None)})
    return (f"{exc}\navailable locally: {', '.join(local)}\n"
            f"to fetch it: arena ingest {symbol.upper()} --provider yfinance "
            "(or set DATA_PROVIDER=yfinance / auto)")


def run_ingest(settings: Settings, symbols: tuple[str, ...], start: str | None,
               end: str | None, provider_name: str | None) -> None:
    """Body of ``arena ingest``: fetch the missing ranges of each symbol into the database,
    with a progress bar (stderr) and a summary table (stdout). Exit 2 if any symbol failed."""
    name = provider_name or settings.data_provider
    if name not in PROVIDER_NAMES:
        _exit(f"--provider {name!r}: must be one of {', '.join(PROVIDER_NAMES)}")
    try:
        first, last = to_date(start), to_date(end)
        wanted = [normalize_symbol(s) for s in symbols]
    except ValueError as exc:
        _exit(str(exc))
    if first and last and first > last:
        _exit(f"--start {first} is after --end {last}")
    prepare_store(settings)
    service = context(settings).prices
    provider = make_provider(name, provider_options(settings))
    summaries: list[IngestSummary] = []
    failures: list[str] = []
    with click.progressbar(wanted, label=f"Ingesting from {name}", file=sys.stderr,
                           item_show_func=lambda s: s or "") as bar:
        for symbol in bar:
            try:
                summaries.append(service.ingest(symbol, first, last, provider=provider))
            except (MarketDataError, ValueError) as exc:
                failures.append(explain_failure(settings, symbol, exc)
                                if isinstance(exc, UnknownSymbolError) else f"{symbol}: {exc}")
    _print_summary(summaries)
    for message in failures:
        click.echo(message, err=True)
    if failures:
        sys.exit(INVALID_INPUT_EXIT)


def _print_summary(summaries: list[IngestSummary]) -> None:
    if not summaries:
        return
    click.echo(f"{'symbol':<8}{'rows added':>11}{'updated':>9}  {'source':<10}ranges fetched")
    for s in summaries:
        ranges = ", ".join(f"{a}..{b}" for a, b in s.ranges_fetched) or "none (already stored)"
        click.echo(f"{s.symbol:<8}{s.rows_added:>11,}{s.rows_updated:>9,}  {s.source:<10}{ranges}")
        if s.rebased:
            click.echo(f"  {s.symbol}: stored history rescaled to the provider's latest "
                       "adjustment (a dividend or split since the last fetch)")
        for issue in s.issues[:5]:
            click.echo(f"  warning {s.symbol} {issue}")
        if len(s.issues) > 5:
            click.echo(f"  ... {len(s.issues) - 5} more warning(s) for {s.symbol}")
    total = sum(s.rows_added for s in summaries)
    click.echo(f"{total:,} row(s) added for {len(summaries)} symbol(s)")


def _exit(message: str) -> None:
    click.echo(message, err=True)
    sys.exit(INVALID_INPUT_EXIT)
