"""The layering of the packages and the absence of import cycles, checked on every test run.

Dependencies point one way: pages -> components -> app -> workers/data -> engine. Imports are
read as text with ``ast`` (nothing is imported), including the ones under ``TYPE_CHECKING`` and
inside functions: a lazy import is still a dependency of the design.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("engine", "data", "workers", "app", "components", "pages")
#: package -> the packages it must never import
#: (``app`` builds the Dash app, so it registers the pages and their components.)
FORBIDDEN = {
    "engine": {"data", "workers", "app", "components", "pages"},
    "data": {"workers", "app", "components", "pages"},
    "workers": {"data", "app", "components", "pages"},
    "components": {"pages", "workers"},
}
#: the engine is pure: only these third-party packages (and the standard library)
ENGINE_THIRD_PARTY = {"numpy", "pandas", "numba", "pydantic"}
WEB_AND_IO = {"flask", "dash", "sqlalchemy", "psycopg", "redis", "rq", "requests", "yfinance",
              "alpaca", "plotly", "dash_bootstrap_components"}


def module_files() -> dict[str, Path]:
    files = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            files[".".join(parts)] = path
    return files


def imported_modules(path: Path, module: str, known: set[str]) -> set[str]:
    """The project modules ``module`` imports (resolved to the longest known name), and the
    top-level names of the others."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parents = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(p for p in (*parents, base) if p)
            names = [base, *(f"{base}.{alias.name}" for alias in node.names)]
        else:
            continue
        for name in names:
            resolved = name
            while resolved and resolved not in known:
                resolved = resolved.rpartition(".")[0]
            if resolved and resolved != module:
                found.add(resolved)
            elif not resolved:
                found.add(name.split(".")[0])
    return found


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    files = module_files()
    known = set(files)
    # a package's __init__ choosing among its own modules is not a cycle of design
    return {module: {target for target in imported_modules(path, module, known)
                     if not (path.name == "__init__.py" and target.startswith(module + "."))}
            for module, path in files.items()}


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iteratively; components of more than one module are cycles."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root] & graph.keys())))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child] & graph.keys()))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    cycles.append(sorted(component))
    return cycles


def test_every_package_imports_only_the_layers_below_it(graph):
    breaks = sorted(f"{module} imports {target}" for module, targets in graph.items()
                    for target in targets
                    if target.split(".")[0] in FORBIDDEN.get(module.split(".")[0], ()))
    assert breaks == []


def test_no_modules_import_each_other_in_a_circle(graph):
    assert strongly_connected(graph) == []


def test_the_engine_imports_only_numeric_libraries_and_itself(graph):
    outside = sorted(f"{module} imports {target}" for module, targets in graph.items()
                     if module.split(".")[0] == "engine" for target in targets
                     if target.split(".")[0] in WEB_AND_IO | set(PACKAGES) - {"engine"})
    assert outside == []
    assert ENGINE_THIRD_PARTY.isdisjoint(WEB_AND_IO)


def test_no_module_imports_another_modules_private_names():
    files = module_files()
    private = []
    for module, path in files.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and \
                    node.module.split(".")[0] in PACKAGES:
                private += [f"{module}: from {node.module} import {alias.name}"
                            for alias in node.names
                            if alias.name.startswith("_") and not alias.name.startswith("__")]
    assert private == []


def test_the_checker_finds_a_cycle_and_a_layer_break():
    """The rules above are not vacuous: a made-up graph with both faults is caught."""
    graph = {"engine.a": {"data.b"}, "data.b": {"engine.a"}, "app.c": set()}
    assert strongly_connected(graph) == [["data.b", "engine.a"]]
    assert "data" in FORBIDDEN["engine"]
