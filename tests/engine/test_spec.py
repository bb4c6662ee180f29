"""Strategy spec v1 (docs/spec.md): parsing, normalisation, error paths, schema, examples, paths."""

from __future__ import annotations

import copy
import json
import pickle
import re
from datetime import date
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.indicators import INDICATORS
from engine.spec import (
    EXAMPLES,
    OPS,
    PRICE_FIELDS,
    REQUIRED_PARAMS,
    SpecError,
    StrategySpec,
    get_by_path,
    load_example,
    parse_spec,
    set_by_path,
    spec_json_schema,
)
from engine.spec.limits import EARLIEST_DATE, LATEST_DATE

# The example of docs/spec.md, verbatim.
CONTRACT_EXAMPLE: dict[str, Any] = {
    "version": 1,
    "name": "RSI mean reversion",
    "symbol": "SPY",
    "benchmark": "SPY",
    "start": "2015-01-01",
    "end": "2024-12-31",
    "initial_cash": 10000,
    "direction": "long",
    "entry": {
        "all": [{"left": {"indicator": "rsi", "params": {"period": 14}}, "op": "<", "right": 30}]
    },
    "exit": {
        "any": [{"left": {"indicator": "rsi", "params": {"period": 14}}, "op": ">", "right": 70}]
    },
    "sizing": {"method": "percent_equity", "value": 100},
    "fractional": True,
    "stop_loss_pct": None,
    "take_profit_pct": None,
    "trailing_stop_pct": None,
    "fees_bps": 10,
    "slippage_bps": 0,
    "fill": "next_open",
}

# Optional top-level fields added after docs/spec.md (extensions, in dump order after it).
EXTENSIONS = ["periods_per_year"]

MINIMAL: dict[str, Any] = {
    "version": 1,
    "name": "close above sma",
    "symbol": "SPY",
    "entry": {"all": [{"left": {"field": "close"}, "op": ">", "right": 100}]},
    "exit": {"any": [{"left": {"field": "close"}, "op": "<", "right": 90}]},
}


