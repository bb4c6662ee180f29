"""Every kind of bad row is reported with its date and reason; nothing is dropped."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from data.bundled import bundled_symbols, load_bundled
from data.csv_prices import CsvPriceError, check_prices_csv
from data.errors import PriceValidationError
from data.validate import validate_prices
from tests.unadjusted import unadjusted_tsla


def bars(rows: list[tuple]) -> pd.DataFrame:
    """Frame from (date, open, high, low, close, volume) rows, kept in the given order."""
    frame = pd.DataFrame(rows, columns=["date", "open", "high", "low", "close", "volume"])
    return frame.set_index(pd.DatetimeIndex(frame.pop("date"), name="date"))


GOOD = [("2024-01-02", 10.0, 11.0, 9.0, 10.5, 100.0), ("2024-01-03", 10.5, 11.5, 10.0, 11.0, 120.0),
        ("2024-01-04", 11.0, 11.2, 10.1, 10.2, 90.0)]


def kinds(frame, **kwargs) -> list[tuple[str, str]]:
    return [(i.date, i.kind) for i in validate_prices(frame, **kwargs).issues]


def test_clean_bars_have_no_issues():
    report = validate_prices(bars(GOOD))
    assert report.ok and report.rows == 3


@pytest.mark.parametrize("symbol", bundled_symbols())
def test_the_bundled_sample_passes_every_check(symbol):
    assert validate_prices(load_bundled(symbol)).issues == []


def test_unsorted_dates_are_reported_with_the_date_out_of_order():
    frame = bars([GOOD[1], GOOD[0], GOOD[2]])
    assert kinds(frame) == [("2024-01-02", "unsorted_dates")]
    assert "comes after 2024-01-03" in validate_prices(frame).issues[0].message


def test_duplicate_dates_are_reported():
    frame = bars([GOOD[0], GOOD[1], ("2024-01-03", 10.5, 11.5, 10.0, 11.0, 1.0)])
    assert kinds(frame) == [("2024-01-03", "duplicate_date")]


def test_missing_prices_are_reported_with_the_columns():
    frame = bars([GOOD[0], ("2024-01-03", np.nan, 11.5, 10.0, np.nan, 1.0), GOOD[2]])
    report = validate_prices(frame)
    assert kinds(frame) == [("2024-01-03", "missing_price")]
    assert report.issues[0].message == "missing value(s) in open, close"


def test_zero_or_negative_prices_are_reported():
    frame = bars([GOOD[0], ("2024-01-03", 10.5, 11.5, 0.0, 11.0, 1.0), GOOD[2]])
    assert kinds(frame) == [("2024-01-03", "non_positive_price")]


def test_high_below_open_or_close_is_reported():
    frame = bars([GOOD[0], ("2024-01-03", 10.5, 10.9, 10.0, 11.0, 1.0), GOOD[2]])
    report = validate_prices(frame)
    assert kinds(frame) == [("2024-01-03", "high_below_open_close")]
    assert report.issues[0].message == "high 10.9 is below max(open 10.5, close 11)"


def test_low_above_open_or_close_is_reported():
    frame = bars([GOOD[0], GOOD[1], ("2024-01-04", 11.0, 11.2, 10.5, 10.2, 9.0)])
    assert kinds(frame) == [("2024-01-04", "low_above_open_close")]


def test_negative_volume_is_reported():
    frame = bars([GOOD[0], ("2024-01-03", 10.5, 11.5, 10.0, 11.0, -5.0), GOOD[2]])
    assert kinds(frame) == [("2024-01-03", "negative_volume")]


def test_an_absurd_jump_without_a_split_is_reported():
    frame = bars([GOOD[0], ("2024-01-03", 4.1, 4.3, 4.0, 4.2, 240.0)])  # x0.40: no split ratio
    report = validate_prices(frame)
    assert kinds(frame) == [("2024-01-03", "unexplained_jump")]
    assert "close moved from 10.5 to 4.2 (x0.40) with no split recorded" in str(report.issues[0])


def test_a_halving_at_the_open_is_reported_as_an_unadjusted_2_for_1_split():
    frame = bars([GOOD[0], ("2024-01-03", 5.2, 5.4, 5.0, 5.25, 240.0)])
    report = validate_prices(frame)
    assert kinds(frame) == [("2024-01-03", "unadjusted_split")]
    assert "(x0.50), like an unadjusted 2:1 split" in str(report.issues[0])


def test_tesla_with_its_splits_undone_is_reported_on_both_split_days():
    report = validate_prices(unadjusted_tsla())
    assert [(i.date, i.kind) for i in report.issues] == [
        ("2020-08-31", "unadjusted_split"), ("2022-08-25", "unadjusted_split")]
    assert "unadjusted 5:1 split" in report.issues[0].message
    assert "unadjusted 3:1 split" in report.issues[1].message


def test_a_reverse_split_is_reported():
    frame = bars([GOOD[0], ("2024-01-03", 104.0, 110.0, 101.0, 108.0, 11.0)])  # 1:10, volume /10
    assert kinds(frame) == [("2024-01-03", "unadjusted_split")]
    assert "unadjusted 1:10 split" in validate_prices(frame).issues[0].message


def test_a_3_for_2_split_is_told_from_a_crash_of_the_same_size_by_its_volume():
    history = [(f"2024-01-{d:02d}", 10.0, 10.6, 9.8, 10.5, 100.0) for d in range(2, 12)]
    split = bars([*history, ("2024-01-12", 7.0, 7.2, 6.8, 7.05, 160.0)])  # 1.6x the volume
    crash = bars([*history, ("2024-01-12", 7.0, 7.2, 6.5, 6.9, 900.0)])  # a 9x volume surge
    assert kinds(split) == [("2024-01-12", "unadjusted_split")]
    assert "unadjusted 3:2 split" in validate_prices(split).issues[0].message
    assert kinds(crash) == []


def test_a_jump_absorbed_by_the_adjusted_close_or_a_recorded_split_is_fine():
    frame = bars([GOOD[0], ("2024-01-03", 5.2, 5.4, 5.0, 5.25, 240.0)])
    frame["adj_close"] = [5.25, 5.25]  # split-adjusted history: no jump
    assert kinds(frame) == []
    frame = frame.drop(columns="adj_close")
    splits = pd.Series([2.0], index=pd.DatetimeIndex(["2024-01-03"]))
    assert kinds(frame, splits=splits) == []


def test_a_real_crash_below_the_threshold_is_not_flagged():
    frame = bars([GOOD[0], ("2024-01-03", 7.0, 7.2, 6.5, 6.9, 500.0)])  # -34 %
    assert kinds(frame) == []


def test_errors_stop_with_every_bad_row_listed_and_warnings_do_not():
    frame = bars([GOOD[0], ("2024-01-03", np.nan, 11.5, 10.0, 11.0, -1.0),
                  ("2024-01-04", 11.0, 11.2, -1.0, 10.2, 9.0)])
    report = validate_prices(frame)
    assert [i.severity for i in report.issues].count("warning") == 1
    with pytest.raises(PriceValidationError) as caught:
        report.raise_for_errors("SPY")
    message = str(caught.value)
    assert "SPY: 2 bad row(s)" in message
    assert "2024-01-03: missing value(s) in open" in message
    assert "2024-01-04: zero or negative price in low" in message
    assert len(caught.value.issues) == 2
    assert len(frame) == 3  # nothing dropped


def test_an_uploaded_csv_goes_through_the_same_checks():
    text = ("date,open,high,low,close,volume\n"
            "2024-01-02,10,11,9,10.5,100\n"
            "2024-01-03,10.5,10.9,10,11,-3\n")
    frame, report = check_prices_csv(io.StringIO(text))
    assert len(frame) == 2
    assert [(i.date, i.kind) for i in report.issues] == [
        ("2024-01-03", "high_below_open_close"), ("2024-01-03", "negative_volume")]


def test_an_uploaded_csv_with_bad_rows_names_each_of_them():
    text = ("date,open,high,low,close\n"
            "2024-01-02,10,11,9,10.5\n"
            "2024-01-03,10.5,11,0,11\n"
            "2024-01-04,10.5,11,-2,11\n")
    with pytest.raises(CsvPriceError, match=r"(?s)2024-01-03: zero or negative.*2024-01-04"):
        check_prices_csv(io.StringIO(text))


def test_a_malformed_csv_lists_every_unparsable_row_with_its_date_and_reason():
    text = ("date,open,high,low,close,volume\n"
            "2024-01-02,10,11,9,10.5,100\n"
            "2024-01-03,10.5,11,10,,120\n"          # line 3: empty close
            "2024-01-04,11,11.2,10.1,10.2,n/a\n"    # line 4: volume not a number
            "01/05/2024,11,11.2,10.1,10.2,90\n"     # line 5: not an ISO date
            "2024-01-08,abc,11.2,10.1,,90\n"        # line 6: two bad cells
            "2024-01-08,11,11.2,10.1,10.2,90\n")    # line 7: repeated date
    with pytest.raises(CsvPriceError) as caught:
        check_prices_csv(io.StringIO(text))
    assert str(caught.value).splitlines() == [
        "the uploaded CSV: 5 bad row(s) to fix:",
        "  2024-01-03 (line 3): close is empty",
        "  2024-01-04 (line 4): volume 'n/a' is not a number",
        "  01/05/2024 (line 5): date '01/05/2024' is not an ISO date (YYYY-MM-DD)",
        "  2024-01-08 (line 6): open 'abc' is not a number; close is empty",
        "  2024-01-08 (line 7): the date repeats an earlier row; keep one row per date",
    ]


def test_a_csv_with_many_bad_rows_lists_the_first_twenty_and_counts_the_rest():
    rows = "".join(f"2024-02-{d:02d},10,11,9,x,100\n" for d in range(1, 26))
    with pytest.raises(CsvPriceError) as caught:
        check_prices_csv(io.StringIO("date,open,high,low,close,volume\n" + rows))
    lines = str(caught.value).splitlines()
    assert lines[0] == "the uploaded CSV: 25 bad row(s) to fix:"
    assert lines[1] == "  2024-02-01 (line 2): close 'x' is not a number"
    assert lines[20] == "  2024-02-20 (line 21): close 'x' is not a number"
    assert lines[21:] == ["  ... and 5 more bad row(s)"]


def test_out_of_order_csv_rows_are_each_named():
    text = ("date,open,high,low,close\n2024-01-03,10,11,9,10\n2024-01-02,10,11,9,10\n"
            "2024-01-05,10,11,9,10\n2024-01-04,10,11,9,10\n")
    with pytest.raises(CsvPriceError) as caught:
        check_prices_csv(io.StringIO(text))
    message = str(caught.value)
    assert "2 bad row(s)" in message
    assert "2024-01-02 (line 3): comes before the line above (2024-01-03)" in message
    assert "2024-01-04 (line 5): comes before the line above (2024-01-05)" in message
