"""Where the app keeps its data and which database it uses.

Resolution order for the data directory: ``AESTHETICC_DATA_DIR`` (tests, training, two clinics on one PC),
else the user data directory of the OS (``platformdirs``). The database URL: ``AESTHETICC_DATABASE_URL``,
else ``database_url`` in ``settings.json`` in the data directory, else an SQLite file in the data directory.
Secrets never live here: the GoCardless token goes to the OS keyring.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import platformdirs

APP_NAME = "Aestheticc POS"
APP_AUTHOR = "Aestheticc"
SETTINGS_FILE = "settings.json"
DATABASE_FILE = "aestheticc.db"
TRAINING_DIR = "training"


GOCARDLESS_ENVIRONMENTS = ("live", "sandbox")


@dataclass(frozen=True, slots=True)
class AppSettings:
    data_dir: Path
    database_url: str
    training: bool = False
    gocardless_environment: str = "live"  # which token this till uses (the tokens live in the OS keyring)

    @property
    def backups_dir(self) -> Path:
        return self.data_dir / "backups"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def data_dir_from_env(environ: dict[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    override = env.get("AESTHETICC_DATA_DIR", "").strip()
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_data_dir(APP_NAME, APP_AUTHOR))


def load_settings(*, training: bool = False, environ: dict[str, str] | None = None) -> AppSettings:
    """Read the settings for this start of the app, creating the data directory if needed.

    Training mode keeps a separate database under ``<data dir>/training`` so practice never touches
    the clinic's real records; it ignores ``AESTHETICC_DATABASE_URL`` for the same reason.
    """
    env = os.environ if environ is None else environ
    data_dir = data_dir_from_env(env)
    if training:
        data_dir = data_dir / TRAINING_DIR
    data_dir.mkdir(parents=True, exist_ok=True)
    url = "" if training else env.get("AESTHETICC_DATABASE_URL", "").strip()
    if not url:
        url = str(read_settings_file(data_dir).get("database_url", "")).strip()
    if not url:
        url = sqlite_url(data_dir / DATABASE_FILE)
    environment = str(read_settings_file(data_dir).get("gocardless_environment", "live"))
    if environment not in GOCARDLESS_ENVIRONMENTS:
        environment = "live"
    return AppSettings(
        data_dir=data_dir, database_url=url, training=training, gocardless_environment=environment
    )


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path.resolve()}"


def read_settings_file(data_dir: Path) -> dict[str, object]:
    path = data_dir / SETTINGS_FILE
    if not path.exists():
        return {}
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


def write_database_url(data_dir: Path, url: str) -> None:
    """Point this PC at another database (e.g. the clinic's PostgreSQL server) from the next start."""
    _write_setting(data_dir, "database_url", url)


def write_gocardless_environment(data_dir: Path, environment: str) -> None:
    """Which GoCardless environment this till syncs with (its token is in the keyring, never here)."""
    if environment not in GOCARDLESS_ENVIRONMENTS:
        raise ValueError(f"environment must be one of {GOCARDLESS_ENVIRONMENTS}")
    _write_setting(data_dir, "gocardless_environment", environment)


def _write_setting(data_dir: Path, key: str, value: str) -> None:
    current = read_settings_file(data_dir)
    current[key] = value
    path = data_dir / SETTINGS_FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(current, indent=2), encoding="utf-8")
    tmp.replace(path)


def redact_url(url: str) -> str:
    """The URL with any password hidden, for messages and logs."""
    if "://" not in url or "@" not in url:
        return url
    scheme, rest = url.split("://", 1)
    creds, host = rest.rsplit("@", 1)
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}" if ":" in creds else f"{scheme}://{user}@{host}"


POSTGRESQL_PREFIX = "postgresql+psycopg://"


def postgresql_url_problem(url: str) -> str:
    """Why ``url`` cannot name the clinic's PostgreSQL server, as a sentence; "" when it can."""
    example = "postgresql+psycopg://till:password@192.168.1.10/clinic"
    if not url.startswith(POSTGRESQL_PREFIX):
        return f"A server address starts with {POSTGRESQL_PREFIX}, like {example}."
    try:
        parts = urlsplit(url)
        host, database = parts.hostname, parts.path.lstrip("/")
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        host, database = None, ""
    if not host or not database:
        return f"Give the server and the database, like {example}."
    return ""
