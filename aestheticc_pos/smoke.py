"""``aestheticc-pos --smoke``: start the app as a clinic's computer would, on a new data folder, and say what works.

It is the check of a build (CI starts the packaged app with it; README, "Building the app"): the database is
created from the migrations the app carries, the real main window opens (offscreen unless ``QT_QPA_PLATFORM``
says otherwise) with its style sheet and icons, the Qt parts the till needs are there (the platform plugins,
SVG images, styles, printing to PDF, charts), the OS password store is looked for as the app looks for it, and
the PostgreSQL driver loads. It prints one line per check and exits 0, or prints what failed in a sentence and
exits 1. A computer with no password store is not a failure (the app says so to staff and keeps no secrets);
a build in which keyring cannot find its backends at all is.

The data folder is ``AESTHETICC_DATA_DIR`` when it is set, else a new temporary folder removed afterwards;
``AESTHETICC_DATABASE_URL`` is ignored, so a smoke check never touches a clinic's database.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import os
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path

import keyring
from keyring.backend import KeyringBackend
from PySide6.QtCharts import QChart, QChartView, QLineSeries
from PySide6.QtCore import QLibraryInfo, QTimer, qVersion
from PySide6.QtGui import QGuiApplication, QIcon, QImage, QImageReader, QPainter
from PySide6.QtPrintSupport import QPrinter, QPrinterInfo
from PySide6.QtWidgets import QApplication, QStyleFactory

import aestheticc_pos
from aestheticc_pos.app import run_gui
from aestheticc_pos.keyring_store import keyring_is_real
from aestheticc_pos.settings import AppSettings, load_settings
from aestheticc_pos.store.migrate import MIGRATIONS_DIR, current_revision, known_revisions, upgrade_to_head
from aestheticc_pos.ui.main_window import RESOURCES, MainWindow, screens

# The Qt plugins a till needs, by a part of their file name: (plugin folder, names), per system.
REQUIRED_PLUGINS = {
    "linux": [("platforms", ["xcb", "offscreen"]), ("imageformats", ["svg"]), ("printsupport", ["cups"])],
    "win32": [("platforms", ["windows", "offscreen"]), ("imageformats", ["svg"])],
    "darwin": [("platforms", ["cocoa", "offscreen"]), ("imageformats", ["svg"])],
}
NATIVE_STYLES = {"win32": {"windows11", "windowsvista"}, "darwin": {"macos"}}  # from the styles plugins
NATIVE_KEYRING = {"linux": "SecretService", "win32": "Windows", "darwin": "macOS"}
NATIVE_KEYRING_NEEDS = {
    "linux": "secretstorage",
    "win32": "win32ctypes.pywin32",
}  # what those backends import
WINDOW_WAIT_SECONDS = 60.0
REPORT_FILE = "aestheticc-smoke.txt"


class SmokeFailed(Exception):
    """A check that failed; ``str(error)`` is a sentence saying what is wrong."""


def run_smoke(report: Callable[[str], None] | None = None) -> int:
    """Run every check, ``report`` a line for each (default: print them; a windowed build on Windows has no
    console, so there they go to ``REPORT_FILE`` in the current folder), and return 0 when all passed, else 1."""
    if report is None:
        report = print if sys.stdout is not None else write_to_report_file
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    given = os.environ.get("AESTHETICC_DATA_DIR", "").strip()
    folder = Path(given).expanduser() if given else Path(tempfile.mkdtemp(prefix="aestheticc-smoke-"))
    saved = {name: os.environ.get(name) for name in ("AESTHETICC_DATA_DIR", "AESTHETICC_DATABASE_URL")}
    os.environ["AESTHETICC_DATA_DIR"] = str(folder)
    os.environ.pop("AESTHETICC_DATABASE_URL", None)
    problems: list[str] = []

    def check(what: str, step: Callable[[], str]) -> bool:
        try:
            report(f"- {step()}")
            return True
        except SmokeFailed as failed:
            problems.append(str(failed))
        except Exception as error:  # anything else is a failure too, said with what was being checked
            problems.append(f"Checking {what} failed: {error!r}.")
            traceback.print_exc()
        return False

    report("Aestheticc POS smoke check")
    started = time.monotonic()
    try:
        settings = load_settings()
        app = QApplication.instance() or QApplication(sys.argv[:1])
        check("where the app runs from", lambda: where_it_runs(folder, new=not given))
        migrated = check("the database migrations", lambda: migrate(settings))
        check("the Qt plugins", lambda: qt_parts(app))  # type: ignore[arg-type]
        if migrated:  # the window needs the database
            check("the main window", lambda: main_window(settings, started))
        check("the password store", password_store)
        check("the PostgreSQL driver", postgres_driver)
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        if not given and not problems:
            shutil.rmtree(folder, ignore_errors=True)
    if problems:
        kept = "" if given else f" (the data folder {folder} is kept to look at)"
        report(f"Smoke check failed{kept}: " + " ".join(problems))
        return 1
    report(f"Smoke check passed in {time.monotonic() - started:.1f} s.")
    return 0


def write_to_report_file(line: str) -> None:
    with open(REPORT_FILE, "a", encoding="utf-8") as report:
        print(line, file=report)


def where_it_runs(folder: Path, *, new: bool) -> str:
    """The packaged app must run from its own folder: its code, migrations and resources all inside it."""
    place = f"data folder {folder}" + (" (new, removed afterwards)" if new else "")
    if not getattr(sys, "frozen", False):
        return f"Running from the source tree {Path(aestheticc_pos.__file__).parents[1]}, not a packaged build; {place}."
    bundle = Path(getattr(sys, "_MEIPASS", Path(sys.executable).parent)).resolve()
    home = bundle.parent  # the folder with the program (_internal/ beside it); in a macOS .app, Contents/
    for what, path in (
        ("the app's code", Path(aestheticc_pos.__file__)),
        ("the migrations", MIGRATIONS_DIR),
        ("the resources", RESOURCES),
    ):
        if home not in path.resolve().parents:
            raise SmokeFailed(f"The packaged app reads {what} from {path}, outside its own folder {home}.")
    return (
        f"Packaged app in {home} (Python {sys.version.split()[0]}), reading nothing from outside it; {place}."
    )


def migrate(settings: AppSettings) -> str:
    """Create the database from the migrations the app carries and check it reached the newest one."""
    scripts = sorted(p.name for p in (MIGRATIONS_DIR / "versions").glob("*.py"))
    if not (MIGRATIONS_DIR / "env.py").is_file() or not scripts:
        raise SmokeFailed(f"The database migrations are missing from {MIGRATIONS_DIR}.")
    revisions = known_revisions()
    if len(revisions) != len(scripts):
        raise SmokeFailed(
            f"{len(scripts)} migration files but {len(revisions)} revisions in {MIGRATIONS_DIR}."
        )
    before = current_revision(settings.database_url)
    began = time.monotonic()
    try:
        upgrade_to_head(settings.database_url)
    except Exception as error:
        raise SmokeFailed(
            f"The database could not be migrated with the app's migrations: {error}."
        ) from error
    head = current_revision(settings.database_url)
    if head is None or head not in revisions:
        raise SmokeFailed(f"After migrating, the database is at {head!r}, not at one of the app's revisions.")
    was = "a new database" if before is None else f"a database at {before}"
    return (
        f"Migrations: {len(scripts)} in {MIGRATIONS_DIR} ({scripts[0]} … {scripts[-1]}); {was} migrated to {head} "
        f"in {time.monotonic() - began:.1f} s."
    )


def qt_parts(app: QGuiApplication) -> str:
    """The plugins and Qt modules the till uses, each made to work once."""
    plugins = Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath))
    missing = [
        f"{kind}/{name}"
        for kind, names in REQUIRED_PLUGINS.get(sys.platform, [])
        for name in names
        if not any(name in p.name for p in (plugins / kind).glob("*"))
    ]
    if missing:
        raise SmokeFailed(f"Qt plugins missing from {plugins}: {', '.join(missing)}.")
    if b"svg" not in [bytes(f.data()) for f in QImageReader.supportedImageFormats()]:
        raise SmokeFailed("Qt cannot read SVG images (the imageformats/svg plugin did not load).")
    styles = {key.lower() for key in QStyleFactory.keys()}  # noqa: SIM118 (a Qt list, not a dict)
    native = NATIVE_STYLES.get(sys.platform, set())
    if native and not native & styles:
        raise SmokeFailed(f"The system's Qt style is missing (styles found: {', '.join(sorted(styles))}).")
    pdf = print_a_page()
    chart = draw_a_chart()
    printers = len(QPrinterInfo.availablePrinterNames())
    return (
        f"Qt {qVersion()} on the {app.platformName()!r} platform; plugins in {plugins}; "
        f"SVG images, styles {', '.join(sorted(styles))}; printed a {pdf:,}-byte PDF ({printers} printers set up); "
        f"drew a chart ({chart} colours)."
    )


def print_a_page() -> int:
    with tempfile.TemporaryDirectory(prefix="aestheticc-smoke-") as folder:
        path = Path(folder) / "page.pdf"
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
        printer.setOutputFileName(str(path))
        painter = QPainter()
        if not painter.begin(printer):
            raise SmokeFailed("Qt could not print a page to PDF (QtPrintSupport).")
        painter.drawText(100, 100, "Aestheticc POS")
        painter.end()
        data = path.read_bytes() if path.exists() else b""
    if not data.startswith(b"%PDF"):
        raise SmokeFailed("Printing a page to PDF wrote no PDF (QtPrintSupport).")
    return len(data)


def draw_a_chart() -> int:
    series = QLineSeries()
    for x, y in ((0, 1), (1, 3), (2, 2), (3, 5)):
        series.append(x, y)
    chart = QChart()
    chart.addSeries(series)
    chart.createDefaultAxes()
    view = QChartView(chart)
    view.resize(240, 160)
    colours = distinct_colours(view.grab().toImage())
    if colours < 3:
        raise SmokeFailed("A chart drawn with QtCharts came out blank.")
    return colours


def main_window(settings: AppSettings, started: float) -> str:
    """Start the front desk as a clinic would (``run_gui``) and look at the window while it is open."""
    seen: list[str] = []
    errors: list[str] = []
    deadline = time.monotonic() + WINDOW_WAIT_SECONDS
    previous_hook = sys.excepthook

    def record(kind, value, tb) -> None:  # type: ignore[no-untyped-def]
        errors.append("".join(traceback.format_exception_only(kind, value)).strip())
        previous_hook(kind, value, tb)

    def look() -> None:
        window = next((w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow)), None)
        if window is None or not window.isVisible():
            if time.monotonic() < deadline:
                QTimer.singleShot(20, look)
            else:
                errors.append(f"the main window did not open within {WINDOW_WAIT_SECONDS:.0f} s")
                QApplication.exit(1)
            return
        try:
            seen.append(inspect_window(window, time.monotonic() - started))
        except SmokeFailed as failed:
            errors.append(str(failed).rstrip("."))

    sys.excepthook = record
    QTimer.singleShot(0, look)
    try:
        status = run_gui(settings, smoke=True)
    finally:
        sys.excepthook = previous_hook
    if errors:
        raise SmokeFailed("While the main window opened: " + "; ".join(e.rstrip(".") for e in errors) + ".")
    if status != 0:
        raise SmokeFailed(f"The app ended with status {status} instead of 0.")
    if not seen:
        raise SmokeFailed("The app ended before its main window was seen.")
    return seen[0]


def inspect_window(window: MainWindow, after: float) -> str:
    if not window.styleSheet().strip():
        raise SmokeFailed(f"The main window has no style sheet ({RESOURCES / 'style.qss'} was not found).")
    icons = [RESOURCES / "icons" / "app.svg"] + [
        RESOURCES / "icons" / f"{s.key}.svg" for s in screens() if s.shortcut is not None
    ]
    unreadable = [p.name for p in icons if QIcon(str(p)).pixmap(22, 22).isNull()]
    if unreadable or window.windowIcon().pixmap(32, 32).isNull():
        raise SmokeFailed(f"Icons could not be drawn from {RESOURCES / 'icons'}: {', '.join(unreadable)}.")
    colours = distinct_colours(window.grab().toImage())
    if colours < 3:
        raise SmokeFailed("The main window drew nothing.")
    pages = getattr(window, "pages", None)
    showing = type(pages.currentWidget()).__name__ if pages is not None else "its first page"
    return (
        f"Main window {window.windowTitle()!r} open after {after:.1f} s, {window.width()}×{window.height()}, "
        f"showing {showing}, style sheet and {len(icons)} icons drawn ({colours} colours)."
    )


def password_store() -> str:
    """keyring finds its backends through entry points; a build without keyring's metadata finds none."""
    found = {ep.name: ep.value for ep in importlib.metadata.entry_points(group="keyring.backends")}
    native = NATIVE_KEYRING.get(sys.platform)
    if not found or (native and native not in found):
        raise SmokeFailed(
            f"keyring cannot find its {native or 'password-store'} backend (entry points found: "
            f"{', '.join(sorted(found)) or 'none'}), so this build could never keep the GoCardless token or a "
            "password: keyring's package metadata must be in the build (build.spec: copy_metadata)."
        )
    needs = NATIVE_KEYRING_NEEDS.get(sys.platform)
    if needs:
        try:
            importlib.import_module(needs)
        except ImportError as error:
            raise SmokeFailed(
                f"keyring's {native} backend cannot work without {needs}, which is missing ({error})."
            ) from error
    backend = keyring.get_keyring()
    names = ", ".join(sorted(found))
    if keyring_is_real(backend):
        return f"Password store: {describe(backend)} (keyring backends found: {names})."
    why = "; ".join(f"{name}: {reason}" for name, reason in unusable_backends(found).items())
    return (
        f"Password store: none usable on this computer ({why}). The app says so to staff, works offline and "
        f"keeps no secrets (keyring backends found: {names})."
    )


