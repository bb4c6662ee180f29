"""Isolation: for EVERY route that takes an id (found in the URL map, so new routes are covered
automatically), user B gets 404 on user A's objects, and A's data is unchanged afterwards."""

from __future__ import annotations

import re

import pytest

from app.api import API_PREFIX
from app.services import session_scope
from tests.app.conftest import example_spec
from tests.app.test_api_runs import start_run
from tests.app.test_api_strategies import create
from tests.app.test_auth import error_of

#: A valid body for each (method, route) that needs one, so B's request fails on ownership only.
BODIES = {
    ("PUT", "/strategies/<strategy_id>"): lambda: {"name": "hijacked", "spec": example_spec()},
    ("POST", "/strategies/<strategy_id>/duplicate"): lambda: {"name": "stolen copy"},
}


def id_routes(dash_app) -> list[tuple[str, str, tuple[str, ...]]]:
    """``(method, rule, id arguments)`` of every API route with an id in its path."""
    routes = []
    for rule in dash_app.server.url_map.iter_rules():
        if not rule.rule.startswith(API_PREFIX) or not rule.arguments:
            continue
        ids = tuple(sorted(a for a in rule.arguments if a.endswith("_id")))
        if not ids:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            routes.append((method, rule.rule, ids))
    return routes


def snapshot(user) -> dict:
    """Everything A can see through the API."""
    strategies = user.get("/strategies").get_json()
    runs = user.get("/runs").get_json()
    results = {run["id"]: user.get(f"/runs/{run['id']}/result").get_json()
               for run in runs["runs"]}
    return {"strategies": strategies, "runs": runs, "results": results,
            "details": [user.get(f"/runs/{r['id']}").get_json() for r in runs["runs"]]}


def test_every_id_route_answers_404_to_another_user_and_changes_nothing(app, user_a, user_b):
    strategy = create(user_a, "A's strategy")
    run = start_run(user_a, strategy["id"])
    ids = {"strategy_id": strategy["id"], "run_id": run["id"]}
    before = snapshot(user_a)
    routes = id_routes(app)
    assert {rule.removeprefix(API_PREFIX) for _, rule, _ in routes} >= {
        "/strategies/<int(min=1, max=2147483647):strategy_id>",
        "/strategies/<int(min=1, max=2147483647):strategy_id>/duplicate",
        "/runs/<int(min=1, max=2147483647):run_id>",
        "/runs/<int(min=1, max=2147483647):run_id>/cancel",
        "/runs/<int(min=1, max=2147483647):run_id>/result"}
    checked = []
    for method, rule, arguments in routes:
        path = rule
        for name in arguments:
            path = re.sub(rf"<[^>]*:{name}>", str(ids[name]), path)
        key = (method, re.sub(r"<[^>]*:(\w+)>", r"<\1>", rule).removeprefix(API_PREFIX))
        body = BODIES.get(key, lambda: None)()
        answer = user_b.call(method, path.removeprefix(API_PREFIX),
                             **({"json": body} if body is not None else {}))
        assert answer.status_code == 404, (method, path, answer.get_json())
        error = error_of(answer)
        assert error["code"] == "not_found" and error["fields"] == {}
        assert "A's strategy" not in answer.get_data(as_text=True)
        checked.append(key)
    assert len(checked) >= 8
    # ids in bodies and filters are scoped too
    assert user_b.post("/runs", json={"strategy_id": strategy["id"]}).status_code == 404
    assert user_b.get(f"/runs?strategy_id={strategy['id']}").get_json() == {"runs": [],
                                                                            "total": 0}
    assert user_b.get("/strategies").get_json() == {"strategies": [], "total": 0}
    assert snapshot(user_a) == before


def test_the_strategies_page_shows_and_acts_on_the_owners_strategies_only(app, user_a, user_b):
    from pages.strategies import apply_action, strategy_table

    strategy = create(user_a, "A's private strategy")
    with app.server.test_request_context():
        assert "A's private strategy" in str(strategy_table(user_a.id))
        assert "A's private strategy" not in str(strategy_table(user_b.id))
        for action in ("duplicate", "delete"):
            message, color = apply_action(user_b.id, action, strategy["id"])
            assert color == "warning" and "not found" in message
    assert user_a.get(f"/strategies/{strategy['id']}").get_json()["strategy"]["name"] == \
        "A's private strategy"
    assert user_a.get("/strategies").get_json()["total"] == 1


@pytest.mark.parametrize("service", ["strategies", "runs"])
def test_services_scope_every_lookup_to_the_owner(app, user_a, user_b, service):
    from app.runs import service as runs
    from app.services import strategies
    from app.services.errors import NotFoundError

    strategy = create(user_a)
    run = start_run(user_a, strategy["id"])
    sessions = app.server.extensions["arena"].sessions
    calls = {
        "strategies": [lambda s: strategies.get_strategy(s, user_b.id, strategy["id"]),
                       lambda s: strategies.update_strategy(s, user_b.id, strategy["id"],
                                                            name="x"),
                       lambda s: strategies.delete_strategy(s, user_b.id, strategy["id"]),
                       lambda s: strategies.duplicate_strategy(s, user_b.id, strategy["id"])],
        "runs": [lambda s: runs.get_run(s, user_b.id, run["id"]),
                 lambda s: runs.delete_run(s, user_b.id, run["id"]),
                 lambda s: runs.cancel_run(s, user_b.id, run["id"]),
                 lambda s: runs.get_result(s, user_b.id, run["id"]),
                 lambda s: runs.create_run(s, user_b.id, strategy["id"])],
    }[service]
    for call in calls:
        with pytest.raises(NotFoundError), session_scope(sessions) as session:
            call(session)
