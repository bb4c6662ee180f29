"""Spec paths: the notation of validation errors and sweep grid keys (docs/results.md#sweep-result).

Dots for object keys and ``[i]`` for list items: ``entry.any[1].left.params.period``; ``$`` is the
whole document.
"""

from __future__ import annotations

import re
from typing import Any


def format_path(loc: tuple[str | int, ...]) -> str:
    """``("entry", "all", 0, "op")`` -> ``"entry.all[0].op"``; the empty path is ``"$"``."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "$"


_PATH = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*|\[\d+\])*")
_PATH_PART = re.compile(r"\[(\d+)\]|([A-Za-z_][A-Za-z0-9_]*)")


def parse_path(path: str) -> list[str | int]:
    """``"entry.all[0].left.params.period"`` -> ``["entry", "all", 0, "left", ...]``."""
    if not _PATH.fullmatch(path):
        raise ValueError(
            f"malformed path {path!r}; write keys with dots and list items as [i], "
            "e.g. entry.all[0].left.params.period"
        )
    return [int(index) if index else key for index, key in _PATH_PART.findall(path)]


def _child(container: Any, part: str | int, path: str) -> Any:
    if isinstance(part, int):
        if not isinstance(container, list) or part >= len(container):
            raise KeyError(f"{path}: no list item [{part}] here")
        return container[part]
    if not isinstance(container, dict) or part not in container:
        keys = ", ".join(container) if isinstance(container, dict) else "none (not an object)"
        raise KeyError(f"{path}: no key {part!r} here; keys: {keys}")
    return container[part]


def get_by_path(spec_dict: dict[str, Any], path: str) -> Any:
    """The value at ``path`` (e.g. ``entry.all[0].right``) in a spec dict; KeyError if absent."""
    value: Any = spec_dict
    for part in parse_path(path):
        value = _child(value, part, path)
    return value


def set_by_path(spec_dict: dict[str, Any], path: str, value: Any) -> None:
    """Set the value at ``path`` IN PLACE (returns None; deep-copy first to keep the original).

    Every container on the way must exist; the last key of an object may be new, a list index
    must exist. Validate the result with ``parse_spec``.
    """
    parts = parse_path(path)
    parent: Any = spec_dict
    for part in parts[:-1]:
        parent = _child(parent, part, path)
    last = parts[-1]
    if isinstance(last, int):
        _child(parent, last, path)
    elif not isinstance(parent, dict):
        raise KeyError(f"{path}: cannot set key {last!r} on a non-object")
    parent[last] = value
