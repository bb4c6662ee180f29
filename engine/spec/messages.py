"""Pydantic validation errors -> :class:`SpecError` with one plain ``path: message`` per field.

Messages say what is allowed (the choices of a literal, the bounds of a number, the parameters
of an indicator, a close match for a typo) in the path notation of :mod:`engine.spec.paths`.
"""

from __future__ import annotations

import difflib
from typing import Any, get_args

from pydantic import BaseModel, ValidationError

from engine.errors import EngineError
from engine.spec.models import (
    INDICATOR_OPERANDS,
    RULE_KEYS,
    TAGGED_MODELS,
    IndicatorOperand,
    IndicatorParams,
    StrategySpec,
)
from engine.spec.paths import format_path


class SpecError(EngineError, ValueError):
    """An invalid strategy spec.

    ``errors`` maps each offending field path (``entry.all[0].op``, ``$`` for the whole
    document) to a message saying what is allowed; ``str()`` lists them as ``path: message``.
    """

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__("\n".join(f"{path}: {message}" for path, message in self.errors.items()))

    def __reduce__(self) -> tuple[type, tuple[dict[str, str]]]:
        # Keep ``errors`` intact when the exception crosses a process boundary (RQ workers).
        return (type(self), (self.errors,))



_SIMPLE_MESSAGES = {
    "missing": "is required",
    "int_type": "must be an integer",
    "int_parsing": "must be an integer",
    "int_from_float": "must be an integer",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "finite_number": "must be a finite number",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "string_type": "must be a string",
    "date_type": "must be an ISO date YYYY-MM-DD (e.g. 2015-01-31)",
    "date_parsing": "must be an ISO date YYYY-MM-DD (e.g. 2015-01-31)",
    "list_type": "must be a list",
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
    "dict_type": "must be an object",
}

_BOUND_MESSAGES = {
    "greater_than": ("gt", "must be greater than {}"),
    "greater_than_equal": ("ge", "must be at least {}"),
    "less_than": ("lt", "must be less than {}"),
    "less_than_equal": ("le", "must be at most {}"),
}

_GROUP_HELP = '{"all": [...]} (every member must hold) or {"any": [...]} (at least one)'
_OPERAND_HELP = (
    'must be a number, a price field such as {"field": "close"}, or an indicator such as '
    '{"indicator": "rsi", "params": {"period": 14}}'
)


def _model_at(loc: tuple[str | int, ...]) -> type[BaseModel] | None:
    """The model class that validated the object at ``loc`` (a raw pydantic loc with tags)."""
    model: type[BaseModel] | None = StrategySpec
    for part in loc:
        if isinstance(part, int):
            continue
        if part in TAGGED_MODELS:
            model = TAGGED_MODELS[part]
            continue
        if model is None or part not in model.model_fields:
            return None
        annotation = model.model_fields[part].annotation
        is_model = isinstance(annotation, type) and issubclass(annotation, BaseModel)
        model = annotation if is_model else None
    return model


def _fmt_number(value: Any) -> str:
    return format(value, "g") if isinstance(value, float) else str(value)


def _unknown_key_message(key: Any, model: type[BaseModel] | None) -> str:
    if model is None:
        return f"unknown field {key!r}"
    allowed = list(model.model_fields)
    if issubclass(model, IndicatorParams) and key == "source":
        return 'source is not a parameter: put it next to params, e.g. {"source": "high"}'
    if issubclass(model, IndicatorOperand) and key == "source":
        return f"{model.indicator_name} takes no source; it always reads {', '.join(model.inputs)}"
    if issubclass(model, IndicatorParams):
        what = f"unknown parameter {key!r} for {model.indicator_name}"
        message = f"{what}; allowed: {', '.join(allowed)}" if allowed else f"{what}; it takes none"
    else:
        message = f"unknown field {key!r}; allowed: {', '.join(allowed)}"
    close = difflib.get_close_matches(str(key), allowed, n=1)
    return f"{message} (did you mean {close[0]!r}?)" if close else message


def _explain(error: Any, raw_loc: tuple[str | int, ...]) -> tuple[tuple[str | int, ...], str]:
    """(extra path parts, message) for one pydantic error."""
    kind, value, ctx = error["type"], error.get("input"), error.get("ctx") or {}
    if kind == "spec":
        return (), ctx["message"]
    if kind in _SIMPLE_MESSAGES:
        return (), _SIMPLE_MESSAGES[kind]
    if kind in _BOUND_MESSAGES:
        key, template = _BOUND_MESSAGES[kind]
        return (), template.format(_fmt_number(ctx[key]))
    if kind == "extra_forbidden":
        return (), _unknown_key_message(raw_loc[-1], _model_at(raw_loc[:-1]))
    if kind == "literal_error":
        model = _model_at(raw_loc[:-1])
        field = model.model_fields.get(str(raw_loc[-1])) if model else None
        if field is not None:
            choices = [str(choice) for choice in get_args(field.annotation)]
            message = f"must be {choices[0]}" if len(choices) == 1 else "must be one of "
            if len(choices) > 1:
                message += ", ".join(choices)
            if issubclass(model, IndicatorOperand) and raw_loc[-1] == "output":
                message = (
                    f"must be one of {', '.join(choices)} (the outputs of {model.indicator_name})"
                )
            return (), message
    if kind in ("too_short", "string_too_short"):
        if ctx.get("min_length") == 1:
            return (), "must not be empty"
        return (), f"must have at least {ctx.get('min_length')} items"
    if kind == "string_too_long":
        return (), f"must be at most {ctx.get('max_length')} characters"
    both_group_keys = isinstance(value, dict) and "all" in value and "any" in value
    if kind in ("bad_group", "bad_node") and both_group_keys:
        return (), 'a group has exactly one key, "all" or "any"; nest groups to combine them'
    if kind == "bad_group":
        if isinstance(value, dict) and RULE_KEYS & value.keys():
            return (), 'must be a group, not a single rule: wrap it as {"all": [rule]}'
        return (), f"must be a group: {_GROUP_HELP}"
    if kind == "bad_node":
        return (), (
            f'must be a rule {{"left": ..., "op": ..., "right": ...}} or a group {_GROUP_HELP}'
        )
    if kind == "bad_operand":
        if isinstance(value, dict) and "field" in value and "indicator" in value:
            return (), 'must have either "field" or "indicator", not both'
        if isinstance(value, dict) and "indicator" in value:
            return ("indicator",), (
                f"unknown indicator {value['indicator']!r}; must be one of "
                f"{', '.join(INDICATOR_OPERANDS)}"
            )
        return (), _OPERAND_HELP
    return (), str(error["msg"]).removeprefix("Value error, ")


def spec_error(exc: ValidationError) -> SpecError:
    """The :class:`SpecError` of a pydantic ``ValidationError``: one ``path: message`` per field,
    the paths without pydantic's union tags, several messages of one path joined by ``; ``."""
    errors: dict[str, str] = {}
    for error in exc.errors(include_url=False):
        raw_loc = tuple(error["loc"])
        extra, message = _explain(error, raw_loc)
        path = format_path(tuple(p for p in raw_loc if p not in TAGGED_MODELS) + extra)
        errors[path] = f"{errors[path]}; {message}" if path in errors else message
    return SpecError(errors)
