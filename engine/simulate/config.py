"""Execution settings of a simulation (:class:`SimConfig`) and what it returns (:class:`SimResult`).

The meaning of every setting is the execution model in the docstring of :mod:`engine.simulate`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

DIRECTIONS = ("long", "short", "both")
FILLS = ("next_open", "close")
SIZING_METHODS = ("percent_equity", "fixed_cash", "fixed_units")
EXIT_REASONS = ("signal", "stop_loss", "take_profit", "trailing_stop", "end_of_data", "ruin")
TRADE_COLUMNS = (
    "side",
    "entry_index",
    "entry_price",
    "exit_index",
    "exit_price",
    "units",
    "pnl",
    "return",
    "fees",
    "exit_reason",
)
INTEGER_TRADE_COLUMNS = frozenset({"side", "entry_index", "exit_index", "exit_reason"})


@dataclass(frozen=True)
class SimConfig:
    """Execution settings of one simulation (exact meaning: the
    docstring of :mod:`engine.simulate`).

    ``sizing_value`` is a percent of equity for ``percent_equity``, an amount of account currency
    for ``fixed_cash`` and a number of units for ``fixed_units``. ``fees_bps`` and
    ``slippage_bps`` are per side, in basis points. ``stop_loss_pct``, ``take_profit_pct`` and
    ``trailing_stop_pct`` are percentages of the entry fill price (5.0 = 5 %); ``None`` = off.
    Invalid values raise ``ValueError`` on construction.
    """

    initial_cash: float = 10_000.0
    direction: str = "long"
    fill: str = "next_open"
    sizing_method: str = "percent_equity"
    sizing_value: float = 100.0
    fractional: bool = True
    fees_bps: float = 0.0
    slippage_bps: float = 0.0
    stop_loss_pct: float | None = None
    take_profit_pct: float | None = None
    trailing_stop_pct: float | None = None

    def __post_init__(self) -> None:
        _require_choice("direction", self.direction, DIRECTIONS)
        _require_choice("fill", self.fill, FILLS)
        _require_choice("sizing_method", self.sizing_method, SIZING_METHODS)
        if not isinstance(self.fractional, bool | np.bool_):
            raise ValueError(f"fractional: must be true or false, got {self.fractional!r}")
        _require_number("initial_cash", self.initial_cash, minimum=0.0, inclusive=False)
        _require_number("sizing_value", self.sizing_value, minimum=0.0, inclusive=False)
        if self.sizing_method == "percent_equity" and self.sizing_value > 100.0:
            raise ValueError(
                f"sizing_value: must be at most 100 for percent_equity (100 = all of the equity; "
                f"leverage is not modelled), got {self.sizing_value!r}"
            )
        _require_number("fees_bps", self.fees_bps, minimum=0.0, inclusive=True)
        _require_number("slippage_bps", self.slippage_bps, minimum=0.0, inclusive=True)
        if self.slippage_bps >= 10_000.0:
            raise ValueError(
                f"slippage_bps: must be below 10000 (100 %), got {self.slippage_bps!r}; "
                "a sell would fill at a price <= 0"
            )
        for name in ("stop_loss_pct", "take_profit_pct", "trailing_stop_pct"):
            value = getattr(self, name)
            if value is not None:
                _require_number(name, value, minimum=0.0, inclusive=False)


@dataclass(frozen=True)
class SimResult:
    """Output of :func:`simulate`.

    ``equity``, ``position`` (signed units, short < 0) and ``cash`` are sampled at every close;
    ``equity = cash + position * close``. ``trades`` holds the columns of :data:`TRADE_COLUMNS`.
    ``total_fees`` is the sum of every fee paid (currency). ``total_slippage`` is what slippage
    cost in currency (sum over fills of ``units * |fill_price - market_price|``) and
    ``turnover`` the traded notional (sum over fills of ``units * fill_price``); both let users
    reconcile results across cost settings. Neither counts the end-of-data valuation.
    ``exposed`` (bool, per bar) is True when a position was held at some time during the bar
    (after its opening fills, or at its close). ``ruin_index`` is the bar on which the equity
    reached 0 and the position was liquidated (``None`` if never); ``ruin_deficit`` what a gap
    through the ruin price lost beyond the account (currency, 0 without a gap).
    """

    equity: np.ndarray
    position: np.ndarray
    cash: np.ndarray
    trades: dict[str, np.ndarray]
    total_fees: float
    total_slippage: float = 0.0
    turnover: float = 0.0
    exposed: np.ndarray | None = None
    ruin_index: int | None = None
    ruin_deficit: float = 0.0

    @property
    def ruined(self) -> bool:
        """Whether the account's equity reached 0 (see "Ruin" in :mod:`engine.simulate`)."""
        return self.ruin_index is not None


def kernel_settings(config: SimConfig) -> tuple:
    """``config`` as the scalars the compiled kernels take after the bars and signals, in the
    order of their parameters: direction code, fill at close?, sizing code, sizing value,
    fractional?, fee rate and slippage as fractions (bps / 1e4), stop, target and trailing stop
    as fractions of the entry price (0.0 = off), initial cash."""
    return (
        DIRECTIONS.index(config.direction),
        config.fill == "close",
        SIZING_METHODS.index(config.sizing_method),
        float(config.sizing_value),
        bool(config.fractional),
        float(config.fees_bps) / 1e4,
        float(config.slippage_bps) / 1e4,
        _fraction(config.stop_loss_pct),
        _fraction(config.take_profit_pct),
        _fraction(config.trailing_stop_pct),
        float(config.initial_cash),
    )


def _fraction(percent: float | None) -> float:
    """A percentage setting as a fraction; 0.0 tells the kernel the feature is off."""
    return 0.0 if percent is None else float(percent) / 100.0


def _require_choice(name: str, value: object, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ValueError(f"{name}: must be one of {', '.join(allowed)}, got {value!r}")


def _require_number(name: str, value: object, *, minimum: float, inclusive: bool) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ValueError(f"{name}: must be a number, got {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{name}: must be finite, got {value!r}")
    if value < minimum or (value == minimum and not inclusive):
        relation = ">=" if inclusive else ">"
        raise ValueError(f"{name}: must be {relation} {minimum:g}, got {value!r}")
