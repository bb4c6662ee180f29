"""The plain-words summary of a strategy spec, as the Builder shows it while the rule is edited:

    Buy when RSI(14) < 30; sell when RSI(14) > 70 or the price falls 5 % below entry.

Works on any spec dict, valid or not (unknown pieces are shown as "?"), so it can follow every
keystroke.
"""

from __future__ import annotations

from typing import Any

from components.rule_tree import group_logic, operand_kind
from engine.indicators import INDICATORS

OP_WORDS = {"<": "<", "<=": "≤", ">": ">", ">=": "≥", "crosses_above": "crosses above",
            "crosses_below": "crosses below"}
SIDE_WORDS = {  # direction -> (entry verb, exit verb)
    "long": ("Buy", "sell"),
    "short": ("Sell short", "buy back"),
    "both": ("Go long", "go short"),
}


def _number(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "?"
    return f"{value:g}"


def _bars_ago(offset: Any) -> str:
    if not isinstance(offset, int) or offset <= 0:
        return ""
    return " 1 bar ago" if offset == 1 else f" {offset} bars ago"


def operand_words(operand: Any) -> str:
    """``RSI(14)``, ``MACD(12, 26, 9) signal``, ``SMA(50) of high``, ``close 1 bar ago``, ``30``."""
    kind = operand_kind(operand)
    if kind == "number":
        return _number(operand)
    if kind == "field":
        return f"{operand.get('field', '?')}{_bars_ago(operand.get('offset'))}"
    name = operand.get("indicator")
    info = INDICATORS.get(name) if isinstance(name, str) else None
    if info is None:
        return f"{name}?"
    params = operand.get("params") if isinstance(operand.get("params"), dict) else {}
    values = ", ".join(_number(params.get(p, spec.default)) for p, spec in info.params.items())
    text = f"{info.name.upper()}({values})"
    output = operand.get("output") or info.outputs[0]
    if len(info.outputs) > 1:
        text += f" {output}"
    source = operand.get("source")
    if info.inputs == "source" and source not in (None, "close"):
        text += f" of {source}"
    return text + _bars_ago(operand.get("offset"))


def tree_words(node: Any, nested: bool = False) -> str:
    """A rule tree in words: members joined by "and" (all) or "or" (any), nested groups in
    parentheses."""
    logic = group_logic(node)
    if logic is None:
        if not isinstance(node, dict):
            return "?"
        op = OP_WORDS.get(node.get("op"), str(node.get("op", "?")))
        return f"{operand_words(node.get('left'))} {op} {operand_words(node.get('right'))}"
    members = [tree_words(member, nested=True) for member in node[logic]]
    if not members:
        return "never"
    text = f" {'and' if logic == 'all' else 'or'} ".join(members)
    return f"({text})" if nested and len(members) > 1 else text


def _pct(value: Any) -> str | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"{value:g} %"
    return None


def exit_clauses(spec: dict[str, Any]) -> list[str]:
    """The stop, target and trailing stop in words, for the spec's direction."""
    direction = spec.get("direction", "long")
    against, towards = ("falls", "rises") if direction == "long" else ("rises", "falls")
    below, above = ("below", "above") if direction == "long" else ("above", "below")
    clauses = []
    if direction == "both":
        against, towards, below, above = "moves", "moves", "against the position from", \
            "in favour from"
    if stop := _pct(spec.get("stop_loss_pct")):
        clauses.append(f"the price {against} {stop} {below} entry")
    if target := _pct(spec.get("take_profit_pct")):
        clauses.append(f"the price {towards} {target} {above} entry")
    if trailing := _pct(spec.get("trailing_stop_pct")):
        clauses.append(f"the price {against} {trailing} from its best since entry")
    return clauses


def describe_spec(spec: dict[str, Any]) -> str:
    """One sentence: when the strategy enters and when it exits (stops included)."""
    direction = spec.get("direction", "long")
    enter, leave = SIDE_WORDS.get(direction, SIDE_WORDS["long"])
    exits = [tree_words(spec.get("exit"))] + exit_clauses(spec)
    exit_text = exits[0] if len(exits) == 1 else ", ".join(exits[:-1]) + " or " + exits[-1]
    sentence = f"{enter} when {tree_words(spec.get('entry'))}; {leave} when {exit_text}."
    if direction == "both":
        sentence += " Each signal reverses the position."
    return sentence
