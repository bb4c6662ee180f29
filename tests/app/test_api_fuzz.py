"""The OpenAPI document matches the routes, and property-based requests against EVERY operation
it describes (random and near-valid bodies, path and query parameters, garbage JSON) never get
a 500: each answer is documented, and every error has the JSON error shape."""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from argon2 import PasswordHasher
from flask_jwt_extended import create_access_token, create_refresh_token
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app import create_app
from app.api import API_PREFIX
from app.api.openapi import openapi_document
from app.models import BacktestRun, Strategy
from app.services.users import set_password_hasher
from tests.app.conftest import example_spec, register_and_login, sqlite_settings
from tests.app.test_api_runs import start_run
from tests.app.test_api_strategies import create

DOCUMENT = openapi_document()
OPERATIONS = [(path, method) for path, item in DOCUMENT["paths"].items() for method in item]
ALWAYS_POSSIBLE = {"404", "405"}  # a garbage path parameter no route matches; never a 500


def resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = DOCUMENT["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def test_the_document_lists_exactly_the_api_routes(tmp_path):
    dash_app = create_app(sqlite_settings(tmp_path / "instance"))
    served = set()
    for rule in dash_app.server.url_map.iter_rules():
        if rule.rule.startswith(API_PREFIX):
            path = re.sub(r"<(?:[^>:]*:)?(\w+)>", r"{\1}", rule.rule.removeprefix(API_PREFIX))
            served |= {(path, method.lower()) for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert served == set(OPERATIONS)
    assert DOCUMENT["openapi"].startswith("3.")
    answer = dash_app.server.test_client().get(f"{API_PREFIX}/openapi.json")
    assert answer.status_code == 200 and answer.get_json() == json.loads(json.dumps(DOCUMENT))


def test_every_reference_resolves_and_every_path_parameter_is_declared():
    text = json.dumps(DOCUMENT)
    for ref in set(re.findall(r'"\$ref": "#/components/schemas/([^"]+)"', text)):
        assert ref in DOCUMENT["components"]["schemas"], ref
    for path, method in OPERATIONS:
        operation = DOCUMENT["paths"][path][method]
        declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
        assert declared == set(re.findall(r"{(\w+)}", path)), (method, path)
        assert operation["responses"], (method, path)
        for scheme in operation["security"]:
            assert set(scheme) <= set(DOCUMENT["components"]["securitySchemes"])


# --- fuzzing -----------------------------------------------------------------------------------


@dataclass
class World:
    """The owner's strategy and run (recreated when a fuzzed DELETE removed them) and another
    user's strategy."""

    app: Any
    owner: Any
    foreign_strategy_id: int
    strategy_id: int = 0
    run_id: int = 0

    def ids(self) -> list[int]:
        with self.app.server.extensions["arena"].sessions() as session:
            strategy_exists = session.get(Strategy, self.strategy_id) is not None
            run_exists = session.get(BacktestRun, self.run_id) is not None
        if not strategy_exists:
            self.strategy_id, run_exists = create(self.owner, "fuzz target")["id"], False
        if not run_exists:
            self.run_id = start_run(self.owner, self.strategy_id)["id"]
        return [self.strategy_id, self.run_id, self.foreign_strategy_id]


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Any:
    previous = set_password_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    dash_app = create_app(sqlite_settings(Path(tmp_path_factory.mktemp("fuzz")) / "instance",
                                          ARENA_LOGIN_RATE_LIMIT="1000",
                                          ARENA_REGISTER_RATE_LIMIT="1000"))
    owner, other = register_and_login(dash_app), register_and_login(dash_app)
    yield World(dash_app, owner, create(other, "someone else's")["id"])
    set_password_hasher(previous)
    dash_app.server.extensions["arena"].close()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=12),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=8,
)
SPEC_PATHS = ["name", "symbol", "benchmark", "start", "end", "initial_cash", "direction",
              "fees_bps", "fill", "sizing", "sizing.method", "sizing.value", "entry", "exit",
              "entry.all", "entry.all.0", "entry.all.0.op", "entry.all.0.left",
              "entry.all.0.left.params.period", "entry.all.0.right", "exit.any.0.left.indicator",
              "stop_loss_pct", "fractional", "version"]


def _mutated_spec(path: str, value: Any, delete: bool) -> dict[str, Any]:
    spec = copy.deepcopy(example_spec())
    parts = [int(p) if p.isdigit() else p for p in path.split(".")]
    parent: Any = spec
    for part in parts[:-1]:
        parent = parent[part]
    if delete and isinstance(parent, dict):
        parent.pop(parts[-1], None)
    else:
        parent[parts[-1]] = value
    return spec


specs = st.one_of(
    st.builds(_mutated_spec, st.sampled_from(SPEC_PATHS), json_values, st.booleans()),
    st.just(example_spec()), json_values,
)


