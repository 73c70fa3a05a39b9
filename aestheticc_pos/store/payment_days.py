"""The membership payments summed per charge day, kept by the database itself (``membership_payment_days``).

The reports ask of the membership payments only sums over days: what was collected or failed each month (the
Memberships report's collection), what is due in the next 30 days, what each tier's members paid (the Takings
report's tier split). A group's payments are millions of rows (a year of a million-client group: 1.2 million),
so those sums read this summary instead: per charge day, source, status, tier and currency, the payments' count
and amount, a few rows a day.

Every payment counts once, on its ``charge_date`` (a payment without one counts nowhere), under the tier its
membership had when it was written (``membership_payments.tier_name``: a tier change bills from the next
collection, so an earlier payment stays with the tier it paid for).

The summary is kept by triggers on ``membership_payments`` (insert, the update of what it sums, delete), so every
writer keeps it in its own transaction, whichever part of the app it is in and however it writes (the ORM, a
statement, the benchmark's generator, a migration): a payment's count and amount move from its old key to its
new one. A payment inserted without its tier takes its membership's (the trigger fills it in). On PostgreSQL
the trigger's upsert locks its row until the payment commits, so each row also names its writer (the
database session, ``pg_backend_pid()``): two tills never wait on each other's rows, nor on the sync applying a
page of 500 events. SQLite has one writer at a time; its rows have the writer ''. The reports sum over it.

``rebuild_payment_days`` sums every payment again (migration 0019's backfill, a check in the tests).
"""

from __future__ import annotations

from sqlalchemy import Connection, delete, func, literal_column, select

from aestheticc_pos.store.tables import MembershipPaymentDayRow, MembershipPaymentRow, MembershipRow

TABLE = "membership_payment_days"
FACTS = ("charge_date", "source", "status", "tier_name", "currency", "amount_pence")
_KEY = "day, source, status, tier_name, currency, writer"
_ADD = (
    f"ON CONFLICT ({_KEY}) DO UPDATE SET payments = {TABLE}.payments + excluded.payments, "
    f"amount_pence = {TABLE}.amount_pence + excluded.amount_pence"
)


def _tier(row: str) -> str:
    """The tier a payment counts under: its own, else its membership's now ('' for neither)."""
    return f"COALESCE({row}.tier_name, (SELECT m.tier_name FROM memberships m WHERE m.id = {row}.membership_id), '')"


def _move(row: str, sign: str, writer: str) -> str:
    """Add (``sign`` '') or take away ('-') the payment ``row`` (``NEW`` or ``OLD``) on its key."""
    return (
        f"INSERT INTO {TABLE} (day, source, status, tier_name, currency, writer, payments, amount_pence) "
        f"SELECT {row}.charge_date, {row}.source, {row}.status, {_tier(row)}, {row}.currency, {writer}, "
        f"{sign}1, {sign}{row}.amount_pence WHERE {row}.charge_date IS NOT NULL {_ADD};"
    )


def _changed(old: str, new: str) -> str:
    return " OR ".join(f"{old}.{name} IS DISTINCT FROM {new}.{name}" for name in FACTS)


_SQLITE = [
    f"""CREATE TRIGGER membership_payment_days_insert AFTER INSERT ON membership_payments
BEGIN
{_move("NEW", "", "''")}
UPDATE membership_payments SET tier_name = {_tier("NEW")} WHERE id = NEW.id AND NEW.tier_name IS NULL;
END""",
    f"""CREATE TRIGGER membership_payment_days_update AFTER UPDATE OF {", ".join(FACTS)} ON membership_payments
WHEN {_changed("OLD", "NEW").replace("IS DISTINCT FROM", "IS NOT")}
BEGIN
{_move("OLD", "-", "''")}
{_move("NEW", "", "''")}
END""",
    f"""CREATE TRIGGER membership_payment_days_delete AFTER DELETE ON membership_payments
BEGIN
{_move("OLD", "-", "''")}
END""",
]

_WRITER = "pg_backend_pid()::text"
_POSTGRESQL = [
    f"""CREATE FUNCTION membership_payment_tier() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.tier_name := {_tier("NEW")};
    RETURN NEW;
END $$""",
    f"""CREATE FUNCTION membership_payment_days_kept() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        {_move("OLD", "-", _WRITER)}
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        {_move("NEW", "", _WRITER)}
    END IF;
    RETURN NULL;
END $$""",
    """CREATE TRIGGER membership_payment_tier BEFORE INSERT OR UPDATE OF tier_name ON membership_payments
FOR EACH ROW WHEN (NEW.tier_name IS NULL) EXECUTE FUNCTION membership_payment_tier()""",
    """CREATE TRIGGER membership_payment_days_insert AFTER INSERT OR DELETE ON membership_payments
FOR EACH ROW EXECUTE FUNCTION membership_payment_days_kept()""",
    f"""CREATE TRIGGER membership_payment_days_update AFTER UPDATE OF {", ".join(FACTS)} ON membership_payments
FOR EACH ROW WHEN ({_changed("OLD", "NEW")}) EXECUTE FUNCTION membership_payment_days_kept()""",
]

_DROP = {
    "sqlite": [
        f"DROP TRIGGER IF EXISTS membership_payment_days_{op}" for op in ("insert", "update", "delete")
    ],
    "postgresql": [
        "DROP TRIGGER IF EXISTS membership_payment_days_update ON membership_payments",
        "DROP TRIGGER IF EXISTS membership_payment_days_insert ON membership_payments",
        "DROP TRIGGER IF EXISTS membership_payment_tier ON membership_payments",
        "DROP FUNCTION IF EXISTS membership_payment_days_kept()",
        "DROP FUNCTION IF EXISTS membership_payment_tier()",
    ],
}


def create_payment_days_triggers(connection: Connection) -> None:
    """The triggers that keep the summary (migration 0019)."""
    for statement in _POSTGRESQL if connection.dialect.name == "postgresql" else _SQLITE:
        connection.exec_driver_sql(statement)


def drop_payment_days_triggers(connection: Connection) -> None:
    for statement in _DROP["postgresql" if connection.dialect.name == "postgresql" else "sqlite"]:
        connection.exec_driver_sql(statement)


def rebuild_payment_days(connection: Connection) -> None:
    """Sum every payment again, replacing what the summary held (its rows then have the writer '')."""
    p, m = MembershipPaymentRow, MembershipRow
    tier_now = select(m.tier_name).where(m.id == p.membership_id).scalar_subquery()
    key = (p.charge_date, p.source, p.status, func.coalesce(p.tier_name, tier_now, ""), p.currency)
    summed = (
        select(*key, literal_column("''"), func.count(), func.coalesce(func.sum(p.amount_pence), 0))
        .where(p.charge_date.is_not(None))
        .group_by(*key)
    )
    table = MembershipPaymentDayRow.__table__
    connection.execute(delete(table))
    connection.execute(
        table.insert().from_select(
            ["day", "source", "status", "tier_name", "currency", "writer", "payments", "amount_pence"], summed
        )
    )
