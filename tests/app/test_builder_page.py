"""The Builder without a browser: rule trees to editor rows and back, the edits the editor makes,
every registry indicator giving a valid spec, the plain-words summary, validation messages
placed beside their fields, and saving (new versions, nothing saved when invalid)."""

from __future__ import annotations

import copy
from datetime import date

import pytest

from app import create_app
from app.services.strategies import get_strategy, list_strategies
from components import rule_tree
from components.rule_summary import describe_spec
from engine.indicators import INDICATORS
from engine.spec import EXAMPLES, SpecError, load_example, parse_spec
from tests.app.cockpit_helpers import as_user, save
from tests.app.conftest import create_user, sqlite_settings


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    dash_app = create_app(sqlite_settings(tmp_path_factory.mktemp("builder") / "instance"))
    yield dash_app
    dash_app.server.extensions["arena"].close()


@pytest.fixture(scope="module")
def page(app):
    import pages.builder

    return pages.builder


NESTED = {"any": [
    {"left": {"field": "close", "offset": 0}, "op": ">", "right": 1.0},
    {"all": [{"left": {"field": "open", "offset": 1}, "op": "<", "right": 2.0},
             {"any": [{"left": {"field": "high", "offset": 0}, "op": ">=", "right": 3.0}]}]},
    {"left": {"field": "low", "offset": 0}, "op": "crosses_below", "right": 4.0},
]}


@pytest.mark.parametrize("name", EXAMPLES)
def test_rows_of_every_example_rebuild_the_same_trees(name):
    spec = load_example(name).to_dict()
    for section in ("entry", "exit"):
        rows = rule_tree.tree_to_rows(spec[section], section)
        assert rule_tree.rows_to_tree(rows) == spec[section]


def test_nested_groups_become_indented_rows_with_their_spec_paths_and_back():
    rows = rule_tree.tree_to_rows(NESTED, "exit")
    assert [(r.path, r.depth, r.kind) for r in rows] == [
        ("exit", 0, "group"), ("exit.any[0]", 1, "rule"), ("exit.any[1]", 1, "group"),
        ("exit.any[1].all[0]", 2, "rule"), ("exit.any[1].all[1]", 2, "group"),
        ("exit.any[1].all[1].any[0]", 3, "rule"), ("exit.any[2]", 1, "rule")]
    assert rule_tree.rows_to_tree(rows) == NESTED


def test_rows_without_a_parent_group_are_rejected():
    rows = rule_tree.tree_to_rows(NESTED, "exit")
    with pytest.raises(ValueError, match="no parent group"):
        rule_tree.rows_to_tree([rows[0], rows[3]])


def spec_with(entry, exit_=None):
    spec = load_example("rsi_mean_reversion").to_dict()
    spec["entry"] = entry
    if exit_ is not None:
        spec["exit"] = exit_
    return spec


def test_add_duplicate_remove_and_nest_rows(page):
    spec = load_example("rsi_mean_reversion").to_dict()
    original = copy.deepcopy(spec)
    added, reshaped = page.apply_edit(spec, {"type": "rule-action", "path": "entry",
                                             "action": "add_rule"}, 1)
    assert reshaped and len(added["entry"]["all"]) == 2
    assert added["entry"]["all"][1] == rule_tree.default_rule()
    nested, _ = page.apply_edit(added, {"type": "rule-action", "path": "entry",
                                        "action": "add_group"}, 1)
    assert nested["entry"]["all"][2] == {"all": [rule_tree.default_rule()]}
    anyed, _ = page.apply_edit(nested, {"type": "spec-shape", "path": "entry.all[2]",
                                        "part": "logic"}, "any")
    assert anyed["entry"]["all"][2] == {"any": [rule_tree.default_rule()]}
    doubled, _ = page.apply_edit(anyed, {"type": "rule-action", "path": "entry.all[0]",
                                         "action": "duplicate"}, 1)
    assert doubled["entry"]["all"][0] == doubled["entry"]["all"][1] == spec["entry"]["all"][0]
    removed, _ = page.apply_edit(doubled, {"type": "rule-action", "path": "entry.all[3]",
                                           "action": "remove"}, 1)
    assert len(removed["entry"]["all"]) == 3
    parse_spec(removed)  # still valid
    assert spec == original  # edits never change their input


