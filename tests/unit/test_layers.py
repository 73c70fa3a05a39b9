"""DESIGN.md §1: the domain is pure, and the UI reaches the database and GoCardless only through services."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "aestheticc_pos"
FORBIDDEN_IN_DOMAIN = {
    "PySide6",
    "sqlalchemy",
    "alembic",
    "requests",
    "gocardless_pro",
    "keyring",
    "platformdirs",
}
FORBIDDEN_IN_UI = {"sqlalchemy", "alembic", "requests", "gocardless_pro"}


def _imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
            if node.module.startswith("aestheticc_pos."):
                roots.add(node.module)
    return roots


def test_domain_imports_only_the_standard_library_and_itself() -> None:
    files = sorted((PACKAGE / "domain").rglob("*.py"))
    assert files, "the domain package should exist"
    for path in files:
        roots = _imported_roots(path)
        assert not roots & FORBIDDEN_IN_DOMAIN, f"{path.name} imports {roots & FORBIDDEN_IN_DOMAIN}"
        inner = {r for r in roots if r.startswith("aestheticc_pos.")}
        assert all(r.startswith("aestheticc_pos.domain") for r in inner), f"{path.name} imports {inner}"


def test_ui_never_touches_the_database_or_the_network() -> None:
    for path in sorted((PACKAGE / "ui").rglob("*.py")):
        roots = _imported_roots(path)
        assert not roots & FORBIDDEN_IN_UI, f"{path.name} imports {roots & FORBIDDEN_IN_UI}"
        assert not any(r.startswith("aestheticc_pos.store") for r in roots), f"{path.name} imports the store"
