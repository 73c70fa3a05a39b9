"""The packaged app (build.spec) carries every file the app reads at run time, and ``--smoke`` says what works.

PyInstaller follows imports to collect Python modules, but not the files the code opens: the migrations Alembic
loads, the style sheet and the icons. build.spec lists those in ``DATAS``. These tests read that list (without
running PyInstaller) and fail when a file or folder the app reads is not bundled, or would land somewhere else
than where the code looks for it inside the bundle (``Path(__file__)`` there is inside the bundle's folder).
CI builds the app and runs its ``--smoke`` (``.ci/run``); here ``--smoke`` runs from the source tree.
"""

from __future__ import annotations

import ast
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from aestheticc_pos.sync.connection import GATEWAY_MODULE
from aestheticc_pos.ui.main_window import LaterView, screens

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "aestheticc_pos"
SPEC = ROOT / "build.spec"


def test_the_spec_bundles_every_file_the_code_finds_from_its_own_location() -> None:
    found = runtime_paths()
    assert {"aestheticc_pos.ui.main_window.RESOURCES", "aestheticc_pos.store.migrate.MIGRATIONS_DIR"} <= set(
        found
    ), f"the scan should find the resources and the migrations, found {sorted(found)}"
    wrong = [
        f"{name} = {path.relative_to(ROOT)}: {problem}"
        for name, path in sorted(found.items())
        for problem in bundling_problems(path)
    ]
    assert not wrong, "build.spec (DATAS) does not bundle what the app reads at run time:\n" + "\n".join(
        wrong
    )


def test_every_migration_and_resource_is_bundled_in_its_place() -> None:
    migrations = files_under(PACKAGE / "store" / "migrations")
    assert PACKAGE / "store" / "migrations" / "env.py" in migrations
    assert len([p for p in migrations if p.parent.name == "versions"]) >= 9
    resources = files_under(ROOT / "resources")
    assert ROOT / "resources" / "style.qss" in resources
    assert ROOT / "resources" / "icons" / "app.svg" in resources
    wrong = [str(p.relative_to(ROOT)) for p in migrations + resources if bundled_at(p) != p.relative_to(ROOT)]
    assert not wrong, "not bundled where the app looks for them:\n" + "\n".join(wrong)


def test_every_file_in_the_package_that_is_not_python_is_bundled() -> None:
    """Package data (a template, a font, a page the app serves) is read from disk, never imported."""
    data = [p for p in files_under(PACKAGE) if p.suffix != ".py"]
    assert PACKAGE / "store" / "migrations" / "script.py.mako" in data
    missing = [str(p.relative_to(ROOT)) for p in data if bundled_at(p) != p.relative_to(ROOT)]
    assert not missing, "files of the package build.spec does not bundle:\n" + "\n".join(missing)


def test_a_new_folder_read_at_run_time_and_not_bundled_is_found(tmp_path: Path) -> None:
    """A copy of the tree with one more folder the UI reads (fonts/): the same checks find it unbundled."""
    module = tmp_path / "aestheticc_pos" / "ui" / "fonts.py"
    module.parent.mkdir(parents=True)
    module.write_text('from pathlib import Path\nFONTS = Path(__file__).resolve().parents[2] / "fonts"\n')
    (tmp_path / "fonts").mkdir()
    (tmp_path / "fonts" / "Inter.ttf").write_bytes(b"font")
    (tmp_path / "resources" / "icons").mkdir(parents=True)
    (tmp_path / "resources" / "icons" / "app.svg").write_text("<svg/>")

    found = paths_in_source(module.read_text(), module)
    assert found == {"FONTS": tmp_path / "fonts"}
    assert bundling_problems(tmp_path / "fonts", tmp_path) == ["fonts/Inter.ttf is not in build.spec's DATAS"]
    assert bundling_problems(tmp_path / "resources", tmp_path) == []


def test_the_spec_names_only_real_folders_and_keeps_their_places() -> None:
    datas = spec_datas()
    assert datas, "build.spec should list the files the app reads (DATAS)"
    for source, dest in datas:
        assert (ROOT / source).exists(), f"build.spec bundles {source}, which does not exist"
        assert Path(dest) == Path(source), f"{source} must keep its place in the bundle, not go to {dest}"


def test_the_spec_keeps_keyring_backends_and_the_qt_modules_loaded_later() -> None:
    """keyring finds its backends through its package metadata; QtCharts is imported after the first paint."""
    tree = ast.parse(SPEC.read_text(encoding="utf-8"))
    copied = {
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and getattr(node.func, "id", "") == "copy_metadata"
        and isinstance(node.args[0], ast.Constant)
    }
    assert "keyring" in copied
    qt_modules = spec_constant("QT_MODULES")
    assert {"PySide6.QtCharts", "PySide6.QtPrintSupport", "PySide6.QtSvg"} <= set(qt_modules)


