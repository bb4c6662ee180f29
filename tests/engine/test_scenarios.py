"""The scenario library: contract ids, dates checked against the bundled index data, sources that
quote the data correctly, and the validation of users' own windows."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from data.bundled import load_bundled
from engine.scenarios import (
    LIBRARY,
    Scenario,
    StressInputError,
    custom_scenario,
    parse_custom_scenarios,
    scenario_ids,
    select_scenarios,
)

CONTRACT_IDS = ["gfc_2008", "flash_crash_2010", "us_downgrade_2011", "china_deval_2015",
                "volmageddon_2018", "q4_selloff_2018", "covid_crash_2020", "covid_recovery_2020",
                "inflation_bear_2022", "bank_stress_2023"]
FALLS = ["gfc_2008", "us_downgrade_2011", "china_deval_2015", "volmageddon_2018",
         "q4_selloff_2018", "covid_crash_2020", "inflation_bear_2022", "bank_stress_2023"]


@pytest.fixture(scope="module")
def gspc() -> pd.Series:
    return load_bundled("GSPC")["close"]


def test_the_library_has_the_contract_ids_oldest_first():
    assert scenario_ids() == CONTRACT_IDS
    starts = [LIBRARY[i].start for i in CONTRACT_IDS]
    assert starts == sorted(starts)


def test_issue_dates_are_kept():
    dates = {i: (LIBRARY[i].start, LIBRARY[i].end) for i in CONTRACT_IDS}
    assert dates["gfc_2008"] == ("2007-10-09", "2009-03-09")
    assert dates["us_downgrade_2011"] == ("2011-07-22", "2011-10-03")
    assert dates["china_deval_2015"] == ("2015-08-10", "2015-08-25")  # 08-10 closed higher
    assert dates["volmageddon_2018"] == ("2018-01-26", "2018-02-08")
    assert dates["q4_selloff_2018"] == ("2018-09-20", "2018-12-24")
    assert dates["covid_crash_2020"] == ("2020-02-19", "2020-03-23")
    assert dates["covid_recovery_2020"] == ("2020-03-23", "2020-08-18")
    assert dates["inflation_bear_2022"] == ("2022-01-03", "2022-10-12")
    assert dates["bank_stress_2023"] == ("2023-03-06", "2023-03-13")  # issue 12, item 8
    start, end = dates["flash_crash_2010"]
    assert start < "2010-05-06" < end  # the crash day with its surrounding weeks


@pytest.mark.parametrize("scenario_id", CONTRACT_IDS)
def test_every_scenario_is_described_and_sourced(scenario_id):
    scenario = LIBRARY[scenario_id]
    assert scenario.id == scenario_id and not scenario.custom
    assert scenario.name and scenario.start < scenario.end
    assert scenario.description and "\n" not in scenario.description
    assert len(scenario.source) > 20


@pytest.mark.parametrize("symbol", ["GSPC", "SPY"])
def test_every_window_starts_and_ends_on_a_trading_day(symbol):
    index = load_bundled(symbol).index
    for scenario in LIBRARY.values():
        assert pd.Timestamp(scenario.start) in index, (scenario.id, scenario.start)
        assert pd.Timestamp(scenario.end) in index, (scenario.id, scenario.end)


HIGH_LOOKBACK_BARS = 5  # "prior": the highest close of the week (5 trading days) before it


def prior_closing_high(close: pd.Series, day: str) -> pd.Timestamp:
    """The highest close among ``day`` and the ``HIGH_LOOKBACK_BARS`` trading days before it
    (``day`` itself when it is the high, so a correct start re-derives to itself)."""
    at = close.index.get_loc(pd.Timestamp(day))
    return close.iloc[max(at - HIGH_LOOKBACK_BARS, 0):at + 1].idxmax()


def closing_low(close: pd.Series, high: pd.Timestamp) -> pd.Timestamp:
    """The lowest close of the fall from ``high``: from ``high`` until the index first closes
    back at or above it (or the end of the data)."""
    at = close.index.get_loc(high)
    back = np.flatnonzero(close.iloc[at + 1:].to_numpy() >= close.iloc[at])
    stop = at + 1 + int(back[0]) if back.size else len(close)
    return close.iloc[at:stop].idxmin()


def day(stamp: pd.Timestamp) -> str:
    return stamp.strftime("%Y-%m-%d")


@pytest.mark.parametrize("scenario_id", FALLS)
def test_a_fall_runs_from_the_prior_closing_high_to_the_closing_low(gspc, scenario_id):
    # The library's rule re-derived from the index itself: start = the highest close of the
    # week before the stated start, end = the lowest close before the index regains that high.
    scenario = LIBRARY[scenario_id]
    high = prior_closing_high(gspc, scenario.start)
    low = closing_low(gspc, high)
    assert (scenario.start, scenario.end) == (day(high), day(low))
    assert gspc.loc[low] / gspc.loc[high] - 1 < -0.03  # a real fall


def test_the_flash_crash_runs_from_the_high_two_weeks_before_to_the_low_two_weeks_after(gspc):
    # Its stated rule: the highest close of the 10 trading days before 2010-05-06 and the lowest
    # close of the 10 trading days after it (the fall went on into July, for other reasons).
    scenario = LIBRARY["flash_crash_2010"]
    crash = gspc.index.get_loc(pd.Timestamp("2010-05-06"))
    assert scenario.start == day(gspc.iloc[crash - 10:crash].idxmax())
    assert scenario.end == day(gspc.iloc[crash + 1:crash + 11].idxmin())


def test_the_recovery_runs_from_the_crash_low_to_the_first_new_record(gspc):
    crash, recovery = LIBRARY["covid_crash_2020"], LIBRARY["covid_recovery_2020"]
    assert recovery.start == crash.end
    record = gspc.loc[:crash.end].max()
    after = gspc.loc[crash.end:]
    assert recovery.end == day(after[after > record].index[0])


def test_bank_stress_runs_over_the_svb_failure(gspc):
    scenario = LIBRARY["bank_stress_2023"]
    assert scenario.start < "2023-03-10" <= scenario.end  # SVB was closed on 2023-03-10
    assert day(gspc.loc["2023-03-01":"2023-03-31"].idxmin()) == scenario.end


def test_index_levels_quoted_in_the_sources_match_the_data(gspc):
    quoted = 0
    for scenario in LIBRARY.values():
        for level, day in re.findall(r"(\d{3,4}\.\d\d) on (\d{4}-\d\d-\d\d)", scenario.source):
            assert gspc.loc[day] == pytest.approx(float(level), abs=0.006), (scenario.id, day)
            quoted += 1
    assert quoted >= 15


def test_select_scenarios_keeps_the_order_given_and_drops_repeats():
    chosen = select_scenarios(["covid_crash_2020", "gfc_2008", "covid_crash_2020"])
    assert [s.id for s in chosen] == ["covid_crash_2020", "gfc_2008"]
    assert select_scenarios(None) == list(LIBRARY.values())
    assert select_scenarios([]) == []


def test_an_unknown_id_is_rejected_with_the_valid_ids():
    with pytest.raises(StressInputError) as error:
        select_scenarios(["covid_2020"])
    message = str(error.value)
    assert "'covid_2020'" in message and all(i in message for i in CONTRACT_IDS)


def test_a_custom_window_is_checked_and_marked_custom():
    window = custom_scenario("my_dip", "2021-09-02", "2021-10-04", name="Sept 2021")
    assert window == Scenario("my_dip", "Sept 2021", "2021-09-02", "2021-10-04", "",
                              "user-defined window", custom=True)
    assert custom_scenario("x1", "2021-01-04", "2021-02-01").name == "x1"


@pytest.mark.parametrize(("args", "problem"), [
    (("gfc_2008", "2008-01-02", "2008-02-01"), "built-in"),
    (("Bad Id", "2008-01-02", "2008-02-01"), "a-z"),
    (("dip", "2008-02-01", "2008-01-02"), "must be after start"),
    (("dip", "2008-02-01", "2008-02-01"), "must be after start"),
    (("dip", "01/02/2008", "2008-02-01"), "ISO date"),
    (("dip", "2008-02-30", "2008-03-01"), "ISO date"),
    (("dip", 20080102, "2008-03-01"), "ISO date"),
])
def test_bad_custom_windows_say_what_is_wrong(args, problem):
    with pytest.raises(StressInputError, match=problem):
        custom_scenario(*args)


def test_custom_windows_from_json_name_the_item_and_field():
    parsed = parse_custom_scenarios([{"id": "a", "start": "2021-01-04", "end": "2021-02-01"},
                                     {"id": "b", "start": "2021-03-01", "end": "2021-04-01",
                                      "name": "March", "description": "a dip"}])
    assert [(s.id, s.name, s.description) for s in parsed] == [("a", "a", ""),
                                                               ("b", "March", "a dip")]
    assert parse_custom_scenarios(None) == []
    with pytest.raises(StressInputError, match=r"custom_scenarios\[1\]\.end"):
        parse_custom_scenarios([{"id": "a", "start": "2021-01-04", "end": "2021-02-01"},
                                {"id": "b", "start": "2021-03-01", "end": "2020-04-01"}])
    with pytest.raises(StressInputError, match=r"custom_scenarios\[1\]\.id: 'a' is used twice"):
        parse_custom_scenarios([{"id": "a", "start": "2021-01-04", "end": "2021-02-01"},
                                {"id": "a", "start": "2021-03-01", "end": "2021-04-01"}])
    with pytest.raises(StressInputError, match=r"custom_scenarios\[0\]\.colour: unknown"):
        parse_custom_scenarios([{"id": "a", "start": "2021-01-04", "end": "2021-02-01",
                                 "colour": "red"}])
    with pytest.raises(StressInputError, match="must be a list"):
        parse_custom_scenarios({"id": "a"})
