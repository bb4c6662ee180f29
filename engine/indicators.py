"""Technical indicators as pure functions on 1-D float64 arrays, plus the registry specs use.

Conventions shared by every indicator
-------------------------------------
- Inputs are anything array-like and 1-D; they are converted to ``float64``. Outputs are new
  ``float64`` arrays of the same length as the input.
- Warm-up: a value is NaN until enough bars exist to compute it. The number of leading NaNs on
  a gap-free input (the *lookback*) is stated in each docstring and available from the registry
  as ``INDICATORS[name].warmup(params, output)``.
- NaN input: rolling-window indicators are NaN whenever their window contains a NaN. Recursive
  indicators (EMA, Wilder's smoothing) skip leading NaNs and, after a NaN inside the series,
  start again: the next value is NaN and the recursion is re-seeded once ``period`` consecutive
  valid values are available again. A missing bar therefore never leaks stale state forward.
- Everything is causal: the value at bar ``t`` uses bars ``0..t`` only.
- Seeds and smoothing follow TA-Lib's default ("classic") conventions, so values agree with
  TA-Lib from the first valid bar (MACD agrees once its fast EMA has forgotten its seed, see
  :func:`macd`).

The recursions are compiled with numba; everything else is whole-array NumPy.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
from numba import njit
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import ArrayLike

__all__ = [
    "INDICATORS",
    "IndicatorInfo",
    "ParamSpec",
    "atr",
    "bbands",
    "donchian",
    "ema",
    "macd",
    "roc",
    "rolling_high",
    "rolling_low",
    "rsi",
    "sma",
    "stoch",
]


# --------------------------------------------------------------------------------------------
# helpers


def _series(x: ArrayLike, name: str = "x") -> np.ndarray:
    """``x`` as a contiguous 1-D float64 array (a new array is not guaranteed)."""
    arr = np.ascontiguousarray(np.asarray(x, dtype=np.float64))
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got an array of shape {arr.shape}")
    return arr


def _same_length(**arrays: np.ndarray) -> None:
    lengths = {name: len(arr) for name, arr in arrays.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"inputs must have the same length, got {lengths}")


def _period(value: Any, name: str = "period", minimum: int = 1) -> int:
    """``value`` as an int >= ``minimum``; rejects floats and bools with a clear message."""
    if isinstance(value, bool):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    try:
        number = operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be an integer, got {value!r}") from None
    if number < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {number}")
    return number


def _rolling(x: np.ndarray, period: int, reduce: Callable[..., np.ndarray]) -> np.ndarray:
    """``reduce(window)`` over the last ``period`` values, NaN for the first ``period - 1``.

    A window containing NaN gives NaN (mean, std, max and min all propagate NaN).
    """
    out = np.full(len(x), np.nan)
    if period <= len(x):
        out[period - 1 :] = reduce(sliding_window_view(x, period), axis=1)
    return out


@njit(cache=True)
def _seeded_smoothing(values: np.ndarray, period: int, alpha: float) -> np.ndarray:
    """s_t = s_{t-1} + alpha * (v_t - s_{t-1}), seeded with the mean of ``period`` values.

    The seed is the simple mean of the first ``period`` consecutive non-NaN values and is the
    output at the last of them. A NaN resets the recursion (output NaN until re-seeded).
    Recursive, hence compiled rather than vectorised.
    """
    n = values.shape[0]
    out = np.full(n, np.nan)
    run = 0  # consecutive valid values seen since the last NaN, capped at period
    total = 0.0
    state = np.nan
    for i in range(n):
        v = values[i]
        if np.isnan(v):
            run = 0
            total = 0.0
            continue
        if run < period:
            total += v
            run += 1
            if run == period:
                state = total / period
                out[i] = state
        else:
            state = state + alpha * (v - state)
            out[i] = state
    return out


def _wilder(values: np.ndarray, period: int) -> np.ndarray:
    """Wilder's smoothing: seed = mean of the first ``period`` values, then
    avg_t = (avg_{t-1} * (period - 1) + v_t) / period, i.e. an EMA with alpha = 1/period."""
    return _seeded_smoothing(values, period, 1.0 / period)


# --------------------------------------------------------------------------------------------
# indicators


def sma(x: ArrayLike, period: int) -> np.ndarray:
    """Simple moving average.

    ``sma_t = (x_{t-period+1} + ... + x_t) / period``, in the units of ``x``.

    Warm-up: NaN for the first ``period - 1`` bars (first valid at index ``period - 1``), and
    NaN wherever the window contains a NaN.
    """
    period = _period(period)
    return _rolling(_series(x), period, np.mean)


def ema(x: ArrayLike, period: int) -> np.ndarray:
    """Exponential moving average, TA-Lib convention.

    ``alpha = 2 / (period + 1)``; ``ema_t = alpha * x_t + (1 - alpha) * ema_{t-1}``, seeded at
    index ``period - 1`` with the simple mean of the first ``period`` values. Units of ``x``.

    Warm-up: first valid at index ``period - 1``. Leading NaNs are skipped (the seed uses the
    first ``period`` valid values, so an EMA of an indicator starts where that indicator does);
    a NaN later in the series restarts the warm-up.
    """
    period = _period(period)
    return _seeded_smoothing(_series(x), period, 2.0 / (period + 1))


def rsi(close: ArrayLike, period: int = 14) -> np.ndarray:
    """Relative Strength Index with Wilder's smoothing (TA-Lib convention), 0..100.

    Changes ``d_t = c_t - c_{t-1}``; gains ``g_t = max(d_t, 0)``, losses ``l_t = max(-d_t, 0)``.
    The first average gain/loss is the simple mean of ``g_1..g_period`` / ``l_1..l_period``,
    then ``avg_t = (avg_{t-1} * (period - 1) + g_t) / period`` (likewise for losses).
    ``RSI = 100 - 100 / (1 + AG / AL)``; when ``AL == 0`` it is 100 if ``AG > 0`` and 50 if both
    are 0 (a flat market is neutral, not overbought).

    Warm-up: first valid at index ``period``.
    """
    period = _period(period)
    close = _series(close, "close")
    change = np.full(len(close), np.nan)
    change[1:] = np.diff(close)
    avg_gain = _wilder(np.maximum(change, 0.0), period)  # np.maximum keeps NaN
    avg_loss = _wilder(np.maximum(-change, 0.0), period)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = 100.0 - 100.0 / (1.0 + avg_gain / avg_loss)
    no_loss = avg_loss == 0.0  # False where NaN, so the warm-up stays NaN
    out[no_loss] = np.where(avg_gain[no_loss] > 0.0, 100.0, 50.0)
    return out


def macd(
    close: ArrayLike, fast: int = 12, slow: int = 26, signal: int = 9
) -> dict[str, np.ndarray]:
    """Moving Average Convergence/Divergence, in the units of ``close``.

    - ``macd = ema(close, fast) - ema(close, slow)``, first valid at ``max(fast, slow) - 1``;
    - ``signal = ema(macd, signal)`` over macd's valid part (seeded with the mean of its first
      ``signal`` valid values), first valid at ``max(fast, slow) + signal - 2``;
    - ``hist = macd - signal``, valid where ``signal`` is.

    Both EMAs are seeded independently as in :func:`ema`. TA-Lib's ``MACD`` instead seeds the
    fast EMA later so that it starts with the slow one; the difference decays by a factor
    ``(fast - 1) / (fast + 1)`` per bar and is below 1e-10 of price after a few hundred bars.
    """
    fast = _period(fast, "fast")
    slow = _period(slow, "slow")
    signal = _period(signal, "signal")
    close = _series(close, "close")
    line = ema(close, fast) - ema(close, slow)
    signal_line = ema(line, signal)
    return {"macd": line, "signal": signal_line, "hist": line - signal_line}


def bbands(x: ArrayLike, period: int = 20, std: float = 2.0) -> dict[str, np.ndarray]:
    """Bollinger Bands (TA-Lib convention: population standard deviation, ddof = 0).

    ``middle = sma(x, period)``; ``sigma_t = sqrt(mean((x_i - middle_t)^2))`` over the same
    window; ``upper = middle + std * sigma``; ``lower = middle - std * sigma`` (units of ``x``).
    ``percent_b = (x - lower) / (upper - lower)``: 0 on the lower band, 1 on the upper band, NaN
    when the band width is 0 (a flat window, or ``std == 0``).

    Warm-up: first valid at index ``period - 1``.
    """
    period = _period(period)
    if isinstance(std, bool) or not np.isfinite(std) or std < 0:
        raise ValueError(f"std must be a finite number >= 0, got {std!r}")
    x = _series(x)
    middle = _rolling(x, period, np.mean)
    sigma = _rolling(x, period, np.std)
    # A flat window can leave a ~1e-17 sigma from rounding in the mean; make it exactly 0 so
    # percent_b is NaN there instead of noise.
    flat = _rolling(x, period, np.max) == _rolling(x, period, np.min)
    sigma[flat] = 0.0
    upper = middle + std * sigma
    lower = middle - std * sigma
    width = upper - lower
    percent_b = np.full(len(x), np.nan)
    wide = width > 0.0
    percent_b[wide] = (x[wide] - lower[wide]) / width[wide]
    return {"upper": upper, "middle": middle, "lower": lower, "percent_b": percent_b}


def atr(high: ArrayLike, low: ArrayLike, close: ArrayLike, period: int = 14) -> np.ndarray:
    """Average True Range with Wilder's smoothing (TA-Lib convention), in price units.

    ``TR_t = max(h_t - l_t, |h_t - c_{t-1}|, |l_t - c_{t-1}|)`` for ``t >= 1`` (bar 0 has no
    previous close and no TR). ``ATR_period = mean(TR_1..TR_period)``, then
    ``ATR_t = (ATR_{t-1} * (period - 1) + TR_t) / period``.

    Warm-up: first valid at index ``period``.
    """
    period = _period(period)
    high, low, close = _series(high, "high"), _series(low, "low"), _series(close, "close")
    _same_length(high=high, low=low, close=close)
    true_range = np.full(len(close), np.nan)
    prev_close = close[:-1]
    true_range[1:] = np.maximum(
        high[1:] - low[1:],
        np.maximum(np.abs(high[1:] - prev_close), np.abs(low[1:] - prev_close)),
    )
    return _wilder(true_range, period)


def stoch(
    high: ArrayLike, low: ArrayLike, close: ArrayLike, k_period: int = 14, d_period: int = 3
) -> dict[str, np.ndarray]:
    """Fast stochastic oscillator, 0..100 (TA-Lib ``STOCHF`` with an SMA %D).

    ``k = 100 * (c_t - LL) / (HH - LL)`` where HH / LL are the highest high / lowest low of the
    last ``k_period`` bars including bar t; ``k = 50`` when ``HH == LL`` (no range: neutral).
    ``d = sma(k, d_period)``.

    Warm-up: ``k`` first valid at ``k_period - 1``, ``d`` at ``k_period + d_period - 2``.
    """
    k_period = _period(k_period, "k_period")
    d_period = _period(d_period, "d_period")
    high, low, close = _series(high, "high"), _series(low, "low"), _series(close, "close")
    _same_length(high=high, low=low, close=close)
    highest = _rolling(high, k_period, np.max)
    lowest = _rolling(low, k_period, np.min)
    span = highest - lowest
    with np.errstate(divide="ignore", invalid="ignore"):
        k = np.where(span == 0.0, 50.0, 100.0 * (close - lowest) / span)
    return {"k": k, "d": sma(k, d_period)}


def roc(x: ArrayLike, period: int = 10) -> np.ndarray:
    """Rate of change in percent: ``100 * (x_t / x_{t-period} - 1)``.

    Warm-up: first valid at index ``period``. NaN where ``x_{t-period}`` is 0 (rather than
    an infinity that would compare as a huge move).
    """
    period = _period(period)
    x = _series(x)
    out = np.full(len(x), np.nan)
    if period < len(x):
        before = x[:-period]
        with np.errstate(divide="ignore", invalid="ignore"):
            out[period:] = np.where(before == 0.0, np.nan, 100.0 * (x[period:] / before - 1.0))
    return out


def rolling_high(x: ArrayLike, period: int = 20) -> np.ndarray:
    """Highest value of the last ``period`` bars, including the current bar (units of ``x``).

    Warm-up: first valid at index ``period - 1``. For a breakout rule compare against the
    previous bar's value (operand ``offset: 1``), since ``x_t > rolling_high(x)_t`` never holds.
    """
    return _rolling(_series(x), _period(period), np.max)


def rolling_low(x: ArrayLike, period: int = 20) -> np.ndarray:
    """Lowest value of the last ``period`` bars, including the current bar (units of ``x``).

    Warm-up: first valid at index ``period - 1``.
    """
    return _rolling(_series(x), _period(period), np.min)


def donchian(high: ArrayLike, low: ArrayLike, period: int = 20) -> dict[str, np.ndarray]:
    """Donchian channel, in price units.

    ``upper`` = highest high and ``lower`` = lowest low of the last ``period`` bars, including
    the current bar. Warm-up: first valid at index ``period - 1``.
    """
    high, low = _series(high, "high"), _series(low, "low")
    _same_length(high=high, low=low)
    return {"upper": rolling_high(high, period), "lower": rolling_low(low, period)}


# --------------------------------------------------------------------------------------------
# registry


class ParamSpec(NamedTuple):
    """One indicator parameter: its type (``int`` or ``float``), default and inclusive minimum."""

    type: type
    default: int | float
    min: int | float


@dataclass(frozen=True)
class IndicatorInfo:
    """What the spec validator and the signal layer need to know about one indicator.

    Attributes
    ----------
    name : the spec name, e.g. ``"rsi"``.
    params : parameter name -> ``ParamSpec(type, default, min)``.
    outputs : output names; the first is used when a spec omits ``output``. Single-output
        indicators have one output named like the indicator, e.g. ``("sma",)``.
    inputs : ``"source"`` for indicators of one series (chosen by the spec's ``source``,
        default ``close``), or the price columns used, e.g. ``("high", "low", "close")``.
    calculate : ``calculate(series_by_input, params)`` with complete, checked params.
    lookback : ``lookback(params)`` -> output name -> number of leading NaNs on gap-free input.
    """

    name: str
    params: dict[str, ParamSpec]
    outputs: tuple[str, ...]
    inputs: str | tuple[str, ...]
    calculate: Callable[[dict[str, np.ndarray], dict[str, Any]], dict[str, np.ndarray]]
    lookback: Callable[[dict[str, Any]], dict[str, int]]

    def resolve_params(self, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """``params`` completed with defaults and checked against :attr:`params`.

        Integers given as integral floats (``14.0``, as JSON may carry them) are accepted. A
        ``"source"`` key is ignored: it selects a column, it is not a parameter.

        Raises
        ------
        ValueError
            For an unknown name, a wrong type or a value below the minimum.
        """
        given = {k: v for k, v in (params or {}).items() if k != "source"}
        unknown = sorted(set(given) - set(self.params))
        if unknown:
            allowed = ", ".join(self.params) or "none"
            raise ValueError(f"{self.name}: unknown parameter {unknown[0]!r} (allowed: {allowed})")
        resolved: dict[str, Any] = {}
        for name, spec in self.params.items():
            value = given.get(name, spec.default)
            where = f"{self.name}.{name}"
            if isinstance(value, bool) or not isinstance(value, int | float | np.number):
                raise ValueError(f"{where} must be a number, got {value!r}")
            if spec.type is int:
                if not float(value).is_integer():
                    raise ValueError(f"{where} must be a whole number, got {value!r}")
                value = int(value)
            else:
                value = float(value)
                if not np.isfinite(value):
                    raise ValueError(f"{where} must be finite, got {value!r}")
            if value < spec.min:
                raise ValueError(f"{where} must be >= {spec.min}, got {value!r}")
            resolved[name] = value
        return resolved

    def compute(
        self,
        frame_columns: Mapping[str, np.ndarray],
        params: Mapping[str, Any] | None = None,
        source: str = "close",
    ) -> dict[str, np.ndarray]:
        """All outputs of the indicator on a price frame given as column name -> array.

        ``source`` picks the input column of single-series indicators and is ignored by the
        others. Missing params take their defaults.
        """
        names = (source,) if self.inputs == "source" else self.inputs
        missing = [c for c in names if c not in frame_columns]
        if missing:
            raise ValueError(
                f"{self.name} needs the price column(s) {', '.join(missing)}; "
                f"available: {', '.join(frame_columns)}"
            )
        series = {("source" if self.inputs == "source" else c): frame_columns[c] for c in names}
        return self.calculate(series, self.resolve_params(params))

    def warmup(self, params: Mapping[str, Any] | None = None, output: str | None = None) -> int:
        """Leading NaN bars of ``output`` (default: the first output) on a gap-free input."""
        output = self.outputs[0] if output is None else output
        if output not in self.outputs:
            raise ValueError(
                f"{self.name} has no output {output!r} (outputs: {', '.join(self.outputs)})"
            )
        return self.lookback(self.resolve_params(params))[output]


def _one_series(name: str, function: Callable[..., np.ndarray], period: int, lookback_extra: int):
    """Registry entry for an indicator of one series with a single ``period`` parameter."""
    return IndicatorInfo(
        name=name,
        params={"period": ParamSpec(int, period, 1)},
        outputs=(name,),
        inputs="source",
        calculate=lambda s, p: {name: function(s["source"], p["period"])},
        lookback=lambda p: {name: p["period"] - 1 + lookback_extra},
    )


def _macd_lookback(p: dict[str, Any]) -> dict[str, int]:
    line = max(p["fast"], p["slow"]) - 1
    signal = line + p["signal"] - 1
    return {"macd": line, "signal": signal, "hist": signal}


INDICATORS: dict[str, IndicatorInfo] = {
    info.name: info
    for info in (
        _one_series("sma", sma, 20, 0),
        _one_series("ema", ema, 20, 0),
        _one_series("rsi", rsi, 14, 1),
        IndicatorInfo(
            name="macd",
            params={
                "fast": ParamSpec(int, 12, 1),
                "slow": ParamSpec(int, 26, 1),
                "signal": ParamSpec(int, 9, 1),
            },
            outputs=("macd", "signal", "hist"),
            inputs="source",
            calculate=lambda s, p: macd(s["source"], p["fast"], p["slow"], p["signal"]),
            lookback=_macd_lookback,
        ),
        IndicatorInfo(
            name="bbands",
            # period 1 would make every band width 0; TA-Lib also requires >= 2
            params={"period": ParamSpec(int, 20, 2), "std": ParamSpec(float, 2.0, 0.0)},
            outputs=("upper", "middle", "lower", "percent_b"),
            inputs="source",
            calculate=lambda s, p: bbands(s["source"], p["period"], p["std"]),
            lookback=lambda p: dict.fromkeys(
                ("upper", "middle", "lower", "percent_b"), p["period"] - 1
            ),
        ),
        IndicatorInfo(
            name="atr",
            params={"period": ParamSpec(int, 14, 1)},
            outputs=("atr",),
            inputs=("high", "low", "close"),
            calculate=lambda s, p: {"atr": atr(s["high"], s["low"], s["close"], p["period"])},
            lookback=lambda p: {"atr": p["period"]},
        ),
        IndicatorInfo(
            name="stoch",
            params={"k_period": ParamSpec(int, 14, 1), "d_period": ParamSpec(int, 3, 1)},
            outputs=("k", "d"),
            inputs=("high", "low", "close"),
            calculate=lambda s, p: stoch(
                s["high"], s["low"], s["close"], p["k_period"], p["d_period"]
            ),
            lookback=lambda p: {
                "k": p["k_period"] - 1,
                "d": p["k_period"] + p["d_period"] - 2,
            },
        ),
        _one_series("roc", roc, 10, 1),
        IndicatorInfo(
            name="donchian",
            params={"period": ParamSpec(int, 20, 1)},
            outputs=("upper", "lower"),
            inputs=("high", "low"),
            calculate=lambda s, p: donchian(s["high"], s["low"], p["period"]),
            lookback=lambda p: {"upper": p["period"] - 1, "lower": p["period"] - 1},
        ),
        _one_series("rolling_high", rolling_high, 20, 0),
        _one_series("rolling_low", rolling_low, 20, 0),
    )
}
"""Every indicator a strategy spec may name, by spec name."""
