"""The ``yfinance`` source: real (delayed) quotes, polled every ``LIVE_POLL_SECONDS``.

Each poll asks the data layer's :class:`~data.providers.yahoo.YahooProvider` (the one client of
Yahoo in the code base, with its retries and error translation) for the last few daily bars
of every symbol. The last bar is the session in progress: when its close or volume changed
since the previous poll, that is a tick (``price`` = the close so far, ``volume`` = the volume
traded since the previous tick, ``ts`` = the poll time). A bar dated before the newest one
that was still in progress at the previous poll is complete: it is published as a ``bar``
with Yahoo's final values, which is when a followed strategy is evaluated. The first poll
only records where things stand (nothing is published for the past).

Prices are Yahoo's split-adjusted quotes (its ``Close``), the same basis as the history the
followed strategy warmed up on, up to dividends paid during the live session.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import pandas as pd

from app.live import messages
from data.errors import MarketDataError

log = logging.getLogger(__name__)
LOOKBACK_DAYS = 7


@dataclass
class _Seen:
    day: pd.Timestamp
    close: float
    volume: float
    seq: int = 0


class YahooPollingSource:
    """Polls ``fetch(symbol, start, end, interval)`` (default: a ``YahooProvider``)."""

    name = "yfinance"

    def __init__(self, symbols: list[str], poll_seconds: float,
                 fetch: Callable[..., pd.DataFrame] | None = None,
                 sleep: Callable[[float], object] = asyncio.sleep,
                 today: Callable[[], dt.date] = dt.date.today,
                 now: Callable[[], str] = messages.utc_now_iso) -> None:
        if fetch is None:
            from data.providers.yahoo import YahooProvider

            fetch = YahooProvider().fetch
        self.symbols = sorted(symbols)
        self.poll_seconds = poll_seconds
        self._fetch = fetch
        self._sleep = sleep
        self._today = today
        self._now = now
        self._seen: dict[str, _Seen] = {}

    def poll_once(self, symbol: str) -> list[dict]:
        """Fetch ``symbol``'s recent bars and return the events they imply (blocking)."""
        today = self._today()
        frame = self._fetch(symbol, today - dt.timedelta(days=LOOKBACK_DAYS), today, "1d")
        return self.events_from(symbol, frame)

    def events_from(self, symbol: str, frame: pd.DataFrame) -> list[dict]:
        """The tick and bar events between the previous state of ``symbol`` and ``frame``."""
        if frame.empty:
            return []
        last_day = frame.index[-1]
        last = frame.iloc[-1]
        seen = self._seen.get(symbol)
        events: list[dict] = []
        if seen is not None:
            for day, row in frame.loc[(frame.index >= seen.day) & (frame.index < last_day)
                                      ].iterrows():
                events.append(messages.bar(symbol, day.strftime("%Y-%m-%d"),
                                           float(row["open"]), float(row["high"]),
                                           float(row["low"]), float(row["close"]),
                                           float(row["volume"]), self.name))
            same_day = seen.day == last_day
            traded = float(last["volume"]) - (seen.volume if same_day else 0.0)
            if not same_day or float(last["close"]) != seen.close or traded > 0:
                seen.seq += 1
                events.append(messages.tick(symbol, self._now(), float(last["close"]),
                                            max(traded, 0.0), self.name, seen.seq))
        seq = seen.seq if seen else 0
        self._seen[symbol] = _Seen(last_day, float(last["close"]), float(last["volume"]), seq)
        return events

    async def events(self, resume_after: str | None = None) -> AsyncIterator[dict]:
        while True:
            for symbol in self.symbols:
                try:
                    found = await asyncio.to_thread(self.poll_once, symbol)
                except MarketDataError as exc:  # Yahoo down or refusing: say so, keep polling
                    log.warning("live feed (yfinance): %s", exc)
                    continue
                for event in found:
                    yield event
            await self._sleep(self.poll_seconds)
