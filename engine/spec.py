"""Strategy spec v1: the JSON document that describes one strategy (contract §1).

``parse_spec`` turns JSON text or a dict into a validated, normalised ``StrategySpec`` or raises
``SpecError``, whose ``errors`` map a field path to a message that says what is allowed::

    entry.all[0].op: must be one of <, <=, >, >=, crosses_above, crosses_below

Paths use dots for object keys and ``[i]`` for list items (``entry.any[1].left.params.period``);
``$`` is the whole document. ``get_by_path`` / ``set_by_path`` read and write that notation, which
is also the key format of sweep grids (contract §3c).

Units: ``initial_cash`` is in account currency; ``stop_loss_pct``, ``take_profit_pct`` and
``trailing_stop_pct`` are PERCENT numbers (5 means 5 %) of the entry price; ``fees_bps`` and
``slippage_bps`` are basis points (10 bps = 0.1 %) per side; ``sizing.value`` is a percentage of
equity, an amount of cash or a number of units depending on ``sizing.method``.

Normalisation: every default is filled in (benchmark = symbol, indicator params, ``output``,
``source``, ``offset``), so ``StrategySpec.to_dict()`` is fully explicit and
``parse_spec(spec.to_dict()) == spec``.
"""

from __future__ import annotations

import difflib
import functools
import json
import numbers
import operator
import re
from datetime import date
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, get_args

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    ValidationInfo,
    create_model,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from engine.errors import EngineError
from engine.indicators import INDICATORS

OPS = ("<", "<=", ">", ">=", "crosses_above", "crosses_below")
PRICE_FIELDS = ("open", "high", "low", "close", "volume")

Op = Literal["<", "<=", ">", ">=", "crosses_above", "crosses_below"]
PriceField = Literal["open", "high", "low", "close", "volume"]
Direction = Literal["long", "short", "both"]
SizingMethod = Literal["percent_equity", "fixed_cash", "fixed_units"]
Fill = Literal["next_open", "close"]


# --- Indicator catalogue ---------------------------------------------------------------------

# ``INDICATORS[name]`` (engine.indicators) has ``params`` (name -> (type, default, inclusive
# minimum)), ``outputs`` (the first is the default) and ``inputs`` ("source", or the price
# columns it always reads). Every indicator operand model below is generated from it.

# Parameters a spec must give even though the registry has a default for direct calls: a moving
# average without a period is almost always a mistake (contract: sma(period), ema(period)).
REQUIRED_PARAMS = {"sma": frozenset({"period"}), "ema": frozenset({"period"})}


# --- Errors ----------------------------------------------------------------------------------


class SpecError(EngineError, ValueError):
    """An invalid strategy spec.

    ``errors`` maps each offending field path (``entry.all[0].op``, ``$`` for the whole
    document) to a message saying what is allowed; ``str()`` lists them as ``path: message``.
    """

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__("\n".join(f"{path}: {message}" for path, message in self.errors.items()))

    def __reduce__(self) -> tuple[type, tuple[dict[str, str]]]:
        # Keep ``errors`` intact when the exception crosses a process boundary (RQ workers).
        return (type(self), (self.errors,))


def _invalid(message: str) -> PydanticCustomError:
    # The message goes through ctx, not the template, so braces in it are not format fields.
    return PydanticCustomError("spec", "{message}", {"message": message})


# --- Scalar types ----------------------------------------------------------------------------


def _plain_number(value: Any) -> Any:
    """Turn NumPy scalars into int/float (sweeps may pass them); leave anything else alone."""
    if isinstance(value, numbers.Number) and not isinstance(value, bool | int | float):
        if isinstance(value, numbers.Integral):
            return int(value)
        if isinstance(value, numbers.Real):
            return float(value)
    return value


