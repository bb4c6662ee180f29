"""``GET /api/v1/openapi.json``: the OpenAPI 3.1 document of the REST API (public).

Paths are written next to the routes; ``tests/app/test_api_fuzz.py`` checks that it names
exactly the routes the server has, and fuzzes every operation it describes. The strategy spec
and the run options schemas come from their pydantic models in the engine
(``engine.spec.spec_json_schema``, ``engine.options``), so they can't drift.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from flask import Blueprint, Response, jsonify
from pydantic import BaseModel

from app.api import MAX_ID, MAX_PAGE_SIZE
from app.models import NAME_MAX_LENGTH, RUN_KINDS, RUN_STATUSES
from app.runs.service import AVAILABLE_KINDS
from app.services.prices import SYMBOL_PATTERN
from app.services.users import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from app.version import __version__
from engine.options import RobustnessOptions, StressOptions, SweepOptions, WalkForwardOptions
from engine.spec import spec_json_schema

bp = Blueprint("openapi", __name__)

BEARER = [{"bearerAuth": []}, {"cookieAuth": []}]
REFRESH = [{"bearerRefresh": []}, {"refreshCookie": []}]


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description: str) -> dict[str, Any]:
    return _json(_ref("Error"), description)


def _body(schema_name: str, required: bool = True) -> dict[str, Any]:
    return {"required": required, "content": {"application/json": {"schema": _ref(schema_name)}}}


def _id_param(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True,
            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID}}


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema,
            "description": description}


def _op(summary: str, responses: dict[str, Any], *, security: list | None = BEARER,
        body: dict[str, Any] | None = None, parameters: list | None = None,
        tag: str) -> dict[str, Any]:
    errors = {"401": _error("not logged in, or the token is expired, revoked or invalid; "
                            "a cookie request without the CSRF header"),
              "503": _error("auth_unavailable: the token revocation list cannot be read "
                            "right now; retry in a moment")} if security else {}
    if body is not None:
        errors |= {"400": _error("malformed JSON"),
                   "413": _error("the body is larger than ARENA_MAX_REQUEST_BYTES"),
                   "415": _error("the body is not JSON (Content-Type: application/json)"),
                   "422": _error("invalid values (`fields` maps each path to the problem); "
                                 "invalid_text: a string with NUL or a lone surrogate")}
    if any(p["in"] == "query" for p in parameters or []):
        errors |= {"422": _error("invalid query parameter; `fields` names it")}
    operation: dict[str, Any] = {"summary": summary, "tags": [tag],
                                 "responses": responses | errors}
    operation["security"] = security or []
    if body is not None:
        operation["requestBody"] = body
    if parameters:
        operation["parameters"] = parameters
    return operation


def _schemas() -> dict[str, Any]:
    spec = json.loads(json.dumps(spec_json_schema()).replace("#/$defs/", "#/components/schemas/"))
    spec.pop("$schema", None)
    definitions = spec.pop("$defs", {})
    timestamp = {"type": "string", "format": "date-time"}
    nullable_timestamp = {"type": ["string", "null"], "format": "date-time"}
    metrics = {"type": ["object", "null"], "additionalProperties": True,
               "description": "docs/results.md metrics (total_return, cagr, sharpe, ...)"}
    schemas: dict[str, Any] = {
        "Error": {
            "type": "object", "required": ["error"],
            "properties": {"error": {
                "type": "object", "required": ["code", "message", "fields"],
                "properties": {"code": {"type": "string"}, "message": {"type": "string"},
                               "fields": {"type": "object",
                                          "additionalProperties": {"type": "string"}}}}},
        },
        "Credentials": {
            "type": "object", "required": ["email", "password"], "additionalProperties": False,
            "properties": {"email": {"type": "string", "format": "email", "maxLength": 254},
                           "password": {"type": "string", "minLength": MIN_PASSWORD_LENGTH,
                                        "maxLength": MAX_PASSWORD_LENGTH}},
        },
        "User": {"type": "object", "required": ["id", "email"],
                 "properties": {"id": {"type": "integer"}, "email": {"type": "string"},
                                "created_at": timestamp}},
        "UserEnvelope": {"type": "object", "required": ["user"],
                         "properties": {"user": _ref("User")}},
        "Tokens": {"type": "object", "required": ["access_token", "refresh_token", "user"],
                   "properties": {"access_token": {"type": "string"},
                                  "refresh_token": {"type": "string"},
                                  "token_type": {"const": "Bearer"},
                                  "expires_in": {"type": "integer"}, "user": _ref("User")}},
        "AccessToken": {"type": "object", "required": ["access_token"],
                        "properties": {"access_token": {"type": "string"},
                                       "refresh_token": {
                                           "type": "string",
                                           "description": "the rotated refresh token (the "
                                                          "one presented is revoked)"},
                                       "token_type": {"const": "Bearer"},
                                       "expires_in": {"type": "integer"}}},
        "LogoutInput": {"type": "object", "additionalProperties": False,
                        "properties": {"refresh_token": {
                            "type": ["string", "null"],
                            "description": "also revoke this refresh token"}}},
        "Message": {"type": "object", "properties": {"message": {"type": "string"}}},
        "StrategySpec": spec,
        "StrategyInput": {
            "type": "object", "required": ["spec"], "additionalProperties": False,
            "properties": {"name": {"type": ["string", "null"], "minLength": 1,
                                    "maxLength": NAME_MAX_LENGTH,
                                    "description": "default: the spec's name"},
                           "spec": _ref("StrategySpec")},
        },
        "StrategyUpdate": {
            "type": "object", "additionalProperties": False,
            "description": "at least one of name and spec",
            "properties": {"name": {"type": ["string", "null"], "minLength": 1,
                                    "maxLength": NAME_MAX_LENGTH},
                           "spec": {"anyOf": [_ref("StrategySpec"), {"type": "null"}]},
                           "version": {"type": ["integer", "null"], "minimum": 1,
                                       "maximum": MAX_ID,
                                       "description": "the version you edited; 409 if stale"}},
        },
        "DuplicateInput": {"type": "object", "additionalProperties": False,
                           "properties": {"name": {"type": ["string", "null"], "minLength": 1,
                                                   "maxLength": NAME_MAX_LENGTH}}},
        "Strategy": {
            "type": "object", "required": ["id", "name", "spec", "version"],
            "properties": {"id": {"type": "integer"}, "name": {"type": "string"},
                           "spec": _ref("StrategySpec"), "version": {"type": "integer"},
                           "created_at": timestamp, "updated_at": timestamp},
        },
        "StrategyEnvelope": {"type": "object", "required": ["strategy"],
                             "properties": {"strategy": _ref("Strategy")}},
        "StrategyList": {"type": "object", "required": ["strategies", "total"],
                         "properties": {"strategies": {"type": "array",
                                                       "items": _ref("Strategy")},
                                        "total": {"type": "integer"}}},
        "RunInput": {
            "type": "object", "required": ["strategy_id"], "additionalProperties": False,
            "properties": {"strategy_id": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
                           "kind": {"enum": list(AVAILABLE_KINDS), "default": "backtest"},
                           "options": {"anyOf": [_ref("StressOptions"), _ref("SweepOptions"),
                                                 _ref("RobustnessOptions"),
                                                 _ref("WalkForwardOptions"), {"type": "null"}],
                                       "description": "per kind: a stress run takes "
                                                      "StressOptions, a sweep SweepOptions, "
                                                      "a robustness run RobustnessOptions, "
                                                      "a walkforward WalkForwardOptions, "
                                                      "a backtest none"}},
        },
        "Run": {
            "type": "object",
            "required": ["id", "strategy_id", "kind", "status", "progress", "stage", "error",
                         "metrics", "created_at", "finished_at"],
            "properties": {"id": {"type": "integer"}, "strategy_id": {"type": "integer"},
                           "kind": {"enum": list(RUN_KINDS)},
                           "status": {"enum": list(RUN_STATUSES)},
                           "progress": {"type": "integer", "minimum": 0, "maximum": 100},
                           "stage": {"type": "string"}, "error": {"type": ["string", "null"]},
                           "metrics": metrics, "options": {"type": "object"},
                           "created_at": timestamp, "started_at": nullable_timestamp,
                           "finished_at": nullable_timestamp,
                           "duration_seconds": {"type": ["number", "null"]},
                           "attempts": {"type": "integer", "minimum": 0,
                                        "description": "times a worker started the run"},
                           "retry_of_id": {"type": ["integer", "null"],
                                           "description": "the run this one retries"},
                           "error_detail": {"type": ["string", "null"],
                                            "description": "admins only: the traceback"},
                           "spec": _ref("StrategySpec")},
        },
        "RunEnvelope": {"type": "object", "required": ["run"], "properties": {"run": _ref("Run")}},
        "RunList": {"type": "object", "required": ["runs", "total"],
                    "properties": {"runs": {"type": "array", "items": _ref("Run")},
                                   "total": {"type": "integer"}}},
        "BacktestResult": {
            "type": "object", "description": "docs/results.md#backtest-result",
            "required": ["spec", "metrics", "benchmark_metrics", "trades", "equity"],
            "properties": {"spec": _ref("StrategySpec"), "metrics": metrics,
                           "benchmark_metrics": metrics,
                           "trades": {"type": "array", "items": {"type": "object"}},
                           "equity": {"type": "array", "items": {"type": "object"}}},
        },
        "SweepResult": {
            "type": "object", "description": "docs/results.md: one row per grid combination",
            "required": ["spec", "grid", "results"],
            "properties": {"spec": _ref("StrategySpec"),
                           "grid": {"type": "object",
                                    "additionalProperties": {"type": "array"}},
                           "results": {"type": "array", "items": {
                               "type": "object", "required": ["params", "metrics"],
                               "properties": {"params": {"type": "object"},
                                              "metrics": metrics,
                                              "error": {"type": "string"}}}},
                           "overfitting": {
                               "type": "object",
                               "description": "Deflated Sharpe Ratio of the best combination "
                                              "and Probability of Backtest Overfitting (CSCV); "
                                              "docs/results.md",
                               "properties": {
                                   "trials": {"type": "integer"},
                                   "selected": {"type": ["integer", "null"]},
                                   **{key: {"type": ["number", "null"]} for key in (
                                       "sharpe", "skew", "kurtosis", "sharpe_variance",
                                       "expected_max_sharpe", "deflated_sharpe", "pbo",
                                       "logit_median")},
                                   "observations": {"type": ["integer", "null"]},
                                   "partitions": {"type": ["integer", "null"]},
                                   "splits": {"type": ["integer", "null"]},
                                   "logit_histogram": {"type": ["object", "null"]},
                                   "notes": {"type": "array", "items": {"type": "string"}}}}},
        },
        "WalkForwardResult": {
            "type": "object", "description": "walk-forward validation (docs/results.md)",
            "required": ["spec", "grid", "settings", "folds", "oos_equity", "oos_metrics",
                         "efficiency", "stability"],
            "properties": {"spec": _ref("StrategySpec"),
                           "grid": {"type": "object",
                                    "additionalProperties": {"type": "array"}},
                           "settings": {"type": "object"},
                           "folds": {"type": "array", "items": {
                               "type": "object",
                               "required": ["fold", "in_sample", "out_of_sample", "params",
                                            "in_sample_metrics", "out_of_sample_metrics"]}},
                           "oos_equity": {"type": "array", "items": {
                               "type": "object", "required": ["date", "equity", "fold"]}},
                           "oos_metrics": metrics,
                           "efficiency": {"type": ["number", "null"]},
                           "stability": {"type": "object"}},
        },
        "StressResult": {
            "type": "object", "description": "docs/results.md: scenarios and a Monte Carlo",
            "required": ["spec", "scenarios", "monte_carlo"],
            "properties": {"spec": _ref("StrategySpec"),
                           "scenarios": {"type": "array", "items": {
                               "type": "object",
                               "required": ["id", "name", "kind", "start", "end", "strategy",
                                            "benchmark", "equity"]}},
                           "monte_carlo": {"type": ["object", "null"]},
                           "skipped": {"type": "array", "items": {"type": "object"}}},
        },
        "RobustnessResult": {
            "type": "object",
            "description": "docs/results.md: fill and cost sensitivity, break-even costs, "
                           "trade-order Monte Carlo, conventions, data warnings",
            "required": ["spec", "fills", "costs", "breakeven_bps", "trade_monte_carlo",
                         "conventions", "warnings"],
            "properties": {
                "spec": _ref("StrategySpec"),
                "fills": {"type": "array", "items": {
                    "type": "object", "required": ["assumption", "metrics"],
                    "properties": {"assumption": {"enum": ["next_open", "close",
                                                           "next_open_delay1",
                                                           "target_first"]},
                                   "label": {"type": "string"},
                                   "is_spec": {"type": "boolean"}, "metrics": metrics}}},
                "fill_spread": {"type": "object"},
                "costs": {"type": "array", "items": {
                    "type": "object", "required": ["cost_bps", "metrics"],
                    "properties": {"cost_bps": {"type": "number"}, "metrics": metrics,
                                   "benchmark_cagr": {"type": ["number", "null"]}}}},
                "breakeven_bps": {
                    "type": "object", "required": ["vs_benchmark", "vs_zero"],
                    "properties": {"vs_benchmark": {"type": ["number", "null"]},
                                   "vs_zero": {"type": ["number", "null"]}},
                    "description": "per-side cost (bps) at which CAGR reaches the "
                                   "benchmark's / 0; null when beyond the grid"},
                "breakeven_status": {"type": "object", "additionalProperties": {
                    "enum": ["found", "beyond_max", "behind_at_zero", "no_benchmark"]}},
                "trade_monte_carlo": {"type": ["object", "null"]},
                "conventions": {"type": "array", "items": {
                    "type": "object",
                    "required": ["metric", "convention", "used_by", "value"],
                    "properties": {"metric": {"type": "string"},
                                   "convention": {"type": "string"},
                                   "label": {"type": "string"},
                                   "used_by": {"type": "string"},
                                   "formula": {"type": "string"},
                                   "value": {"type": ["number", "null"]},
                                   "ours": {"type": ["number", "null"]}}}},
                "warnings": {"type": "array", "items": {
                    "type": "object", "required": ["date", "kind", "message"]}},
                "verdict": {"type": "string"},
                "meta": {"type": "object"}},
        },
        "Symbols": {"type": "object", "required": ["symbols"],
                    "properties": {"symbols": {"type": "array", "items": {
                        "type": "object", "required": ["symbol", "name", "source"],
                        "properties": {"symbol": {"type": "string"}, "name": {"type": "string"},
                                       "source": {"type": "string"},
                                       "location": {"type": "string"},
                                       "first_date": {"type": ["string", "null"]},
                                       "last_date": {"type": ["string", "null"]}}}}}},
        "Prices": {
            "type": "object", "required": ["symbol", "bars"],
            "properties": {"symbol": {"type": "string"},
                           "start": {"type": ["string", "null"], "format": "date"},
                           "end": {"type": ["string", "null"], "format": "date"},
                           "bars": {"type": "array", "items": {
                               "type": "object", "required": ["date", "open", "high", "low",
                                                              "close", "volume"],
                               "properties": {"date": {"type": "string", "format": "date"},
                                              **{c: {"type": ["number", "null"]} for c in (
                                                  "open", "high", "low", "close",
                                                  "adj_close", "volume")}}}}},
        },
    }
    schemas |= {name: _model_schema(model) for name, model in (
        ("StressOptions", StressOptions), ("SweepOptions", SweepOptions),
        ("RobustnessOptions", RobustnessOptions),
        ("WalkForwardOptions", WalkForwardOptions))}
    clashes = set(definitions) & set(schemas)
    if clashes:
        raise RuntimeError(f"spec schema names clash with API schemas: {sorted(clashes)}")
    return schemas | definitions


def _model_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The JSON Schema of a typed options model (``engine.options``), inlined."""
    schema = model.model_json_schema()
    if "$defs" in schema:
        raise RuntimeError(f"{model.__name__}: nested definitions are not inlined")
    return schema


