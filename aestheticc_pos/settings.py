"""Where the app keeps its data and which database it uses.

Resolution order for the data directory: ``AESTHETICC_DATA_DIR`` (tests, training, two clinics on one PC),
else the user data directory of the OS (``platformdirs``). The database URL: ``AESTHETICC_DATABASE_URL``,
else ``database_url`` in ``settings.json`` in the data directory, else an SQLite file in the data directory.
Secrets never live here: the GoCardless token and the database password go to the OS keyring
(``keyring_store.py``). ``settings.json`` holds the server's URL without its password; ``app.py`` adds the
password from the keyring when it builds the engine, and ``redact_url`` hides any password wherever a URL is shown.

Files: the data folder is 0700 and every file the app keeps in it (``settings.json``, the database, backups, the
audit head, the number floor) is 0600, set when created and tightened at start (``make_private_dir``,
``make_private_file``, ``write_private_text``). On Windows the user's profile folder already keeps them private.
"""

from __future__ import annotations

import json
import logging
import os
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

import platformdirs

from aestheticc_pos.domain.errors import RuleViolation
from aestheticc_pos.keyring_store import DatabasePasswords, KeyringDatabasePasswords, SecretStoreUnavailable

log = logging.getLogger(__name__)

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


PIN_HASH_COST_ENV = "AESTHETICC_PIN_HASH_COST"


def pin_hash_cost(environ: Mapping[str, str] | None = None) -> str:
    """How costly a staff PIN's hash is to make and check: ``"standard"`` (the default) or ``"fast"``.

    ``standard`` is what every till runs: scrypt at about 100 ms a guess (``domain/staff.py`` says which
    parameters and what was measured), so a copied database cannot be searched for PINs quickly. ``fast``
    makes a hash in microseconds and is for the test suite only (``tests/conftest.py`` sets it), where hundreds
    of staff are added and signed in. Set by the ``AESTHETICC_PIN_HASH_COST`` environment variable; any other
    value means ``standard``. Each stored hash names the cost it was made at, so changing this never locks
    anyone out: a PIN made at another cost still signs in, and is hashed again at this one as it does.
    """
    env = os.environ if environ is None else environ
    return "fast" if env.get(PIN_HASH_COST_ENV, "").strip().lower() == "fast" else "standard"


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
    data_dir = make_private_dir(data_dir_from_env(env))
    if training:
        data_dir = make_private_dir(data_dir / TRAINING_DIR)
    make_private_file(data_dir / SETTINGS_FILE)
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


def write_database_url(data_dir: Path, url: str, passwords: DatabasePasswords | None = None) -> None:
    """Point this PC at another database (e.g. the clinic's PostgreSQL server) from the next start.

    Only the URL without its password reaches ``settings.json``: a password in ``url`` goes to ``passwords``
    (by default the OS keyring) first. Where it cannot be kept there, nothing is written and ``RuleViolation``
    says why and what to do.
    """
    bare, password = split_password(url.strip())
    if password is not None:
        login = database_login(bare)
        if not login:
            raise RuleViolation(
                "Give the user name with the password, like postgresql+psycopg://till:password@server/clinic."
            )
        store = KeyringDatabasePasswords() if passwords is None else passwords
        try:
            store.set_password(login, password)
        except SecretStoreUnavailable as error:
            raise RuleViolation(str(error)) from None
    _write_setting(data_dir, "database_url", bare)


PASSWORD_LEFT_IN_FILE = (
    "The database password is still written in settings.json, because this computer has no password store "
    "(keyring) to keep it safely. Ask your IT support to set one up: the app moves the password there at its "
    "next start."
)


def move_database_password(data_dir: Path, passwords: DatabasePasswords) -> str:
    """At start: a password an older version left in ``settings.json`` goes to the keyring and leaves the file.

    Returns "" when there was none or it moved. Otherwise a sentence for staff (``PASSWORD_LEFT_IN_FILE``):
    with no keyring the password stays where it already was, so the till still reaches its server, and it is
    never copied anywhere else.
    """
    url = str(read_settings_file(data_dir).get("database_url", "")).strip()
    bare, password = split_password(url)
    if password is None:
        return ""
    login = database_login(bare)
    try:
        if not login:
            raise SecretStoreUnavailable("the URL has no user name to keep the password for")
        passwords.set_password(login, password)
    except SecretStoreUnavailable:
        log.warning("The database password could not be moved from settings.json to the keyring")
        return PASSWORD_LEFT_IN_FILE
    _write_setting(data_dir, "database_url", bare)
    log.info("Moved the database password from settings.json to the keyring")
    return ""