def describe(backend: object) -> str:
    inner = getattr(backend, "backends", None)
    if inner:
        return " then ".join(describe(b) for b in inner)
    return (
        f"{type(backend).__module__.rpartition('.')[2]} ({getattr(backend, 'name', type(backend).__name__)})"
    )


def unusable_backends(found: dict[str, str]) -> dict[str, str]:
    """Why each backend keyring found cannot be used here, in keyring's own words."""
    modules = {target.partition(":")[0]: name for name, target in found.items()}
    reasons = {}
    for backend in sorted(KeyringBackend._classes, key=lambda c: c.__module__):  # type: ignore[attr-defined]
        name = modules.get(backend.__module__)
        if name is None or name in reasons:
            continue
        try:
            backend.priority  # noqa: B018 (keyring's viability check raises with its reason)
        except Exception as error:
            reasons[name] = str(error) or type(error).__name__
    return reasons


def postgres_driver() -> str:
    """Several tills share a PostgreSQL server through psycopg 3; a packaged app must carry it."""
    try:
        psycopg = importlib.import_module("psycopg")
    except ImportError as error:
        if getattr(sys, "frozen", False):
            raise SmokeFailed(f"The PostgreSQL driver is missing from the build: {error}.") from error
        return "PostgreSQL driver: not installed here (pip install '.[postgres]'); SQLite works."
    try:
        libpq = psycopg.pq.version()
    except Exception as error:
        raise SmokeFailed(f"The PostgreSQL driver loaded but its libpq did not: {error}.") from error
    return f"PostgreSQL driver: psycopg {psycopg.__version__} ({psycopg.pq.__impl__}, libpq {libpq})."


def distinct_colours(image: QImage, step: int = 7) -> int:
    """How many colours a grid of pixels has: a blank image has one."""
    return len(
        {image.pixel(x, y) for x in range(0, image.width(), step) for y in range(0, image.height(), step)}
    )
