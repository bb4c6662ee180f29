"""The stress page's callbacks without a browser: custom windows from the text box, a bad option
shown next to the form, and another user's run id answering "not found"."""

from __future__ import annotations

import pytest
from flask import g

from app import create_app
from app.services import session_scope
from app.services.strategies import create_strategy
from engine.spec import load_example
from tests.app.conftest import create_user, sqlite_settings


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    dash_app = create_app(sqlite_settings(tmp_path_factory.mktemp("page") / "instance"))
    yield dash_app
    dash_app.server.extensions["arena"].engine.dispose()


@pytest.fixture(scope="module")
def page(app):
    """pages.stress (importable once a Dash app with pages exists)."""
    import pages.stress

    return pages.stress


def as_user(app, user_id: int):
    context = app.server.test_request_context()
    context.push()
    g.arena_user_id = user_id
    return context


def test_windows_are_read_one_per_line(page):
    assert page.parse_windows("dip 2021-09-02 2021-10-04\n\n  x2 2022-01-03 2022-02-01 ") == [
        {"id": "dip", "start": "2021-09-02", "end": "2021-10-04"},
        {"id": "x2", "start": "2022-01-03", "end": "2022-02-01"}]
    assert page.parse_windows(None) == []
    with pytest.raises(ValueError, match="line 2: write id start end"):
        page.parse_windows("dip 2021-09-02 2021-10-04\n2021-09-02 2021-10-04")


def test_a_bad_option_is_shown_with_its_field_and_nothing_runs(app, page):
    user = create_user(app)
    with session_scope(app.server.extensions["arena"].sessions) as session:
        strategy = create_strategy(session, user.id, load_example("rsi_mean_reversion").to_dict())
        strategy_id = strategy.id
    context = as_user(app, user.id)
    try:
        run_id, disabled, feedback, _ = page.run_stress_test(
            1, strategy_id, ["covid_crash_2020"], [], "dip 2021-10-04 2021-09-02", 50, 252, 20,
            0)
    finally:
        context.pop()
    assert (run_id, disabled) == (dash_no_update(), True)
    assert "custom_scenarios[0].end: must be after start" in str(feedback)


def test_another_user_s_run_is_not_found(app, page):
    owner, stranger = create_user(app), create_user(app)
    with session_scope(app.server.extensions["arena"].sessions) as session:
        strategy = create_strategy(session, owner.id, load_example("rsi_mean_reversion").to_dict())
        strategy_id = strategy.id
    context = as_user(app, owner.id)
    try:
        run_id, *_ = page.run_stress_test(1, strategy_id, ["covid_crash_2020"], [], "", 0,
                                          252, 20, 0)
    finally:
        context.pop()
    context = as_user(app, stranger.id)
    try:
        *_, stage, results, stop = page.follow_run(1, run_id)
    finally:
        context.pop()
    assert stage == f"run {run_id} not found" and results is None and stop is True


def dash_no_update():
    from dash import no_update

    return no_update