def test_the_spec_bundles_the_modules_the_app_imports_by_name() -> None:
    """Screens are imported when first opened and the gateway when the sync connects: by name, which the build's
    analysis does not follow, so their packages are bundled whole."""
    later = [s.make.module for s in screens() if isinstance(s.make, LaterView)] + [GATEWAY_MODULE]
    packages = spec_constant("LATER_PACKAGES")
    assert all(any(m.startswith(p + ".") for p in packages) for m in later), (later, packages)


def test_smoke_reports_each_part_and_exits_zero(tmp_path: Path) -> None:
    done = smoke(tmp_path / "data")
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "Aestheticc POS smoke check"
    for start in ("- Migrations: ", "- Qt ", "- Main window 'Aestheticc POS' open", "- Password store: "):
        assert any(line.startswith(start) for line in lines), f"no line starting {start!r}:\n{done.stdout}"
    assert lines[-1].startswith("Smoke check passed in ")
    assert (tmp_path / "data" / "aestheticc.db").exists()


def test_smoke_says_what_failed_and_exits_one(tmp_path: Path) -> None:
    """A database from a newer version of the app: the bundled migrations cannot bring it to their head."""
    folder = tmp_path / "data"
    folder.mkdir()
    with sqlite3.connect(folder / "aestheticc.db") as connection:
        connection.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)")
        connection.execute("INSERT INTO alembic_version VALUES ('9999_from_the_future')")
    done = smoke(folder)
    assert done.returncode == 1, done.stdout + done.stderr
    failed = done.stdout.splitlines()[-1]
    assert failed.startswith(
        "Smoke check failed: The database could not be migrated with the app's migrations"
    )
    assert "9999_from_the_future" in failed


# --- reading build.spec and the source --------------------------------------------------------------------------


def spec_constant(name: str) -> list:
    """A constant list assigned at the top of build.spec, read without running it."""
    for node in ast.parse(SPEC.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == name for t in node.targets):
            return ast.literal_eval(node.value)
    raise AssertionError(f"build.spec has no {name} = [...]")


def spec_datas() -> list[tuple[str, str]]:
    return [tuple(pair) for pair in spec_constant("DATAS")]


def bundled_at(path: Path, root: Path = ROOT) -> Path | None:
    """Where build.spec puts ``path`` (a file or folder of the source tree ``root``) in the bundle, or None."""
    relative = path.relative_to(root)
    for source, dest in spec_datas():
        if relative == Path(source) or Path(source) in relative.parents:
            return Path(dest) / relative.relative_to(source)
    return None


def bundling_problems(path: Path, root: Path = ROOT) -> list[str]:
    """What is wrong with how ``path``, which the app reads, is bundled ([] when every file of it is in place)."""
    if not path.exists():
        return ["does not exist in the source tree"]
    problems = []
    for file in [path] if path.is_file() else files_under(path):
        place, relative = bundled_at(file, root), file.relative_to(root)
        if place is None:
            problems.append(f"{relative} is not in build.spec's DATAS")
        elif place != relative:
            problems.append(f"{relative} is bundled at {place}, not where the code looks")
    return problems


def files_under(folder: Path) -> list[Path]:
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix not in {".pyc", ".pyo"}
    )


def runtime_paths() -> dict[str, Path]:
    """Every path a module of the package computes from its own location, by ``module.NAME``."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        for name, target in paths_in_source(path.read_text(encoding="utf-8"), path).items():
            found[f"{module}.{name}"] = target
    return found


def paths_in_source(source: str, path: Path) -> dict[str, Path]:
    """``NAME = <expression of __file__>`` in ``source``, evaluated as if the module were at ``path``.

    Any other use of ``__file__`` fails the test: the app would read a file this scan cannot see.
    """
    tree = ast.parse(source)
    found: dict[str, Path] = {}
    assigned: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None and uses_file(node.value):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            name = getattr(targets[0], "id", None) or getattr(targets[0], "attr", "?")
            try:
                value = eval(  # noqa: S307 (an expression of Path and __file__ from the project's own source)
                    compile(ast.Expression(node.value), str(path), "eval"),
                    {"Path": Path, "__file__": str(path)},
                )
            except Exception as error:
                raise AssertionError(
                    f"{path}:{node.lineno}: cannot tell which file {name} names ({error!r}); make it "
                    "Path(__file__)… so this test can check build.spec bundles it"
                ) from error
            found[name] = Path(value).resolve()
            assigned.update(id(n) for n in ast.walk(node.value))
    stray = [
        n.lineno
        for n in ast.walk(tree)
        if isinstance(n, ast.Name) and n.id == "__file__" and id(n) not in assigned
    ]
    assert not stray, f"{path}: __file__ used outside a NAME = Path(__file__)… constant on lines {stray}"
    return found


def uses_file(node: ast.AST) -> bool:
    return any(isinstance(n, ast.Name) and n.id == "__file__" for n in ast.walk(node))


def smoke(data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AESTHETICC_DATA_DIR": str(data_dir), "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.run(
        [sys.executable, "-m", "aestheticc_pos", "--smoke"],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
