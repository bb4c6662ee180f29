"""Shared set-up of the cockpit page tests: an app, users, strategies and finished runs made
through the real services (embedded mode: SQLite and the in-process job runner)."""

from __future__ import annotations

import time
from typing import Any

from flask import g

from app.runs.service import get_run, start_run
from app.services import session_scope
from app.services.strategies import create_strategy


def as_user(app: Any, user_id: int) -> Any:
    """A pushed request context in which ``user_id`` is the logged-in user (pop it after)."""
    context = app.server.test_request_context()
    context.push()
    g.arena_user_id = user_id
    return context


def save(app: Any, user_id: int, spec: dict[str, Any]) -> int:
    with session_scope(app.server.extensions["arena"].sessions) as session:
        return create_strategy(session, user_id, spec).id


def finished_run(app: Any, user_id: int, strategy_id: int, timeout: float = 120) -> int:
    """Start a backtest through the job layer and wait until it has succeeded."""
    context = app.server.extensions["arena"]
    run_id = start_run(context, user_id, strategy_id, "backtest", {})
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with context.sessions() as session:
            run = get_run(session, user_id, run_id)
            if run.finished:
                assert run.status == "succeeded", run.error
                return run_id
        time.sleep(0.2)
    raise AssertionError(f"run {run_id} did not finish within {timeout} s")


def find_all(component: Any, predicate: Any) -> list[Any]:
    """Every component in a Dash layout tree for which ``predicate(component)`` holds."""
    found = []
    stack = [component]
    while stack:
        node = stack.pop()
        if isinstance(node, list | tuple):
            stack.extend(node)
            continue
        if node is None or isinstance(node, str | int | float):
            continue
        if predicate(node):
            found.append(node)
        children = getattr(node, "children", None)
        if children is not None:
            stack.append(children)
    return found


def text_of(component: Any) -> str:
    """All the text in a layout tree, space-separated."""
    parts: list[str] = []
    stack = [component]
    while stack:
        node = stack.pop(0)
        if isinstance(node, list | tuple):
            stack[:0] = list(node)
        elif isinstance(node, str | int | float):
            parts.append(str(node))
        elif node is not None:
            children = getattr(node, "children", None)
            if children is not None:
                stack.insert(0, children)
    return " ".join(parts)
