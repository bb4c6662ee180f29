"""``GET /prices/{symbol}`` dates: anything that can't select a bar is a 422 naming the
parameter, never a 500 from the data layer or pandas."""

from __future__ import annotations

from datetime import date

import pytest

from app.api.prices import check_date_range
from tests.app.test_auth import error_of


@pytest.mark.parametrize(("query", "field", "message"), [
    ({"start": "2030-01-01"}, "start", "must not be after today"),
    ({"end": "0199-06-06"}, "end", "must be between 1970-01-02 and 2199-12-31"),
    ({"end": "2263-01-01"}, "end", "must be between 1970-01-02 and 2199-12-31"),
    ({"start": "1600-01-01"}, "start", "must be between 1970-01-02 and 2199-12-31"),
    ({"start": "2021-01-05", "end": "2021-01-04"}, "end", "must not be before start"),
    ({"start": "2021-02-30"}, "start", "must be a date YYYY-MM-DD"),
])
def test_dates_that_select_no_bar_get_a_422_naming_the_parameter(user_a, query, field, message):
    answer = user_a.get("/prices/SPY", query_string=query)
    assert answer.status_code == 422, answer.get_json()
    fields = error_of(answer)["fields"]
    assert list(fields) == [field] and fields[field].startswith(message)


def test_a_range_inside_the_bounds_still_answers_bars(user_a):
    answer = user_a.get("/prices/SPY", query_string={"start": "2020-01-02", "end": "2020-01-10"})
    assert answer.status_code == 200
    bars = answer.get_json()["bars"]
    assert bars and bars[0]["date"] >= "2020-01-02" and bars[-1]["date"] <= "2020-01-10"


def test_today_and_a_far_end_are_allowed():
    check_date_range("2024-06-03", "2024-06-03", date(2024, 6, 3))
    check_date_range("1970-01-02", "2199-12-31", date(2024, 6, 3))
    check_date_range(None, "1970-01-02", date(2024, 6, 3))
