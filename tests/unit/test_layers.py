"""DESIGN.md §1: the layers, read from the source with ``ast`` (nothing is imported).

The domain is pure; the UI reaches the database and GoCardless only through services; ``sync/`` never imports
``services/``; no module imports the project's own modules inside a function (except ``app.py`` and ``cli.py``,
which may import late to open the window sooner); and the modules' imports form no cycle.

An import counts wherever it is: at the top, under ``if TYPE_CHECKING:`` or in a function. ``from a.b import c``
is an import of the module ``a.b.c`` when there is one, else of ``a.b``; importing a module is not counted as
importing its package's ``__init__``, which Python runs first (a package that re-exports its modules is no cycle).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "aestheticc_pos"
FORBIDDEN_IN_DOMAIN = {
    "PySide6",
    "shiboken6",
    "sqlalchemy",
    "alembic",
    "requests",
    "gocardless_pro",
    "keyring",
    "platformdirs",
}
FORBIDDEN_IN_UI = {"sqlalchemy", "alembic", "requests", "gocardless_pro"}
LATE_IMPORTS_ALLOWED = {"aestheticc_pos.app", "aestheticc_pos.cli"}


@dataclass(frozen=True)
class Import:
    module: str  # absolute; for a project module, the module file imported
    line: int
    in_function: bool  # inside a function or method (run when called, not when the module is imported)


def test_domain_imports_only_the_standard_library_and_itself() -> None:
    modules = [m for m in _modules() if _within(m, "aestheticc_pos.domain")]
    assert modules, "the domain package should exist"
    wrong = [
        f"{_where(module, i)} imports {i.module}"
        for module in modules
        for i in _imports(module)
        if i.module.split(".")[0] in FORBIDDEN_IN_DOMAIN
        or (_is_project(i.module) and not _within(i.module, "aestheticc_pos.domain"))
    ]
    assert not wrong, "the domain imports what it must not:\n" + "\n".join(wrong)


def test_ui_never_touches_the_database_or_the_network() -> None:
    wrong = [
        f"{_where(module, i)} imports {i.module}"
        for module in _modules()
        if _within(module, "aestheticc_pos.ui")
        for i in _imports(module)
        if i.module.split(".")[0] in FORBIDDEN_IN_UI or _within(i.module, "aestheticc_pos.store")
    ]
    assert not wrong, "the UI imports what it must not:\n" + "\n".join(wrong)


def test_sync_never_imports_services() -> None:
    """The engine hands GoCardless's news to the message bus ``app.py`` gives it, never to a service."""
    wrong = [
        f"{_where(module, i)} imports {i.module}"
        for module in _modules()
        if _within(module, "aestheticc_pos.sync")
        for i in _imports(module)
        if _within(i.module, "aestheticc_pos.services")
    ]
    assert not wrong, "sync/ imports services/:\n" + "\n".join(wrong)


def test_no_project_import_inside_a_function() -> None:
    wrong = [
        f"{_where(module, i)} imports {i.module}"
        for module in _modules()
        if module not in LATE_IMPORTS_ALLOWED
        for i in _imports(module)
        if i.in_function and _is_project(i.module)
    ]
    assert not wrong, "imports of the project inside functions (import at the top instead):\n" + "\n".join(
        wrong
    )


def test_the_modules_import_each_other_without_cycles() -> None:
    graph = {
        module: sorted({i.module for i in _imports(module) if not i.in_function and i.module in _modules()})
        for module in _modules()
    }
    cycles = [sorted(c) for c in _strongly_connected(graph) if len(c) > 1 or c[0] in graph[c[0]]]
    described = [
        f"{len(cycle)} modules: " + "; ".join(f"{a} -> {b}" for a in cycle for b in graph[a] if b in cycle)
        for cycle in sorted(cycles)
    ]
    assert not cycles, "import cycles:\n" + "\n".join(described)


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = {"a": ["b"], "b": ["c"], "c": ["a", "d"], "d": [], "e": ["e"]}
    assert sorted(sorted(c) for c in _strongly_connected(graph)) == [["a", "b", "c"], ["d"], ["e"]]


# --- reading the source ----------------------------------------------------------------------------------------


@cache
def _modules() -> dict[str, Path]:
    """Every module of the project by dotted name (a package by the name of its ``__init__``)."""
    modules = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


@cache
def _imports(module: str) -> tuple[Import, ...]:
    path = _modules()[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[Import] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import):
                found.extend(Import(alias.name, child.lineno, in_function) for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = _absolute(child, package)
                for alias in child.names:
                    submodule = f"{base}.{alias.name}"
                    target = submodule if submodule in _modules() else base
                    found.append(Import(target, child.lineno, in_function))
            else:
                visit(child, in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)))

    visit(ast.parse(path.read_text(encoding="utf-8"), str(path)), False)
    return tuple(found)


def _absolute(node: ast.ImportFrom, package: str) -> str:
    """The module ``from … import`` names, with a relative one (``from .common import``) made absolute."""
    if not node.level:
        return node.module or ""
    base = package.split(".")
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _strongly_connected(graph: dict[str, list[str]]) -> list[list[str]]:
    """Tarjan's algorithm, without recursion: the strongly connected components of ``graph``."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(graph[start]))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, edges = work[-1]
            following = next((n for n in edges if n in graph), None)
            if following is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    components.append(component)
            elif following not in index:
                index[following] = low[following] = len(index)
                stack.append(following)
                on_stack.add(following)
                work.append((following, iter(graph[following])))
            elif following in on_stack:
                low[node] = min(low[node], index[following])
    return components


def _is_project(module: str) -> bool:
    return _within(module, "aestheticc_pos")


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def _where(module: str, found: Import) -> str:
    return f"{_modules()[module].relative_to(ROOT)}:{found.line}"
