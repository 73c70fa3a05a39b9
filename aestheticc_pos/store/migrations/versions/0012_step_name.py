"""A client package's step is called ``name``, as the catalogue's step and the domain's ``PackageStep`` are.

The column holds what the package calls the step ("Consultation", "Review") when it was sold, which is not
always the treatment's name: ``treatment_name`` said otherwise. Both SQLite (3.25 and later) and PostgreSQL
rename a column in place, without copying the table.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 09:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("ALTER TABLE client_package_steps RENAME COLUMN treatment_name TO name")


def downgrade() -> None:
    op.execute("ALTER TABLE client_package_steps RENAME COLUMN name TO treatment_name")
