"""The shape of Dash callback requests, checked before Dash sees them.

Dash's ``POST /_dash-update-component`` trusts its body: a missing ``output``, an output no
callback has, or ``inputs`` that is not a list raise KeyError/AttributeError deep inside Dash,
a 500 that looks like our bug. The renderer always sends ``{"output": "<id>.<prop>",
"outputs": ..., "inputs": [...], "state": [...], "changedPropIds": [...]}`` with one entry
per declared input and state, so anything else is a malformed (hand-made) request: 400 in the
API's JSON error shape, with what is wrong. A NUL character or lone surrogate in any value
answers 422 (:mod:`app.request_guard`).
"""

from __future__ import annotations

import json
from typing import Any

from dash import Dash
from flask import request

from app.api.errors import ApiError
from app.request_guard import check_json_text

CALLBACK_PATH = "/_dash-update-component"


def install_callback_guard(app: Dash) -> None:
    """Check every callback request of ``app`` before Dash dispatches it (install after the
    login check, so an anonymous caller learns nothing about the callbacks)."""

    @app.server.before_request
    def _check_callback_request() -> None:
        if request.path == CALLBACK_PATH and request.method == "POST":
            body = _body()
            problem = callback_body_problem(body, app.callback_map)
            if problem is not None:
                raise ApiError(400, "bad_callback", f"malformed Dash callback request: {problem}")
            check_json_text(body)  # a NUL in a typed name must not reach the database


def _body() -> Any:
    raw = request.get_data(cache=True)
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        raise ApiError(400, "bad_json", "malformed Dash callback request: the body is not "
                                        "JSON") from None


def callback_body_problem(body: Any, callback_map: dict[str, Any]) -> str | None:
    """What is wrong with the callback request ``body``, or None when Dash can dispatch it."""
    if not isinstance(body, dict):
        return "the body must be a JSON object"
    output = body.get("output")
    if not isinstance(output, str):
        return "'output' must be a string naming the callback's output"
    callback = callback_map.get(output)
    if callback is None:
        return "no callback has this output"
    for key in ("inputs", "state"):
        sent, declared = body.get(key, []), callback.get(key, [])
        if not isinstance(sent, list) or len(sent) != len(declared):
            return f"'{key}' must be a list of {len(declared)} entries"
        if not all(_is_dependency(item) for item in sent):
            return f"each entry of '{key}' must be an object with 'id' and 'property'"
    if "outputs" in body and not isinstance(body["outputs"], dict | list):
        return "'outputs' must be an object or a list"
    changed = body.get("changedPropIds", [])
    if not isinstance(changed, list) or not all(isinstance(item, str) for item in changed):
        return "'changedPropIds' must be a list of strings"
    return None


def _is_dependency(item: Any) -> bool:
    """One input or state: ``{"id", "property", "value"?}``, or a list of them (pattern-matching
    ids such as ``ALL``)."""
    if isinstance(item, list):
        return all(isinstance(one, dict) and "id" in one and "property" in one for one in item)
    return isinstance(item, dict) and "id" in item and "property" in item
