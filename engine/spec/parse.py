"""Reading a spec: JSON text or a dict -> a validated, normalised :class:`StrategySpec`; the
JSON Schema of the document; the bundled example specs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from engine.spec.messages import SpecError, spec_error
from engine.spec.models import StrategySpec


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            # json.loads would silently keep the last one: a typo must not change a strategy.
            raise ValueError(f"duplicate key {key!r} in a JSON object")
        result[key] = value
    return result


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON; use a finite number")


def parse_spec(data: dict[str, Any] | str | bytes | StrategySpec) -> StrategySpec:
    """Validate and normalise a strategy spec given as a dict or as JSON text.

    Raises
    ------
    SpecError
        With one ``path: message`` entry per problem; malformed JSON is reported at ``$``.
    """
    if isinstance(data, StrategySpec):
        return data
    if isinstance(data, bytes | bytearray | str):
        try:
            data = json.loads(
                data, object_pairs_hook=_reject_duplicate_keys, parse_constant=_reject_constant
            )
        except json.JSONDecodeError as error:
            raise SpecError(
                {"$": f"malformed JSON: {error.msg} at line {error.lineno}, column {error.colno}"}
            ) from None
        except UnicodeDecodeError:
            raise SpecError({"$": "malformed JSON: the text is not UTF-8"}) from None
        except ValueError as error:
            raise SpecError({"$": f"malformed JSON: {error}"}) from None
    if not isinstance(data, dict):
        raise SpecError({"$": f"must be a JSON object, not {type(data).__name__}"})
    try:
        return StrategySpec.model_validate(data)
    except ValidationError as error:
        raise spec_error(error) from None


def spec_json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of the spec as accepted by ``parse_spec``."""
    schema = StrategySpec.model_json_schema()
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


_EXAMPLES_DIR = Path(__file__).resolve().parents[1] / "examples"
EXAMPLES: list[str] = sorted(path.stem for path in _EXAMPLES_DIR.glob("*.json"))


def load_example(name: str) -> StrategySpec:
    """One of the bundled example specs (``engine/examples/<name>.json``), see ``EXAMPLES``."""
    if name not in EXAMPLES:
        raise ValueError(f"unknown example {name!r}; available: {', '.join(EXAMPLES)}")
    return parse_spec((_EXAMPLES_DIR / f"{name}.json").read_bytes())


