"""The ``bundled`` provider: the real daily sample shipped in the package (offline)."""

from __future__ import annotations

import pandas as pd

from data.bundled import bundled_names, bundled_symbols, load_bundled
from data.errors import EmptyRangeError, UnknownSymbolError
from data.frames import DateLike, normalize_frame, normalize_symbol, to_date


class BundledProvider:
    name = "bundled"

    def fetch(self, symbol: str, start: DateLike | None = None, end: DateLike | None = None,
              interval: str = "1d") -> pd.DataFrame:
        symbol = normalize_symbol(symbol)
        if interval != "1d":
            raise EmptyRangeError(
                f"the bundled sample has daily bars only; interval {interval!r} is not available "
                "offline (use DATA_PROVIDER=yfinance for intraday bars)")
        if symbol not in bundled_symbols():
            raise UnknownSymbolError(
                f"unknown symbol {symbol!r}: the bundled sample has "
                f"{', '.join(bundled_symbols())}")
        first, last = to_date(start), to_date(end)
        frame = normalize_frame(load_bundled(symbol, first and first.isoformat(),
                                             last and last.isoformat()))
        if frame.empty:
            full = load_bundled(symbol)
            raise EmptyRangeError(
                f"{symbol}: no bundled bars between {first or 'the start'} and {last or 'today'};"
                f" the sample covers {full.index[0].date()} to {full.index[-1].date()}")
        frame.attrs.update(source=self.name, name=bundled_names().get(symbol))
        return frame
