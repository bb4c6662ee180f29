"""Rule trees (the ``entry`` / ``exit`` of a strategy spec, docs/spec.md) to boolean signals.

A rule tree is plain JSON data: a group ``{"all": [...]}`` (AND) or ``{"any": [...]}`` (OR) whose
items are rules ``{"left": OPERAND, "op": OP, "right": OPERAND}`` or nested groups. An operand is

- a number;
- a price field ``{"field": "close", "offset": 0}``;
- an indicator ``{"indicator": "rsi", "params": {"period": 14}, "output": None,
  "source": "close", "offset": 0}`` (``output`` defaults to the indicator's first output,
  ``source`` to ``"close"``; ``source`` may also be given inside ``params``).

``offset`` (optional, an integer >= 0) means "the value ``offset`` bars ago": with offset 1,
``close > rolling_high(20)`` becomes a breakout above the previous 20 bars' high. Negative
offsets would read the future and are rejected.

Semantics
---------
- ``<, <=, >, >=`` compare elementwise; a comparison involving NaN (an indicator still warming
  up) is False.
- ``a crosses_above b`` at bar t: ``a[t] > b[t]`` and ``a[t-1] <= b[t-1]``; ``crosses_below``:
  ``a[t] < b[t]`` and ``a[t-1] >= b[t-1]``. Both are False at t = 0 and wherever any of the four
  values is NaN.
- An empty group is False on every bar (never "always on": an empty entry must not trade).
- The signal at bar t depends only on bars ``0..t``.

The tree is expected to have passed the spec validator; malformed input still raises
``ValueError`` naming the place in the tree (e.g. ``all[0].left.offset``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from engine.indicators import INDICATORS, IndicatorInfo

__all__ = [
    "COMPARISONS",
    "CROSSES",
    "OPERATORS",
    "PRICE_FIELDS",
    "IndicatorCache",
    "evaluate_rules",
    "max_warmup",
    "operand_values",
]

PRICE_FIELDS = ("open", "high", "low", "close", "volume")
COMPARISONS = {"<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal}
CROSSES = ("crosses_above", "crosses_below")
OPERATORS = (*COMPARISONS, *CROSSES)

Prices = Mapping[str, ArrayLike] | pd.DataFrame


class IndicatorCache:
    """Indicator outputs for one price frame, each distinct (name, params, source) computed once.

    A sweep evaluates many rule trees on the same frame: pass the same cache (and the same
    frame object) to every call. The cache binds to the first frame it sees; given a different
    frame object it forgets everything and binds to that one, so it never serves values from
    another frame. Do not modify a frame in place while a cache is bound to it.

    Arrays handed out are read-only views: they are shared between rules and calls.
    """

    def __init__(self) -> None:
        self._prices: Prices | None = None
        self._length = 0
        self._columns: dict[str, np.ndarray] = {}
        self._outputs: dict[tuple[Any, ...], dict[str, np.ndarray]] = {}

    def __len__(self) -> int:
        """Number of distinct indicator computations held."""
        return len(self._outputs)

    def _bind(self, prices: Prices) -> None:
        if prices is self._prices:
            return
        if isinstance(prices, pd.DataFrame):
            length = len(prices)
        elif isinstance(prices, Mapping) and prices:
            lengths = {name: len(values) for name, values in prices.items()}
            if len(set(lengths.values())) > 1:
                raise ValueError(f"price columns must have the same length, got {lengths}")
            length = next(iter(lengths.values()))
        else:
            raise TypeError(
                "prices must be a DataFrame or a non-empty mapping of column name -> array, "
                f"got {type(prices).__name__}"
            )
        self._prices = prices
        self._length = length
        self._columns = {}
        self._outputs = {}

    def length(self, prices: Prices) -> int:
        """Number of bars in ``prices``."""
        self._bind(prices)
        return self._length

    def column(self, prices: Prices, name: str) -> np.ndarray:
        """Price column ``name`` as a read-only float64 array."""
        self._bind(prices)
        if name not in self._columns:
            if name not in prices:
                raise ValueError(
                    f"price column {name!r} not found; available: {', '.join(map(str, prices))}"
                )
            raw = prices[name].to_numpy() if isinstance(prices, pd.DataFrame) else prices[name]
            values = np.asarray(raw, dtype=np.float64).view()
            if values.ndim != 1:
                raise ValueError(f"price column {name!r} must be 1-D, got shape {values.shape}")
            values.flags.writeable = False  # a view: the caller's array stays writeable
            self._columns[name] = values
        return self._columns[name]

    def indicator(
        self, prices: Prices, name: str, params: Mapping[str, Any], source: str = "close"
    ) -> dict[str, np.ndarray]:
        """All outputs of indicator ``name`` on ``prices`` (computed on first request only)."""
        self._bind(prices)
        info = _indicator_info(name, "indicator")
        resolved = info.resolve_params(params)
        used_source = source if info.inputs == "source" else None
        key = (name, tuple(sorted(resolved.items())), used_source)
        if key not in self._outputs:
            needed = (source,) if info.inputs == "source" else info.inputs
            columns = {column: self.column(prices, column) for column in needed}
            outputs = info.compute(columns, resolved, source)
            for values in outputs.values():
                values.flags.writeable = False
            self._outputs[key] = outputs
        return self._outputs[key]


def evaluate_rules(
    rule_tree: Mapping[str, Any], prices: Prices, cache: IndicatorCache | None = None
) -> np.ndarray:
    """Boolean array, one value per bar: where the rule tree holds.

    Parameters
    ----------
    rule_tree : a group (``{"all": [...]}`` / ``{"any": [...]}``) or a single rule, as JSON.
    prices : a docs/prices.md DataFrame, or a mapping of column name -> 1-D array.
    cache : reuse indicator values across calls on the same ``prices`` (see
        :class:`IndicatorCache`); a private cache is used when omitted.
    """
    if cache is None:
        cache = IndicatorCache()
    return _evaluate(rule_tree, prices, cache, "")


def operand_values(operand: Any, prices: Prices, cache: IndicatorCache | None = None) -> np.ndarray:
    """Float array, one value per bar, of a rule operand (NaN during indicator warm-up).

    A number gives a constant array; a field the price column; an indicator the chosen output.
    ``offset`` k shifts the values k bars later (the first k values are NaN).
    """
    if cache is None:
        cache = IndicatorCache()
    return _operand_values(operand, prices, cache, "operand")


def max_warmup(rule_tree: Mapping[str, Any]) -> int:
    """Leading bars needed before every operand in the tree has a value (gap-free data).

    Per operand: the indicator output's lookback (see ``IndicatorInfo.warmup``) plus its
    ``offset``; a field contributes its offset, a number 0. A crossing also looks at the
    previous bar, so its rule needs one bar more. With this many bars of history before a
    window, every rule is evaluable from the window's first bar.
    """
    return _warmup(rule_tree, "")


# --------------------------------------------------------------------------------------------
# internals


def _join(path: str, part: str) -> str:
    if not path:
        return part
    return f"{path}{part}" if part.startswith("[") else f"{path}.{part}"


def _indicator_info(name: Any, path: str) -> IndicatorInfo:
    if name not in INDICATORS:
        raise ValueError(f"{path}: unknown indicator {name!r}; one of {', '.join(INDICATORS)}")
    return INDICATORS[name]


def _group_items(node: Any, path: str) -> tuple[str, list[Any]] | None:
    """(``"all"`` or ``"any"``, items) for a group node, None for a rule node."""
    if not isinstance(node, Mapping):
        raise ValueError(f"{path or 'rule tree'}: expected a group or a rule, got {node!r}")
    keys = [key for key in ("all", "any") if key in node]
    if not keys:
        if "op" not in node:
            raise ValueError(
                f"{path or 'rule tree'}: expected {{'all': [...]}}, {{'any': [...]}} or a rule "
                "with left, op and right"
            )
        return None
    if len(keys) > 1 or "op" in node:
        raise ValueError(f"{path or 'rule tree'}: a node is either one group or one rule")
    items = node[keys[0]]
    if not isinstance(items, list | tuple):
        raise ValueError(f"{_join(path, keys[0])}: must be a list of rules or groups")
    return keys[0], list(items)


def _rule_op(rule: Mapping[str, Any], path: str) -> str:
    op = rule.get("op")
    if op not in OPERATORS:
        raise ValueError(f"{_join(path, 'op')}: must be one of {', '.join(OPERATORS)}")
    return op


def _evaluate(node: Any, prices: Prices, cache: IndicatorCache, path: str) -> np.ndarray:
    group = _group_items(node, path)
    if group is not None:
        kind, items = group
        if not items:
            return np.zeros(cache.length(prices), dtype=bool)
        results = [
            _evaluate(item, prices, cache, _join(path, f"{kind}[{i}]"))
            for i, item in enumerate(items)
        ]
        combine = np.logical_and if kind == "all" else np.logical_or
        return combine.reduce(results, axis=0)

    op = _rule_op(node, path)
    left = _operand_values(node.get("left"), prices, cache, _join(path, "left"))
    right = _operand_values(node.get("right"), prices, cache, _join(path, "right"))
    if op in COMPARISONS:
        return COMPARISONS[op](left, right)
    # NaN compares False, so the NaN shifted in at t = 0 makes every crossing False there.
    left_before, right_before = _shift(left, 1), _shift(right, 1)
    if op == "crosses_above":
        return (left > right) & (left_before <= right_before)
    return (left < right) & (left_before >= right_before)


def _shift(values: np.ndarray, offset: int) -> np.ndarray:
    """``values`` delayed by ``offset`` bars: out[t] = values[t - offset], NaN before."""
    if offset == 0:
        return values
    out = np.full(len(values), np.nan)
    if offset < len(values):
        out[offset:] = values[:-offset]
    return out


def _offset(operand: Mapping[str, Any], path: str) -> int:
    value = operand.get("offset", 0)
    if value is None:
        return 0
    where = _join(path, "offset")
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer):
        raise ValueError(f"{where}: must be a whole number of bars >= 0, got {value!r}")
    if not float(value).is_integer():
        raise ValueError(f"{where}: must be a whole number of bars >= 0, got {value!r}")
    if value < 0:
        raise ValueError(
            f"{where}: must be >= 0 (bars ago); a negative offset would read future bars"
        )
    return int(value)


def _indicator_request(operand: Mapping[str, Any], path: str) -> tuple[IndicatorInfo, dict, str]:
    """(info, params without source, source) of an indicator operand, checked."""
    info = _indicator_info(operand["indicator"], _join(path, "indicator"))
    params = operand.get("params") or {}
    if not isinstance(params, Mapping):
        raise ValueError(f"{_join(path, 'params')}: must be an object of parameter values")
    params = dict(params)
    inner_source = params.pop("source", None)
    outer_source = operand.get("source")
    if inner_source is not None and outer_source is not None and inner_source != outer_source:
        raise ValueError(
            f"{_join(path, 'source')}: given twice with different values "
            f"({outer_source!r} and params.source {inner_source!r})"
        )
    source = outer_source or inner_source or "close"
    if not isinstance(source, str):
        raise ValueError(f"{_join(path, 'source')}: must be a price column name, got {source!r}")
    if info.inputs != "source" and source != "close":
        raise ValueError(
            f"{_join(path, 'source')}: {info.name} always uses {', '.join(info.inputs)} "
            "and takes no source"
        )
    try:
        info.resolve_params(params)
    except ValueError as error:
        raise ValueError(f"{_join(path, 'params')}: {error}") from None
    return info, params, source


def _output_name(info: IndicatorInfo, operand: Mapping[str, Any], path: str) -> str:
    output = operand.get("output") or info.outputs[0]
    if output not in info.outputs:
        raise ValueError(
            f"{_join(path, 'output')}: {info.name} has outputs {', '.join(info.outputs)}, "
            f"not {output!r}"
        )
    return output


def _operand_values(operand: Any, prices: Prices, cache: IndicatorCache, path: str) -> np.ndarray:
    if isinstance(operand, bool):
        raise ValueError(f"{path}: must be a number, a field or an indicator, got {operand!r}")
    if isinstance(operand, int | float | np.number):
        return np.full(cache.length(prices), float(operand))
    if isinstance(operand, Mapping) and "field" in operand:
        return _shift(cache.column(prices, operand["field"]), _offset(operand, path))
    if isinstance(operand, Mapping) and "indicator" in operand:
        info, params, source = _indicator_request(operand, path)
        output = _output_name(info, operand, path)
        values = cache.indicator(prices, info.name, params, source)[output]
        return _shift(values, _offset(operand, path))
    raise ValueError(
        f"{path}: must be a number, {{'field': ...}} or {{'indicator': ...}}, got {operand!r}"
    )


def _operand_warmup(operand: Any, path: str) -> int:
    if isinstance(operand, Mapping) and "field" in operand:
        return _offset(operand, path)
    if isinstance(operand, Mapping) and "indicator" in operand:
        info, params, _ = _indicator_request(operand, path)
        output = _output_name(info, operand, path)
        return info.warmup(params, output) + _offset(operand, path)
    return 0


def _warmup(node: Any, path: str) -> int:
    group = _group_items(node, path)
    if group is not None:
        kind, items = group
        return max(
            (_warmup(item, _join(path, f"{kind}[{i}]")) for i, item in enumerate(items)),
            default=0,
        )
    op = _rule_op(node, path)
    bars = max(
        _operand_warmup(node.get("left"), _join(path, "left")),
        _operand_warmup(node.get("right"), _join(path, "right")),
    )
    return bars + 1 if op in CROSSES else bars
