"""The aestheticc-pos command as a person runs it: settings, db upgrade, demo, smoke, backup."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from aestheticc_pos.cli import main
from aestheticc_pos.keyring_store import MemoryDatabasePasswords
from aestheticc_pos.settings import load_settings, redact_url, write_database_url


def test_data_dir_and_database_url_resolution(tmp_path: Path) -> None:
    env = {"AESTHETICC_DATA_DIR": str(tmp_path / "clinic")}
    settings = load_settings(environ=env)
    assert settings.data_dir == tmp_path / "clinic" and settings.data_dir.is_dir()
    assert settings.data_dir.stat().st_mode & 0o777 == 0o700
    assert settings.database_url == f"sqlite:///{(tmp_path / 'clinic' / 'aestheticc.db').resolve()}"
    passwords = MemoryDatabasePasswords()
    write_database_url(settings.data_dir, "postgresql+psycopg://pos:secret@server/clinic", passwords)
    assert load_settings(environ=env).database_url == "postgresql+psycopg://pos@server/clinic"
    assert passwords.passwords == {"pos@server:5432/clinic": "secret"}
    env["AESTHETICC_DATABASE_URL"] = "sqlite:////elsewhere.db"
    assert load_settings(environ=env).database_url == "sqlite:////elsewhere.db"
    training = load_settings(training=True, environ=env)
    assert training.data_dir == tmp_path / "clinic" / "training"
    assert training.database_url.endswith(
        "/clinic/training/aestheticc.db"
    )  # never the real clinic's database
    assert (
        redact_url("postgresql+psycopg://pos:secret@server/clinic")
        == "postgresql+psycopg://pos:***@server/clinic"
    )


def test_db_upgrade_then_demo_then_refusing_a_second_demo(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "upgrade"]) == 0
    assert "Database is up to date" in capsys.readouterr().out
    assert main(["demo", "--clients", "25"]) == 0
    assert "25 clients" in capsys.readouterr().out
    assert main(["demo", "--clients", "25"]) == 1
    assert "already has a clinic" in capsys.readouterr().err
    assert main(["backup"]) == 0
    backups = list((load_settings().backups_dir).iterdir())
    assert len(backups) == 1


def test_publish_catalogue_from_the_command_line_writes_the_portal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--clients", "10"]) == 0
    capsys.readouterr()
    assert main(["publish-catalogue", "--out", str(tmp_path / "portal")]) == 0
    catalogue = json.loads((tmp_path / "portal" / "catalogue.json").read_text(encoding="utf-8"))
    assert catalogue["packages"] and (tmp_path / "portal" / "index.html").is_file()
    assert "Published" in capsys.readouterr().out


def test_smoke_opens_the_main_window_and_exits_zero(tmp_path: Path) -> None:
    env = {**os.environ, "AESTHETICC_DATA_DIR": str(tmp_path), "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run(
        [sys.executable, "-m", "aestheticc_pos", "--smoke"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "aestheticc.db").exists()


def test_audit_verify_says_the_log_is_intact_then_where_it_was_cut(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["demo", "--clients", "20"]) == 0
    capsys.readouterr()

    assert main(["audit", "verify"]) == 0
    intact = capsys.readouterr().out
    assert re.fullmatch(
        r"Audit log intact: [\d,]+ entries, last on \d{1,2} \w{3} \d{4} \d\d:\d\d\.\n", intact
    )

    database = load_settings().data_dir / "aestheticc.db"
    with sqlite3.connect(database) as connection:
        (last,) = connection.execute("SELECT max(seq) FROM audit_log").fetchone()
        connection.execute("DELETE FROM audit_log WHERE seq > ?", (last - 3,))
    assert main(["audit", "verify"]) == 1
    broken = capsys.readouterr().out
    assert broken.startswith("Audit log broken in 1 place")
    assert f"Entries {last - 2:,} to {last:,} are missing from the end of the log" in broken
    assert "The till carries on" in broken


def test_db_upgrade_never_prints_the_password(
    db_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("a password is a server's")
    with_password = make_url(db_url).set(password="s3cret-Pw").render_as_string(hide_password=False)
    for url in (with_password, f"{db_url}?password=s3cret-Pw&application_name=aestheticc"):
        monkeypatch.setenv("AESTHETICC_DATABASE_URL", url)  # the server here trusts the login

        assert main(["db", "upgrade"]) == 0

        out = capsys.readouterr().out
        assert out.startswith("Database is up to date: postgresql+psycopg://") and "***" in out
        assert "s3cret" not in out
