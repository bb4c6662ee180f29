"""The one entry point the rest of the app uses for prices: :class:`PriceService`.

``get_prices(symbol, start, end, interval)`` goes cache -> database -> provider:

1. the cache (Redis, or the in-process LRU in embedded mode), keyed by
   provider/symbol/interval/range, with single-flight so concurrent requests make one load;
2. on a miss, the bars stored in the database; only the date ranges no provider has been asked
   for yet (``price_coverage``) are fetched — the "top-up" — stretched to the nearest stored bar so
   a dividend or split since the last fetch is detected and the history rebased (see
   :mod:`data.store`). The days from today on are fetched but not marked as covered, since
   today's bar may still change;
3. the provider. The ``bundled`` sample is already local, so it is read directly, never copied
   into the database (``arena ingest --provider bundled`` copies it on purpose), and neither are
   bars that ``auto`` served from the bundled sample because Yahoo was unreachable.

Fetched bars go through :mod:`data.validate`: rows that cannot be used (unsorted, duplicate,
missing or non-positive prices) stop the load with a :class:`PriceValidationError` listing them;
warnings (high/low inconsistencies, negative volume, unexplained jumps) are kept, logged and
returned in ``PriceResult.issues`` and in ``frame.attrs["warnings"]`` (the engine copies them
into its results, see ``engine.prices``); served bars are checked on every request, so a cache
hit or bars from the database carry them too. :class:`PriceResult` says which source produced
the bars and where they were served from.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from data.cache import (
    CachedPrices,
    CacheStats,
    MemoryPriceCache,
    PriceCache,
    RedisPriceCache,
    cache_key,
    choose_ttl,
)
from data.errors import EmptyRangeError
from data.frames import check_interval, empty_frame, normalize_symbol, to_date
from data.providers import PriceProvider
from data.store import PriceStore
from data.validate import WARNINGS_ATTR, PriceIssue, validate_prices

log = logging.getLogger(__name__)
EARLIEST = dt.date(1970, 1, 2)
OVERLAP_DAYS = 10  # stretch a top-up to a stored bar at most this many days from the gap
LOCAL_SOURCES = ("bundled",)  # already on disk: read directly, not copied into the database


@dataclass(frozen=True)
class PriceResult:
    """Bars and where they came from: ``source`` is the provider(s) that produced them
    (``bundled``, ``yfinance``, ``alpaca``); ``served_from`` is ``cache``, ``database`` or
    ``provider`` (fetched, in whole or in part, for this request)."""

    symbol: str
    interval: str
    frame: pd.DataFrame
    source: str
    served_from: str
    issues: tuple[PriceIssue, ...] = ()

    def describe(self) -> str:
        if self.frame.empty:
            return f"{self.symbol}: no bars"
        first, last = self.frame.index[0].date(), self.frame.index[-1].date()
        return (f"{self.symbol}: {len(self.frame)} {self.interval} bars {first} to {last}, "
                f"source {self.source} (served from {self.served_from})")


@dataclass
class IngestSummary:
    symbol: str
    rows_added: int = 0
    rows_updated: int = 0
    ranges_fetched: list[tuple[dt.date, dt.date]] = field(default_factory=list)
    sources: set[str] = field(default_factory=set)
    issues: list[PriceIssue] = field(default_factory=list)
    rebased: bool = False

    @property
    def source(self) -> str:
        return "+".join(sorted(self.sources)) or "-"


class PriceService:
    """Prices from ``provider`` through ``cache`` and, when given, the database ``store``.

    ``ttl_seconds`` is how long cached historical ranges live, ``recent_ttl_seconds`` the
    shorter life of intraday bars and ranges ending in the last days (see
    :func:`data.cache.choose_ttl`); ``today`` is injectable for tests.
    """

    def __init__(self, provider: PriceProvider, store: PriceStore | None, cache: PriceCache,
                 ttl_seconds: int = 86400, recent_ttl_seconds: int = 300,
                 today: Callable[[], dt.date] = dt.date.today) -> None:
        self.provider = provider
        self.store = store
        self.cache = cache
        self.stats: CacheStats = cache.stats
        self.ttl_seconds = ttl_seconds
        self.recent_ttl_seconds = recent_ttl_seconds
        self.today = today

    @staticmethod
    def make_cache(redis_client: Any = None, max_entries: int = 64) -> PriceCache:
        """Redis when a client is given, else an in-process LRU of ``max_entries`` ranges."""
        stats = CacheStats()
        if redis_client is not None:
            return RedisPriceCache(redis_client, stats)
        return MemoryPriceCache(max_entries, stats)

    def get_prices(self, symbol: str, start: Any = None, end: Any = None,
                   interval: str = "1d") -> PriceResult:
        """Bars of ``symbol`` with dates in ``[start, end]`` (ISO strings or dates; None = from
        the first bar / up to today). Raises the errors of :mod:`data.errors`."""
        symbol, first, last = self._request(symbol, start, end, interval)
        key = cache_key(self.provider.name, symbol, interval, first, last)
        ttl = choose_ttl(interval, last, self.today(), self.ttl_seconds, self.recent_ttl_seconds)
        loaded: dict[str, Any] = {}

        def load() -> CachedPrices:
            frame, served_from, issues = self._load(symbol, interval, first, last)
            loaded.update(served_from=served_from, issues=issues)
            return CachedPrices(frame, frame.attrs.get("source", self.provider.name))

        value, hit = self.cache.get_or_load(key, load, ttl)
        frame = value.frame.copy()
        served_from = "cache" if hit or not loaded else loaded["served_from"]
        # The served bars are checked whichever way they came (a cache hit or stored bars
        # included): their warnings travel with the frame, for the engine to report.
        issues = tuple(validate_prices(frame).warnings) if not frame.empty else ()
        frame.attrs = {"source": value.source,
                       WARNINGS_ATTR: [issue.to_dict() for issue in issues]}
        return PriceResult(symbol, interval, frame, value.source, served_from, issues)

    def ingest(self, symbol: str, start: Any = None, end: Any = None, interval: str = "1d",
               provider: PriceProvider | None = None) -> IngestSummary:
        """Fetch the missing ranges of ``symbol`` from ``provider`` (default: the service's)
        into the database, whatever the provider (the bundled sample too)."""
        if self.store is None:
            raise RuntimeError("ingest needs a database")
        symbol, first, last = self._request(symbol, start, end, interval)
        summary = IngestSummary(symbol)
        for gap in self.store.missing_ranges(symbol, interval, first, last):
            self._top_up(provider or self.provider, symbol, interval, gap, summary, persist=True)
        return summary

    def _request(self, symbol: str, start: Any, end: Any,
                 interval: str) -> tuple[str, dt.date, dt.date]:
        symbol = normalize_symbol(symbol)
        check_interval(interval)
        first, last = to_date(start) or EARLIEST, to_date(end) or self.today()
        if first > last:
            raise ValueError(f"start {first} is after end {last}")
        return symbol, first, last

    def _load(self, symbol: str, interval: str, first: dt.date,
              last: dt.date) -> tuple[pd.DataFrame, str, list[PriceIssue]]:
        if self.store is None or self.provider.name in LOCAL_SOURCES:
            frame = self._fetch(self.provider, symbol, first, last, interval)
            return frame, "provider", self._check(frame, symbol)
        summary = IngestSummary(symbol)
        gaps = self.store.missing_ranges(symbol, interval, first, last)
        for gap in gaps:
            local = self._top_up(self.provider, symbol, interval, gap, summary, persist=False)
            if local is not None:  # auto fell back to the bundled sample: serve it whole
                frame = self._fetch(self.provider, symbol, first, last, interval)
                return frame, "provider", self._check(frame, symbol)
        frame = self.store.load(symbol, interval, first, last)
        if frame.empty:
            raise EmptyRangeError(f"{symbol}: no {interval} bars between {first} and {last}")
        return frame, "provider" if gaps else "database", summary.issues

    def _top_up(self, provider: PriceProvider, symbol: str, interval: str,
                gap: tuple[dt.date, dt.date], summary: IngestSummary,
                persist: bool) -> pd.DataFrame | None:
        """Fetch ``gap`` (stretched to neighbouring stored bars) and store it. Returns the frame
        instead of storing it when it came from a local source and ``persist`` is False."""
        assert self.store is not None
        before, after = self.store.nearest_bars(symbol, interval, *gap)
        fetch_start = before if before and (gap[0] - before).days <= OVERLAP_DAYS else gap[0]
        fetch_end = after if after and (after - gap[1]).days <= OVERLAP_DAYS else gap[1]
        try:
            frame = self._fetch(provider, symbol, fetch_start, fetch_end, interval)
        except EmptyRangeError:
            frame = empty_frame()
            frame.attrs["source"] = provider.name
        source = frame.attrs.get("source", provider.name)
        if source in LOCAL_SOURCES and not persist:
            return frame
        summary.issues.extend(self._check(frame, symbol))
        covered_end = min(gap[1], self.today() - dt.timedelta(days=1))
        covered = (gap[0], covered_end) if covered_end >= gap[0] else None
        written = self.store.write(symbol, interval, frame, source, covered,
                                   frame.attrs.get("name"))
        summary.rows_added += written.rows_added
        summary.rows_updated += written.rows_updated
        summary.ranges_fetched.append((fetch_start, fetch_end))
        summary.sources.add(source)
        summary.rebased |= written.rebase_factor is not None
        return None

    def _fetch(self, provider: PriceProvider, symbol: str, first: dt.date, last: dt.date,
               interval: str) -> pd.DataFrame:
        self.stats.add("provider_calls")
        frame = provider.fetch(symbol, first, last, interval)
        frame.attrs.setdefault("source", provider.name)
        return frame

    @staticmethod
    def _check(frame: pd.DataFrame, symbol: str) -> list[PriceIssue]:
        source = frame.attrs.get("source", "the provider")
        report = validate_prices(frame)
        report.raise_for_errors(f"{symbol} from {source}")
        if report.warnings:
            log.warning("%s from %s: %d suspicious bar(s), kept as they are:\n%s", symbol,
                        source, len(report.warnings), report.describe())
        return report.warnings

