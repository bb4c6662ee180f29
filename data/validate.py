"""Checks on price bars, from a provider or from a user's CSV: every bad row is reported with its
date and the reason; nothing is dropped or repaired silently.

Checks (each issue has a ``kind``):

errors (the frame cannot be used as it is)
    ``unsorted_dates`` (a date before the row above it), ``duplicate_date``,
    ``missing_price`` (NaN in open/high/low/close), ``non_positive_price`` (≤ 0)
warnings (kept, reported)
    ``high_below_open_close`` (high < max(open, close)), ``low_above_open_close``
    (low > min(open, close)), ``negative_volume``, and two kinds of jump that the adjusted close
    does not absorb (its own move stays within ``jump_ratio``) on a day with no recorded split:

    ``unadjusted_split``
        the bar looks like a split left in the prices: the open is within 5 % of the previous
        close divided by a common split ratio ``r`` (``SPLIT_RATIOS``: 3:2, 2:1, 3:1, 4:1,
        5:1, 8:1, 10:1, 15:1, 20:1 and the reverse splits), and the close within 20 % of it.
        A ratio below ``jump_ratio`` (3:2) also needs the volume pattern of a split: that day's
        volume within a factor 2 of ``r`` times the median volume of the 10 bars before (a
        split multiplies the share count by ``r``; a crash of that size brings a volume surge),
        so a genuine −33 % crash is not taken for a 3:2 split.
    ``unexplained_jump``
        any other move of the close by more than a factor ``jump_ratio`` (default 1.8, i.e.
        +80 % or −44 %) from the previous bar.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from data.errors import PriceValidationError
from data.frames import OHLC

DEFAULT_JUMP_RATIO = 1.8
#: Where a checked frame carries its warnings: ``frame.attrs[WARNINGS_ATTR]``, a list of
#: ``PriceIssue.to_dict()`` (``engine.prices.frame_warnings`` reads them into results).
WARNINGS_ATTR = "warnings"
#: Common split ratios (new shares per old share); reverse splits are their inverses.
SPLIT_RATIOS = (1.5, 2.0, 3.0, 4.0, 5.0, 8.0, 10.0, 15.0, 20.0)
SPLIT_OPEN_TOLERANCE = 0.05  # the open gap matches close / r within 5 %
SPLIT_CLOSE_TOLERANCE = 0.20  # the day's close within 20 % of it (a normal day after the split)
SPLIT_VOLUME_FACTOR = 2.0  # volume within x2 of r x the previous bars' median (small ratios)
SPLIT_VOLUME_BARS = 10
Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class PriceIssue:
    """One bad row: ``date`` (ISO), ``kind`` (see the module docstring), a readable ``message``."""

    date: str
    kind: str
    message: str
    severity: Severity

    def to_dict(self) -> dict[str, str]:
        return {"date": self.date, "kind": self.kind, "message": self.message,
                "severity": self.severity}

    def __str__(self) -> str:
        return f"{self.date}: {self.message}"


@dataclass
class ValidationReport:
    rows: int
    issues: list[PriceIssue] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.issues

    @property
    def errors(self) -> list[PriceIssue]:
        return [i for i in self.issues if i.severity == "error"]

    @property
    def warnings(self) -> list[PriceIssue]:
        return [i for i in self.issues if i.severity == "warning"]

    def describe(self, limit: int = 10) -> str:
        """The first ``limit`` issues, one per line, and how many more there are."""
        lines = [f"  {issue}" for issue in self.issues[:limit]]
        if len(self.issues) > limit:
            lines.append(f"  ... and {len(self.issues) - limit} more")
        return "\n".join(lines)

    def attach_warnings(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Put the warnings on ``frame.attrs[WARNINGS_ATTR]`` (for the engine) and return it."""
        frame.attrs[WARNINGS_ATTR] = [issue.to_dict() for issue in self.warnings]
        return frame

    def raise_for_errors(self, what: str = "prices") -> None:
        """Raise :class:`PriceValidationError` listing every error-level issue, if any."""
        errors = self.errors
        if errors:
            listing = ValidationReport(self.rows, errors).describe()
            raise PriceValidationError(
                f"{what}: {len(errors)} bad row(s) that must be fixed:\n{listing}", errors
            )


