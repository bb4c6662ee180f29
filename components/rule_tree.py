"""The Builder's rule editor as plain data: rule trees (docs/spec.md ``entry`` / ``exit``) to
editor rows and back, and the edits the editor makes (add, remove, duplicate, nest, re-type).

A rule tree is a group ``{"all": [...]}`` or ``{"any": [...]}`` whose items are rules
``{"left", "op", "right"}`` or nested groups. The editor shows it as a flat list of rows in
depth-first order; each row carries the spec path of its node (the notation of validation errors,
``entry.all[1].any[0]``), so every control in the page is addressed by the path of the value it
edits and an error from ``engine.spec.parse_spec`` lands beside its field.

Everything here is pure (dicts in, new dicts out) and derives its choices from the engine's
indicator registry (``engine.indicators.INDICATORS``): no indicator list is kept by hand.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Literal

from engine.indicators import INDICATORS
from engine.spec import OPS, PRICE_FIELDS, parse_path

GROUP_KEYS = ("all", "any")
OperandKind = Literal["number", "field", "indicator"]
OPERAND_KINDS: tuple[str, ...] = ("indicator", "field", "number")
#: What a new rule compares until the user changes it: RSI(14) < 30.
DEFAULT_INDICATOR = "rsi"
DEFAULT_NUMBER = 30.0


@dataclass(frozen=True)
class EditorRow:
    """One line of the editor: a group header or a rule.

    ``path`` is the node's spec path (``entry`` for the top group); ``depth`` is 0 for the top
    group, 1 for its members, and so on; ``logic`` is ``all``/``any`` for a group; ``rule`` is the
    rule dict for a rule row.
    """

    path: str
    depth: int
    kind: Literal["group", "rule"]
    logic: str | None = None
    rule: dict[str, Any] | None = None


def group_logic(node: Any) -> str | None:
    """``"all"`` or ``"any"`` for a group dict, else None."""
    if isinstance(node, dict) and len(node) == 1:
        key = next(iter(node))
        if key in GROUP_KEYS and isinstance(node[key], list):
            return key
    return None


def tree_to_rows(tree: Any, path: str, depth: int = 0) -> list[EditorRow]:
    """The rows of ``tree`` (a group) in depth-first order; a non-group node is one rule row."""
    logic = group_logic(tree)
    if logic is None:
        return [EditorRow(path, depth, "rule", rule=tree if isinstance(tree, dict) else {})]
    rows = [EditorRow(path, depth, "group", logic=logic)]
    for index, member in enumerate(tree[logic]):
        rows += tree_to_rows(member, f"{path}.{logic}[{index}]", depth + 1)
    return rows


def rows_to_tree(rows: list[EditorRow]) -> dict[str, Any]:
    """The tree the rows describe (inverse of :func:`tree_to_rows`; paths are not needed).

    Raises ValueError when the first row is not a group or a row is deeper than its parent + 1.
    """
    if not rows or rows[0].kind != "group":
        raise ValueError("the first row must be the top group (all / any)")
    root: dict[str, Any] = {rows[0].logic: []}
    stack: list[tuple[int, list[Any]]] = [(rows[0].depth, root[rows[0].logic])]
    for row in rows[1:]:
        while stack and stack[-1][0] >= row.depth:
            stack.pop()
        if not stack or row.depth != stack[-1][0] + 1:
            raise ValueError(f"row {row.path} at depth {row.depth} has no parent group")
        members = stack[-1][1]
        if row.kind == "group":
            group: dict[str, Any] = {row.logic: []}
            members.append(group)
            stack.append((row.depth, group[row.logic]))
        else:
            members.append(copy.deepcopy(row.rule))
    return root


# --- operands --------------------------------------------------------------------------------


def operand_kind(operand: Any) -> OperandKind:
    """``number``, ``field`` or ``indicator`` (anything unrecognised counts as a number)."""
    if isinstance(operand, dict) and "indicator" in operand:
        return "indicator"
    if isinstance(operand, dict) and "field" in operand:
        return "field"
    return "number"


def indicator_operand(name: str, keep: dict[str, Any] | None = None) -> dict[str, Any]:
    """A fully explicit operand of indicator ``name`` (as ``parse_spec`` normalises it): the
    registry's default params, first output, ``source`` close when it reads one series, offset 0.

    ``keep`` is the operand being replaced: its params of the same name (when still valid for
    the new indicator), its source and its offset carry over.
    """
    info = INDICATORS[name]
    keep = keep or {}
    kept_params = keep.get("params") if isinstance(keep.get("params"), dict) else {}
    params: dict[str, Any] = {}
    for param, spec in info.params.items():
        value = kept_params.get(param)
        usable = isinstance(value, int | float) and not isinstance(value, bool) \
            and value >= spec.min and (spec.type is float or float(value).is_integer())
        params[param] = spec.type(value) if usable else spec.default
    if {"fast", "slow"} <= params.keys() and params["fast"] >= params["slow"]:
        params["fast"], params["slow"] = info.params["fast"].default, info.params["slow"].default
    operand: dict[str, Any] = {"indicator": name, "params": params, "output": info.outputs[0]}
    if info.inputs == "source":
        source = keep.get("source")
        operand["source"] = source if source in PRICE_FIELDS else "close"
    offset = keep.get("offset")
    operand["offset"] = offset if isinstance(offset, int) and offset >= 0 else 0
    return operand


def default_operand(kind: str, keep: Any = None) -> Any:
    """A new operand of ``kind`` (``indicator``, ``field`` or ``number``)."""
    if kind == "indicator":
        return indicator_operand(DEFAULT_INDICATOR, keep if isinstance(keep, dict) else None)
    if kind == "field":
        return {"field": "close", "offset": 0}
    if kind == "number":
        return DEFAULT_NUMBER
    raise ValueError(f"unknown operand kind {kind!r}; use one of {', '.join(OPERAND_KINDS)}")


def default_rule() -> dict[str, Any]:
    """RSI(14) < 30: a valid rule the user edits from."""
    return {"left": indicator_operand(DEFAULT_INDICATOR), "op": OPS[0], "right": DEFAULT_NUMBER}


# --- edits (each returns a new spec dict) ----------------------------------------------------


def _parent_and_key(spec: dict[str, Any], path: str) -> tuple[Any, str | int]:
    parts = parse_path(path)
    parent: Any = spec
    for part in parts[:-1]:
        parent = parent[part]
    return parent, parts[-1]


def get_node(spec: dict[str, Any], path: str) -> Any:
    parent, key = _parent_and_key(spec, path)
    return parent[key]


def set_node(spec: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy of ``spec`` with the node at ``path`` replaced."""
    spec = copy.deepcopy(spec)
    parent, key = _parent_and_key(spec, path)
    parent[key] = value
    return spec


