"""Checks of the simulator's inputs: bar prices and boolean signals.

Each check raises ``ValueError`` naming the array, the first offending bar and the fix, and
returns C-contiguous float64 / bool arrays ready for the compiled kernels.
"""

from __future__ import annotations

import numpy as np

_OHLC_NAMES = ("open", "high", "low", "close")


def validated_prices(open_, high, low, close, *, allow_columns: bool = False
                     ) -> tuple[np.ndarray, ...]:
    """``(open, high, low, close)`` as C-contiguous float64 arrays, checked.

    Parameters
    ----------
    open_, high, low, close : array-like of float
        Shape (n_bars,), or with ``allow_columns`` also (n_bars, n_columns): one column of bars
        per simulated combination. Every price must be finite and > 0, with
        ``low <= min(open, close)`` and ``high >= max(open, close)``.
    allow_columns : bool
        Accept 2-D prices.

    Raises
    ------
    ValueError
        Naming the array, the first bad bar (and column) and what is allowed.
    """
    arrays = []
    dimensions = (1, 2) if allow_columns else (1,)
    for name, values in zip(_OHLC_NAMES, (open_, high, low, close), strict=True):
        try:
            array = np.asarray(values, dtype=np.float64)
        except (TypeError, ValueError) as error:
            raise ValueError(f"{name}: must be numeric prices ({error})") from None
        if array.ndim not in dimensions:
            wanted = "1-D (one value per bar)" if not allow_columns else \
                "1-D (one value per bar) or 2-D (bars x columns)"
            raise ValueError(f"{name}: must be {wanted}, got shape {array.shape}")
        arrays.append(np.ascontiguousarray(array))
    n = arrays[0].shape[0]
    if n == 0:
        raise ValueError("open: no bars; the simulation needs at least one bar")
    for name, array in zip(_OHLC_NAMES[1:], arrays[1:], strict=True):
        if array.shape[0] != n:
            raise ValueError(f"{name}: has {array.shape[0]} bars but open has {n}")
        if array.shape != arrays[0].shape:
            raise ValueError(f"{name}: has shape {array.shape} but open has {arrays[0].shape}; "
                             "give every price the same columns")
    for name, array in zip(_OHLC_NAMES, arrays, strict=True):
        bad = ~np.isfinite(array) | (array <= 0.0)
        if bad.any():
            where = _first(bad)
            raise ValueError(
                f"{name}: every price must be finite and > 0; {_bar(where)} has "
                f"{array[where]!r} (drop or fill missing bars before simulating)"
            )
    open_, high, low, close = arrays
    bad = (high < np.maximum(open_, close)) | (low > np.minimum(open_, close)) | (low > high)
    if bad.any():
        where = _first(bad)
        raise ValueError(
            f"{_bar(where)}: inconsistent OHLC (open={open_[where]!r}, high={high[where]!r}, "
            f"low={low[where]!r}, close={close[where]!r}); need low <= open, close <= high"
        )
    return open_, high, low, close


def validated_signals(name: str, values, n: int, *, ndim: int) -> np.ndarray:
    """Boolean signals of shape (n,) (``ndim=1``) or (n, n_columns) (``ndim=2``), unchanged
    (not copied when already boolean); raises ``ValueError`` naming ``name`` otherwise."""
    array = np.asarray(values)
    if array.dtype != np.bool_:
        raise ValueError(
            f"{name}: must be booleans, got dtype {array.dtype} (missing values are not allowed; "
            "fill them with False)"
        )
    if array.ndim != ndim or array.shape[0] != n:
        shape = "(n_bars,)" if ndim == 1 else "(n_bars, n_combos)"
        raise ValueError(f"{name}: must have shape {shape} with n_bars={n}, got {array.shape}")
    return array


def _first(bad: np.ndarray) -> tuple[int, ...]:
    """Index of the first True value, bar-major (bar 3 of every column before bar 4)."""
    return tuple(int(i) for i in np.argwhere(bad)[0])


def _bar(where: tuple[int, ...]) -> str:
    return f"bar {where[0]}" if len(where) == 1 else f"bar {where[0]} of column {where[1]}"