def with_changes(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A deep copy of ``base`` with changes given as ``entry__all__0__op="<"`` for the path
    ``entry.all[0].op`` (``__i`` is a list index, ``__`` a dot)."""
    data = copy.deepcopy(base)
    for key, value in changes.items():
        set_by_path(data, re.sub(r"__(\d+)", r"[\1]", key).replace("__", "."), value)
    return data


def errors_of(data: Any) -> dict[str, str]:
    with pytest.raises(SpecError) as caught:
        parse_spec(data)
    return caught.value.errors


# --- valid specs -----------------------------------------------------------------------------


def test_contract_example_parses_with_its_values():
    spec = parse_spec(CONTRACT_EXAMPLE)

    assert spec.version == 1
    assert spec.name == "RSI mean reversion"
    assert (spec.symbol, spec.benchmark) == ("SPY", "SPY")
    assert (spec.start, spec.end) == (date(2015, 1, 1), date(2024, 12, 31))
    assert spec.initial_cash == 10_000
    assert spec.entry.all[0].op == "<"
    assert spec.entry.all[0].left.indicator == "rsi"
    assert spec.entry.all[0].left.params.period == 14
    assert spec.entry.all[0].right == 30
    assert spec.exit.any[0].op == ">"
    assert (spec.sizing.method, spec.sizing.value) == ("percent_equity", 100)
    assert (spec.fees_bps, spec.slippage_bps, spec.fill) == (10, 0, "next_open")


def test_contract_example_parses_from_json_text_and_bytes():
    text = json.dumps(CONTRACT_EXAMPLE)
    assert parse_spec(text) == parse_spec(text.encode()) == parse_spec(CONTRACT_EXAMPLE)


def test_omitted_fields_get_the_contract_defaults():
    spec = parse_spec(MINIMAL).to_dict()

    assert spec["benchmark"] == "SPY"
    assert spec["start"] is None and spec["end"] is None
    assert spec["initial_cash"] == 10_000
    assert spec["direction"] == "long"
    assert spec["sizing"] == {"method": "percent_equity", "value": 100}
    assert spec["fractional"] is True
    assert spec["stop_loss_pct"] is None
    assert spec["take_profit_pct"] is None
    assert spec["trailing_stop_pct"] is None
    assert spec["fees_bps"] == 10
    assert spec["slippage_bps"] == 0
    assert spec["fill"] == "next_open"


def test_dump_has_every_top_level_field_in_contract_order():
    assert list(parse_spec(MINIMAL).to_dict()) == list(CONTRACT_EXAMPLE) + EXTENSIONS


def test_benchmark_defaults_to_symbol_and_symbols_are_upper_cased():
    spec = parse_spec(with_changes(MINIMAL, symbol=" qqq ", benchmark=None))
    assert (spec.symbol, spec.benchmark) == ("QQQ", "QQQ")
    assert parse_spec(with_changes(MINIMAL, benchmark="^gspc")).benchmark == "^GSPC"


def test_indicator_operand_is_normalised_to_a_fully_explicit_form():
    rule = parse_spec(CONTRACT_EXAMPLE).to_dict()["entry"]["all"][0]

    assert rule == {
        "left": {
            "indicator": "rsi",
            "params": {"period": 14},
            "output": INDICATORS["rsi"].outputs[0],
            "source": "close",
            "offset": 0,
        },
        "op": "<",
        "right": 30,
    }


def test_price_field_operand_gets_offset_zero():
    rule = parse_spec(MINIMAL).to_dict()["entry"]["all"][0]
    assert rule["left"] == {"field": "close", "offset": 0}


def test_omitted_params_and_output_take_the_registry_defaults():
    data = with_changes(MINIMAL, entry__all__0__left={"indicator": "macd"})
    left = parse_spec(data).to_dict()["entry"]["all"][0]["left"]

    assert left["params"] == {"fast": 12, "slow": 26, "signal": 9}
    assert left["output"] == "macd"
    assert left["source"] == "close"


def test_partial_params_are_completed_with_defaults():
    data = with_changes(
        MINIMAL, entry__all__0__left={"indicator": "bbands", "params": {"std": 2.5}}
    )
    left = parse_spec(data).to_dict()["entry"]["all"][0]["left"]
    assert left["params"] == {"period": 20, "std": 2.5}
    assert left["output"] == "upper"


def test_indicators_of_several_price_fields_take_no_source():
    data = with_changes(MINIMAL, entry__all__0__left={"indicator": "atr"})
    left = parse_spec(data).to_dict()["entry"]["all"][0]["left"]
    assert "source" not in left
    assert left == {"indicator": "atr", "params": {"period": 14}, "output": "atr", "offset": 0}


def test_source_and_offset_are_kept():
    left = {"indicator": "sma", "params": {"period": 5}, "source": "high", "offset": 2}
    data = with_changes(MINIMAL, entry__all__0__left=left)
    dumped = parse_spec(data).to_dict()["entry"]["all"][0]["left"]
    assert (dumped["source"], dumped["offset"]) == ("high", 2)


def test_integral_floats_and_numpy_scalars_are_accepted_as_integers():
    data = with_changes(
        MINIMAL,
        entry__all__0__left={"indicator": "sma", "params": {"period": np.int64(7)}},
        exit__any__0__left={"indicator": "ema", "params": {"period": 14.0}},
        fees_bps=np.float64(2.5),
    )
    spec = parse_spec(data)
    assert spec.entry.all[0].left.params.period == 7
    assert type(spec.entry.all[0].left.params.period) is int
    assert spec.exit.any[0].left.params.period == 14
    assert spec.fees_bps == 2.5


def test_groups_nest():
    rule = {"left": {"field": "close"}, "op": ">", "right": 1}
    entry = {"any": [{"all": [rule, {"any": [rule]}]}, rule]}
    spec = parse_spec(with_changes(MINIMAL, entry=entry))
    assert spec.entry.any[0].all[1].any[0].op == ">"


@pytest.mark.parametrize("op", OPS)
def test_every_operator_of_the_contract_is_accepted(op):
    assert parse_spec(with_changes(MINIMAL, entry__all__0__op=op)).entry.all[0].op == op


@pytest.mark.parametrize("name", sorted(INDICATORS))
def test_every_registered_indicator_and_output_is_accepted(name):
    for output in INDICATORS[name].outputs:
        left = {"indicator": name, "params": {"period": 10}, "output": output}
        if name not in REQUIRED_PARAMS:
            left = {"indicator": name, "output": output}
        spec = parse_spec(with_changes(MINIMAL, entry__all__0__left=left))
        assert spec.entry.all[0].left.output == output


def test_short_take_profit_may_exceed_100_percent_only_for_longs():
    assert parse_spec(with_changes(MINIMAL, take_profit_pct=150)).take_profit_pct == 150
    errors = errors_of(with_changes(MINIMAL, take_profit_pct=150, direction="short"))
    assert list(errors) == ["take_profit_pct"]
    assert "below 100" in errors["take_profit_pct"]


# --- round trip ------------------------------------------------------------------------------


def assert_round_trip(data: Any) -> None:
    spec = parse_spec(data)
    dumped = spec.to_dict()
    assert json.loads(json.dumps(dumped)) == dumped  # plain JSON data
    again = parse_spec(dumped)
    assert again == spec  # load -> dump -> load is identity
    assert again.to_dict() == dumped  # dump(load(dump(x))) == dump(x)


@pytest.mark.parametrize("data", [CONTRACT_EXAMPLE, MINIMAL], ids=["contract", "minimal"])
def test_load_dump_load_is_identity(data):
    assert_round_trip(data)


def numbers_() -> st.SearchStrategy[float | int]:
    return st.integers(-1000, 1000) | st.floats(-1e6, 1e6, allow_nan=False)


@st.composite
def indicator_operands(draw: st.DrawFn) -> dict[str, Any]:
    name = draw(st.sampled_from(sorted(INDICATORS)))
    info = INDICATORS[name]
    params: dict[str, Any] = {}
    for param, (param_type, _default, minimum) in info.params.items():
        if param in REQUIRED_PARAMS.get(name, ()) or draw(st.booleans()):
            if param_type is int:
                params[param] = draw(st.integers(int(minimum), int(minimum) + 250))
            else:
                params[param] = draw(st.floats(minimum, minimum + 5, allow_nan=False))
    if {"fast", "slow"} <= info.params.keys():
        fast = draw(st.integers(1, 50))
        params.update(fast=fast, slow=fast + draw(st.integers(1, 100)))
    operand: dict[str, Any] = {"indicator": name}
    if params or name in REQUIRED_PARAMS:
        operand["params"] = params
    if draw(st.booleans()):
        operand["output"] = draw(st.sampled_from(info.outputs))
    if info.inputs == "source" and draw(st.booleans()):
        operand["source"] = draw(st.sampled_from(PRICE_FIELDS))
    if draw(st.booleans()):
        operand["offset"] = draw(st.integers(0, 5))
    return operand


def field_operands() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {"field": st.sampled_from(PRICE_FIELDS)}, optional={"offset": st.integers(0, 5)}
    )


series_operands = field_operands() | indicator_operands()


@st.composite
def rules(draw: st.DrawFn) -> dict[str, Any]:
    left, right = draw(series_operands), draw(series_operands | numbers_())
    if draw(st.booleans()):
        left, right = right, left
    return {"left": left, "op": draw(st.sampled_from(OPS)), "right": right}


def groups(members: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    items = st.lists(members, min_size=1, max_size=3)
    return items.map(lambda xs: {"all": xs}) | items.map(lambda xs: {"any": xs})


rule_groups = groups(st.recursive(rules(), groups, max_leaves=6))


@st.composite
def valid_specs(draw: st.DrawFn) -> dict[str, Any]:
    symbols = st.from_regex(r"[A-Za-z0-9.^-]{1,15}", fullmatch=True)
    spec: dict[str, Any] = {
        "version": 1,
        "name": draw(st.text(min_size=1, max_size=30).filter(str.strip)),
        "symbol": draw(symbols),
        "entry": draw(rule_groups),
        "exit": draw(rule_groups),
    }
    direction = draw(st.sampled_from(["long", "short", "both"]))
    method = draw(st.sampled_from(["percent_equity", "fixed_cash", "fixed_units"]))
    value = draw(st.floats(0.01, 100) if method == "percent_equity" else st.floats(0.01, 1e6))
    fractional = draw(st.booleans())
    if method == "fixed_units" and not fractional:
        value = float(max(1, round(value)))
    days = st.dates(min_value=EARLIEST_DATE, max_value=LATEST_DATE)  # the spec's limits
    first, last = sorted(draw(st.lists(days, min_size=2, max_size=2, unique=True)))
    percent = st.none() | st.floats(0.01, 99.99)
    target = percent if direction != "long" else st.none() | st.floats(0.01, 1000)
    optional = {
        "benchmark": st.none() | symbols,
        "start": st.just(first.isoformat()),
        "end": st.just(last.isoformat()),
        "initial_cash": st.floats(1, 1e9),
        "direction": st.just(direction),
        "sizing": st.just({"method": method, "value": value}),
        "fractional": st.just(fractional),
        "stop_loss_pct": percent,
        "take_profit_pct": target,
        "trailing_stop_pct": percent,
        "fees_bps": st.floats(0, 1000),
        "slippage_bps": st.integers(0, 1000),
        "fill": st.sampled_from(["next_open", "close"]),
    }
    for key, strategy in optional.items():
        if draw(st.booleans()):
            spec[key] = draw(strategy)
    return spec


@settings(max_examples=150, deadline=None)
@given(valid_specs())
def test_round_trip_is_identity_for_random_valid_specs(data):
    assert_round_trip(data)


@settings(max_examples=50, deadline=None)
@given(valid_specs())
def test_dumped_indicator_operands_list_every_param_output_and_source(data):
    def operands(node: dict[str, Any]):
        if "left" in node:
            yield node["left"]
            yield node["right"]
        for child in node.get("all", []) + node.get("any", []):
            yield from operands(child)

    dumped = parse_spec(data).to_dict()
    for operand in [*operands(dumped["entry"]), *operands(dumped["exit"])]:
        if isinstance(operand, dict) and "indicator" in operand:
            info = INDICATORS[operand["indicator"]]
            assert set(operand["params"]) == set(info.params)
            assert operand["output"] in info.outputs
            assert ("source" in operand) == (info.inputs == "source")
            assert operand["offset"] >= 0


# --- invalid specs: exact path and a helpful message -----------------------------------------

BAD_OP = with_changes(CONTRACT_EXAMPLE, entry__all__0__op="==")


def test_bad_operator_names_the_rule_and_lists_the_operators():
    assert errors_of(BAD_OP) == {
        "entry.all[0].op": "must be one of <, <=, >, >=, crosses_above, crosses_below"
    }


def test_unknown_indicator_names_the_indicator_field_and_lists_the_known_ones():
    errors = errors_of(with_changes(CONTRACT_EXAMPLE, entry__all__0__left__indicator="rsx"))
    assert list(errors) == ["entry.all[0].left.indicator"]
    message = errors["entry.all[0].left.indicator"]
    assert "'rsx'" in message
    assert all(name in message for name in INDICATORS)


@pytest.mark.parametrize(
    ("period", "expected"),
    [(0, "must be at least 1"), (14.5, "must be an integer"), ("14", "must be an integer")],
)
def test_bad_param_value_names_the_param(period, expected):
    data = with_changes(CONTRACT_EXAMPLE, entry__all__0__left__params__period=period)
    assert errors_of(data) == {"entry.all[0].left.params.period": expected}


def test_bad_param_in_a_nested_group_has_the_full_path():
    rule = CONTRACT_EXAMPLE["exit"]["any"][0]
    bad = with_changes(rule, left__params__period=-3)
    data = with_changes(CONTRACT_EXAMPLE, exit={"any": [rule, {"all": [rule, bad]}]})
    assert errors_of(data) == {"exit.any[1].all[1].left.params.period": "must be at least 1"}


def test_unknown_param_lists_the_allowed_params_and_suggests_one():
    data = with_changes(CONTRACT_EXAMPLE, entry__all__0__left__params={"perod": 14})
    errors = errors_of(data)
    assert list(errors) == ["entry.all[0].left.params.perod"]
    assert "allowed: period" in errors["entry.all[0].left.params.perod"]
    assert "did you mean 'period'" in errors["entry.all[0].left.params.perod"]


def test_source_inside_params_says_where_it_belongs():
    data = with_changes(CONTRACT_EXAMPLE, entry__all__0__left__params={"source": "high"})
    errors = errors_of(data)
    assert list(errors) == ["entry.all[0].left.params.source"]
    assert "next to params" in errors["entry.all[0].left.params.source"]


def test_source_on_an_indicator_without_one_is_rejected():
    data = with_changes(MINIMAL, entry__all__0__left={"indicator": "atr", "source": "high"})
    errors = errors_of(data)
    assert list(errors) == ["entry.all[0].left.source"]
    assert "atr takes no source" in errors["entry.all[0].left.source"]


def test_missing_moving_average_period_is_required():
    data = with_changes(MINIMAL, entry__all__0__left={"indicator": "sma"})
    assert errors_of(data) == {"entry.all[0].left.params.period": "is required"}


def test_macd_fast_must_be_below_slow():
    left = {"indicator": "macd", "params": {"fast": 30}}  # slow keeps its default of 26
    errors = errors_of(with_changes(MINIMAL, entry__all__0__left=left))
    assert errors == {"entry.all[0].left.params.slow": "must be greater than fast (30)"}


def test_unknown_output_lists_the_indicator_outputs():
    left = {"indicator": "bbands", "output": "top"}
    errors = errors_of(with_changes(MINIMAL, entry__all__0__left=left))
    assert errors == {
        "entry.all[0].left.output": (
            "must be one of upper, middle, lower, percent_b (the outputs of bbands)"
        )
    }


def test_extra_top_level_key_is_rejected_with_a_suggestion():
    errors = errors_of(with_changes(CONTRACT_EXAMPLE, stop_loss=5))
    assert list(errors) == ["stop_loss"]
    assert errors["stop_loss"].startswith("unknown field 'stop_loss'; allowed: version, name")
    assert "did you mean 'stop_loss_pct'" in errors["stop_loss"]


@pytest.mark.parametrize(
    ("path", "key"),
    [("sizing", "percent"), ("entry.all[0]", "note"), ("entry.all[0].left", "period")],
)
def test_extra_nested_key_is_rejected_at_its_path(path, key):
    data = copy.deepcopy(CONTRACT_EXAMPLE)
    get_by_path(data, path)[key] = 1
    errors = errors_of(data)
    assert list(errors) == [f"{path}.{key}"]
    assert errors[f"{path}.{key}"].startswith(f"unknown field '{key}'; allowed: ")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("fees_bps", -1, "must be at least 0"),
        ("fees_bps", 1001, "must be at most 1000"),
        ("slippage_bps", -0.5, "must be at least 0"),
        ("fees_bps", True, "must be a number"),
        ("fees_bps", "10", "must be a number"),
        ("initial_cash", 0, "must be greater than 0"),
        ("stop_loss_pct", 0, "must be greater than 0"),
        ("stop_loss_pct", 100, "must be less than 100"),
        ("trailing_stop_pct", 100, "must be less than 100"),
        ("version", 2, "must be 1"),
        ("direction", "sideways", "must be one of long, short, both"),
        ("fill", "open", "must be one of next_open, close"),
        ("fractional", "yes", "must be true or false"),
        ("start", "01/02/2020", "must be an ISO date YYYY-MM-DD (e.g. 2015-01-31)"),
        ("name", "  ", "must not be empty"),
        ("periods_per_year", 0, "must be greater than 0"),
        ("periods_per_year", 525_601, "must be at most 525600"),
        ("periods_per_year", "52", "must be a number"),
    ],
)
def test_bad_scalar_names_the_field_and_what_is_allowed(field, value, message):
    assert errors_of(with_changes(CONTRACT_EXAMPLE, **{field: value})) == {field: message}


def test_periods_per_year_is_optional_and_null_means_inferred_from_the_bars():
    assert parse_spec(CONTRACT_EXAMPLE).to_dict()["periods_per_year"] is None
    assert parse_spec(with_changes(CONTRACT_EXAMPLE, periods_per_year=52)).periods_per_year == 52


def test_start_after_end_is_reported_at_end():
    errors = errors_of(with_changes(CONTRACT_EXAMPLE, start="2025-01-01"))
    assert errors == {"end": "must be after start (2025-01-01)"}
    assert list(errors_of(with_changes(CONTRACT_EXAMPLE, start="2024-12-31"))) == ["end"]


def test_percent_equity_above_100_is_rejected():
    data = with_changes(CONTRACT_EXAMPLE, sizing__value=150)
    errors = errors_of(data)
    assert list(errors) == ["sizing.value"]
    assert errors["sizing.value"].startswith("must be at most 100 for percent_equity")
    assert parse_spec(with_changes(data, sizing__method="fixed_cash")).sizing.value == 150


def test_sizing_value_must_be_positive():
    data = with_changes(CONTRACT_EXAMPLE, sizing={"method": "fixed_cash", "value": 0})
    assert errors_of(data) == {"sizing.value": "must be greater than 0"}


def test_fractional_units_need_fractional_true():
    data = with_changes(MINIMAL, sizing={"method": "fixed_units", "value": 0.5}, fractional=False)
    assert list(errors_of(data)) == ["fractional"]


def test_symbol_outside_the_allowed_characters_is_rejected():
    errors = errors_of(with_changes(MINIMAL, symbol="SPY US"))
    assert list(errors) == ["symbol"]
    assert "A-Z, 0-9" in errors["symbol"]


def test_empty_group_is_rejected():
    assert errors_of(with_changes(MINIMAL, entry={"all": []})) == {"entry.all": "must not be empty"}
    nested = {"any": [MINIMAL["entry"]["all"][0], {"all": []}]}
    assert errors_of(with_changes(MINIMAL, exit=nested)) == {"exit.any[1].all": "must not be empty"}


def test_group_with_both_all_and_any_is_rejected():
    errors = errors_of(with_changes(MINIMAL, entry={"all": [], "any": []}))
    assert list(errors) == ["entry"]
    assert 'exactly one key, "all" or "any"' in errors["entry"]


def test_bare_rule_where_a_group_belongs_says_to_wrap_it():
    errors = errors_of(with_changes(MINIMAL, entry=MINIMAL["entry"]["all"][0]))
    assert list(errors) == ["entry"]
    assert 'wrap it as {"all": [rule]}' in errors["entry"]


def test_unrecognised_group_member_explains_rules_and_groups():
    errors = errors_of(with_changes(MINIMAL, entry={"all": [{"and": []}]}))
    assert list(errors) == ["entry.all[0]"]
    assert '"left"' in errors["entry.all[0]"] and '{"any": [...]}' in errors["entry.all[0]"]


def test_rule_comparing_two_numbers_is_rejected_at_the_rule():
    data = with_changes(MINIMAL, entry__all__0={"left": 1, "op": "<", "right": 2})
    errors = errors_of(data)
    assert list(errors) == ["entry.all[0]"]
    assert "at least one side must be a price field or an indicator" in errors["entry.all[0]"]


def test_missing_rule_part_is_required():
    data = with_changes(MINIMAL, entry__all__0={"left": {"field": "close"}, "op": "<"})
    assert errors_of(data) == {"entry.all[0].right": "is required"}


@pytest.mark.parametrize("operand", ["close", None, [], {"value": 3}, True])
def test_unrecognised_operand_explains_the_three_kinds(operand):
    errors = errors_of(with_changes(MINIMAL, entry__all__0__left=operand))
    assert list(errors) == ["entry.all[0].left"]
    assert errors["entry.all[0].left"].startswith("must be a number, a price field such as")


def test_operand_with_both_field_and_indicator_is_rejected():
    left = {"field": "close", "indicator": "rsi"}
    errors = errors_of(with_changes(MINIMAL, entry__all__0__left=left))
    assert errors == {"entry.all[0].left": 'must have either "field" or "indicator", not both'}


def test_bad_price_field_lists_the_fields():
    errors = errors_of(with_changes(MINIMAL, entry__all__0__left__field="adj"))
    assert errors == {"entry.all[0].left.field": "must be one of open, high, low, close, volume"}


def test_non_finite_number_operand_is_rejected():
    errors = errors_of(with_changes(MINIMAL, entry__all__0__right=float("nan")))
    assert errors == {"entry.all[0].right": "must be a finite number"}


def test_negative_offset_is_rejected():
    errors = errors_of(with_changes(MINIMAL, entry__all__0__left__offset=-1))
    assert errors == {"entry.all[0].left.offset": "must be at least 0"}


def test_missing_required_fields_are_each_reported():
    errors = errors_of({"version": 1})
    assert errors == {
        "name": "is required",
        "symbol": "is required",
        "entry": "is required",
        "exit": "is required",
    }


def test_all_problems_are_reported_at_once():
    data = with_changes(BAD_OP, fees_bps=-1, sizing__value=150, exit__any__0__left__output="x")
    assert set(errors_of(data)) == {
        "entry.all[0].op",
        "fees_bps",
        "sizing.value",
        "exit.any[0].left.output",
    }


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ('{"version": 1,', "malformed JSON: Expecting property name"),
        (b"\xff\xfe{", "malformed JSON"),
        ('{"fees_bps": 1, "fees_bps": 2}', "duplicate key 'fees_bps'"),
        ('{"fees_bps": NaN}', "NaN is not valid JSON"),
        ("[1, 2]", "must be a JSON object"),
    ],
)
def test_malformed_json_is_reported_at_the_root(text, fragment):
    errors = errors_of(text)
    assert list(errors) == ["$"]
    assert fragment in errors["$"]


def test_error_paths_never_show_pydantic_union_tags():
    data = with_changes(
        MINIMAL,
        entry={"all": [{"any": [{"left": {"indicator": "rsi", "params": {"period": 0}},
                                 "op": "<", "right": "x"}]}]},
    )
    errors = errors_of(data)
    assert set(errors) == {"entry.all[0].any[0].left.params.period", "entry.all[0].any[0].right"}
    assert not any(re.search(r"<\w+>", path) for path in errors)


def test_error_paths_address_the_offending_value():
    data = with_changes(CONTRACT_EXAMPLE, entry__all__0__left__params__period=0, fees_bps=-1)
    for path in errors_of(data):
        assert get_by_path(data, path) in (0, -1)


def test_spec_error_is_a_value_error_that_lists_path_message_lines_and_pickles():
    with pytest.raises(ValueError) as caught:
        parse_spec(with_changes(BAD_OP, fees_bps=-1))
    error = caught.value
    assert isinstance(error, SpecError)
    assert str(error).splitlines() == [
        "entry.all[0].op: must be one of <, <=, >, >=, crosses_above, crosses_below",
        "fees_bps: must be at least 0",
    ]
    assert pickle.loads(pickle.dumps(error)).errors == error.errors


# --- JSON schema -----------------------------------------------------------------------------

# Keywords of JSON Schema 2020-12 that a generated schema may use.
SCHEMA_KEYWORDS = {
    "$schema", "$defs", "$ref", "title", "description", "default", "type", "properties",
    "required", "additionalProperties", "items", "enum", "const", "oneOf", "anyOf", "format",
    "pattern", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minLength",
    "maxLength", "minItems", "maxItems",
}  # fmt: skip


def test_json_schema_describes_every_top_level_field():
    schema = spec_json_schema()
    json.dumps(schema)  # plain JSON
    assert schema["type"] == "object"
    assert set(schema["properties"]) == set(StrategySpec.model_fields)
    assert set(StrategySpec.model_fields) == set(CONTRACT_EXAMPLE) | set(EXTENSIONS)
    assert set(schema["required"]) == {"version", "name", "symbol", "entry", "exit"}
    assert schema["additionalProperties"] is False


def test_json_schema_uses_only_standard_keywords():
    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if where.endswith(("properties", "$defs")):
                    walk(value, f"{where}/{key}")  # names, not keywords
                    continue
                assert key in SCHEMA_KEYWORDS, f"non-standard keyword {key!r} at {where}"
                walk(value, f"{where}/{key}")
        elif isinstance(node, list):
            for item in node:
                walk(item, where)

    walk(spec_json_schema(), "#")


def test_json_schema_lists_operators_indicators_and_percent_bounds():
    schema = spec_json_schema()
    defs = schema["$defs"]
    assert defs["Rule"]["properties"]["op"]["enum"] == list(OPS)
    indicator_names = {
        model["properties"]["indicator"]["const"]
        for model in defs.values()
        if "indicator" in model.get("properties", {})
    }
    assert indicator_names == set(INDICATORS)
    stop = schema["properties"]["stop_loss_pct"]["anyOf"][0]
    assert (stop["exclusiveMinimum"], stop["exclusiveMaximum"]) == (0, 100)


# --- examples --------------------------------------------------------------------------------


def test_bundled_examples_are_listed():
    assert EXAMPLES == ["bollinger_breakout", "rsi_mean_reversion", "sma_crossover"]


@pytest.mark.parametrize("name", EXAMPLES)
def test_every_example_parses_and_round_trips(name):
    spec = load_example(name)
    assert (spec.start, spec.end) == (date(2010, 1, 1), date(2024, 11, 8))
    assert (spec.initial_cash, spec.fees_bps) == (10_000, 10)
    assert_round_trip(spec.to_dict())


def test_rsi_example_enters_below_30_exits_above_70_with_a_5_percent_stop():
    spec = load_example("rsi_mean_reversion")
    entry, exit_ = spec.entry.all[0], spec.exit.any[0]
    assert spec.symbol == "SPY"
    assert (entry.left.indicator, entry.left.params.period, entry.op, entry.right) == (
        "rsi", 14, "<", 30,
    )  # fmt: skip
    assert (exit_.left.indicator, exit_.op, exit_.right) == ("rsi", ">", 70)
    assert spec.stop_loss_pct == 5


def test_sma_example_crosses_10_over_50():
    spec = load_example("sma_crossover")
    entry, exit_ = spec.entry.all[0], spec.exit.any[0]
    assert spec.symbol == "SPY"
    assert (entry.left.params.period, entry.op, entry.right.params.period) == (
        10, "crosses_above", 50,
    )  # fmt: skip
    assert (exit_.left.params.period, exit_.op, exit_.right.params.period) == (
        10, "crosses_below", 50,
    )  # fmt: skip


def test_bollinger_example_breaks_out_above_upper_and_exits_below_middle():
    spec = load_example("bollinger_breakout")
    entry, exit_ = spec.entry.all[0], spec.exit.any[0]
    assert spec.symbol == "QQQ"
    assert (entry.left.field, entry.op, entry.right.indicator) == (
        "close", "crosses_above", "bbands",
    )  # fmt: skip
    assert entry.right.params.model_dump() == {"period": 20, "std": 2.0}
    assert entry.right.output == "upper"
    assert (exit_.op, exit_.right.output) == ("crosses_below", "middle")


def test_unknown_example_lists_the_available_ones():
    with pytest.raises(ValueError, match="available: bollinger_breakout"):
        load_example("nope")


# --- paths -----------------------------------------------------------------------------------


def test_get_by_path_reads_the_contract_grid_keys():
    spec = parse_spec(CONTRACT_EXAMPLE).to_dict()
    assert get_by_path(spec, "entry.all[0].right") == 30
    assert get_by_path(spec, "entry.all[0].left.params.period") == 14
    assert get_by_path(spec, "sizing.value") == 100


def test_set_by_path_changes_the_dict_in_place_and_the_parsed_spec_follows():
    spec = parse_spec(CONTRACT_EXAMPLE).to_dict()
    assert set_by_path(spec, "entry.all[0].left.params.period", 7) is None
    set_by_path(spec, "entry.all[0].right", 20)
    parsed = parse_spec(spec)
    assert parsed.entry.all[0].left.params.period == 7
    assert parsed.entry.all[0].right == 20


def test_set_by_path_may_add_a_last_key_but_not_a_missing_container():
    data = copy.deepcopy(MINIMAL)
    set_by_path(data, "stop_loss_pct", 5)
    assert parse_spec(data).stop_loss_pct == 5
    with pytest.raises(KeyError, match="no key 'sizing'"):
        set_by_path(data, "sizing.value", 50)


@pytest.mark.parametrize(
    "path", ["entry.all[3].op", "entry.any[0].op", "symbol.name", "entry.all[0].left[0]"]
)
def test_missing_paths_raise_key_error(path):
    with pytest.raises(KeyError):
        get_by_path(copy.deepcopy(MINIMAL), path)


@pytest.mark.parametrize("path", ["", "entry..all", "entry.all[x]", "[0]", ".entry", "a.b["])
def test_malformed_paths_raise_value_error(path):
    with pytest.raises(ValueError, match="malformed path"):
        get_by_path(copy.deepcopy(MINIMAL), path)