def add_member(spec: dict[str, Any], group_path: str, member: Any) -> dict[str, Any]:
    """A copy with ``member`` appended to the group at ``group_path``."""
    group = copy.deepcopy(get_node(spec, group_path))
    logic = group_logic(group)
    if logic is None:
        raise ValueError(f"{group_path} is not a group")
    group[logic].append(member)
    return set_node(spec, group_path, group)


def remove_member(spec: dict[str, Any], path: str) -> dict[str, Any]:
    """A copy without the rule or group at ``path`` (a group's last member stays: a group
    must not be empty)."""
    spec = copy.deepcopy(spec)
    parent, key = _parent_and_key(spec, path)
    if isinstance(parent, list) and len(parent) > 1:
        del parent[key]
    return spec


def duplicate_member(spec: dict[str, Any], path: str) -> dict[str, Any]:
    """A copy with the rule or group at ``path`` repeated right after itself."""
    spec = copy.deepcopy(spec)
    parent, key = _parent_and_key(spec, path)
    if isinstance(parent, list):
        parent.insert(int(key) + 1, copy.deepcopy(parent[key]))
    return spec


def set_logic(spec: dict[str, Any], group_path: str, logic: str) -> dict[str, Any]:
    """A copy where the group at ``group_path`` combines its members with ``logic``."""
    if logic not in GROUP_KEYS:
        raise ValueError(f"logic must be all or any, not {logic!r}")
    group = get_node(spec, group_path)
    current = group_logic(group)
    if current is None or current == logic:
        return spec
    return set_node(spec, group_path, {logic: copy.deepcopy(group[current])})


def set_operand_kind(spec: dict[str, Any], operand_path: str, kind: str) -> dict[str, Any]:
    current = get_node(spec, operand_path)
    if operand_kind(current) == kind:
        return spec
    return set_node(spec, operand_path, default_operand(kind, current))


def set_indicator(spec: dict[str, Any], operand_path: str, name: str) -> dict[str, Any]:
    current = get_node(spec, operand_path)
    if isinstance(current, dict) and current.get("indicator") == name:
        return spec
    return set_node(spec, operand_path, indicator_operand(name, current))


def set_value(spec: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy with the leaf value at ``path`` set; the same object when nothing changes.

    Missing containers on the way (e.g. ``sizing``) are created, so a half-pasted spec can still
    be edited; an empty text or number box stores None, which the validator then reports.
    """
    parts = parse_path(path)
    node: Any = spec
    for part in parts[:-1]:
        node = node[part] if isinstance(node, dict | list) and _has(node, part) else None
        if node is None:
            break
    else:
        if _has(node, parts[-1]) and node[parts[-1]] == value \
                and type(node[parts[-1]]) is type(value):
            return spec
    spec = copy.deepcopy(spec)
    node = spec
    for part in parts[:-1]:
        if not _has(node, part):
            node[part] = {}
        node = node[part]
    node[parts[-1]] = value
    return spec


def _has(container: Any, part: str | int) -> bool:
    if isinstance(part, int):
        return isinstance(container, list) and part < len(container)
    return isinstance(container, dict) and part in container


def rule_operand_paths(rule_path: str) -> tuple[str, str]:
    return f"{rule_path}.left", f"{rule_path}.right"


def indicators_in(tree: Any) -> list[dict[str, Any]]:
    """Every distinct indicator operand of a tree (params, output, source), in order of use."""
    found: list[dict[str, Any]] = []

    def visit(node: Any) -> None:
        logic = group_logic(node)
        if logic is not None:
            for member in node[logic]:
                visit(member)
        elif isinstance(node, dict):
            for side in ("left", "right"):
                operand = node.get(side)
                if operand_kind(operand) == "indicator":
                    plain = {k: v for k, v in operand.items() if k != "offset"}
                    if plain not in found:
                        found.append(plain)

    visit(tree)
    return found
