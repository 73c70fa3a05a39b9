"""The ``aestheticc-pos`` command.

aestheticc-pos               start the front desk
aestheticc-pos --smoke       check this installation or build on a new data folder (migrations, main window,
                             Qt plugins, password store); exit 0, or 1 with what failed (smoke.py)
aestheticc-pos --training    practise on a separate training database
aestheticc-pos db upgrade    create or migrate the database
aestheticc-pos db current    print the schema revision
aestheticc-pos demo          fill an empty database with a demo clinic
aestheticc-pos backup        take an online backup of the SQLite database now
aestheticc-pos audit verify  check the whole audit log (its hash chain and its newest entries); exit 1 if broken
aestheticc-pos publish-catalogue --out DIR
                             write the booking portal's catalogue.json and index.html to DIR

At every start a database password an older version left in settings.json is moved to the OS keyring.
Database URLs are printed with their passwords hidden.
"""

from __future__ import annotations

import argparse
import logging
import sys

from aestheticc_pos.domain.errors import DomainError
from aestheticc_pos.keyring_store import DatabasePasswords, KeyringDatabasePasswords
from aestheticc_pos.settings import (
    AppSettings,
    data_dir_from_env,
    load_settings,
    move_database_password,
    redact_url,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aestheticc-pos", description="Aestheticc POS: the clinic front desk."
    )
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="check this installation on a new data folder: migrations, main window, Qt, keyring (for CI)",
    )
    parser.add_argument("--training", action="store_true", help="use the separate training database")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more detail")
    sub = parser.add_subparsers(dest="command")
    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="create or migrate the database to the newest schema")
    db_sub.add_parser("current", help="print the database's schema revision")
    demo = sub.add_parser("demo", help="fill an empty database with a demo clinic")
    demo.add_argument("--clients", type=int, default=300, help="how many demo clients (default 300)")
    demo.add_argument("--seed", type=int, default=7, help="random seed, for a repeatable demo")
    sub.add_parser("backup", help="take an online backup of the SQLite database now")
    audit = sub.add_parser("audit", help="the audit log")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    audit_sub.add_parser("verify", help="check the whole audit log: its hash chain and its newest entries")
    publish = sub.add_parser(
        "publish-catalogue", help="write the booking portal's catalogue.json and index.html"
    )
    publish.add_argument("--out", required=True, help="the folder to write them to (created if needed)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if not args.verbose:
        logging.getLogger("alembic").setLevel(logging.WARNING)
    if args.smoke and args.command is None and not args.training:
        try:
            from aestheticc_pos.smoke import run_smoke
        except ImportError as error:  # a build missing a module or a library the app needs
            print(f"Smoke check failed: a part of the app could not be loaded: {error}.", file=sys.stderr)
            return 1
        return run_smoke()
    passwords = KeyringDatabasePasswords()
    notice = "" if args.training else move_database_password(data_dir_from_env(), passwords)
    settings = load_settings(training=args.training)
    if notice and args.command is not None:
        print(f"aestheticc-pos: {notice}", file=sys.stderr)
    try:
        if args.command == "db":
            return run_db(args.db_command, settings, passwords)
        if args.command == "demo":
            return run_demo(settings, clients=args.clients, seed=args.seed)
        if args.command == "backup":
            return run_backup(settings)
        if args.command == "audit":
            return run_audit_verify(settings, passwords)
        if args.command == "publish-catalogue":
            return run_publish(settings, args.out)
        from aestheticc_pos.app import run_gui

        return run_gui(settings, smoke=args.smoke, notice=notice)
    except DomainError as error:
        print(f"aestheticc-pos: {error}", file=sys.stderr)
        return 1


def run_db(command: str, settings: AppSettings, passwords: DatabasePasswords) -> int:
    from aestheticc_pos.app import connection_url
    from aestheticc_pos.store.migrate import current_revision, upgrade_to_head

    url = connection_url(settings.database_url, passwords)
    if command == "upgrade":
        upgrade_to_head(url)
        print(f"Database is up to date: {redact_url(url)} (revision {current_revision(url)})")
    else:
        print(current_revision(url) or "empty (no schema yet)")
    return 0


def run_audit_verify(settings: AppSettings, passwords: DatabasePasswords) -> int:
    """Check the whole audit log and say so plainly; 0 when it is intact, 1 when it is not."""
    from aestheticc_pos.app import build_services
    from aestheticc_pos.services.audit import WHAT_TO_DO, check_audit_log_in
    from aestheticc_pos.services.context import read_clinic_settings
    from aestheticc_pos.ui import format as fmt

    services = build_services(settings, passwords=passwords)
    try:
        with services.uow(read_only=True) as uow:
            check = check_audit_log_in(uow)
            tz = read_clinic_settings(uow.session).tz
    finally:
        services.uow.engine.dispose()  # type: ignore[attr-defined]
    print(check.summary(fmt.date_time(check.last_at, tz) if check.last_at else ""))
    for problem in check.problems:
        print(f"  - {problem}")
    for note in check.notes:
        print(f"Note: {note}")
    if not check.intact:
        print(WHAT_TO_DO)
    return 0 if check.intact else 1


def run_demo(settings, *, clients: int, seed: int) -> int:  # type: ignore[no-untyped-def]
    from aestheticc_pos.app import build_services
    from aestheticc_pos.services.demo import fill_demo_clinic

    services = build_services(settings)
    summary = fill_demo_clinic(services, clients=clients, seed=seed)
    print(summary)
    return 0


def run_backup(settings) -> int:  # type: ignore[no-untyped-def]
    from aestheticc_pos.store.backup import backup_sqlite

    if not settings.is_sqlite:
        print(
            "aestheticc-pos: backups from the app are for the embedded SQLite database; "
            "back up a PostgreSQL server with its own tools (pg_dump).",
            file=sys.stderr,
        )
        return 1
    path = backup_sqlite(settings.database_url, settings.backups_dir)
    print(f"Backup written to {path}")
    return 0


def run_publish(settings, out: str) -> int:  # type: ignore[no-untyped-def]
    """Publish the active packages and tiers. Packages whose GoCardless link is not made yet are queued for the
    app's background sync and shown "ask at reception" until a later publish."""
    from pathlib import Path

    from aestheticc_pos.app import build_services
    from aestheticc_pos.services.portal import publish_catalogue_from_the_command_line

    services = build_services(settings)
    published = publish_catalogue_from_the_command_line(services, Path(out).expanduser())
    print(published.sentence)
    return 0
