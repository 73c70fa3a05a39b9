"""The aestheticc-pos command as a person runs it: settings, db upgrade, demo, smoke, backup."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from aestheticc_pos.cli import main
from aestheticc_pos.settings import load_settings, redact_url, write_database_url


def test_data_dir_and_database_url_resolution(tmp_path: Path) -> None:
    env = {"AESTHETICC_DATA_DIR": str(tmp_path / "clinic")}
    settings = load_settings(environ=env)
    assert settings.data_dir == tmp_path / "clinic" and settings.data_dir.is_dir()
    assert settings.database_url == f"sqlite:///{(tmp_path / 'clinic' / 'aestheticc.db').resolve()}"
    write_database_url(settings.data_dir, "postgresql+psycopg://pos:secret@server/clinic")
    assert load_settings(environ=env).database_url == "postgresql+psycopg://pos:secret@server/clinic"
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
