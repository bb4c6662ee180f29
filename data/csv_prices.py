"""Reading a user's OHLCV CSV (contract §2) with errors that say which row is wrong."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd

from data.errors import PriceValidationError
from data.validate import ValidationReport, validate_prices

REQUIRED = ("date", "open", "high", "low", "close")
OPTIONAL = ("volume", "adj_close")


class CsvPriceError(ValueError):
    """The CSV cannot be used as prices; the message names the problem and the fix."""


def read_prices_csv(source: str | Path | io.IOBase) -> pd.DataFrame:
    """Parse a CSV with columns ``date,open,high,low,close[,volume][,adj_close]``.

    Column names are matched case-insensitively (``Adj Close`` is accepted as ``adj_close``).
    Returns a frame indexed by ``date`` with float columns. Rows are not reordered or dropped:
    unsorted or duplicate dates, unparseable dates and non-numeric values raise
    :class:`CsvPriceError` naming the first offending line.
    """
    name = str(source) if isinstance(source, str | Path) else "the uploaded CSV"
    try:
        raw = pd.read_csv(source, dtype=str, keep_default_na=False)
    except FileNotFoundError as exc:
        raise CsvPriceError(f"{name}: file not found") from exc
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise CsvPriceError(f"{name}: not a readable CSV ({exc})") from exc
    raw.columns = [c.strip().lower().replace(" ", "_") for c in raw.columns]
    missing = [c for c in REQUIRED if c not in raw.columns]
    if missing:
        raise CsvPriceError(
            f"{name}: missing column(s) {', '.join(missing)}; the header must be "
            f"date,open,high,low,close,volume (found {', '.join(raw.columns) or 'nothing'})"
        )
    if raw.empty:
        raise CsvPriceError(f"{name}: no rows after the header")
    dates = pd.to_datetime(raw["date"].str.strip(), format="ISO8601", errors="coerce")
    if dates.isna().any():
        row = int(dates.isna().to_numpy().argmax())
        raise CsvPriceError(
            f"{name}, line {row + 2}: date {raw['date'].iloc[row]!r} is not an ISO date "
            "(YYYY-MM-DD)"
        )
    columns = [c for c in (*REQUIRED[1:], *OPTIONAL) if c in raw.columns]
    frame = pd.DataFrame(index=pd.DatetimeIndex(dates, name="date"))
    for column in columns:
        values = pd.to_numeric(raw[column].str.strip(), errors="coerce").to_numpy()
        bad = pd.isna(values)
        if bad.any():
            row = int(bad.argmax())
            raise CsvPriceError(
                f"{name}, line {row + 2}: {column} {raw[column].iloc[row]!r} is not a number"
            )
        frame[column] = values.astype("float64")
    if frame.index.has_duplicates:
        row = int(frame.index.duplicated().argmax())
        raise CsvPriceError(f"{name}, line {row + 2}: date {frame.index[row].date()} repeats")
    if not frame.index.is_monotonic_increasing:
        row = int((frame.index[1:] < frame.index[:-1]).argmax()) + 1
        raise CsvPriceError(
            f"{name}, line {row + 2}: date {frame.index[row].date()} comes before the line "
            "above it; sort the rows by date, oldest first"
        )
    return frame


def check_prices_csv(source: str | Path | io.IOBase) -> tuple[pd.DataFrame, ValidationReport]:
    """Read a user's CSV (see :func:`read_prices_csv`) and run the data layer's checks
    (:mod:`data.validate`) on it, as for bars from a provider.

    Returns the frame (no row dropped) and the report, whose warnings the caller shows the user;
    rows that cannot be used raise :class:`CsvPriceError` naming every one with its date.
    """
    frame = read_prices_csv(source)
    report = validate_prices(frame)
    try:
        report.raise_for_errors(str(source) if isinstance(source, str | Path)
                                else "the uploaded CSV")
    except PriceValidationError as exc:
        raise CsvPriceError(str(exc)) from exc
    return frame, report
