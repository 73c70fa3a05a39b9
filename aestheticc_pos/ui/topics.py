"""What a change touched (DESIGN.md §1, Anki's ``OpChanges``): ``Desk.changed`` carries a set of these names,
from the tables each commit wrote, and every screen refreshes when one it shows is in the set."""

from __future__ import annotations

CLIENTS = "clients"
APPOINTMENTS = "appointments"
SALES = "sales"
PACKAGES = "packages"
MEMBERSHIPS = "memberships"
CATALOGUE = "catalogue"
SETTINGS = "settings"
STAFF = "staff"
SYNC = "sync"
PAYMENTS = "payments"  # invoices and payment links
EMAILS = "emails"  # emails queued to clients

# The tables behind each topic: a committed change to one of them (``UnitOfWorkFactory.on_commit``) refreshes
# the screens showing that topic, whoever made it — a use case at this desk or the sync.
_TABLES = {
    CLIENTS: ("clients",),
    APPOINTMENTS: ("appointments",),
    SALES: ("sales", "sale_lines", "tenders", "day_closures"),
    PACKAGES: ("client_packages", "client_package_steps", "session_ledger"),
    MEMBERSHIPS: ("memberships", "membership_payments"),
    CATALOGUE: ("treatments", "products", "packages", "package_steps", "tiers", "package_links"),
    SETTINGS: ("settings",),
    STAFF: ("staff",),
    SYNC: ("outbox", "sync_state", "processed_events"),
    PAYMENTS: ("payment_links", "invoices", "invoice_lines", "deposits"),
    EMAILS: ("emails",),
}
TOPIC_OF_TABLE = {table: topic for topic, tables in _TABLES.items() for table in tables}


def topics_of(tables: frozenset[str] | set[str]) -> frozenset[str]:
    """The topics a commit that wrote ``tables`` touched."""
    return frozenset(TOPIC_OF_TABLE[t] for t in tables if t in TOPIC_OF_TABLE)