def _whole_number(value: Any) -> Any:
    """Like ``_plain_number``, and 14.0 -> 14 (JSON writers may emit integers as floats)."""
    value = _plain_number(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_SYMBOL = re.compile(r"[A-Z0-9.^-]{1,15}")


def _iso_date(value: Any) -> Any:
    if isinstance(value, str):
        if not _ISO_DATE.fullmatch(value):
            raise _invalid("must be an ISO date YYYY-MM-DD (e.g. 2015-01-31)")
        try:
            return date.fromisoformat(value)
        except ValueError as error:
            raise _invalid(f"is not a calendar date ({error})") from None
    return value


def _symbol(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip().upper()
        if not _SYMBOL.fullmatch(value):
            raise _invalid("must be 1-15 characters of A-Z, 0-9, '.', '^', '-' (e.g. SPY, ^GSPC)")
    return value


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


Integer = Annotated[int, BeforeValidator(_whole_number)]
Real = Annotated[float, BeforeValidator(_plain_number)]
IsoDate = Annotated[date, BeforeValidator(_iso_date)]
Symbol = Annotated[
    str, BeforeValidator(_symbol), Field(json_schema_extra={"pattern": r"^[A-Za-z0-9.^-]{1,15}$"})
]
# Percent numbers: 5 means 5 %. A stop of 100 % or more could never trigger on a long.
# (Constraints go before the validator, or the JSON schema shows raw "gt" instead of
# "exclusiveMinimum".)
StopPercent = Annotated[float, Field(gt=0, lt=100), BeforeValidator(_plain_number)]
TargetPercent = Annotated[float, Field(gt=0, le=1000), BeforeValidator(_plain_number)]
Name = Annotated[str, BeforeValidator(_strip), Field(min_length=1, max_length=200)]


class _SpecModel(BaseModel):
    # strict: no silent coercion ("10" is not 10, 1 is not true); forbid: a typo is an error.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, allow_inf_nan=False)


# --- Operands --------------------------------------------------------------------------------


class PriceOperand(_SpecModel):
    """A price field of the bar, ``offset`` bars back (0 = the current bar)."""

    field: PriceField
    offset: Integer = Field(0, ge=0, description="Bars back; 1 is the previous bar's value.")


class IndicatorParams(_SpecModel):
    """Base of the generated per-indicator parameter models (``RsiParams``, ...)."""

    indicator_name: ClassVar[str] = ""


class IndicatorOperand(_SpecModel):
    """Base of the generated per-indicator operand models (``RsiOperand``, ...).

    Each has ``indicator``, ``params`` (an ``IndicatorParams``; ``params.model_dump()`` gives the
    dict), ``output``, ``offset`` and, when the indicator reads one series, ``source``.
    """

    indicator_name: ClassVar[str] = ""
    inputs: ClassVar[str | tuple[str, ...]] = "source"  # as in INDICATORS[name].inputs

    @model_validator(mode="before")
    @classmethod
    def _params_may_be_omitted(cls, data: Any) -> Any:
        # An omitted params object means "all defaults", so a missing required parameter is
        # reported at params.<name> rather than at params.
        if isinstance(data, dict) and "params" not in data:
            return {**data, "params": {}}
        return data


def _fast_below_slow(cls: type, slow: int, info: ValidationInfo) -> int:
    fast = info.data.get("fast")
    if fast is not None and fast >= slow:
        raise _invalid(f"must be greater than fast ({fast})")
    return slow


def _indicator_operand_model(info: Any) -> type[IndicatorOperand]:
    """Build the operand model of one indicator from its catalogue entry."""
    class_name = "".join(part.capitalize() for part in info.name.split("_"))
    param_fields: dict[str, Any] = {}
    required = REQUIRED_PARAMS.get(info.name, frozenset())
    for param, (param_type, default, minimum) in info.params.items():
        annotation = {int: Integer, float: Real}.get(param_type, param_type)
        if default is None or param in required:
            default = ...
        param_fields[param] = (annotation, Field(default, ge=minimum, validate_default=True))
    validators = {}
    if {"fast", "slow"} <= info.params.keys():
        validators["_fast_below_slow"] = field_validator("slow")(_fast_below_slow)
    params_model = create_model(
        f"{class_name}Params", __base__=IndicatorParams, __validators__=validators, **param_fields
    )
    params_model.indicator_name = info.name
    has_required = any(field.is_required() for field in params_model.model_fields.values())
    outputs = tuple(info.outputs)
    fields: dict[str, Any] = {
        "indicator": (Literal[info.name], ...),
        "params": (params_model, ... if has_required else Field(default_factory=params_model)),
        "output": (Literal[outputs], outputs[0]),
    }
    if info.inputs == "source":
        fields["source"] = (PriceField, "close")
    fields["offset"] = (Integer, Field(0, ge=0, description="Bars back."))
    model = create_model(f"{class_name}Operand", __base__=IndicatorOperand, **fields)
    model.indicator_name, model.inputs = info.name, info.inputs
    return model


INDICATOR_OPERANDS: dict[str, type[IndicatorOperand]] = {
    name: _indicator_operand_model(info) for name, info in INDICATORS.items()
}

# Union members are tagged so that pydantic reports which member it tried; the tags are written
# <like_this> (never a field name) and stripped from error paths.
_NUMBER_TAG = "<number>"
_FIELD_TAG = "<field>"
_RULE_TAG = "<rule>"
_ALL_TAG = "<all>"
_ANY_TAG = "<any>"


def _tag_of_model(value: BaseModel) -> str | None:
    if isinstance(value, IndicatorOperand):
        return f"<{value.indicator}>"
    return {PriceOperand: _FIELD_TAG, Rule: _RULE_TAG, AllGroup: _ALL_TAG, AnyGroup: _ANY_TAG}.get(
        type(value)
    )


def _operand_tag(value: Any) -> str | None:
    if isinstance(value, BaseModel):
        return _tag_of_model(value)
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return _NUMBER_TAG
    if isinstance(value, dict):
        if "field" in value and "indicator" not in value:
            return _FIELD_TAG
        if "indicator" in value and "field" not in value:
            name = value["indicator"]
            if isinstance(name, str) and name in INDICATOR_OPERANDS:
                return f"<{name}>"
    return None


def _union(members: list[Any]) -> Any:
    return functools.reduce(operator.or_, members)


# One union member per indicator, so each indicator validates its own params and outputs.
Operand = Annotated[
    _union(
        [Annotated[Real, Tag(_NUMBER_TAG)], Annotated[PriceOperand, Tag(_FIELD_TAG)]]
        + [Annotated[model, Tag(f"<{name}>")] for name, model in INDICATOR_OPERANDS.items()]
    ),
    Discriminator(
        _operand_tag,
        custom_error_type="bad_operand",
        custom_error_message="not a valid operand",
    ),
]


# --- Rule tree -------------------------------------------------------------------------------


class Rule(_SpecModel):
    """``left op right``; ``a crosses_above b`` at bar t means a[t] > b[t] and a[t-1] <= b[t-1]."""

    left: Operand
    op: Op
    right: Operand

    @model_validator(mode="after")
    def _compares_a_series(self) -> Rule:
        if isinstance(self.left, float) and isinstance(self.right, float):
            raise _invalid(
                "compares two numbers; at least one side must be a price field or an indicator"
            )
        return self


class AllGroup(_SpecModel):
    """True when every member (rule or nested group) is true."""

    all: list[Node] = Field(min_length=1)


class AnyGroup(_SpecModel):
    """True when at least one member (rule or nested group) is true."""

    any: list[Node] = Field(min_length=1)


_RULE_KEYS = frozenset({"left", "op", "right"})


def _group_tag(value: Any) -> str | None:
    if isinstance(value, BaseModel):
        return _tag_of_model(value)
    if isinstance(value, dict) and ("all" in value) != ("any" in value):
        return _ALL_TAG if "all" in value else _ANY_TAG
    return None


def _node_tag(value: Any) -> str | None:
    tag = _group_tag(value)
    if tag is None and isinstance(value, dict) and "all" not in value and "any" not in value:
        if _RULE_KEYS & value.keys():
            return _RULE_TAG
    return tag


RuleGroup = Annotated[
    Annotated[AllGroup, Tag(_ALL_TAG)] | Annotated[AnyGroup, Tag(_ANY_TAG)],
    Discriminator(
        _group_tag,
        custom_error_type="bad_group",
        custom_error_message="not a valid rule group",
    ),
]
Node = Annotated[
    Annotated[AllGroup, Tag(_ALL_TAG)]
    | Annotated[AnyGroup, Tag(_ANY_TAG)]
    | Annotated[Rule, Tag(_RULE_TAG)],
    Discriminator(
        _node_tag,
        custom_error_type="bad_node",
        custom_error_message="not a valid rule or group",
    ),
]
AllGroup.model_rebuild()
AnyGroup.model_rebuild()


# --- The spec --------------------------------------------------------------------------------


class Sizing(_SpecModel):
    """How much to buy or sell on an entry."""

    method: SizingMethod = Field(
        description="percent_equity: value is % of equity; fixed_cash: value is an amount of "
        "account currency; fixed_units: value is a number of units."
    )
    value: Real = Field(gt=0)

    @field_validator("value")
    @classmethod
    def _percent_at_most_100(cls, value: float, info: ValidationInfo) -> float:
        if info.data.get("method") == "percent_equity" and value > 100:
            raise _invalid("must be at most 100 for percent_equity (100 = all of the equity)")
        return value


class StrategySpec(_SpecModel):
    """A validated, normalised strategy spec v1 (contract §1). Build one with ``parse_spec``."""

    version: Literal[1] = Field(description="Spec format version; always 1.")
    name: Name
    symbol: Symbol = Field(description="Traded symbol, upper case.")
    benchmark: Symbol | None = Field(
        None, validate_default=True, description="Buy-and-hold comparison; defaults to symbol."
    )
    start: IsoDate | None = Field(None, description="First date (ISO); null = all data.")
    end: IsoDate | None = Field(None, description="Last date (ISO); null = all data.")
    initial_cash: Real = Field(10_000.0, gt=0, description="Starting capital, account currency.")
    direction: Direction = Field(
        "long", description="both: entry opens a long, exit closes it and opens a short."
    )
    entry: RuleGroup
    exit: RuleGroup
    sizing: Sizing = Field(default_factory=lambda: Sizing(method="percent_equity", value=100.0))
    fractional: bool = Field(True, description="false: round units down to whole shares.")
    stop_loss_pct: StopPercent | None = Field(
        None, description="Stop at this PERCENT from the entry price (5 = 5 %)."
    )
    take_profit_pct: TargetPercent | None = Field(
        None, description="Target at this PERCENT from the entry price (5 = 5 %); < 100 for shorts."
    )
    trailing_stop_pct: StopPercent | None = Field(
        None, description="Trailing stop, PERCENT from the best price since entry (5 = 5 %)."
    )
    fees_bps: Real = Field(10.0, ge=0, le=1000, description="Fees per side, bps of notional.")
    slippage_bps: Real = Field(0.0, ge=0, le=1000, description="Adverse fill move, bps.")
    fill: Fill = Field(
        "next_open", description="next_open: signal at t's close fills at t+1's open; close: at t."
    )

    @field_validator("benchmark")
    @classmethod
    def _benchmark_defaults_to_symbol(cls, benchmark: str | None, info: ValidationInfo) -> Any:
        return info.data.get("symbol") if benchmark is None else benchmark

    @field_validator("end")
    @classmethod
    def _end_after_start(cls, end: date | None, info: ValidationInfo) -> date | None:
        start = info.data.get("start")
        if end is not None and start is not None and end <= start:
            raise _invalid(f"must be after start ({start.isoformat()})")
        return end

    @field_validator("take_profit_pct")
    @classmethod
    def _short_target_below_100(cls, pct: float | None, info: ValidationInfo) -> float | None:
        if pct is not None and pct >= 100 and info.data.get("direction") in ("short", "both"):
            raise _invalid(
                "must be below 100 when direction is short or both (a price cannot fall below 0)"
            )
        return pct

    @field_validator("fractional")
    @classmethod
    def _whole_units_when_not_fractional(cls, fractional: bool, info: ValidationInfo) -> bool:
        sizing = info.data.get("sizing")
        if (
            not fractional
            and isinstance(sizing, Sizing)
            and sizing.method == "fixed_units"
            and not float(sizing.value).is_integer()
        ):
            raise _invalid(
                f"must be true when sizing is fixed_units with a fractional value ({sizing.value})"
            )
        return fractional

    def to_dict(self) -> dict[str, Any]:
        """The normalised spec as plain JSON data (every default filled in, dates as ISO)."""
        return self.model_dump(mode="json")


# --- Validation errors -> SpecError ----------------------------------------------------------

_TAGGED_MODELS: dict[str, type[BaseModel] | None] = {
    _NUMBER_TAG: None,
    _FIELD_TAG: PriceOperand,
    _RULE_TAG: Rule,
    _ALL_TAG: AllGroup,
    _ANY_TAG: AnyGroup,
    **{f"<{name}>": model for name, model in INDICATOR_OPERANDS.items()},
}

_SIMPLE_MESSAGES = {
    "missing": "is required",
    "int_type": "must be an integer",
    "int_parsing": "must be an integer",
    "int_from_float": "must be an integer",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "finite_number": "must be a finite number",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "string_type": "must be a string",
    "date_type": "must be an ISO date YYYY-MM-DD (e.g. 2015-01-31)",
    "date_parsing": "must be an ISO date YYYY-MM-DD (e.g. 2015-01-31)",
    "list_type": "must be a list",
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
    "dict_type": "must be an object",
}

_BOUND_MESSAGES = {
    "greater_than": ("gt", "must be greater than {}"),
    "greater_than_equal": ("ge", "must be at least {}"),
    "less_than": ("lt", "must be less than {}"),
    "less_than_equal": ("le", "must be at most {}"),
}

_GROUP_HELP = '{"all": [...]} (every member must hold) or {"any": [...]} (at least one)'
_OPERAND_HELP = (
    'must be a number, a price field such as {"field": "close"}, or an indicator such as '
    '{"indicator": "rsi", "params": {"period": 14}}'
)


def format_path(loc: tuple[str | int, ...]) -> str:
    """``("entry", "all", 0, "op")`` -> ``"entry.all[0].op"``; the empty path is ``"$"``."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "$"


def _model_at(loc: tuple[str | int, ...]) -> type[BaseModel] | None:
    """The model class that validated the object at ``loc`` (a raw pydantic loc with tags)."""
    model: type[BaseModel] | None = StrategySpec
    for part in loc:
        if isinstance(part, int):
            continue
        if part in _TAGGED_MODELS:
            model = _TAGGED_MODELS[part]
            continue
        if model is None or part not in model.model_fields:
            return None
        annotation = model.model_fields[part].annotation
        is_model = isinstance(annotation, type) and issubclass(annotation, BaseModel)
        model = annotation if is_model else None
    return model


def _fmt_number(value: Any) -> str:
    return format(value, "g") if isinstance(value, float) else str(value)


def _unknown_key_message(key: Any, model: type[BaseModel] | None) -> str:
    if model is None:
        return f"unknown field {key!r}"
    allowed = list(model.model_fields)
    if issubclass(model, IndicatorParams) and key == "source":
        return 'source is not a parameter: put it next to params, e.g. {"source": "high"}'
    if issubclass(model, IndicatorOperand) and key == "source":
        return f"{model.indicator_name} takes no source; it always reads {', '.join(model.inputs)}"
    if issubclass(model, IndicatorParams):
        what = f"unknown parameter {key!r} for {model.indicator_name}"
        message = f"{what}; allowed: {', '.join(allowed)}" if allowed else f"{what}; it takes none"
    else:
        message = f"unknown field {key!r}; allowed: {', '.join(allowed)}"
    close = difflib.get_close_matches(str(key), allowed, n=1)
    return f"{message} (did you mean {close[0]!r}?)" if close else message


def _explain(error: Any, raw_loc: tuple[str | int, ...]) -> tuple[tuple[str | int, ...], str]:
    """(extra path parts, message) for one pydantic error."""
    kind, value, ctx = error["type"], error.get("input"), error.get("ctx") or {}
    if kind == "spec":
        return (), ctx["message"]
    if kind in _SIMPLE_MESSAGES:
        return (), _SIMPLE_MESSAGES[kind]
    if kind in _BOUND_MESSAGES:
        key, template = _BOUND_MESSAGES[kind]
        return (), template.format(_fmt_number(ctx[key]))
    if kind == "extra_forbidden":
        return (), _unknown_key_message(raw_loc[-1], _model_at(raw_loc[:-1]))
    if kind == "literal_error":
        model = _model_at(raw_loc[:-1])
        field = model.model_fields.get(str(raw_loc[-1])) if model else None
        if field is not None:
            choices = [str(choice) for choice in get_args(field.annotation)]
            message = f"must be {choices[0]}" if len(choices) == 1 else "must be one of "
            if len(choices) > 1:
                message += ", ".join(choices)
            if issubclass(model, IndicatorOperand) and raw_loc[-1] == "output":
                message = (
                    f"must be one of {', '.join(choices)} (the outputs of {model.indicator_name})"
                )
            return (), message
    if kind in ("too_short", "string_too_short"):
        if ctx.get("min_length") == 1:
            return (), "must not be empty"
        return (), f"must have at least {ctx.get('min_length')} items"
    if kind == "string_too_long":
        return (), f"must be at most {ctx.get('max_length')} characters"
    both_group_keys = isinstance(value, dict) and "all" in value and "any" in value
    if kind in ("bad_group", "bad_node") and both_group_keys:
        return (), 'a group has exactly one key, "all" or "any"; nest groups to combine them'
    if kind == "bad_group":
        if isinstance(value, dict) and _RULE_KEYS & value.keys():
            return (), 'must be a group, not a single rule: wrap it as {"all": [rule]}'
        return (), f"must be a group: {_GROUP_HELP}"
    if kind == "bad_node":
        return (), (
            f'must be a rule {{"left": ..., "op": ..., "right": ...}} or a group {_GROUP_HELP}'
        )
    if kind == "bad_operand":
        if isinstance(value, dict) and "field" in value and "indicator" in value:
            return (), 'must have either "field" or "indicator", not both'
        if isinstance(value, dict) and "indicator" in value:
            return ("indicator",), (
                f"unknown indicator {value['indicator']!r}; must be one of "
                f"{', '.join(INDICATOR_OPERANDS)}"
            )
        return (), _OPERAND_HELP
    return (), str(error["msg"]).removeprefix("Value error, ")


def _spec_error(exc: ValidationError) -> SpecError:
    errors: dict[str, str] = {}
    for error in exc.errors(include_url=False):
        raw_loc = tuple(error["loc"])
        extra, message = _explain(error, raw_loc)
        path = format_path(tuple(p for p in raw_loc if p not in _TAGGED_MODELS) + extra)
        errors[path] = f"{errors[path]}; {message}" if path in errors else message
    return SpecError(errors)


# --- Public functions ------------------------------------------------------------------------


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            # json.loads would silently keep the last one: a typo must not change a strategy.
            raise ValueError(f"duplicate key {key!r} in a JSON object")
        result[key] = value
    return result


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON; use a finite number")


def parse_spec(data: dict[str, Any] | str | bytes | StrategySpec) -> StrategySpec:
    """Validate and normalise a strategy spec given as a dict or as JSON text.

    Raises
    ------
    SpecError
        With one ``path: message`` entry per problem; malformed JSON is reported at ``$``.
    """
    if isinstance(data, StrategySpec):
        return data
    if isinstance(data, bytes | bytearray | str):
        try:
            data = json.loads(
                data, object_pairs_hook=_reject_duplicate_keys, parse_constant=_reject_constant
            )
        except json.JSONDecodeError as error:
            raise SpecError(
                {"$": f"malformed JSON: {error.msg} at line {error.lineno}, column {error.colno}"}
            ) from None
        except UnicodeDecodeError:
            raise SpecError({"$": "malformed JSON: the text is not UTF-8"}) from None
        except ValueError as error:
            raise SpecError({"$": f"malformed JSON: {error}"}) from None
    if not isinstance(data, dict):
        raise SpecError({"$": f"must be a JSON object, not {type(data).__name__}"})
    try:
        return StrategySpec.model_validate(data)
    except ValidationError as error:
        raise _spec_error(error) from None


def spec_json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of the spec as accepted by ``parse_spec``."""
    schema = StrategySpec.model_json_schema()
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


_EXAMPLES_DIR = Path(__file__).with_name("examples")
EXAMPLES: list[str] = sorted(path.stem for path in _EXAMPLES_DIR.glob("*.json"))


def load_example(name: str) -> StrategySpec:
    """One of the bundled example specs (``engine/examples/<name>.json``), see ``EXAMPLES``."""
    if name not in EXAMPLES:
        raise ValueError(f"unknown example {name!r}; available: {', '.join(EXAMPLES)}")
    return parse_spec((_EXAMPLES_DIR / f"{name}.json").read_bytes())


_PATH = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*|\[\d+\])*")
_PATH_PART = re.compile(r"\[(\d+)\]|([A-Za-z_][A-Za-z0-9_]*)")


def parse_path(path: str) -> list[str | int]:
    """``"entry.all[0].left.params.period"`` -> ``["entry", "all", 0, "left", ...]``."""
    if not _PATH.fullmatch(path):
        raise ValueError(
            f"malformed path {path!r}; write keys with dots and list items as [i], "
            "e.g. entry.all[0].left.params.period"
        )
    return [int(index) if index else key for index, key in _PATH_PART.findall(path)]


def _child(container: Any, part: str | int, path: str) -> Any:
    if isinstance(part, int):
        if not isinstance(container, list) or part >= len(container):
            raise KeyError(f"{path}: no list item [{part}] here")
        return container[part]
    if not isinstance(container, dict) or part not in container:
        keys = ", ".join(container) if isinstance(container, dict) else "none (not an object)"
        raise KeyError(f"{path}: no key {part!r} here; keys: {keys}")
    return container[part]


def get_by_path(spec_dict: dict[str, Any], path: str) -> Any:
    """The value at ``path`` (e.g. ``entry.all[0].right``) in a spec dict; KeyError if absent."""
    value: Any = spec_dict
    for part in parse_path(path):
        value = _child(value, part, path)
    return value


def set_by_path(spec_dict: dict[str, Any], path: str, value: Any) -> None:
    """Set the value at ``path`` IN PLACE (returns None; deep-copy first to keep the original).

    Every container on the way must exist; the last key of an object may be new, a list index
    must exist. Validate the result with ``parse_spec``.
    """
    parts = parse_path(path)
    parent: Any = spec_dict
    for part in parts[:-1]:
        parent = _child(parent, part, path)
    last = parts[-1]
    if isinstance(last, int):
        _child(parent, last, path)
    elif not isinstance(parent, dict):
        raise KeyError(f"{path}: cannot set key {last!r} on a non-object")
    parent[last] = value
