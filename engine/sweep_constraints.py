"""Constraints on a sweep's combinations, written as text: ``"FAST < SLOW"``.

A constraint is ``LEFT OP RIGHT`` with spaces around ``OP`` (``<``, ``<=``, ``>``, ``>=``,
``==``, ``!=``); ``LEFT`` is a grid key exactly as written in the grid (comma-linked keys
included) and ``RIGHT`` a grid key or a number. A combination runs only when every constraint
holds; the others are left out of the sweep (``SweepResult.skipped`` counts them).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable
from typing import Any

from engine.errors import EngineError

__all__ = ["CONSTRAINT_OPERATORS", "ConstraintError", "constraint_filter", "parse_constraint"]

CONSTRAINT_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "<=": operator.le, ">=": operator.ge, "==": operator.eq, "!=": operator.ne,
    "<": operator.lt, ">": operator.gt}


class ConstraintError(EngineError, ValueError):
    """A constraint that cannot be read; the message shows the expected form."""


def parse_constraint(text: str, keys: Iterable[str]) -> Callable[[dict[str, Any]], bool]:
    """``text`` as a test of a combination's params (a ``{grid key: value}`` dict)."""
    known = list(keys)
    for symbol in CONSTRAINT_OPERATORS:
        left, found, right = str(text).partition(f" {symbol} ")
        if found:
            compare = CONSTRAINT_OPERATORS[symbol]
            break
    else:
        raise ConstraintError(f"{text!r}: expected 'KEY OP KEY' or 'KEY OP NUMBER' with spaces "
                              f"around OP, one of {', '.join(CONSTRAINT_OPERATORS)}")
    left, right = left.strip(), right.strip()
    if left not in known:
        raise ConstraintError(f"{text!r}: {left!r} is not a grid key; grid keys: "
                              f"{', '.join(known)}")
    if right not in known:
        try:
            float(right)
        except ValueError:
            raise ConstraintError(f"{text!r}: {right!r} is neither a grid key nor a number"
                                  ) from None

    def holds(params: dict[str, Any]) -> bool:
        other = params[right] if right in known else float(right)
        try:
            return bool(compare(params[left], other))
        except TypeError:  # a null value (e.g. no stop) satisfies no inequality
            return False

    return holds


def constraint_filter(texts: Iterable[str], keys: Iterable[str]
                      ) -> Callable[[dict[str, Any]], bool] | None:
    """All constraints as one test (None when there are none)."""
    known = list(keys)
    tests = [parse_constraint(text, known) for text in texts]
    if not tests:
        return None
    return lambda params: all(test(params) for test in tests)
