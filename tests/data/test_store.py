"""The price store on SQLite and on the real PostgreSQL: upserts, coverage, rebasing."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from data.bundled import load_bundled
from data.frames import normalize_frame

D = dt.date


def spy(start: str, end: str) -> pd.DataFrame:
    return normalize_frame(load_bundled("SPY", start, end))


def test_an_empty_store_has_nothing_and_everything_missing(store):
    assert store.load("SPY", "1d", D(2020, 1, 1), D(2020, 12, 31)).empty
    assert store.missing_ranges("SPY", "1d", D(2020, 1, 1), D(2020, 12, 31)) == [
        (D(2020, 1, 1), D(2020, 12, 31))]


def test_written_bars_load_back_identically(store):
    frame = spy("2020-01-01", "2020-12-31")
    result = store.write("SPY", "1d", frame, "yfinance", (D(2020, 1, 1), D(2020, 12, 31)))
    assert (result.rows_added, result.rows_updated, result.rebase_factor) == (253, 0, None)
    loaded = store.load("SPY", "1d", D(2020, 1, 1), D(2020, 12, 31))
    pd.testing.assert_frame_equal(loaded, frame, check_freq=False)
    assert loaded.attrs["source"] == "yfinance"


def test_upserting_the_same_bars_twice_changes_nothing(store):
    frame = spy("2020-01-01", "2020-06-30")
    store.write("SPY", "1d", frame, "yfinance", (D(2020, 1, 1), D(2020, 6, 30)))
    again = store.write("SPY", "1d", frame, "yfinance", (D(2020, 1, 1), D(2020, 6, 30)))
    assert (again.rows_added, again.rows_updated) == (0, len(frame))
    loaded = store.load("SPY", "1d", D(2000, 1, 1), D(2030, 1, 1))
    pd.testing.assert_frame_equal(loaded, frame, check_freq=False)
    assert store.coverage("SPY", "1d") == [(D(2020, 1, 1), D(2020, 6, 30))]


def test_an_upsert_replaces_the_values_of_existing_dates(store):
    frame = spy("2020-03-02", "2020-03-06")
    store.write("SPY", "1d", frame, "yfinance")
    corrected = frame.copy()
    corrected.loc["2020-03-04", "volume"] = 1.0
    result = store.write("SPY", "1d", corrected.loc["2020-03-04":"2020-03-04"], "yfinance")
    assert (result.rows_added, result.rows_updated) == (0, 1)
    assert store.load("SPY", "1d", D(2020, 3, 4), D(2020, 3, 4))["volume"].tolist() == [1.0]


def test_symbols_and_intervals_are_kept_apart(store):
    store.write("SPY", "1d", spy("2020-01-01", "2020-01-31"), "yfinance")
    store.write("QQQ", "1d", normalize_frame(load_bundled("QQQ", "2020-01-01", "2020-01-31")),
                "yfinance")
    store.write("SPY", "1wk", spy("2020-01-01", "2020-01-10"), "yfinance")
    assert len(store.load("SPY", "1d", D(2020, 1, 1), D(2020, 1, 31))) == 21
    assert len(store.load("SPY", "1wk", D(2020, 1, 1), D(2020, 1, 31))) == 7


def test_coverage_merges_touching_ranges_and_reports_only_the_gaps(store):
    for first, last in [(D(2020, 1, 1), D(2020, 3, 31)), (D(2020, 7, 1), D(2020, 9, 30)),
                        (D(2020, 4, 1), D(2020, 4, 30))]:
        store.write("SPY", "1d", spy(str(first), str(last)), "yfinance", (first, last))
    assert store.coverage("SPY", "1d") == [(D(2020, 1, 1), D(2020, 4, 30)),
                                           (D(2020, 7, 1), D(2020, 9, 30))]
    assert store.missing_ranges("SPY", "1d", D(2019, 12, 1), D(2020, 12, 31)) == [
        (D(2019, 12, 1), D(2019, 12, 31)), (D(2020, 5, 1), D(2020, 6, 30)),
        (D(2020, 10, 1), D(2020, 12, 31))]
    assert store.missing_ranges("SPY", "1d", D(2020, 2, 1), D(2020, 4, 30)) == []


def test_nearest_bars_are_the_stored_neighbours_of_a_gap(store):
    store.write("SPY", "1d", spy("2020-01-01", "2020-01-31"), "yfinance")
    store.write("SPY", "1d", spy("2020-03-01", "2020-03-31"), "yfinance")
    assert store.nearest_bars("SPY", "1d", D(2020, 2, 1), D(2020, 2, 29)) == (
        D(2020, 1, 31), D(2020, 3, 2))


def test_a_dividend_since_the_first_fetch_rebases_the_stored_adjusted_closes(store):
    store.write("SPY", "1d", spy("2020-01-01", "2020-06-30"), "yfinance")
    later = spy("2020-06-30", "2020-12-31")  # overlaps on 2020-06-30
    later["adj_close"] *= 0.99  # the provider's basis moved by a 1 % dividend
    result = store.write("SPY", "1d", later, "yfinance")
    assert result.rebase_factor == pytest.approx(0.99)
    loaded = store.load("SPY", "1d", D(2020, 1, 1), D(2020, 12, 31))
    original = spy("2020-01-01", "2020-12-31")
    assert loaded["adj_close"].to_numpy() == pytest.approx(original["adj_close"] * 0.99)
    assert loaded["close"].to_numpy() == pytest.approx(original["close"].to_numpy())


def test_stored_symbols_are_listed_with_their_names_and_dates(store):
    store.write("SPY", "1d", spy("2020-01-01", "2020-12-31"), "yfinance",
                name="SPDR S&P 500 ETF Trust")
    assert store.symbols() == [{"symbol": "SPY", "name": "SPDR S&P 500 ETF Trust",
                                "first_date": D(2020, 1, 2), "last_date": D(2020, 12, 31),
                                "bars": 253, "source": "yfinance"}]


def test_a_database_without_the_price_tables_says_to_run_the_migrations(sqlite_engine):
    from data.errors import StoreNotReadyError
    from data.store import PriceStore

    with pytest.raises(StoreNotReadyError, match="arena db upgrade"):
        PriceStore(sqlite_engine).load("SPY", "1d", D(2020, 1, 1), D(2020, 12, 31))
