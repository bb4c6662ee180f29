"""What the live socket needs from the rest of the application, in one object.

:class:`LiveService` ties the hub to the app's settings, database and price service: which
symbols the feed carries, a user's saved strategy, and the warm-up history of a followed
strategy. :func:`make_source` builds the configured price source.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pandas as pd
from flask import Flask

from app.config import Settings
from app.context import AppContext
from app.live.hub import Hub
from app.live.sources import SOURCE_LABELS, PriceSource
from app.services.prices import load_prices
from app.services.strategies import get_strategy
from data.bundled import bundled_symbols
from engine.prices import price_arrays

# Calendar days loaded per wanted trading bar of warm-up (252 trading days in ~365.25 days,
# plus room for holidays).
CALENDAR_DAYS_PER_BAR = 1.6


def feed_symbols(settings: Settings) -> list[str]:
    """The symbols the feed carries: ``LIVE_SYMBOLS``, or every bundled symbol."""
    return sorted(settings.live_symbols) if settings.live_symbols else bundled_symbols()


def engine_bars(frame: pd.DataFrame, what: str) -> pd.DataFrame:
    """Bars as the engine trades them (OHLC scaled by ``adj_close`` when present)."""
    return price_arrays(frame, adjust=True, what=what).frame()


def make_source(settings: Settings, context: AppContext) -> PriceSource:
    """The configured source (``LIVE_SOURCE``) over :func:`feed_symbols`. Blocking."""
    symbols = feed_symbols(settings)
    if settings.live_source == "replay":
        from app.live.sources.replay import ReplaySource

        frames = {s: engine_bars(load_prices(context.prices, s), f"replay of {s}")
                  for s in symbols}
        return ReplaySource(frames, settings.live_replay_start, settings.live_replay_bar_seconds,
                            settings.live_replay_ticks_per_bar)
    from app.live.sources.yahoo import YahooPollingSource

    return YahooPollingSource(symbols, settings.live_poll_seconds)


@dataclass
class LiveService:
    """The hub plus the application's data, for the socket handlers."""

    hub: Hub
    settings: Settings
    server: Flask
    context: AppContext

    @property
    def symbols(self) -> list[str]:
        return feed_symbols(self.settings)

    @property
    def source(self) -> str:
        return self.settings.live_source

    @property
    def source_label(self) -> str:
        return SOURCE_LABELS[self.settings.live_source]

    def strategy_spec(self, user_id: int, strategy_id: int) -> dict[str, Any]:
        """The saved spec of the user's strategy; NotFoundError when absent or someone
        else's. Blocking."""
        with self.context.sessions() as session:
            return dict(get_strategy(session, user_id, strategy_id).spec)

    def history(self, symbol: str, *, before: str | None = None, through: str | None = None,
                bars: int) -> pd.DataFrame:
        """The last ``bars`` engine bars of ``symbol`` dated before ``before`` (exclusive) or
        through ``through`` (inclusive). Blocking."""
        limit = pd.Timestamp(before or through)
        start = (limit - timedelta(days=int(bars * CALENDAR_DAYS_PER_BAR) + 10)).date()
        frame = load_prices(self.context.prices, symbol, start.isoformat(),
                            limit.date().isoformat())
        frame = engine_bars(frame, f"warm-up of {symbol}")
        keep = frame.index < limit if before else frame.index <= limit
        return frame.loc[keep].iloc[-bars:]