def test_the_last_member_of_a_group_is_not_removed(page):
    spec = load_example("rsi_mean_reversion").to_dict()
    same, _ = page.apply_edit(spec, {"type": "rule-action", "path": "entry.all[0]",
                                     "action": "remove"}, 1)
    assert same["entry"] == spec["entry"]


def test_a_button_just_drawn_changes_nothing(page):
    spec = load_example("rsi_mean_reversion").to_dict()
    assert page.apply_edit(spec, {"type": "rule-action", "path": "entry",
                                  "action": "add_rule"}, None) == (spec, False)


@pytest.mark.parametrize("name", sorted(INDICATORS))
def test_every_registry_indicator_can_be_picked_on_either_side_and_gives_a_valid_spec(
        page, name):
    spec = load_example("sma_crossover").to_dict()
    for side in ("left", "right"):
        spec, reshaped = page.apply_edit(
            spec, {"type": "spec-shape", "path": f"entry.all[0].{side}", "part": "indicator"},
            name)
        assert reshaped or spec["entry"]["all"][0][side]["indicator"] == name
    operand = spec["entry"]["all"][0]["left"]
    assert operand["indicator"] == name
    assert operand["params"].keys() == INDICATORS[name].params.keys()  # sma's period kept
    assert page.spec_errors(spec) == {}
    assert parse_spec(spec).to_dict()["entry"] == spec["entry"]  # already explicit
    for output in INDICATORS[name].outputs:  # every output is a valid choice
        picked, _ = page.apply_edit(spec, {"type": "spec-value",
                                           "path": "entry.all[0].left.output"}, output)
        assert page.spec_errors(picked) == {}


def test_switching_indicator_keeps_a_parameter_of_the_same_name():
    spec = spec_with({"all": [{"left": rule_tree.indicator_operand("sma"), "op": "<",
                               "right": 3.0}]})
    spec["entry"]["all"][0]["left"]["params"]["period"] = 50
    spec = rule_tree.set_indicator(spec, "entry.all[0].left", "ema")
    assert spec["entry"]["all"][0]["left"]["params"] == {"period": 50}


def test_operand_kinds_switch_between_indicator_price_and_number(page):
    spec = load_example("rsi_mean_reversion").to_dict()
    as_field, _ = page.apply_edit(spec, {"type": "spec-shape", "path": "entry.all[0].right",
                                         "part": "kind"}, "field")
    assert as_field["entry"]["all"][0]["right"] == {"field": "close", "offset": 0}
    as_number, _ = page.apply_edit(as_field, {"type": "spec-shape",
                                              "path": "entry.all[0].right", "part": "kind"},
                                   "number")
    assert as_number["entry"]["all"][0]["right"] == rule_tree.DEFAULT_NUMBER


def test_date_presets_and_empty_dates(page):
    spec = load_example("rsi_mean_reversion").to_dict()
    five, _ = page.apply_edit(spec, {"type": "rule-action", "path": "start",
                                     "action": "preset_5"}, 1)
    assert (five["start"], five["end"]) == ("2019-11-08", "2024-11-08")
    everything, _ = page.apply_edit(spec, {"type": "rule-action", "path": "start",
                                           "action": "preset_max"}, 1)
    assert (everything["start"], everything["end"]) == (None, None)
    open_end = {**spec, "end": None}
    one, _ = page.apply_edit(open_end, {"type": "rule-action", "path": "start",
                                        "action": "preset_1"}, 1, today=date(2024, 3, 31))
    assert one["start"] == "2023-03-28"
    cleared, _ = page.apply_edit(spec, {"type": "spec-value", "path": "end"}, "")
    assert cleared["end"] is None


