"""The real daily OHLCV sample shipped inside the package (see ``data/sample/PROVENANCE.md``).

Files are gzip-compressed CSVs with the columns ``date,open,high,low,close,adj_close,volume``.
The loader returns docs/prices.md frames: a ``DatetimeIndex`` named ``date`` and float columns.
"""

from __future__ import annotations

import json
from functools import cache, lru_cache
from pathlib import Path

import pandas as pd

from data.errors import UnknownSymbolError

__all__ = ["SAMPLE_DIR", "UnknownSymbolError", "bundled_names", "bundled_symbols", "load_bundled"]

SAMPLE_DIR = Path(__file__).parent / "sample"
PRICE_COLUMNS = ("open", "high", "low", "close", "volume")


def bundled_symbols() -> list[str]:
    """Symbols shipped with the package, sorted."""
    return sorted(p.name.removesuffix(".csv.gz") for p in SAMPLE_DIR.glob("*.csv.gz"))


@cache
def bundled_names() -> dict[str, str]:
    """Display names of the bundled symbols (``data/sample/symbols.json``)."""
    return json.loads((SAMPLE_DIR / "symbols.json").read_text())


@lru_cache(maxsize=64)
def _read(symbol: str) -> pd.DataFrame:
    path = SAMPLE_DIR / f"{symbol}.csv.gz"
    if not path.exists():
        raise UnknownSymbolError(
            f"unknown symbol {symbol!r}: the bundled sample has {', '.join(bundled_symbols())}"
        )
    frame = pd.read_csv(path, parse_dates=["date"], index_col="date", dtype=float, engine="c")
    frame.index.name = "date"
    return frame


def load_bundled(symbol: str, start: str | None = None, end: str | None = None) -> pd.DataFrame:
    """Daily bars of ``symbol`` from the bundled sample, ``start``/``end`` inclusive (ISO dates).

    Returns a copy: callers may modify it freely.
    """
    frame = _read(symbol.upper())
    return frame.loc[start:end].copy()
