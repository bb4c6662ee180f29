"""Test data: the bundled TSLA bars with their splits undone (as a raw exchange feed shows them).

The bundled TSLA is split-adjusted (``data/sample/PROVENANCE.md``); Tesla split 5:1 on 2020-08-31
and 3:1 on 2022-08-25. Undoing the adjustment multiplies every price before a split by its ratio
and divides the volume by it.
"""

from __future__ import annotations

import pandas as pd

from data.bundled import load_bundled

TSLA_SPLITS = {"2020-08-31": 5.0, "2022-08-25": 3.0}


def unadjusted_tsla() -> pd.DataFrame:
    """TSLA bars as traded, without ``adj_close`` (docs/prices.md columns)."""
    frame = load_bundled("TSLA").drop(columns="adj_close")
    factor = pd.Series(1.0, index=frame.index)
    for day, ratio in TSLA_SPLITS.items():
        factor[frame.index < pd.Timestamp(day)] *= ratio
    for column in ("open", "high", "low", "close"):
        frame[column] = frame[column] * factor
    frame["volume"] = (frame["volume"] / factor).round()
    return frame