def test_the_summary_says_the_rule_in_plain_words():
    spec = load_example("rsi_mean_reversion").to_dict()
    assert describe_spec(spec) == ("Buy when RSI(14) < 30; sell when RSI(14) > 70 or the price "
                                   "falls 5 % below entry.")
    spec.update(direction="short", stop_loss_pct=None, take_profit_pct=10)
    spec["exit"] = NESTED
    assert describe_spec(spec) == (
        "Sell short when RSI(14) < 30; buy back when close > 1 or (open 1 bar ago < 2 and "
        "high ≥ 3) or low crosses below 4 or the price falls 10 % below entry.")
    macd = spec_with({"all": [{"left": rule_tree.indicator_operand("macd"),
                               "op": "crosses_above", "right": {
                                   **rule_tree.indicator_operand("macd"), "output": "signal",
                                   "source": "high"}}]})
    assert describe_spec(macd).startswith(
        "Buy when MACD(12, 26, 9) macd crosses above MACD(12, 26, 9) signal of high; ")


def test_invalid_values_get_their_message_beside_their_field(page):
    spec = load_example("rsi_mean_reversion").to_dict()
    spec, _ = page.apply_edit(spec, {"type": "spec-value",
                                     "path": "entry.all[0].left.params.period"}, 0)
    spec, _ = page.apply_edit(spec, {"type": "spec-value", "path": "stop_loss_pct"}, 150)
    slots = ["entry.all[0].left.params.period", "stop_loss_pct", "fees_bps", "entry"]
    beside, summary, invalid = page.field_messages(spec, slots)
    assert invalid
    assert beside == ["must be at least 1", "must be less than 100", "", ""]
    assert "2 problem(s)" in str(summary)


def test_saving_makes_new_versions_and_an_invalid_spec_saves_nothing(app, page):
    user = create_user(app)
    spec = load_example("rsi_mean_reversion").to_dict()
    context = as_user(app, user.id)
    try:
        saved, run_id = page.save_spec(user.id, spec, None, run=False)
        assert (saved["version"], run_id) == (1, None)
        again, _ = page.save_spec(user.id, spec, saved, run=False)
        assert (again["id"], again["version"]) == (saved["id"], 2)
        bad = {**spec, "stop_loss_pct": 150}
        with pytest.raises(Exception, match="invalid strategy spec") as error:
            page.save_spec(user.id, bad, None, run=False)
        assert error.value.fields == {"spec.stop_loss_pct": "must be less than 100"}
    finally:
        context.pop()
    with app.server.extensions["arena"].sessions() as session:
        strategies = list_strategies(session, user.id)
        assert len(strategies) == 1 and strategies[0].version == 2
        assert strategies[0].spec == spec  # saved unchanged: the identical spec


def test_a_saved_strategy_loads_into_the_editor_and_saves_back_identical(app, page):
    user = create_user(app)
    spec = load_example("bollinger_breakout").to_dict()
    strategy_id = save(app, user.id, spec)
    context = as_user(app, user.id)
    try:
        loaded, saved = page._load(str(strategy_id), None)
        assert page.spec_text(loaded) == page.spec_text(spec)
        page.save_spec(user.id, loaded, saved, run=False)
    finally:
        context.pop()
    with app.server.extensions["arena"].sessions() as session:
        assert get_strategy(session, user.id, strategy_id).spec == spec


def test_another_user_s_strategy_is_not_found_in_the_builder(app, page):
    owner, stranger = create_user(app), create_user(app)
    strategy_id = save(app, owner.id, load_example("rsi_mean_reversion").to_dict())
    context = as_user(app, stranger.id)
    try:
        view = page.layout(str(strategy_id))
    finally:
        context.pop()
    assert f"strategy {strategy_id} not found" in str(view)


def test_a_new_strategy_is_valid_and_differs_from_the_examples(page):
    spec = page.new_spec()
    assert page.spec_errors(spec) == {}
    with pytest.raises(SpecError):
        parse_spec({**spec, "entry": {"all": []}})
