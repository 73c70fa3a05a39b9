"""The membership payments summed per charge day, kept by the database itself (``membership_payment_days``).

The reports ask of the membership payments only sums over days: what was collected or failed each month (the
Memberships report's collection), what is due in the next 30 days, what each tier's members paid (the Takings
report's tier split). A group's payments are millions of rows (a year of a million-client group: 1.2 million),
so those sums read this summary instead: per charge day, source, status, tier and currency, the payments' count
and amount, a few rows a day.

Every payment counts once, on its ``charge_date`` (a payment without one counts nowhere), under the tier its
membership had when it was written (``membership_payments.tier_name``: a tier change bills from the next
collection, so an earlier payment stays with the tier it paid for).

The summary is kept by triggers on ``membership_payments`` (``store/kept_sums.py``: every writer keeps it in
its own transaction, however it writes; on PostgreSQL each row names its writer, so two tills, or a till and
the sync applying a page of 500 events, never wait on each other's rows). A payment inserted without its tier
takes its membership's (a trigger fills it in). ``rebuild_payment_days`` sums every payment again (migration
0019's backfill, a check in the tests).
"""

from __future__ import annotations

from sqlalchemy import Connection

from aestheticc_pos.store.kept_sums import KeptSum, create_triggers, drop_triggers

PAYMENT_DAYS = KeptSum(
    summary="membership_payment_days",
    source="membership_payments",
    key={
        "day": "{row}.charge_date",
        "source": "{row}.source",
        "status": "{row}.status",
        "tier_name": "COALESCE({row}.tier_name, '')",
        "currency": "{row}.currency",
    },
    sums={"payments": "1", "amount_pence": "{row}.amount_pence"},
    facts=("charge_date", "source", "status", "tier_name", "currency", "amount_pence"),
    counted="{row}.charge_date IS NOT NULL",
)

# A payment written without its tier takes its membership's: on PostgreSQL before it is inserted; on SQLite
# (a trigger cannot change the row it fires for) by an update just after, which moves it in the summary from
# the tier '' to its tier.
_MEMBERSHIP_TIER = "(SELECT m.tier_name FROM memberships m WHERE m.id = NEW.membership_id)"
_TIER = {
    "sqlite": [
        f"""CREATE TRIGGER membership_payment_tier AFTER INSERT ON membership_payments
WHEN NEW.tier_name IS NULL
BEGIN
UPDATE membership_payments SET tier_name = {_MEMBERSHIP_TIER} WHERE id = NEW.id;
END"""
    ],
    "postgresql": [
        f"""CREATE FUNCTION membership_payment_tier() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.tier_name := {_MEMBERSHIP_TIER};
    RETURN NEW;
END $$""",
        """CREATE TRIGGER membership_payment_tier BEFORE INSERT ON membership_payments
FOR EACH ROW WHEN (NEW.tier_name IS NULL) EXECUTE FUNCTION membership_payment_tier()""",
    ],
}
_TIER_DROPS = {
    "sqlite": ["DROP TRIGGER IF EXISTS membership_payment_tier"],
    "postgresql": [
        "DROP TRIGGER IF EXISTS membership_payment_tier ON membership_payments",
        "DROP FUNCTION IF EXISTS membership_payment_tier()",
    ],
}


def create_payment_days_triggers(connection: Connection) -> None:
    """The triggers that keep the summary and fill in a payment's tier (migration 0019)."""
    create_triggers(connection, PAYMENT_DAYS)
    for statement in _TIER[_dialect(connection)]:
        connection.exec_driver_sql(statement)


def drop_payment_days_triggers(connection: Connection) -> None:
    for statement in _TIER_DROPS[_dialect(connection)]:
        connection.exec_driver_sql(statement)
    drop_triggers(connection, PAYMENT_DAYS)


def rebuild_payment_days(connection: Connection) -> None:
    """Sum every payment again, replacing what the summary held (its rows then have the writer '')."""
    PAYMENT_DAYS.rebuild(connection)


def _dialect(connection: Connection) -> str:
    return "postgresql" if connection.dialect.name == "postgresql" else "sqlite"
