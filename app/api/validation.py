"""Reading request bodies and query parameters into typed values, or a 4xx that names the field.

Bodies must be JSON (``Content-Type: application/json``; anything else is a 415, which also
keeps cross-site HTML forms out). Malformed JSON is a 400; a NUL character or a lone surrogate
in any key or string is a 422 ``invalid_text`` (:mod:`app.request_guard`); a body of the wrong
shape is a 422 whose ``fields`` map a path (``spec.entry.all[0].op``, ``options.foo``, ``$``
for the whole body) to what is allowed. Values are checked strictly: ``"5"`` is not an integer.
"""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any, TypeVar

from flask import request
from pydantic import BaseModel, ValidationError

from app.api.errors import ApiError
from app.request_guard import check_json_text

M = TypeVar("M", bound=BaseModel)
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

_MESSAGES = {
    "missing": "is required",
    "extra_forbidden": "is not a known field",
    "string_type": "must be a string",
    "int_type": "must be an integer",
    "dict_type": "must be a JSON object",
    "bool_type": "must be true or false",
    "model_type": "must be a JSON object",
}


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def json_body(*, optional: bool = False) -> Any:
    """The request's JSON document; ``{}`` for an empty body when ``optional``."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        if optional:
            return {}
        raise ApiError(400, "bad_json", "the request body is empty; send a JSON object")
    if not request.is_json:
        raise ApiError(415, "unsupported_media_type",
                       "send the body as JSON with the header Content-Type: application/json")
    try:
        document = json.loads(raw, parse_constant=_reject_constant)
    except json.JSONDecodeError as error:
        raise ApiError(400, "bad_json", f"malformed JSON: {error.msg} at line {error.lineno}, "
                                        f"column {error.colno}") from None
    except (ValueError, RecursionError) as error:  # not UTF-8, NaN, absurd nesting
        reason = "nested too deeply" if isinstance(error, RecursionError) else str(error)
        raise ApiError(400, "bad_json", f"malformed JSON: {reason}") from None
    check_json_text(document)  # NUL or a lone surrogate: 422 before any route or database
    return document


def parse_body(model: type[M], *, optional: bool = False) -> M:
    """The JSON body validated as ``model`` (a pydantic model with ``extra="forbid"``)."""
    data = json_body(optional=optional)
    if not isinstance(data, dict):
        raise ApiError(422, "validation_failed", "the body must be a JSON object",
                       {"$": f"must be a JSON object, not {_json_type(data)}"})
    try:
        return model.model_validate(data)
    except ValidationError as error:
        fields = {format_loc(item["loc"]): _message(item) for item in error.errors()}
        raise ApiError(422, "validation_failed", "invalid request body", fields) from None


def format_loc(loc: tuple[str | int, ...]) -> str:
    """``("spec", "entry", 0)`` -> ``spec.entry[0]``; the empty location is ``$``."""
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "$"


def _message(item: dict[str, Any]) -> str:
    kind, context = item["type"], item.get("ctx") or {}
    if kind in _MESSAGES:
        return _MESSAGES[kind]
    if kind == "greater_than_equal":
        return f"must be at least {context['ge']}"
    if kind == "less_than_equal":
        return f"must be at most {context['le']}"
    if kind == "string_too_short":
        return "must not be empty" if context.get("min_length") == 1 else \
            f"must have at least {context['min_length']} characters"
    if kind == "string_too_long":
        return f"must have at most {context['max_length']} characters"
    return str(item.get("msg", "is invalid")).lower()  # pydantic's text never echoes the input


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "an array" if isinstance(value, list) else type(value).__name__


def query_int(name: str, default: int | None, *, minimum: int, maximum: int) -> int | None:
    """Integer query parameter ``name`` within ``[minimum, maximum]``."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not re.fullmatch(r"-?\d{1,12}", raw):
        raise ApiError(422, "validation_failed", f"invalid query parameter {name}",
                       {name: "must be an integer"})
    value = int(raw)
    if not minimum <= value <= maximum:
        raise ApiError(422, "validation_failed", f"invalid query parameter {name}",
                       {name: f"must be between {minimum} and {maximum}"})
    return value


def query_date(name: str) -> str | None:
    """ISO date query parameter ``name`` (YYYY-MM-DD), or None when absent."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    try:
        if not _ISO_DATE.fullmatch(raw):
            raise ValueError
        return date.fromisoformat(raw).isoformat()
    except ValueError:
        raise ApiError(422, "validation_failed", f"invalid query parameter {name}",
                       {name: "must be a date YYYY-MM-DD"}) from None


def query_choice(name: str, choices: tuple[str, ...]) -> str | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    if raw not in choices:
        raise ApiError(422, "validation_failed", f"invalid query parameter {name}",
                       {name: f"must be one of {', '.join(choices)}"})
    return raw
