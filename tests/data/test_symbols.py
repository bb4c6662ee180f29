"""The symbol search: bundled and stored symbols with names and date ranges."""

from __future__ import annotations

from data.bundled import bundled_symbols, load_bundled
from data.frames import normalize_frame
from data.symbols import available_symbols


def test_every_bundled_symbol_is_listed_with_a_name_and_its_dates():
    entries = available_symbols()
    assert [e["symbol"] for e in entries] == bundled_symbols()
    spy = next(e for e in entries if e["symbol"] == "SPY")
    assert spy == {"symbol": "SPY", "name": "SPDR S&P 500 ETF Trust", "source": "bundled",
                   "location": "bundled", "first_date": "1999-11-01", "last_date": "2024-11-08"}
    assert all(e["name"] for e in entries)


def test_stored_symbols_are_listed_too(store):
    frame = normalize_frame(load_bundled("AAPL", "2024-01-01", "2024-03-31"))
    store.write("ARKK", "1d", frame, "yfinance", name="ARK Innovation ETF")
    entries = [e for e in available_symbols(store) if e["location"] == "database"]
    assert entries == [{"symbol": "ARKK", "name": "ARK Innovation ETF", "source": "yfinance",
                        "location": "database", "first_date": "2024-01-02",
                        "last_date": "2024-03-28"}]


def test_a_query_matches_symbols_and_names_case_insensitively():
    assert [e["symbol"] for e in available_symbols(query="treasury")] == ["TLT"]
    assert [e["symbol"] for e in available_symbols(query="qq")] == ["QQQ"]