def validate_prices(frame: pd.DataFrame, splits: pd.Series | None = None,
                    jump_ratio: float = DEFAULT_JUMP_RATIO) -> ValidationReport:
    """Run every check on ``frame`` (docs/prices.md columns; ``adj_close`` and ``volume`` optional).

    ``splits`` (optional) is indexed by date with the split ratio; a jump on such a date is
    explained. Issues come out grouped by kind, in date order within a kind.
    """
    report = ValidationReport(rows=len(frame))
    if frame.empty:
        return report
    index = pd.DatetimeIndex(frame.index)
    labels = np.asarray(index.strftime("%Y-%m-%d"))

    def add(mask: np.ndarray, kind: str, severity: Severity, describe) -> None:
        for row in np.flatnonzero(mask):
            report.issues.append(PriceIssue(str(labels[row]), kind, describe(row), severity))

    stamps = index.asi8
    earlier = np.zeros(len(frame), dtype=bool)
    earlier[1:] = stamps[1:] < stamps[:-1]
    add(earlier, "unsorted_dates", "error",
        lambda r: f"comes after {labels[r - 1]}; sort the rows by date, oldest first")
    add(np.asarray(index.duplicated()), "duplicate_date", "error",
        lambda r: "the date appears more than once; keep one row per date")

    prices = {c: frame[c].to_numpy(dtype="float64", na_value=np.nan) for c in OHLC}
    missing = np.zeros(len(frame), dtype=bool)
    for column in OHLC:
        missing |= np.isnan(prices[column])
    add(missing, "missing_price", "error", lambda r: "missing value(s) in "
        + ", ".join(c for c in OHLC if np.isnan(prices[c][r])))
    non_positive = np.zeros(len(frame), dtype=bool)
    for column in OHLC:
        non_positive |= prices[column] <= 0
    add(non_positive, "non_positive_price", "error", lambda r: "zero or negative price in "
        + ", ".join(c for c in OHLC if prices[c][r] <= 0))

    op, hi, lo, cl = (prices[c] for c in OHLC)
    add(hi < np.fmax(op, cl), "high_below_open_close", "warning",
        lambda r: f"high {hi[r]:g} is below max(open {op[r]:g}, close {cl[r]:g})")
    add(lo > np.fmin(op, cl), "low_above_open_close", "warning",
        lambda r: f"low {lo[r]:g} is above min(open {op[r]:g}, close {cl[r]:g})")
    if "volume" in frame.columns:
        volume = frame["volume"].to_numpy(dtype="float64", na_value=np.nan)
        add(volume < 0, "negative_volume", "warning", lambda r: f"volume {volume[r]:g} is negative")
    if not earlier.any():
        _check_jumps(frame, cl, splits, jump_ratio, add)
    return report


def _split_ratio_label(ratio: float) -> str:
    """``2:1`` for a 2-for-1 split (ratio 2), ``1:10`` for a 1-for-10 reverse split (ratio 0.1)."""
    forward = ratio if ratio >= 1 else 1 / ratio
    label = {1.5: "3:2"}.get(forward, f"{forward:g}:1")
    return label if ratio >= 1 else ":".join(reversed(label.split(":")))


def _split_ratios(frame: pd.DataFrame, close: np.ndarray, jump_ratio: float) -> np.ndarray:
    """Per bar, the split ratio ``r`` (price divided by ``r``) the bar matches, or NaN."""
    ratios = np.array([*SPLIT_RATIOS, *(1 / r for r in SPLIT_RATIOS)])
    previous = np.concatenate(([np.nan], close[:-1]))
    with np.errstate(divide="ignore", invalid="ignore"):
        gap = np.log(previous / frame["open"].to_numpy(dtype="float64", na_value=np.nan))
        move = np.log(previous / close)
        # distance of each bar's open gap and close move to each ratio, in log units
        open_off = np.abs(gap[:, None] - np.log(ratios)[None, :])
        close_off = np.abs(move[:, None] - np.log(ratios)[None, :])
    match = (open_off <= np.log1p(SPLIT_OPEN_TOLERANCE)) & (
        close_off <= np.log1p(SPLIT_CLOSE_TOLERANCE))
    small = np.abs(np.log(ratios)) < np.log(jump_ratio)
    if small.any():
        if "volume" in frame.columns:
            volume = frame["volume"].to_numpy(dtype="float64", na_value=np.nan)
            before = (pd.Series(volume).rolling(SPLIT_VOLUME_BARS, min_periods=1).median()
                      .shift(1).to_numpy())
            with np.errstate(divide="ignore", invalid="ignore"):
                surge = np.abs(np.log(volume / before))[:, None] - np.abs(np.log(ratios))[None, :]
            in_line = np.abs(surge) <= np.log(SPLIT_VOLUME_FACTOR)
            match[:, small] &= in_line[:, small]
        else:
            match[:, small] = False  # without volumes a 3:2 split and a crash look alike
    found = np.full(len(close), np.nan)
    rows = np.flatnonzero(match.any(axis=1))
    found[rows] = ratios[np.argmax(match[rows], axis=1)]
    return found


def _check_jumps(frame: pd.DataFrame, close: np.ndarray, splits: pd.Series | None,
                 jump_ratio: float, add) -> None:
    limit = np.log(jump_ratio)
    with np.errstate(divide="ignore", invalid="ignore"):
        move = np.abs(np.diff(np.log(close), prepend=np.nan))
        unexplained = np.ones(len(close), dtype=bool)
        if "adj_close" in frame.columns:
            adj = frame["adj_close"].to_numpy(dtype="float64", na_value=np.nan)
            adj_move = np.abs(np.diff(np.log(adj), prepend=np.nan))
            unexplained &= ~(adj_move <= limit)  # the adjusted close absorbs a split or dividend
    if splits is not None and len(splits):
        split_days = pd.DatetimeIndex(splits.index).normalize()
        unexplained &= ~np.asarray(pd.DatetimeIndex(frame.index).normalize().isin(split_days))
    ratio = _split_ratios(frame, close, jump_ratio)
    split = unexplained & ~np.isnan(ratio)
    add(split, "unadjusted_split", "warning",
        lambda r: f"close moved from {close[r - 1]:g} to {close[r]:g} "
        f"(x{close[r] / close[r - 1]:.2f}), like an unadjusted {_split_ratio_label(ratio[r])} "
        "split; use split-adjusted prices (or an adj_close column), or the strategy will see "
        "a crash or a jump that did not happen")
    add(unexplained & ~split & (move > limit), "unexplained_jump", "warning",
        lambda r: f"close moved from {close[r - 1]:g} to {close[r]:g} "
        f"(x{close[r] / close[r - 1]:.2f}) with no split recorded; "
        "if a split happened, the prices need split adjustment")
