"""Reading a user's OHLCV CSV (docs/prices.md) with errors that say which row is wrong."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd

from data.errors import PriceValidationError
from data.validate import ValidationReport, validate_prices

REQUIRED = ("date", "open", "high", "low", "close")
OPTIONAL = ("volume", "adj_close")


class CsvPriceError(ValueError):
    """The CSV cannot be used as prices; the message names the problem and the fix."""


MAX_LISTED_ROWS = 20  # bad rows named in one error message; the rest are counted


def read_prices_csv(source: str | Path | io.IOBase) -> pd.DataFrame:
    """Parse a CSV with columns ``date,open,high,low,close[,volume][,adj_close]``.

    Column names are matched case-insensitively (``Adj Close`` is accepted as ``adj_close``).
    Returns a frame indexed by ``date`` with float columns. Rows are not reordered or dropped:
    unparseable dates, empty or non-numeric values, repeated and out-of-order dates raise
    :class:`CsvPriceError` listing EVERY bad row (the first ``MAX_LISTED_ROWS``, then a count),
    each with its line, its date and the reason.
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
    texts = raw["date"].str.strip()
    dates = pd.to_datetime(texts, format="ISO8601", errors="coerce")
    problems: dict[int, list[str]] = {}  # row -> reasons

    def flag(rows: np.ndarray, reason) -> None:
        for row in rows:
            problems.setdefault(int(row), []).append(reason(int(row)))

    flag(np.flatnonzero(dates.isna().to_numpy()),
         lambda r: f"date {raw['date'].iloc[r]!r} is not an ISO date (YYYY-MM-DD)")
    columns = [c for c in (*REQUIRED[1:], *OPTIONAL) if c in raw.columns]
    frame = pd.DataFrame(index=pd.DatetimeIndex(dates, name="date"))
    for column in columns:
        cells = raw[column].str.strip()
        values = pd.to_numeric(cells, errors="coerce").to_numpy(dtype="float64")
        flag(np.flatnonzero(np.isnan(values) & (cells == "").to_numpy()),
             lambda r, c=column: f"{c} is empty")
        flag(np.flatnonzero(np.isnan(values) & (cells != "").to_numpy()),
             lambda r, c=column, cells=cells: f"{c} {cells.iloc[r]!r} is not a number")
        frame[column] = values
    stamps = frame.index
    flag(np.flatnonzero(stamps.duplicated() & stamps.notna()),
         lambda r: "the date repeats an earlier row; keep one row per date")
    earlier = np.zeros(len(stamps), dtype=bool)
    earlier[1:] = (stamps[1:] < stamps[:-1])  # NaT compares False
    flag(np.flatnonzero(earlier),
         lambda r: f"comes before the line above ({stamps[r - 1].date()}); sort the rows by "
         "date, oldest first")
    if problems:
        raise CsvPriceError(_listing(name, problems, texts))
    return frame


def _listing(name: str, problems: dict[int, list[str]], dates: pd.Series) -> str:
    """``name: N bad row(s)`` and one line per row ``DATE (line L): reason; reason``."""
    rows = sorted(problems)
    lines = [f"  {dates.iloc[row] or '(no date)'} (line {row + 2}): {'; '.join(problems[row])}"
             for row in rows[:MAX_LISTED_ROWS]]
    if len(rows) > MAX_LISTED_ROWS:
        lines.append(f"  ... and {len(rows) - MAX_LISTED_ROWS} more bad row(s)")
    return f"{name}: {len(rows)} bad row(s) to fix:\n" + "\n".join(lines)


def check_prices_csv(source: str | Path | io.IOBase) -> tuple[pd.DataFrame, ValidationReport]:
    """Read a user's CSV (see :func:`read_prices_csv`) and run the data layer's checks
    (:mod:`data.validate`) on it, as for bars from a provider.

    Returns the frame (no row dropped, its warnings in ``frame.attrs["warnings"]`` for the
    engine's results) and the report, whose warnings the caller shows the user;
    rows that cannot be used raise :class:`CsvPriceError` naming every one with its date.
    """
    frame = read_prices_csv(source)
    report = validate_prices(frame)
    try:
        report.raise_for_errors(str(source) if isinstance(source, str | Path)
                                else "the uploaded CSV")
    except PriceValidationError as exc:
        raise CsvPriceError(str(exc)) from exc
    return report.attach_warnings(frame), report