def _field_values(name: str, ids: list[int], plausible: bool) -> st.SearchStrategy:
    wild = st.nothing() if plausible else json_values
    if name == "spec":
        return specs if not plausible else st.builds(
            _mutated_spec, st.sampled_from(SPEC_PATHS), json_values, st.booleans()) | st.just(
            example_spec())
    if name.endswith("_id") or name == "version":
        return st.sampled_from(ids) | st.integers(-3, 2**40) | wild
    if name == "kind":
        return st.sampled_from(["backtest", "backtest", "stress", "sweep", "x"]) | wild
    if name == "email":
        return st.emails() | wild
    if name == "password":
        return st.text(min_size=6, max_size=20) | wild
    if name in ("name", "refresh_token"):
        return st.text(max_size=30) | st.none() | wild
    return json_values


def bodies(operation: dict[str, Any], ids: list[int]) -> st.SearchStrategy:
    """Near-valid bodies (required fields with plausible values, one part of the spec changed),
    bodies shaped like the schema with wrong values, anything JSON, or bytes that are no JSON.
    """
    if "requestBody" not in operation:
        return st.none() | json_values.map(lambda v: ("json", v))
    schema = resolve(operation["requestBody"]["content"]["application/json"]["schema"])
    names = list(schema.get("properties", {}))
    required = set(schema.get("required", []))
    near_valid = st.fixed_dictionaries(
        {n: _field_values(n, ids, True) for n in names if n in required},
        optional={n: _field_values(n, ids, True) for n in names if n not in required})
    shaped = st.fixed_dictionaries(
        {}, optional={n: _field_values(n, ids, False) for n in [*names, "unexpected"]})
    return st.one_of(near_valid.map(lambda v: ("json", v)), shaped.map(lambda v: ("json", v)),
                     json_values.map(lambda v: ("json", v)),
                     st.binary(max_size=40).map(lambda v: ("raw", v)), st.none())


def path_values(name: str, ids: list[int]) -> st.SearchStrategy:
    if name == "symbol":
        return st.sampled_from(["SPY", "spy", "ZZZZ", "^GSPC", "BRK.B"]) | st.text(max_size=25)
    return st.sampled_from(ids) | st.integers(-5, 2**40) | st.text(max_size=8)


def query_values(operation: dict[str, Any], ids: list[int]) -> st.SearchStrategy:
    names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]
    value = (st.sampled_from(["2020-01-02", "2021-12-31", "1", "0", "backtest", "failed"])
             | st.integers(-5, 10**13).map(str) | st.text(max_size=10)
             | st.sampled_from(ids).map(str))
    return st.fixed_dictionaries({}, optional={n: value for n in names})


def check_answer(operation: dict[str, Any], answer: Any, label: str) -> None:
    status = answer.status_code
    assert status < 500, f"{label} -> {status}: {answer.get_data(as_text=True)[:500]}"
    assert str(status) in operation["responses"] or str(status) in ALWAYS_POSSIBLE, \
        f"{label} -> undocumented {status}: {answer.get_data(as_text=True)[:300]}"
    if status >= 400:
        body = answer.get_json()
        assert body is not None and set(body) == {"error"}, label
        assert set(body["error"]) == {"code", "message", "fields"}, label
        assert isinstance(body["error"]["fields"], dict), label
    elif status != 204 and status in (200, 201, 202):
        schema = operation["responses"][str(status)].get("content", {}).get(
            "application/json", {}).get("schema")
        if schema:
            required = resolve(schema).get("required", [])
            assert set(required) <= set(answer.get_json()), label


@pytest.mark.parametrize(("path", "method"), OPERATIONS, ids=[f"{m.upper()} {p}"
                                                               for p, m in OPERATIONS])
@settings(max_examples=25, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_no_request_gets_a_500(world, path, method, data):
    operation = DOCUMENT["paths"][path][method]
    ids = world.ids()
    params = {name: data.draw(path_values(name, ids), label=name)
              for name in re.findall(r"{(\w+)}", path)}
    url = API_PREFIX + re.sub(r"{(\w+)}", lambda m: quote(str(params[m.group(1)]), safe=""),
                              path)
    query = data.draw(query_values(operation, ids), label="query")
    body = data.draw(bodies(operation, ids), label="body")
    headers = {}
    if operation["security"]:
        with world.app.server.app_context():
            refresh = any("bearerRefresh" in s for s in operation["security"]) and \
                not any("bearerAuth" in s for s in operation["security"])
            token = (create_refresh_token if refresh else create_access_token)(
                identity=str(world.owner.id))
        headers["Authorization"] = f"Bearer {token}"
    kwargs: dict[str, Any] = {"query_string": query, "headers": headers}
    if body is not None and body[0] == "json":
        kwargs["data"], kwargs["content_type"] = json.dumps(body[1]), "application/json"
    elif body is not None:
        kwargs["data"], kwargs["content_type"] = body[1], "application/json"
    client = world.app.server.test_client()
    answer = client.open(url, method=method.upper(), **kwargs)
    check_answer(operation, answer, f"{method.upper()} {url} {query} {body}")
