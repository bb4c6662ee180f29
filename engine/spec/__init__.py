"""Strategy spec v1: the JSON document that describes one strategy (docs/spec.md).

``parse_spec`` turns JSON text or a dict into a validated, normalised ``StrategySpec`` or raises
``SpecError``, whose ``errors`` map a field path to a message that says what is allowed::

    entry.all[0].op: must be one of <, <=, >, >=, crosses_above, crosses_below

Paths use dots for object keys and ``[i]`` for list items (``entry.any[1].left.params.period``);
``$`` is the whole document. ``get_by_path`` / ``set_by_path`` read and write that notation, which
is also the key format of sweep grids (docs/results.md#sweep-result).

Units: ``initial_cash`` is in account currency; ``stop_loss_pct``, ``take_profit_pct`` and
``trailing_stop_pct`` are PERCENT numbers (5 means 5 %) of the entry price; ``fees_bps`` and
``slippage_bps`` are basis points (10 bps = 0.1 %) per side; ``sizing.value`` is a percentage of
equity, an amount of cash or a number of units depending on ``sizing.method``.

Normalisation: every default is filled in (benchmark = symbol, indicator params, ``output``,
``source``, ``offset``), so ``StrategySpec.to_dict()`` is fully explicit and
``parse_spec(spec.to_dict()) == spec``.

Modules: :mod:`engine.spec.models` (the pydantic models), :mod:`engine.spec.messages`
(validation errors -> ``SpecError``), :mod:`engine.spec.paths` (the path notation),
:mod:`engine.spec.parse` (JSON/dict -> ``StrategySpec``, JSON Schema, examples). The names below
are the public interface; import them from ``engine.spec``.
"""

from engine.spec.messages import SpecError
from engine.spec.models import (
    INDICATOR_OPERANDS,
    OPS,
    PRICE_FIELDS,
    REQUIRED_PARAMS,
    AllGroup,
    AnyGroup,
    Direction,
    Fill,
    IndicatorOperand,
    IndicatorParams,
    PriceOperand,
    Rule,
    Sizing,
    SizingMethod,
    StrategySpec,
)
from engine.spec.parse import EXAMPLES, load_example, parse_spec, spec_json_schema
from engine.spec.paths import format_path, get_by_path, parse_path, set_by_path

__all__ = [
    "EXAMPLES",
    "INDICATOR_OPERANDS",
    "OPS",
    "PRICE_FIELDS",
    "REQUIRED_PARAMS",
    "AllGroup",
    "AnyGroup",
    "Direction",
    "Fill",
    "IndicatorOperand",
    "IndicatorParams",
    "PriceOperand",
    "Rule",
    "Sizing",
    "SizingMethod",
    "SpecError",
    "StrategySpec",
    "format_path",
    "get_by_path",
    "load_example",
    "parse_path",
    "parse_spec",
    "set_by_path",
    "spec_json_schema",
]
