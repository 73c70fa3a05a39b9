"""Persistence: tables, engines, the unit of work, migrations, backups and repositories (DESIGN.md §4).

- ``tables``: the typed SQLAlchemy models on one metadata;
- ``db``: engines for SQLite (WAL, FULL sync, BEGIN IMMEDIATE) and PostgreSQL, session factories;
- ``unit_of_work``: ``UnitOfWork``/``UnitOfWorkFactory``, atomic session counters, gap-free numbers,
  ``run_in_transaction`` with retry;
- ``migrate``: Alembic driven from code (``upgrade_to_head`` at start);
- ``backup``: online SQLite backups and restore;
- ``catalogue_repo``: catalogue rows ↔ ``domain.catalogue`` values.

Nothing here builds an engine at import time: ``app.py`` wires it (STYLE.md rule 5).
"""
