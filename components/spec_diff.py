"""Differences between strategy specs, for comparing runs: every leaf value addressed by its spec
path (the validation-error notation, ``entry.all[0].left.params.period``), and the paths where
the specs disagree."""

from __future__ import annotations

from typing import Any

MISSING = "—"  # shown where one spec has no value at a path another spec has


def flatten(node: Any, path: str = "") -> dict[str, Any]:
    """``{path: leaf value}`` of a JSON document; an empty list or object is a leaf."""
    if isinstance(node, dict) and node:
        items: dict[str, Any] = {}
        for key, value in node.items():
            items.update(flatten(value, f"{path}.{key}" if path else str(key)))
        return items
    if isinstance(node, list) and node:
        items = {}
        for index, value in enumerate(node):
            items.update(flatten(value, f"{path}[{index}]"))
        return items
    return {path or "$": node}


def spec_differences(specs: list[dict[str, Any]]) -> list[tuple[str, list[Any]]]:
    """``(path, [value in each spec])`` for every path whose values are not all equal, in the
    order the paths first appear; a spec without the path shows ``MISSING``."""
    flat = [flatten(spec) for spec in specs]
    paths: list[str] = []
    for items in flat:
        paths += [p for p in items if p not in paths]
    differences = []
    for path in paths:
        values = [items.get(path, MISSING) for items in flat]
        if any(v != values[0] for v in values[1:]):
            differences.append((path, values))
    return differences