@lru_cache(maxsize=1)
def openapi_document() -> dict[str, Any]:
    """The whole document (built once per process)."""
    sid, rid = _id_param("strategy_id"), _id_param("run_id")
    page = [_query("limit", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
                   "page size"),
            _query("offset", {"type": "integer", "minimum": 0, "maximum": MAX_ID},
                   "items to skip")]
    not_found = {"404": _error("no such object of yours")}
    strategy = _json(_ref("StrategyEnvelope"), "the strategy")
    run = _json(_ref("RunEnvelope"), "the run")
    paths = {
        "/auth/register": {"post": _op(
            "Create an account", {"201": _json(_ref("UserEnvelope"), "created"),
                                  "409": _error("the email is already registered"),
                                  "429": _error("too many registrations from this address; "
                                                "see Retry-After")},
            security=None, body=_body("Credentials"), tag="auth")},
        "/auth/login": {"post": _op(
            "Log in: tokens in the body and as httponly cookies (with CSRF cookies)",
            {"200": _json(_ref("Tokens"), "logged in"),
             "401": _error("wrong email or password"),
             "429": _error("too many failed attempts; see Retry-After")},
            security=None, body=_body("Credentials"), tag="auth")},
        "/auth/refresh": {"post": _op(
            "A new access token for a refresh token",
            {"200": _json(_ref("AccessToken"), "refreshed")}, security=REFRESH, tag="auth")},
        "/auth/logout": {"post": _op(
            "Revoke the presented token (and the refresh token in the body or cookie)",
            {"200": _json(_ref("Message"), "logged out")},
            security=BEARER + REFRESH, body=_body("LogoutInput", required=False), tag="auth")},
        "/auth/me": {"get": _op("Who am I", {"200": _json(_ref("UserEnvelope"), "the caller")},
                                tag="auth")},
        "/strategies": {
            "get": _op("The caller's strategies, most recently updated first",
                       {"200": _json(_ref("StrategyList"), "strategies")}, parameters=page,
                       tag="strategies"),
            "post": _op("Save a strategy (the spec is validated and normalised)",
                        {"201": strategy}, body=_body("StrategyInput"), tag="strategies"),
        },
        "/strategies/{strategy_id}": {
            "get": _op("One strategy", {"200": strategy} | not_found, parameters=[sid],
                       tag="strategies"),
            "put": _op("Change the name and/or spec",
                       {"200": strategy, "409": _error("stale version")} | not_found,
                       parameters=[sid], body=_body("StrategyUpdate"), tag="strategies"),
            "delete": _op("Delete a strategy and its runs",
                          {"204": {"description": "deleted"}} | not_found, parameters=[sid],
                          tag="strategies"),
        },
        "/strategies/{strategy_id}/duplicate": {"post": _op(
            "Copy a strategy", {"201": strategy} | not_found, parameters=[sid],
            body=_body("DuplicateInput", required=False), tag="strategies")},
        "/runs": {
            "get": _op("The caller's runs, newest first",
                       {"200": _json(_ref("RunList"), "runs")},
                       parameters=[_query("strategy_id", {"type": "integer", "minimum": 1,
                                                           "maximum": MAX_ID},
                                          "only this strategy's runs"),
                                   _query("status", {"enum": list(RUN_STATUSES)}, "filter"),
                                   _query("kind", {"enum": list(RUN_KINDS)}, "filter"), *page],
                       tag="runs"),
            "post": _op("Run a saved strategy (in the background: poll the run)",
                        {"202": _json(_ref("RunEnvelope"), "accepted (queued or finished)"),
                         "503": _error("the job queue is not reachable; the run is failed "
                                       "and can be retried")}
                        | not_found, body=_body("RunInput"), tag="runs"),
        },
        "/runs/{run_id}": {
            "get": _op("One run (with its spec snapshot)", {"200": run} | not_found,
                       parameters=[rid], tag="runs"),
            "delete": _op("Delete a run", {"204": {"description": "deleted"}} | not_found,
                          parameters=[rid], tag="runs"),
        },
        "/runs/{run_id}/cancel": {"post": _op(
            "Cancel a queued or running run",
            {"200": run, "409": _error("already finished")} | not_found, parameters=[rid],
            tag="runs")},
        "/runs/{run_id}/retry": {"post": _op(
            "Retry a failed or cancelled run: a new queued run with the same spec snapshot, "
            "kind and options",
            {"202": _json(_ref("RunEnvelope"), "the new run (queued or finished)"),
             "409": _error("the run is queued, running or succeeded"),
             "503": _error("the job queue is not reachable")} | not_found,
            parameters=[rid], tag="runs")},
        "/runs/{run_id}/result": {"get": _op(
            "The result of a succeeded run, by its kind: a backtest, sweep, stress, robustness or "
            "walk-forward result (docs/results.md)",
            {"200": _json({"anyOf": [_ref("BacktestResult"), _ref("SweepResult"),
                                     _ref("StressResult"), _ref("RobustnessResult"),
                                     _ref("WalkForwardResult")]},
                          "result (by the run's kind)"),
             "409": _error("the run has no result (not finished, or failed)")} | not_found,
            parameters=[rid], tag="runs")},
        "/symbols": {"get": _op("Symbols with price data",
                                {"200": _json(_ref("Symbols"), "symbols")}, tag="prices")},
        "/prices/{symbol}": {"get": _op(
            "Daily bars of a symbol (docs/prices.md rows)",
            {"200": _json(_ref("Prices"), "bars"), "404": _error("unknown symbol"),
             "422": _error("invalid symbol or dates")},
            parameters=[{"name": "symbol", "in": "path", "required": True,
                         "schema": {"type": "string",
                                    "pattern": f"^{SYMBOL_PATTERN.pattern}$"}},
                        _query("start", {"type": "string", "format": "date"}, "first date"),
                        _query("end", {"type": "string", "format": "date"}, "last date")],
            tag="prices")},
        "/openapi.json": {"get": _op("This document",
                                     {"200": {"description": "OpenAPI 3.1 document"}},
                                     security=None, tag="meta")},
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "Strategy Arena API", "version": __version__,
                 "description": "Strategies, backtest runs and prices of the logged-in user. "
                                "Errors: {\"error\": {\"code\", \"message\", \"fields\"}}. "
                                "Another user's ids answer 404."},
        "servers": [{"url": "/api/v1"}],
        "paths": paths,
        "components": {
            "schemas": _schemas(),
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                               "description": "access token from /auth/login"},
                "bearerRefresh": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                                  "description": "refresh token from /auth/login"},
                "cookieAuth": {"type": "apiKey", "in": "cookie", "name": "access_token_cookie",
                               "description": "browser session; unsafe methods also need the "
                                              "X-CSRF-TOKEN header = csrf_access_token cookie"},
                "refreshCookie": {"type": "apiKey", "in": "cookie",
                                  "name": "refresh_token_cookie",
                                  "description": "with X-CSRF-TOKEN = csrf_refresh_token"},
            },
        },
    }


@bp.get("/openapi.json")
def openapi() -> Response:
    return jsonify(openapi_document())
