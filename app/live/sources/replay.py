"""The ``replay`` source: bundled daily history replayed as if it were live (simulated prices).

One simulated clock for every symbol: from ``start`` on, each trading date takes
``bar_seconds`` of wall time. Within it, ``ticks_per_bar`` ticks per symbol walk the bar's
range in the order a bar plausibly traded: open → low → high → close for an up bar (close >=
open), open → high → low → close for a down bar, linearly interpolated between those points
(the first tick is the open, the last the close). Then the completed bar is published with the
exact OHLCV of the history, so a strategy followed live sees the same bars a backtest does.
Tick volumes are the bar's volume split evenly. The replay runs over the dates every symbol
covers; at their end it starts over from ``start`` (dates then go back in time; live PnL
sessions restart their warm-up).

Simulated tick times: the trading date at 14:30 UTC (the NYSE open, ignoring daylight saving)
plus the tick's share of the 390-minute session; the last tick is at 21:00 UTC.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from app.live import messages

SESSION_OPEN = timedelta(hours=14, minutes=30)
SESSION_MINUTES = 390
DEFAULT_REPLAY_BARS = 250


def tick_path(open_: float, high: float, low: float, close: float, ticks: int) -> np.ndarray:
    """Prices of ``ticks`` ticks walking one bar: open, then the nearer extreme for its
    direction, the other extreme, and the close (see the module docstring)."""
    corners = [open_, low, high, close] if close >= open_ else [open_, high, low, close]
    if ticks == 1:
        return np.array([close])
    where = np.linspace(0.0, 3.0, ticks)
    path = np.interp(where, [0.0, 1.0, 2.0, 3.0], corners)
    path[0], path[-1] = open_, close  # exact, not interpolated
    return path


def tick_times(date: pd.Timestamp, ticks: int) -> list[str]:
    """ISO UTC times of the ticks of one session (see the module docstring)."""
    day = datetime(date.year, date.month, date.day) + SESSION_OPEN
    step = SESSION_MINUTES / ticks
    return [(day + timedelta(minutes=step * (k + 1))).strftime("%Y-%m-%dT%H:%M:%S.000000Z")
            for k in range(ticks)]


class ReplaySource:
    """Replays ``frames`` (symbol → docs/prices.md bars, already adjusted) from ``start``.

    Parameters
    ----------
    frames : the history of every symbol, as the engine sees it (``price_arrays(...).frame()``).
    start : first replayed date (ISO); None = ``DEFAULT_REPLAY_BARS`` bars before the end of the
        dates all symbols cover (the replay runs over those dates only).
    bar_seconds : wall-clock seconds per replayed trading date.
    ticks_per_bar : ticks per symbol per date (>= 1).
    sleep : the coroutine that waits (tests pass a fake clock).
    """

    name = "replay"

    def __init__(self, frames: dict[str, pd.DataFrame], start: str | None, bar_seconds: float,
                 ticks_per_bar: int,
                 sleep: Callable[[float], asyncio.Future | object] = asyncio.sleep) -> None:
        if not frames:
            raise ValueError("replay source: no symbols to replay; set LIVE_SYMBOLS")
        self.frames = frames
        self.symbols = sorted(frames)
        self.bar_seconds = bar_seconds
        self.ticks_per_bar = max(1, int(ticks_per_bar))
        self._sleep = sleep
        # the dates every symbol covers, so each one ticks all the way through
        common_first = max(frame.index[0] for frame in frames.values())
        common_last = min(frame.index[-1] for frame in frames.values())
        calendar = pd.DatetimeIndex(sorted(set().union(*(frame.index for frame in
                                                         frames.values()))))
        self.calendar = calendar[(calendar >= common_first) & (calendar <= common_last)]
        if len(self.calendar) == 0:
            raise ValueError(f"replay source: the histories of {', '.join(self.symbols)} do not "
                             "overlap; choose LIVE_SYMBOLS with common dates")
        if start is None:
            first = max(0, len(self.calendar) - DEFAULT_REPLAY_BARS)
        else:
            first = int(self.calendar.searchsorted(pd.Timestamp(start)))
            if first >= len(self.calendar):
                raise ValueError(f"LIVE_REPLAY_START={start}: after the last bar of the data "
                                 f"({self.calendar[-1].date()}); choose an earlier date")
        self.first = first
        self._seq = dict.fromkeys(self.symbols, 0)

    @property
    def start_date(self) -> str:
        return self.calendar[self.first].strftime("%Y-%m-%d")

    async def events(self, resume_after: str | None = None) -> AsyncIterator[dict]:
        position = self.first
        if resume_after is not None:
            after = int(self.calendar.searchsorted(pd.Timestamp(resume_after), side="right"))
            if self.first <= after < len(self.calendar):
                position = after
        pause = self.bar_seconds / self.ticks_per_bar
        clock = asyncio.get_running_loop().time
        due = clock()
        while True:
            date = self.calendar[position]
            rows = {s: f.loc[date] for s, f in self.frames.items() if date in f.index}
            paths = {s: tick_path(r["open"], r["high"], r["low"], r["close"], self.ticks_per_bar)
                     for s, r in rows.items()}
            times = tick_times(date, self.ticks_per_bar)
            for k in range(self.ticks_per_bar):
                # a fixed schedule, so slow iterations do not slow the clock; more than a bar
                # behind (an overloaded machine), it starts afresh rather than bursting
                due = max(due + pause, clock() - self.bar_seconds)
                await self._sleep(max(0.0, due - clock()))
                for symbol, row in rows.items():
                    self._seq[symbol] += 1
                    yield messages.tick(symbol, times[k], float(paths[symbol][k]),
                                        float(row["volume"]) / self.ticks_per_bar, self.name,
                                        self._seq[symbol])
            day = date.strftime("%Y-%m-%d")
            for symbol, row in rows.items():
                yield messages.bar(symbol, day, float(row["open"]), float(row["high"]),
                                   float(row["low"]), float(row["close"]),
                                   float(row["volume"]), self.name)
            position = position + 1 if position + 1 < len(self.calendar) else self.first
