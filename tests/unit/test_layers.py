"""DESIGN.md §1: the layers, read from the source with ``ast`` (nothing is imported).

The domain is pure; the UI reaches the database and GoCardless only through services; ``sync/`` never imports
``services/``; no module imports the project's own modules inside a function (except ``app.py`` and ``cli.py``,
which may import late to open the window sooner); and the modules' imports form no cycle.

An import counts wherever it is: at the top, under ``if TYPE_CHECKING:`` or in a function; so does an import by
name (``importlib.import_module``), which only the main window (a screen's module when it is first opened:
``LaterView("clients", …)``) and the sync connection (the GoCardless adapter, on the sync's thread) may make,
naming the module in the source where this test can read it. ``from a.b import c``
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
# Modules that import project modules by name, and how the names are written there.
IMPORTS_BY_NAME = {"aestheticc_pos.ui.main_window", "aestheticc_pos.sync.connection"}
VIEWS = "aestheticc_pos.ui.views"  # LaterView("clients", …) names aestheticc_pos.ui.views.clients
BY_NAME_ALLOWED = IMPORTS_BY_NAME | LATE_IMPORTS_ALLOWED | {"aestheticc_pos.smoke"}  # smoke: third-party only


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
        if i.in_function and _is_project(i.module) and i not in _named(module)
    ]
    assert not wrong, "imports of the project inside functions (import at the top instead):\n" + "\n".join(
        wrong
    )


def test_the_modules_import_each_other_without_cycles() -> None:
    graph = {
        module: sorted(
            {
                i.module
                for i in _imports(module)
                if (not i.in_function or i in _named(module)) and i.module in _modules()
            }
        )
        for module in _modules()
    }
    cycles = [sorted(c) for c in _strongly_connected(graph) if len(c) > 1 or c[0] in graph[c[0]]]
    described = [
        f"{len(cycle)} modules: " + "; ".join(f"{a} -> {b}" for a in cycle for b in graph[a] if b in cycle)
        for cycle in sorted(cycles)
    ]
    assert not cycles, "import cycles:\n" + "\n".join(described)


def test_imports_by_name_are_made_only_where_the_names_can_be_read() -> None:
    wrong = [
        f"{_where(module, Import('importlib', line, True))} imports a module by name"
        for module in _modules()
        if module not in BY_NAME_ALLOWED
        for line in _calls_import_by_name(module)
    ]
    assert not wrong, "imports by name outside the main window and the sync connection:\n" + "\n".join(wrong)
    for module in IMPORTS_BY_NAME:
        assert _calls_import_by_name(module), (
            f"{module} no longer imports by name: drop it from IMPORTS_BY_NAME"
        )
        assert _named(module), f"{module} imports by name, but no project module is named in its source"
    screens = {i.module for i in _named("aestheticc_pos.ui.main_window")}
    assert {f"{VIEWS}.today", f"{VIEWS}.clients", f"{VIEWS}.reports", f"{VIEWS}.sync"} <= screens
    assert "aestheticc_pos.sync.gocardless" in {i.module for i in _named("aestheticc_pos.sync.connection")}


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
    return tuple(found) + _named(module)


@cache
def _named(module: str) -> tuple[Import, ...]:
    """The project modules ``module`` imports by name: a string that is a module's dotted name, or a
    ``LaterView("name", …)`` (a screen of ``ui/views``). Counted as imports inside a function (made when
    called), and an unknown name fails: a name this test cannot check would hide an import."""
    if module not in IMPORTS_BY_NAME:
        return ()
    found: list[Import] = []
    for node in ast.walk(ast.parse(_modules()[module].read_text(encoding="utf-8"))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in _modules():
            found.append(Import(node.value, node.lineno, True))
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "LaterView" and node.args:
            first = node.args[0]
            assert isinstance(first, ast.Constant) and isinstance(first.value, str), (
                f"{module}:{node.lineno}: LaterView's module must be written as a string"
            )
            name = f"{VIEWS}.{first.value}"
            assert name in _modules(), f"{module}:{node.lineno}: LaterView names {name}, which does not exist"
            found.append(Import(name, node.lineno, True))
    return tuple(found)


@cache
def _calls_import_by_name(module: str) -> tuple[int, ...]:
    """The lines of ``module`` that call ``importlib.import_module`` or ``__import__``."""
    lines = []
    for node in ast.walk(ast.parse(_modules()[module].read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call):
            name = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
            if name in ("import_module", "__import__"):
                lines.append(node.lineno)
    return tuple(lines)


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
