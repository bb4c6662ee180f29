"""The pydantic models of strategy spec v1 (the document is described in :mod:`engine.spec`).

Every field's type, default, bound and cross-field rule lives here; :mod:`engine.spec.messages`
turns pydantic's errors into the ``path: message`` entries of a ``SpecError``.
"""

from __future__ import annotations

import functools
import numbers
import operator
import re
from datetime import date
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationInfo,
    create_model,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from engine.indicators import INDICATORS
from engine.spec.limits import (
    EARLIEST_DATE,
    LATEST_DATE,
    MAX_LOOKBACK_BARS,
    MAX_MONEY,
    MAX_RULES,
)

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
            day = date.fromisoformat(value)
        except ValueError as error:
            raise _invalid(f"is not a calendar date ({error})") from None
        if not EARLIEST_DATE <= day <= LATEST_DATE:
            raise _invalid(f"must be from {EARLIEST_DATE} to {LATEST_DATE}")
        return day
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
# Up to one-minute bars around the clock: 365 days x 1,440 minutes.
PeriodsPerYear = Annotated[float, Field(gt=0, le=525_600), BeforeValidator(_plain_number)]


class _SpecModel(BaseModel):
    # strict: no silent coercion ("10" is not 10, 1 is not true); forbid: a typo is an error.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, allow_inf_nan=False)


# --- Operands --------------------------------------------------------------------------------


class PriceOperand(_SpecModel):
    """A price field of the bar, ``offset`` bars back (0 = the current bar)."""

    field: PriceField
    offset: Integer = Field(0, ge=0, le=MAX_LOOKBACK_BARS,
                            description="Bars back; 1 is the previous bar's value.")


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
        most = MAX_LOOKBACK_BARS if param_type is int else None  # int params are look-backs
        param_fields[param] = (annotation, Field(default, ge=minimum, le=most,
                                                 validate_default=True))
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
    fields["offset"] = (Integer, Field(0, ge=0, le=MAX_LOOKBACK_BARS, description="Bars back."))
    model = create_model(f"{class_name}Operand", __base__=IndicatorOperand, **fields)
    model.indicator_name, model.inputs = info.name, info.inputs
    return model


INDICATOR_OPERANDS: dict[str, type[IndicatorOperand]] = {
    name: _indicator_operand_model(info) for name, info in INDICATORS.items()
}

# Union members are tagged so that pydantic reports which member it tried; the tags are written
# <like_this> (never a field name) and stripped from error paths.
NUMBER_TAG = "<number>"
FIELD_TAG = "<field>"
RULE_TAG = "<rule>"
ALL_TAG = "<all>"
ANY_TAG = "<any>"


def _tag_of_model(value: BaseModel) -> str | None:
    if isinstance(value, IndicatorOperand):
        return f"<{value.indicator}>"
    return {PriceOperand: FIELD_TAG, Rule: RULE_TAG, AllGroup: ALL_TAG, AnyGroup: ANY_TAG}.get(
        type(value)
    )


def _operand_tag(value: Any) -> str | None:
    if isinstance(value, BaseModel):
        return _tag_of_model(value)
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return NUMBER_TAG
    if isinstance(value, dict):
        if "field" in value and "indicator" not in value:
            return FIELD_TAG
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
        [Annotated[Real, Tag(NUMBER_TAG)], Annotated[PriceOperand, Tag(FIELD_TAG)]]
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


RULE_KEYS = frozenset({"left", "op", "right"})


def _group_tag(value: Any) -> str | None:
    if isinstance(value, BaseModel):
        return _tag_of_model(value)
    if isinstance(value, dict) and ("all" in value) != ("any" in value):
        return ALL_TAG if "all" in value else ANY_TAG
    return None


def _node_tag(value: Any) -> str | None:
    tag = _group_tag(value)
    if tag is None and isinstance(value, dict) and "all" not in value and "any" not in value:
        if RULE_KEYS & value.keys():
            return RULE_TAG
    return tag


RuleGroup = Annotated[
    Annotated[AllGroup, Tag(ALL_TAG)] | Annotated[AnyGroup, Tag(ANY_TAG)],
    Discriminator(
        _group_tag,
        custom_error_type="bad_group",
        custom_error_message="not a valid rule group",
    ),
]
Node = Annotated[
    Annotated[AllGroup, Tag(ALL_TAG)]
    | Annotated[AnyGroup, Tag(ANY_TAG)]
    | Annotated[Rule, Tag(RULE_TAG)],
    Discriminator(
        _node_tag,
        custom_error_type="bad_node",
        custom_error_message="not a valid rule or group",
    ),
]
AllGroup.model_rebuild()
AnyGroup.model_rebuild()


# --- The spec --------------------------------------------------------------------------------


def count_rules(node: Any) -> int:
    """Rules (comparisons) in a rule tree, at any depth."""
    if isinstance(node, Rule):
        return 1
    members = getattr(node, "all", None) or getattr(node, "any", None) or []
    return sum(count_rules(member) for member in members)


class Sizing(_SpecModel):
    """How much to buy or sell on an entry."""

    method: SizingMethod = Field(
        description="percent_equity: value is % of equity; fixed_cash: value is an amount of "
        "account currency; fixed_units: value is a number of units."
    )
    value: Real = Field(gt=0, le=MAX_MONEY)

    @field_validator("value")
    @classmethod
    def _percent_at_most_100(cls, value: float, info: ValidationInfo) -> float:
        if info.data.get("method") == "percent_equity" and value > 100:
            raise _invalid("must be at most 100 for percent_equity (100 = all of the equity)")
        return value


class StrategySpec(_SpecModel):
    """A validated, normalised strategy spec v1 (docs/spec.md). Build one with ``parse_spec``."""

    version: Literal[1] = Field(description="Spec format version; always 1.")
    name: Name
    symbol: Symbol = Field(description="Traded symbol, upper case.")
    benchmark: Symbol | None = Field(
        None, validate_default=True, description="Buy-and-hold comparison; defaults to symbol."
    )
    start: IsoDate | None = Field(None, description="First date (ISO); null = all data.")
    end: IsoDate | None = Field(None, description="Last date (ISO); null = all data.")
    initial_cash: Real = Field(10_000.0, gt=0, le=MAX_MONEY,
                               description="Starting capital, account currency.")
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
    periods_per_year: PeriodsPerYear | None = Field(
        None,
        description="Bars a year for annualising ratios; null = inferred from the bar dates "
                    "(252 daily, 52 weekly, 12 monthly, 252 x bars per session intraday).",
    )

    @field_validator("exit")
    @classmethod
    def _at_most_max_rules(cls, exit_: Any, info: ValidationInfo) -> Any:
        entry = info.data.get("entry")
        count = count_rules(exit_) + (count_rules(entry) if entry is not None else 0)
        if count > MAX_RULES:
            raise _invalid(f"entry and exit hold {count} rules together; at most {MAX_RULES}")
        return exit_

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


# Tag -> the model validated under it (None for a plain number); the error messages use it to
# find the model of an error's location.
TAGGED_MODELS: dict[str, type[BaseModel] | None] = {
    NUMBER_TAG: None,
    FIELD_TAG: PriceOperand,
    RULE_TAG: Rule,
    ALL_TAG: AllGroup,
    ANY_TAG: AnyGroup,
    **{f"<{name}>": model for name, model in INDICATOR_OPERANDS.items()},
}