def write_gocardless_environment(data_dir: Path, environment: str) -> None:
    """Which GoCardless environment this till syncs with (its token is in the keyring, never here)."""
    if environment not in GOCARDLESS_ENVIRONMENTS:
        raise ValueError(f"environment must be one of {GOCARDLESS_ENVIRONMENTS}")
    _write_setting(data_dir, "gocardless_environment", environment)


def _write_setting(data_dir: Path, key: str, value: str) -> None:
    current = read_settings_file(data_dir)
    current[key] = value
    write_private_text(data_dir / SETTINGS_FILE, json.dumps(current, indent=2))


# --- Passwords in URLs ----------------------------------------------------------------------------------------

# ``password=…`` in a URL's query or a libpq "key=value" DSN: up to the next & ; # or space, or a quoted value.
_PASSWORD_PARAMETER = re.compile(r"(?i)(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|[^&;#\s]*)")


def redact_url(url: str) -> str:
    """The URL (or libpq DSN) with every password hidden, for messages and logs.

    ``user:secret@host`` becomes ``user:***@host``; ``password=secret`` (a query parameter, as in
    ``?password=secret&sslmode=require``, or a DSN's ``key=value``) becomes ``password=***``.
    """
    text = _PASSWORD_PARAMETER.sub(r"\1***", url)
    userinfo = _userinfo_span(text)
    if userinfo is None:
        return text
    start, end = userinfo
    if ":" not in text[start:end]:
        return text
    user = text[start:end].split(":", 1)[0]
    return f"{text[:start]}{user}:***{text[end:]}"


def split_password(url: str) -> tuple[str, str | None]:
    """``url`` without its password, and the password (None when it has none).

    Both places a URL can carry one are emptied: ``user:password@`` and a ``password=`` query parameter.
    """
    password: str | None = None
    userinfo = _userinfo_span(url)
    if userinfo is not None:
        start, end = userinfo
        user, colon, secret = url[start:end].partition(":")
        if colon:
            password = unquote(secret) or None
            url = f"{url[:start]}{user}{url[end:]}"
    base, question, rest = url.partition("?")
    if question:
        query, hash_sign, fragment = rest.partition("#")
        pairs = parse_qsl(query, keep_blank_values=True)
        kept = [(name, value) for name, value in pairs if name.lower() != "password"]
        if len(kept) != len(pairs):
            password = password or next(v for n, v in reversed(pairs) if n.lower() == "password") or None
            url = base + (f"?{urlencode(kept)}" if kept else "") + hash_sign + fragment
    return url, password


def database_login(url: str) -> str:
    """Whose password the keyring keeps for ``url``: "till@192.168.1.10:5432/clinic"; "" with no user name."""
    bare, _password = split_password(url)
    try:
        parts = urlsplit(bare)
        user, host, port = parts.username, parts.hostname, parts.port
    except ValueError:
        return ""
    if not user:
        return ""
    return f"{unquote(user)}@{host or 'localhost'}:{port or 5432}/{parts.path.lstrip('/')}"


def _userinfo_span(url: str) -> tuple[int, int] | None:
    """Where the ``user[:password]`` part of ``scheme://user[:password]@host/…`` is (None when there is none)."""
    scheme_end = url.find("://")
    if scheme_end < 0:
        return None
    start = scheme_end + 3
    authority_and_path = re.split(r"[?#]", url[start:], maxsplit=1)[0]
    at = authority_and_path.rfind("@")
    return None if at < 0 else (start, start + at)


# --- Private files ----------------------------------------------------------------------------------------------

PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


def make_private_dir(path: Path) -> Path:
    """Create the folder ``path`` if needed and let only this user in (0700); returns ``path``."""
    path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR_MODE)
    _tighten(path, PRIVATE_DIR_MODE)
    return path


def make_private_file(path: Path) -> None:
    """Let only this user read or write the file at ``path`` (0600), if it exists."""
    if path.exists():
        _tighten(path, PRIVATE_FILE_MODE)


def create_private_file(path: Path) -> None:
    """Create ``path`` empty and 0600 if it does not exist (so what is written into it is never readable by
    others, even for a moment); an existing file is only tightened."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    except FileExistsError:
        _tighten(path, PRIVATE_FILE_MODE)
    else:
        os.close(descriptor)


def write_private_text(path: Path, text: str) -> None:
    """Replace the file at ``path`` with ``text`` (UTF-8) at once, 0600 from the first byte."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)
    descriptor = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(text)
    tmp.replace(path)


def _tighten(path: Path, mode: int) -> None:
    if os.name == "nt":
        return  # POSIX modes mean little there; the profile folder's ACL keeps the files private
    try:
        if stat.S_IMODE(path.stat().st_mode) != mode:
            path.chmod(mode)
    except OSError:
        log.warning("Could not make a file in the data folder private (mode %o)", mode)


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
