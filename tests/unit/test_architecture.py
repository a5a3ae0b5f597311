"""The shape of the code: one-way imports, no cycles, small modules, a light API process.

Guards the knots issue 8 untied: serving that imported training (the CLI lived in `training/`),
a ranker and a model that imported each other, modules that grew without bound.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("features", "models", "service", "training", "cli")
# Which first-party packages each package may import (itself included).
ALLOWED = {
    "features": {"features"},
    "models": {"models", "features"},
    "service": {"service", "models", "features"},
    "training": {"training", "models", "features"},
    "cli": set(PACKAGES),
}
MAX_LINES = 300


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")}


def _imports(path: Path, modules: dict[str, Path]) -> set[str]:
    """First-party modules `path` imports, at any depth (lazy imports count too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # `from a.b import c` imports a.b.c when c is a module, else a.b.
            names = [
                f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in modules else node.module
                for a in node.names
            ]
        else:
            continue
        found.update(n for n in names if n.split(".")[0] in PACKAGES)
    return found


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(path, modules) for name, path in modules.items()}


def test_imports_flow_one_way(graph: dict[str, set[str]]) -> None:
    wrong = sorted(
        f"{mod} imports {dep}"
        for mod, deps in graph.items()
        for dep in deps
        if dep.split(".")[0] not in ALLOWED[mod.split(".")[0]]
    )
    assert wrong == []


def test_no_import_cycles(graph: dict[str, set[str]]) -> None:
    # Edges into a package's __init__ are kept: a cycle through one is a cycle all the same.
    state: dict[str, int] = {}  # 1 = on the stack, 2 = done
    cycles: list[list[str]] = []

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        stack.append(node)
        for dep in sorted(graph.get(node, ())):
            if state.get(dep) == 1:
                cycles.append([*stack[stack.index(dep) :], dep])
            elif dep not in state:
                visit(dep, stack)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [])
    assert cycles == []


def test_no_module_over_the_size_limit() -> None:
    long = {
        name: n
        for name, path in _modules().items()
        if (n := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}


def test_the_api_process_loads_no_training_stack() -> None:
    code = (
        "import sys, service.main\nprint(' '.join(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    assert {"training", "cli", "matplotlib", "sklearn"}.isdisjoint(out)
    assert {"service", "models", "features"} <= set(out)
