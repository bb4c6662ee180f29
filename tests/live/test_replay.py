"""The replay source: ticks walk each bar's range, bars are the history's own, one clock."""

from __future__ import annotations

import asyncio

import pandas as pd
import pytest

from app.live.sources.replay import ReplaySource, tick_path


def test_an_up_bar_goes_open_low_high_close_and_a_down_bar_open_high_low_close():
    assert tick_path(10.0, 12.0, 9.0, 11.0, 4).tolist() == [10.0, 9.0, 12.0, 11.0]
    assert tick_path(10.0, 12.0, 9.0, 9.5, 4).tolist() == [10.0, 12.0, 9.0, 9.5]
    # 7 ticks: the corners at 0, 2, 4, 6 and halfway points between them
    assert tick_path(10.0, 12.0, 9.0, 11.0, 7).tolist() == [10.0, 9.5, 9.0, 10.5, 12.0, 11.5,
                                                            11.0]
    assert tick_path(10.0, 12.0, 9.0, 11.0, 1).tolist() == [11.0]


def _frame(dates: list[str], closes: list[float]) -> pd.DataFrame:
    index = pd.DatetimeIndex(pd.to_datetime(dates), name="date")
    return pd.DataFrame({"open": closes, "high": [c + 1 for c in closes],
                         "low": [c - 1 for c in closes], "close": closes,
                         "volume": [400.0] * len(closes)}, index=index)


async def _no_wait(_seconds: float) -> None:
    return None


def _take(source: ReplaySource, count: int, resume_after: str | None = None) -> list[dict]:
    async def run():
        found = []
        async for event in source.events(resume_after):
            found.append(event)
            if len(found) == count:
                return found

    return asyncio.run(run())


def test_the_replay_covers_only_common_dates_and_publishes_the_exact_bars():
    frames = {"AAA": _frame(["2024-01-02", "2024-01-03", "2024-01-04"], [10, 11, 12]),
              "BBB": _frame(["2024-01-03", "2024-01-04", "2024-01-05"], [20, 21, 22])}
    source = ReplaySource(frames, "2024-01-01", 1.0, 2, sleep=_no_wait)
    assert list(source.calendar.strftime("%Y-%m-%d")) == ["2024-01-03", "2024-01-04"]
    events = _take(source, 6)
    assert [(e["type"], e["symbol"]) for e in events] == [
        ("tick", "AAA"), ("tick", "BBB"), ("tick", "AAA"), ("tick", "BBB"),
        ("bar", "AAA"), ("bar", "BBB")]
    assert events[4] == {"type": "bar", "symbol": "AAA", "ts": "2024-01-03", "open": 11.0,
                         "high": 12.0, "low": 10.0, "close": 11.0, "volume": 400.0,
                         "source": "replay"}
    assert [e["volume"] for e in events[:4]] == [200.0] * 4
    assert events[2]["ts"] == "2024-01-03T21:00:00.000000Z"


def test_the_replay_resumes_after_a_cursor_and_wraps_around_at_the_end():
    frames = {"AAA": _frame(["2024-01-02", "2024-01-03", "2024-01-04"], [10, 11, 12])}
    source = ReplaySource(frames, "2024-01-02", 1.0, 1, sleep=_no_wait)
    bars = [e["ts"] for e in _take(source, 8, resume_after="2024-01-02") if e["type"] == "bar"]
    assert bars == ["2024-01-03", "2024-01-04", "2024-01-02", "2024-01-03"]


def test_a_start_after_the_data_is_refused_with_the_last_date():
    frames = {"AAA": _frame(["2024-01-02"], [10])}
    with pytest.raises(ValueError, match="after the last bar of the data"):
        ReplaySource(frames, "2025-01-01", 1.0, 1)
