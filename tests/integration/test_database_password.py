"""The PostgreSQL password lives in the keyring only: settings.json holds the URL without it, the engine gets it
at the last moment, and every form of it is hidden wherever a URL is printed (DESIGN.md §7)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import keyring
import keyring.errors
import pytest
from keyring.backends import fail
from memory_keyring import InMemoryKeyring
from sqlalchemy.engine import make_url

from aestheticc_pos.app import connection_url
from aestheticc_pos.cli import main
from aestheticc_pos.domain.errors import RuleViolation
from aestheticc_pos.keyring_store import (
    DATABASE_SERVICE,
    NO_KEYRING_FOR_DATABASE,
    KeyringDatabasePasswords,
    MemoryDatabasePasswords,
)
from aestheticc_pos.settings import (
    PASSWORD_LEFT_IN_FILE,
    SETTINGS_FILE,
    database_login,
    load_settings,
    move_database_password,
    read_settings_file,
    redact_url,
    split_password,
    write_database_url,
)

SERVER = "postgresql+psycopg://till:s3cret-Pw@192.168.1.10/clinic"
BARE = "postgresql+psycopg://till@192.168.1.10/clinic"
LOGIN = "till@192.168.1.10:5432/clinic"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (SERVER, "postgresql+psycopg://till:***@192.168.1.10/clinic"),
        (
            "postgresql+psycopg://till@server/clinic?password=s3cret-Pw&sslmode=require",
            "postgresql+psycopg://till@server/clinic?password=***&sslmode=require",
        ),
        ("postgresql+psycopg://till@server/clinic?sslmode=require&password=s3cret-Pw", "…&password=***"),
        (
            "host=server user=till password=s3cret-Pw dbname=clinic",
            "host=server user=till password=*** dbname=clinic",
        ),
        ("host=server password='s3cret-Pw and more' dbname=clinic", "host=server password=*** dbname=clinic"),
        (
            "postgresql+psycopg://till:s3cret%40Pw/x@server:5433/clinic",
            "postgresql+psycopg://till:***@server:5433/clinic",
        ),
        (BARE, BARE),
        ("sqlite:////home/clinic/aestheticc.db", "sqlite:////home/clinic/aestheticc.db"),
    ],
)
def test_every_form_of_a_password_is_hidden_where_a_url_is_shown(url: str, shown: str) -> None:
    redacted = redact_url(url)

    assert "s3cret" not in redacted and "Pw" not in redacted
    assert redacted.endswith(shown.removeprefix("…"))


def test_a_password_is_split_from_the_url_in_either_place() -> None:
    assert split_password(SERVER) == (BARE, "s3cret-Pw")
    assert split_password(f"{BARE}?password=s3cret-Pw&sslmode=require") == (
        f"{BARE}?sslmode=require",
        "s3cret-Pw",
    )
    assert split_password("postgresql+psycopg://till:p%40ss@server/clinic") == (
        "postgresql+psycopg://till@server/clinic",
        "p@ss",
    )
    assert split_password(BARE) == (BARE, None)
    assert database_login(SERVER) == LOGIN
    assert database_login("postgresql+psycopg://server/clinic") == ""


def test_a_server_chosen_in_settings_keeps_its_password_in_the_keyring_only(tmp_path: Path) -> None:
    passwords = MemoryDatabasePasswords()

    write_database_url(tmp_path, SERVER, passwords)

    assert read_settings_file(tmp_path)["database_url"] == BARE
    assert passwords.passwords == {LOGIN: "s3cret-Pw"}
    assert b"s3cret" not in (tmp_path / SETTINGS_FILE).read_bytes()
    assert (tmp_path / SETTINGS_FILE).stat().st_mode & 0o777 == 0o600
    assert connection_url(BARE, passwords) == "postgresql+psycopg://till:s3cret-Pw@192.168.1.10/clinic"


def test_with_no_keyring_a_password_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    write_database_url(tmp_path, BARE, MemoryDatabasePasswords())

    with pytest.raises(RuleViolation) as refused:
        write_database_url(tmp_path, SERVER, MemoryDatabasePasswords(available=False))

    assert str(refused.value) == NO_KEYRING_FOR_DATABASE
    assert read_settings_file(tmp_path)["database_url"] == BARE
    with pytest.raises(RuleViolation, match="user name"):
        write_database_url(tmp_path, "postgresql+psycopg://:pw@server/clinic", MemoryDatabasePasswords())


def test_a_password_an_older_version_wrote_is_moved_to_the_keyring_at_start(tmp_path: Path) -> None:
    (tmp_path / SETTINGS_FILE).write_text(
        json.dumps({"database_url": SERVER, "gocardless_environment": "sandbox"})
    )
    passwords = MemoryDatabasePasswords()

    assert move_database_password(tmp_path, passwords) == ""

    assert passwords.passwords == {LOGIN: "s3cret-Pw"}
    assert read_settings_file(tmp_path) == {"database_url": BARE, "gocardless_environment": "sandbox"}
    assert load_settings(environ={"AESTHETICC_DATA_DIR": str(tmp_path)}).database_url == BARE
    assert move_database_password(tmp_path, passwords) == ""  # nothing left to move


def test_with_no_keyring_the_old_password_stays_where_it_was_and_staff_are_told(tmp_path: Path) -> None:
    (tmp_path / SETTINGS_FILE).write_text(json.dumps({"database_url": SERVER}))

    assert move_database_password(tmp_path, MemoryDatabasePasswords(available=False)) == PASSWORD_LEFT_IN_FILE

    assert read_settings_file(tmp_path) == {"database_url": SERVER}  # the till still reaches its server
    assert connection_url(SERVER, MemoryDatabasePasswords(available=False)) == SERVER


def test_the_engine_url_gets_the_password_only_when_one_is_kept_for_that_login() -> None:
    kept = MemoryDatabasePasswords({LOGIN: "p@ss word"})

    assert make_url(connection_url(BARE, kept)).password == "p@ss word"
    assert connection_url("postgresql+psycopg://other@192.168.1.10/clinic", kept).endswith(
        "//other@192.168.1.10/clinic"
    )
    assert connection_url(SERVER, kept) == SERVER  # a password given with the URL wins
    assert connection_url(
        "sqlite:////tmp/aestheticc.db", MemoryDatabasePasswords(available=False)
    ).startswith("sqlite")
    assert connection_url(BARE, MemoryDatabasePasswords(available=False)) == BARE


# --- The command, over the OS keyring (an in-memory keyring backend installed for the test) -----------------


def test_each_start_of_the_command_moves_an_old_password_to_the_keyring(
    installed: None, capsys: pytest.CaptureFixture[str]
) -> None:
    backend = InMemoryKeyring()
    keyring.set_keyring(backend)
    data_dir = Path(os.environ["AESTHETICC_DATA_DIR"])
    (data_dir / SETTINGS_FILE).write_text(json.dumps({"database_url": SERVER}))

    assert main(["backup"]) == 1  # a server is backed up with its own tools; the move happened first

    assert backend.passwords == {(DATABASE_SERVICE, LOGIN): "s3cret-Pw"}
    assert read_settings_file(data_dir)["database_url"] == BARE
    assert KeyringDatabasePasswords().get_password(LOGIN) == "s3cret-Pw"
    assert "s3cret" not in capsys.readouterr().err


def test_a_start_with_no_keyring_says_the_password_cannot_be_kept(
    installed: None, capsys: pytest.CaptureFixture[str]
) -> None:
    keyring.set_keyring(fail.Keyring())
    data_dir = Path(os.environ["AESTHETICC_DATA_DIR"])
    (data_dir / SETTINGS_FILE).write_text(json.dumps({"database_url": SERVER}))

    assert main(["backup"]) == 1

    err = capsys.readouterr().err
    assert PASSWORD_LEFT_IN_FILE in err and "s3cret" not in err
    assert read_settings_file(data_dir)["database_url"] == SERVER
