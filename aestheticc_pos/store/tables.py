"""The clinic's tables: one metadata, typed SQLAlchemy 2 models (DESIGN.md §4).

Conventions, the same in every table:
- ids are UUID strings (``String(36)``) made at the till (``new_id``), so offline tills never clash;
- timestamps are ``UTCDateTime`` (aware in, aware UTC out, on SQLite and PostgreSQL alike); days are ``Date``;
- money is ``*_pence`` (big integer) beside a ``currency``; percentages are ``*_bp`` basis points;
- statuses and kinds are strings holding a domain ``StrEnum`` value. Where DESIGN.md (or an existing domain
  enum) fixes the values, a CHECK constraint holds the column to them;
- relationships are ``lazy="raise"``: a repository says what it loads (``selectinload``).

Alembic owns the schema (``store/migrations``); a test checks that these models match the migrated database.
"""

from __future__ import annotations

import datetime as dt
import json
import unicodedata
import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    event,
    false,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import DeclarativeBase, Mapped, Mapper, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from aestheticc_pos.domain.appointments import AppointmentStatus
from aestheticc_pos.domain.billing import PaymentSource
from aestheticc_pos.domain.catalogue import BenefitsStart, DepositKind
from aestheticc_pos.domain.clients import phone_digits
from aestheticc_pos.domain.deposits import DepositStatus
from aestheticc_pos.domain.invoices import InvoiceStatus
from aestheticc_pos.domain.memberships import MembershipStatus
from aestheticc_pos.domain.outbox import OutboxStatus
from aestheticc_pos.domain.packages import ClientPackageStatus, LedgerKind
from aestheticc_pos.domain.payment_links import LinkPurpose, LinkStatus
from aestheticc_pos.domain.refunds import DocumentKind
from aestheticc_pos.domain.staff import Role
from aestheticc_pos.store import membership_repricing

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_id() -> str:
    """A new record id, made at the till."""
    return str(uuid.uuid4())


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A moment in time: only aware datetimes go in, aware UTC datetimes come out.

    PostgreSQL stores ``timestamptz``; SQLite stores the naive UTC text, which sorts in time order.
    A naive datetime is refused, because nobody could tell which clock it was read from.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"a naive datetime cannot be stored (give it a time zone): {value!r}")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class JSONText(TypeDecorator[Any]):
    """A JSON value kept as text (sorted keys, no spaces), the same on SQLite and PostgreSQL.

    Assign a new value to change it: changes made inside a dict in place are not noticed by the session.
    """

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    def process_result_value(self, value: str | None, dialect: Dialect) -> Any:
        return None if value is None else json.loads(value)


def _search_string(length: int) -> String:
    """A column searched by prefix (``LIKE 'abc%'``) through a plain index.

    The collation is what lets each engine use the index for LIKE: NOCASE on SQLite (its LIKE ignores ASCII
    case), "C" on PostgreSQL (byte order). The values are lower case already, so neither changes a result.
    """
    return (
        String(length)
        .with_variant(String(length, collation="NOCASE"), "sqlite")
        .with_variant(String(length, collation="C"), "postgresql")
    )


def _one_of(column: str, values: Iterable[str]) -> CheckConstraint:
    allowed = ", ".join(f"'{v}'" for v in values)
    return CheckConstraint(f"{column} IN ({allowed})", name=f"{column}_valid")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dt.datetime: UTCDateTime(), str: String()}


def _id() -> Mapped[str]:
    return mapped_column(String(36), primary_key=True, default=new_id)


def _ref(target: str, *, index: bool = False) -> Mapped[Any]:
    """A reference to another row's id; nullable when the annotation says ``str | None``."""
    return mapped_column(String(36), ForeignKey(target), index=index)


def _created() -> Mapped[dt.datetime]:
    return mapped_column(default=utcnow)


def _updated() -> Mapped[dt.datetime]:
    return mapped_column(default=utcnow, onupdate=utcnow)


def _pence() -> Mapped[int]:
    return mapped_column(BigInteger)


def _currency() -> Mapped[str]:
    return mapped_column(String(3))


def _counter() -> Mapped[int]:
    return mapped_column(Integer, default=0, server_default=text("0"))


# --- Clinic, staff, audit ------------------------------------------------------------------------------------


class SettingRow(Base):
    """One clinic setting (name, address, VAT number, time zone, grace, no-show policy, till prefix…)."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class StaffRow(Base):
    __tablename__ = "staff"
    __table_args__ = (
        _one_of("role", Role),
        CheckConstraint("failed_attempts >= 0", name="failed_attempts_not_negative"),
    )

    id: Mapped[str] = _id()
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(20))
    pin_hash: Mapped[str] = mapped_column(String(128))
    pin_salt: Mapped[str] = mapped_column(String(64))
    failed_attempts: Mapped[int] = _counter()
    locked_until: Mapped[dt.datetime | None]
    active: Mapped[bool] = mapped_column(default=True)
    pin_reset: Mapped[bool] = mapped_column(default=False, server_default=false())  # a new PIN is chosen next
    left_at: Mapped[dt.datetime | None]  # when a manager marked them as having left (active is then False)
    created_at: Mapped[dt.datetime] = _created()


class AuditLogRow(Base):
    """One entry of the append-only, hash-chained audit log (DESIGN.md §7).

    ``details`` is the JSON text the hash covers, written by the audit module exactly as hashed. ``seq`` is
    never reused (SQLite AUTOINCREMENT). Appenders on PostgreSQL must serialise (lock the chain's head) so
    two tills never chain onto the same ``prev_hash``.
    """

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_record", "record_type", "record_id"),
        {"sqlite_autoincrement": True},
    )

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(index=True)
    staff_id: Mapped[str | None] = _ref("staff.id")
    action: Mapped[str] = mapped_column(String(64))
    record_type: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(Text)
    details: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


# --- Clients ------------------------------------------------------------------------------------------------


class ClientRow(Base):
    """A client. The ``search_*`` and ``phone_digits`` columns are derived on every flush (see below).

    Search-as-you-type matches prefixes of these indexed columns (``column.like("abc%", escape="\\")``, the
    typed text normalised the same way); ``store/client_search.py`` reads them a page at a time.
    """

    __tablename__ = "clients"
    # A page of the list is one range of one of these (``store/client_search.py``): partial (clients on file)
    # and covering (the key, then the id that makes it unique).
    __table_args__ = tuple(
        Index(
            name,
            *columns,
            sqlite_where=text("anonymised_at IS NULL"),
            postgresql_where=text("anonymised_at IS NULL"),
        )
        for name, columns in (
            ("ix_clients_surname_key", ("search_name_reversed", "id", "search_name")),
            ("ix_clients_first_name_key", ("search_name", "id", "search_name_reversed")),
            ("ix_clients_email_key", ("search_email", "id")),
            ("ix_clients_phone_key", ("phone_digits", "id")),
        )
    )

    id: Mapped[str] = _id()
    first_name: Mapped[str] = mapped_column(String(80))
    last_name: Mapped[str] = mapped_column(String(80))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    date_of_birth: Mapped[dt.date | None]
    notes: Mapped[str] = mapped_column(Text, default="")
    marketing_consent: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[dt.datetime] = _created()
    updated_at: Mapped[dt.datetime] = _updated()
    anonymised_at: Mapped[dt.datetime | None]
    search_name: Mapped[str] = mapped_column(_search_string(170))  # "first last"
    search_name_reversed: Mapped[str] = mapped_column(_search_string(170))  # "last first"
    search_email: Mapped[str | None] = mapped_column(_search_string(254))
    phone_digits: Mapped[str | None] = mapped_column(_search_string(40))


@event.listens_for(ClientRow, "before_insert")
@event.listens_for(ClientRow, "before_update")
def _derive_client_search_columns(mapper: Mapper[ClientRow], connection: Any, row: ClientRow) -> None:
    for column, value in client_search_columns(row.first_name, row.last_name, row.email, row.phone).items():
        setattr(row, column, value)


def client_search_columns(
    first_name: str, last_name: str, email: str | None, phone: str | None
) -> dict[str, Any]:
    """The derived search columns of a client, for code that inserts clients without the ORM (bulk loads)."""
    return {
        "search_name": search_text(f"{first_name} {last_name}"),
        "search_name_reversed": search_text(f"{last_name} {first_name}"),
        "search_email": search_text(email) if email else None,
        "phone_digits": phone_digits(phone) if phone else None,
    }


def search_text(text_: str) -> str:
    """Text as search compares it: accents dropped, case folded, spaces collapsed ("Élodie  O'Neil" → "elodie o'neil")."""
    decomposed = unicodedata.normalize("NFKD", text_)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(bare.casefold().split())


# --- Catalogue ----------------------------------------------------------------------------------------------


class TreatmentRow(Base):
    __tablename__ = "treatments"
    __table_args__ = (
        CheckConstraint("price_pence >= 0", name="price_not_negative"),
        CheckConstraint("vat_rate_bp BETWEEN 0 AND 10000", name="vat_rate_bp_range"),
        CheckConstraint("duration_minutes > 0", name="duration_positive"),
        _one_of("deposit_kind", DepositKind),
        CheckConstraint("deposit_percent_bp BETWEEN 0 AND 10000", name="deposit_percent_bp_range"),
    )

    id: Mapped[str] = _id()
    name: Mapped[str] = mapped_column(String(120))
    price_pence: Mapped[int] = _pence()
    currency: Mapped[str] = _currency()
    vat_rate_bp: Mapped[int]
    duration_minutes: Mapped[int]
    deposit_kind: Mapped[str] = mapped_column(String(10), default=DepositKind.NONE.value)
    deposit_pence: Mapped[int | None] = mapped_column(BigInteger)
    deposit_percent_bp: Mapped[int] = _counter()
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = _created()
    updated_at: Mapped[dt.datetime] = _updated()


class ProductRow(Base):
    __tablename__ = "products"
    __table_args__ = (
        CheckConstraint("price_pence >= 0", name="price_not_negative"),
        CheckConstraint("vat_rate_bp BETWEEN 0 AND 10000", name="vat_rate_bp_range"),
    )

    id: Mapped[str] = _id()
    name: Mapped[str] = mapped_column(String(120))
    price_pence: Mapped[int] = _pence()
    currency: Mapped[str] = _currency()
    vat_rate_bp: Mapped[int]
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = _created()
    updated_at: Mapped[dt.datetime] = _updated()


class PackageRow(Base):
    __tablename__ = "packages"
    __table_args__ = (
        CheckConstraint("price_pence >= 0", name="price_not_negative"),
        CheckConstraint("vat_rate_bp BETWEEN 0 AND 10000", name="vat_rate_bp_range"),
        CheckConstraint("validity_days > 0", name="validity_days_positive"),
    )

    id: Mapped[str] = _id()
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    price_pence: Mapped[int] = _pence()
    currency: Mapped[str] = _currency()
    vat_rate_bp: Mapped[int]
    validity_days: Mapped[int]
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = _created()
    updated_at: Mapped[dt.datetime] = _updated()

    steps: Mapped[list[PackageStepRow]] = relationship(
        back_populates="package",
        lazy="raise",
        order_by="PackageStepRow.position",
        cascade="all, delete-orphan",
    )


class PackageStepRow(Base):
    __tablename__ = "package_steps"
    __table_args__ = (
        CheckConstraint("position >= 1", name="position_from_1"),
        CheckConstraint("sessions >= 1", name="sessions_positive"),
        CheckConstraint(
            "min_days_after_previous >= 0 AND min_days_between_sessions >= 0", name="delays_not_negative"
        ),
    )

    package_id: Mapped[str] = mapped_column(String(36), ForeignKey("packages.id"), primary_key=True)
    position: Mapped[int] = mapped_column(primary_key=True)
    treatment_id: Mapped[str] = _ref("treatments.id", index=True)
    # What the package calls this step ("Consultation", "Review"): the treatment's name unless the clinic
    # named it; sentences about step delays use it.
    name: Mapped[str] = mapped_column(String(120))
    sessions: Mapped[int]
    min_days_after_previous: Mapped[int] = _counter()
    min_days_between_sessions: Mapped[int] = _counter()

    package: Mapped[PackageRow] = relationship(back_populates="steps", lazy="raise")
    treatment: Mapped[TreatmentRow] = relationship(lazy="raise")


class TierRow(Base):
    """A membership tier of the catalogue."""

    __tablename__ = "tiers"
    __table_args__ = (
        CheckConstraint("monthly_price_pence > 0", name="monthly_price_positive"),
        CheckConstraint("discount_bp BETWEEN 0 AND 10000", name="discount_bp_range"),
        CheckConstraint("grace_days >= 0", name="grace_days_not_negative"),
        CheckConstraint("signup_fee_pence >= 0", name="signup_fee_not_negative"),
        _one_of("benefits_start", BenefitsStart),
    )

    id: Mapped[str] = _id()
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    monthly_price_pence: Mapped[int] = _pence()
    signup_fee_pence: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    currency: Mapped[str] = _currency()
    discount_bp: Mapped[int]
    covers_treatments: Mapped[bool]
    covers_products: Mapped[bool]
    covers_packages: Mapped[bool]
    benefits_start: Mapped[str] = mapped_column(String(20))
    grace_days: Mapped[int]
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = _created()
    updated_at: Mapped[dt.datetime] = _updated()


# --- Client packages and their session ledger --------------------------------------------------------------


_PACKAGE_TOTALS = (
    "package_id",
    "price_pence",
    "vat_rate_bp",
    "sessions_sold",
    "sessions_adjusted",
    "sessions_redeemed",
    "sessions_reserved",
    "sessions_refunded",
)


class ClientPackageRow(Base):
    """A package a client bought: a snapshot of the package's terms at the time of sale."""

    __tablename__ = "client_packages"
    __table_args__ = (
        # The Clients screen's filter asks, client by client, "holds this package?"
        Index("ix_client_packages_client_package", "client_id", "package_id", "status", "expires_on"),
        # The owner's reports read the sessions' counters summed per package from these (migration 0015): the
        # liability by expiry, the redemption figures by package, what was sold by day of purchase.
        Index("ix_client_packages_liability", "expires_on", *_PACKAGE_TOTALS),
        Index("ix_client_packages_by_package", "package_id", "expires_on", *_PACKAGE_TOTALS[1:]),
        Index("ix_client_packages_report_sold", "purchased_on", "price_pence"),
        CheckConstraint("price_pence >= 0", name="price_not_negative"),
        CheckConstraint("expires_on >= purchased_on", name="expires_after_purchase"),
        _one_of("status", ClientPackageStatus),
    )

    id: Mapped[str] = _id()
    client_id: Mapped[str] = _ref("clients.id", index=True)
    package_id: Mapped[str] = _ref("packages.id")
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    price_pence: Mapped[int] = _pence()
    currency: Mapped[str] = _currency()
    vat_rate_bp: Mapped[int]
    validity_days: Mapped[int]
    purchased_on: Mapped[dt.date]
    expires_on: Mapped[dt.date]
    status: Mapped[str] = mapped_column(String(20))
    sale_id: Mapped[str | None] = _ref("sales.id", index=True)
    created_at: Mapped[dt.datetime] = _created()
    updated_at: Mapped[dt.datetime] = _updated()
    # The steps' session counters summed, moved in the same statement pair as the step's (``UnitOfWork``):
    # the reports read a package's sessions without its steps.
    sessions_sold: Mapped[int] = _counter()
    sessions_adjusted: Mapped[int] = _counter()
    sessions_redeemed: Mapped[int] = _counter()
    sessions_reserved: Mapped[int] = _counter()
    sessions_refunded: Mapped[int] = _counter()

    steps: Mapped[list[ClientPackageStepRow]] = relationship(
        back_populates="client_package",
        lazy="raise",
        order_by="ClientPackageStepRow.position",
        cascade="all, delete-orphan",
    )


class ClientPackageStepRow(Base):
    """One step of a client package with its session counters.

    ``remaining = sessions + adjusted - redeemed - reserved - refunded`` and the database refuses a row where
    it would be negative. Change the counters through ``UnitOfWork``'s conditional updates, never by
    reading, adding and writing back (two tills would both take the last session).
    """

    __tablename__ = "client_package_steps"
    __table_args__ = (
        CheckConstraint(
            "sessions + adjusted - redeemed - reserved - refunded >= 0", name="remaining_not_negative"
        ),
        CheckConstraint("sessions >= 1", name="sessions_positive"),
        CheckConstraint("redeemed >= 0", name="redeemed_not_negative"),
        CheckConstraint("reserved >= 0", name="reserved_not_negative"),
        CheckConstraint("refunded >= 0", name="refunded_not_negative"),
        # Days from the step before, per package and step (the redemption report; migration 0015)
        Index(
            "ix_client_package_steps_gaps",
            "package_id",
            "position",
            "days_after_previous",
            sqlite_where=text("days_after_previous IS NOT NULL"),
            postgresql_where=text("days_after_previous IS NOT NULL"),
        ),
    )

    client_package_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("client_packages.id"), primary_key=True
    )
    position: Mapped[int] = mapped_column(primary_key=True)
    treatment_id: Mapped[str] = _ref("treatments.id", index=True)
    name: Mapped[str] = mapped_column(String(120))
    sessions: Mapped[int]
    min_days_after_previous: Mapped[int] = _counter()
    min_days_between_sessions: Mapped[int] = _counter()
    adjusted: Mapped[int] = _counter()
    redeemed: Mapped[int] = _counter()
    reserved: Mapped[int] = _counter()
    refunded: Mapped[int] = _counter()
    # The client package's package (a copy: the reports group steps by it without reading the packages).
    package_id: Mapped[str] = mapped_column(String(36), server_default=text("''"))
    # Days from the last session of the step before to the first of this one (redeem entries of the ledger),
    # when both have one: ``domain.packages.step_gaps``, kept by ``services.packages.record_ledger_entry``.
    days_after_previous: Mapped[int | None]

    client_package: Mapped[ClientPackageRow] = relationship(back_populates="steps", lazy="raise")

    @hybrid_property
    def remaining(self) -> int:
        """Sessions still free to book or use (in SQL too: ``ClientPackageStepRow.remaining >= 1``)."""
        return self.sessions + self.adjusted - self.redeemed - self.reserved - self.refunded


class SessionLedgerRow(Base):
    """One change to a client package step's sessions (reserve, release, redeem, void, adjust, refund)."""

    __tablename__ = "session_ledger"
    __table_args__ = (
        ForeignKeyConstraint(
            ["client_package_id", "step_position"],
            ["client_package_steps.client_package_id", "client_package_steps.position"],
        ),
        Index("ix_session_ledger_step", "client_package_id", "step_position"),
        Index(  # the liability's roll-forward: sessions used by day of visit, the rest by when written (0015)
            "ix_session_ledger_flows",
            "kind",
            "session_on",
            "created_at",
            "sessions",
            "package_price_pence",
            "package_sessions",
        ),
        _one_of("kind", LedgerKind),
        {"sqlite_autoincrement": True},
    )

    # ``seq`` orders the ledger: a package's balances are the replay of its entries in this order.
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(36), unique=True, default=new_id)
    client_package_id: Mapped[str] = mapped_column(String(36))
    step_position: Mapped[int]
    kind: Mapped[str] = mapped_column(String(20))
    sessions: Mapped[int]
    session_on: Mapped[dt.date | None]
    appointment_id: Mapped[str | None] = _ref("appointments.id", index=True)
    sale_id: Mapped[str | None] = _ref("sales.id", index=True)
    reason: Mapped[str | None] = mapped_column(Text)
    staff_id: Mapped[str | None] = _ref("staff.id")
    created_at: Mapped[dt.datetime] = _created()
    # The package's price and sessions sold, copied when written (they never change): the entry's sessions are
    # worth ``sessions × package_price_pence ÷ package_sessions`` without reading the package.
    package_price_pence: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    package_sessions: Mapped[int] = mapped_column(Integer, server_default=text("0"))


# --- Memberships --------------------------------------------------------------------------------------------


class MembershipRow(Base):
    """A client's membership with a snapshot of its tier and its GoCardless references (``gc_*``)."""

    __tablename__ = "memberships"
    __table_args__ = (
        # The Clients screen's filter asks, client by client, "a member of this tier?"
        Index("ix_memberships_client_tier", "client_id", "tier_id", "status"),
        Index(  # the owner's reports (migrations 0013, 0017 and 0020)
            "ix_memberships_report",
            "started_on",
            "ends_on",
            "status",
            "tier_name",
            "monthly_price_pence",
            "signup_fee_pence",
            "repriced",
            "own_price_from",
            "id",
        ),
        Index(  # the repriced ones, few (migrations 0017 and 0020)
            "ix_memberships_repriced",
            "started_on",
            "ends_on",
            "status",
            "tier_name",
            "monthly_price_pence",
            "signup_fee_pence",
            "own_price_from",
            "id",
            sqlite_where=text("repriced = 1"),
            postgresql_where=text("repriced"),
        ),
        _one_of("status", MembershipStatus),
        _one_of("benefits_start", BenefitsStart),
        CheckConstraint("discount_bp BETWEEN 0 AND 10000", name="discount_bp_range"),
        CheckConstraint("subscription_amendments >= 0", name="subscription_amendments_not_negative"),
    )

    id: Mapped[str] = _id()
    client_id: Mapped[str] = _ref("clients.id", index=True)
    tier_id: Mapped[str] = _ref("tiers.id")
    tier_name: Mapped[str] = mapped_column(String(120))
    monthly_price_pence: Mapped[int] = _pence()
    signup_fee_pence: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    currency: Mapped[str] = _currency()
    discount_bp: Mapped[int]
    covers_treatments: Mapped[bool]
    covers_products: Mapped[bool]
    covers_packages: Mapped[bool]
    benefits_start: Mapped[str] = mapped_column(String(20))
    grace_days: Mapped[int]
    status: Mapped[str] = mapped_column(String(20), index=True)
    started_on: Mapped[dt.date]
    paid_through: Mapped[dt.date | None]
    past_due_since: Mapped[dt.date | None]
    ends_on: Mapped[dt.date | None]
    first_payment_collected: Mapped[bool] = mapped_column(default=False)
    # May have been billed at another price than its own: kept by ``store/membership_repricing.py``.
    repriced: Mapped[bool] = mapped_column(default=False, server_default=false())
    # A repriced one is billed at its own price from this day on (``store/membership_repricing.py``)
    own_price_from: Mapped[dt.date | None]
    gc_customer_id: Mapped[str | None] = mapped_column(String(40))
    gc_billing_request_id: Mapped[str | None] = mapped_column(String(40), index=True)
    gc_flow_id: Mapped[str | None] = mapped_column(String(40))
    gc_authorisation_url: Mapped[str | None] = mapped_column(Text)
    gc_mandate_id: Mapped[str | None] = mapped_column(String(40), index=True)
    gc_mandate_status: Mapped[str | None] = mapped_column(String(40))
    gc_subscription_id: Mapped[str | None] = mapped_column(String(40), index=True)
    subscription_amendments: Mapped[int] = _counter()
    pending_retry_payment_id: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[dt.datetime] = _created()
    updated_at: Mapped[dt.datetime] = _updated()


class MembershipPaymentRow(Base):
    """A monthly payment: collected by Direct Debit (``gc_payment_id``) or taken at the desk."""

    __tablename__ = "membership_payments"
    __table_args__ = (
        _one_of("source", PaymentSource),
        CheckConstraint("period_end >= period_start", name="period_in_order"),
        # The owner's reports (migration 0013)
        Index(
            "ix_membership_payments_report_period", "membership_id", "period_start", "status", "amount_pence"
        ),
        Index(  # what the members in arrears owe (migration 0020)
            "ix_membership_payments_owed",
            "membership_id",
            "period_start",
            "amount_pence",
            sqlite_where=text("status IN ('failed', 'charged_back')"),
            postgresql_where=text("status IN ('failed', 'charged_back')"),
        ),
    )

    id: Mapped[str] = _id()
    membership_id: Mapped[str] = _ref("memberships.id", index=True)
    gc_payment_id: Mapped[str | None] = mapped_column(String(40), unique=True)
    amount_pence: Mapped[int] = _pence()
    currency: Mapped[str] = _currency()
    charge_date: Mapped[dt.date | None]
    period_start: Mapped[dt.date]
    period_end: Mapped[dt.date]
    status: Mapped[str] = mapped_column(String(40))
    source: Mapped[str] = mapped_column(String(20))
    sale_id: Mapped[str | None] = _ref("sales.id")  # the sale that paid it (source "sale")
    # The tier it paid for: its membership's when written (filled in by the database, ``store/payment_days.py``)
    tier_name: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[dt.datetime] = _created()
    updated_at: Mapped[dt.datetime] = _updated()


class MembershipPaymentDayRow(Base):
    """The membership payments of a charge day by source, status, tier and currency: kept by triggers on
    ``membership_payments`` (``store/payment_days.py``, migration 0019), so the reports never sum the payments'
    rows. ``writer`` is the PostgreSQL session that added to the row ('' on SQLite and when summed again)."""

    __tablename__ = "membership_payment_days"

    day: Mapped[dt.date] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(20), primary_key=True)
    status: Mapped[str] = mapped_column(String(40), primary_key=True)
    tier_name: Mapped[str] = mapped_column(String(120), primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    writer: Mapped[str] = mapped_column(String(40), primary_key=True, server_default=text("''"))
    payments: Mapped[int] = mapped_column(Integer)
    amount_pence: Mapped[int] = _pence()


class MembershipSpanRow(Base):
    """The memberships of a start day, last day (``kept_sums.NEVER``: none), status, tier, repriced or not and
    own price from (``NEVER``: not): their count and monthly prices summed. Kept by triggers on
    ``memberships`` (``store/membership_spans.py``, migration 0020); ``writer`` as in
    ``membership_payment_days``."""

    __tablename__ = "membership_spans"

    started_on: Mapped[dt.date] = mapped_column(primary_key=True)
    ends_on: Mapped[dt.date] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(20), primary_key=True)
    tier_name: Mapped[str] = mapped_column(String(120), primary_key=True)
    repriced: Mapped[bool] = mapped_column(primary_key=True)
    own_price_from: Mapped[dt.date] = mapped_column(primary_key=True)
    writer: Mapped[str] = mapped_column(String(40), primary_key=True, server_default=text("''"))
    members: Mapped[int] = mapped_column(Integer)
    price_pence: Mapped[int] = _pence()


membership_repricing.watch(MembershipRow, MembershipPaymentRow)  # ``memberships.repriced`` on every write


# --- Appointments -------------------------------------------------------------------------------------------


class AppointmentRow(Base):
    __tablename__ = "appointments"
    __table_args__ = (
        ForeignKeyConstraint(
            ["client_package_id", "step_position"],
            ["client_package_steps.client_package_id", "client_package_steps.position"],
        ),
        Index("ix_appointments_practitioner_starts", "practitioner_id", "starts_at"),
        Index("ix_appointments_client_package", "client_package_id", "step_position"),
        Index("ix_appointments_report", "id", "practitioner_id"),  # takings by practitioner (migration 0013)
        CheckConstraint("duration_minutes > 0", name="duration_positive"),
        _one_of("status", AppointmentStatus),
    )

    id: Mapped[str] = _id()
    client_id: Mapped[str] = _ref("clients.id", index=True)
    treatment_id: Mapped[str] = _ref("treatments.id")
    practitioner_id: Mapped[str] = _ref("staff.id")
    starts_at: Mapped[dt.datetime] = mapped_column(index=True)
    duration_minutes: Mapped[int]
    status: Mapped[str] = mapped_column(String(20))
    client_package_id: Mapped[str | None] = mapped_column(String(36))
    step_position: Mapped[int | None]
    deposit_status: Mapped[str | None] = mapped_column(String(20))
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = _created()
    updated_at: Mapped[dt.datetime] = _updated()
    cancelled_at: Mapped[dt.datetime | None]


# --- Checkout documents -------------------------------------------------------------------------------------


class _TotalsColumns:
    gross_pence: Mapped[int] = _pence()
    discount_pence: Mapped[int] = _pence()
    net_pence: Mapped[int] = _pence()
    vat_pence: Mapped[int] = _pence()
    currency: Mapped[str] = _currency()


class _PricedLineColumns:
    """The columns of a priced line (``domain/pricing.py``), shared by sale and invoice lines."""

    position: Mapped[int]
    kind: Mapped[str] = mapped_column(String(20))
    item_id: Mapped[str | None] = mapped_column(String(36))
    name: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[int]
    unit_price_pence: Mapped[int] = _pence()
    gross_pence: Mapped[int] = _pence()
    discount_pence: Mapped[int] = _pence()
    discount_reason: Mapped[str | None] = mapped_column(String(200))
    net_pence: Mapped[int] = _pence()
    vat_pence: Mapped[int] = _pence()
    vat_rate_bp: Mapped[int]
    step_position: Mapped[int | None]


def _net_is_gross_less_discount() -> CheckConstraint:
    return CheckConstraint("net_pence = gross_pence - discount_pence", name="net_is_gross_less_discount")


class SaleRow(_TotalsColumns, Base):
    """A sale, refund or void at the till. Written once and never edited: a refund or void refers to it."""

    __tablename__ = "sales"
    __table_args__ = (
        _one_of("kind", DocumentKind),
        _net_is_gross_less_discount(),
        Index(  # the owner's reports (migration 0013)
            "ix_sales_report",
            "created_at",
            "kind",
            "net_pence",
            "id",
            "staff_id",
            "refers_to_sale_id",
            "reason",
        ),
    )

    id: Mapped[str] = _id()
    number: Mapped[str] = mapped_column(String(32), unique=True)
    till_prefix: Mapped[str] = mapped_column(String(8))
    client_id: Mapped[str | None] = _ref("clients.id", index=True)
    staff_id: Mapped[str] = _ref("staff.id")
    kind: Mapped[str] = mapped_column(String(10))
    refers_to_sale_id: Mapped[str | None] = _ref("sales.id", index=True)
    channel: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    reason: Mapped[str | None] = mapped_column(Text)  # why a refund or void gives money back

    lines: Mapped[list[SaleLineRow]] = relationship(
        back_populates="sale", lazy="raise", order_by="SaleLineRow.position", cascade="all, delete-orphan"
    )
    tenders: Mapped[list[TenderRow]] = relationship(
        back_populates="sale", lazy="raise", cascade="all, delete-orphan"
    )


class SaleLineRow(_PricedLineColumns, Base):
    __tablename__ = "sale_lines"
    __table_args__ = (
        UniqueConstraint("sale_id", "position"),
        _net_is_gross_less_discount(),
        Index(  # the owner's reports (migration 0013)
            "ix_sale_lines_report",
            "sale_id",
            "kind",
            "net_pence",
            "discount_pence",
            "position",
            "refunds_position",
            "appointment_id",
            "discount_reason",
        ),
    )

    id: Mapped[str] = _id()
    sale_id: Mapped[str] = _ref("sales.id")
    client_package_id: Mapped[str | None] = _ref("client_packages.id", index=True)
    appointment_id: Mapped[str | None] = _ref("appointments.id", index=True)
    refunds_position: Mapped[int | None]  # on a refund or void: the line of the original sale it gives back

    sale: Mapped[SaleRow] = relationship(back_populates="lines", lazy="raise")


class TenderRow(Base):
    """How (part of) a sale was paid: cash, card, Direct Debit, deposit, package…"""

    __tablename__ = "tenders"
    __table_args__ = (Index("ix_tenders_report", "sale_id", "kind", "amount_pence"),)  # reports (0013)

    id: Mapped[str] = _id()
    sale_id: Mapped[str] = _ref("sales.id", index=True)
    kind: Mapped[str] = mapped_column(String(20))
    amount_pence: Mapped[int] = _pence()
    currency: Mapped[str] = _currency()
    reference: Mapped[str | None] = mapped_column(String(120))

    sale: Mapped[SaleRow] = relationship(back_populates="tenders", lazy="raise")


# The takings summed per clinic day (``store/takings_summary.py``, migration 0014): added to in the transaction
# that writes each sale, refund or void, so the reports never read the documents' rows again. An empty key
# column holds '' (a primary key column cannot be NULL).


def _takings_writer() -> Mapped[str]:
    """Which till's thread added the row (``store/takings_summary.py``): two writers never share a row, so
    never wait on each other's locks; '' for what ``rebuild_takings`` summed. The reports sum over it."""
    return mapped_column(String(40), primary_key=True, server_default=text("''"))


class TakingsDayRow(Base):
    """The documents of a clinic day by kind (a refund's or void's reason in ``reason``)."""

    __tablename__ = "takings_days"

    day: Mapped[dt.date] = mapped_column(primary_key=True)
    document_kind: Mapped[str] = mapped_column(String(10), primary_key=True)
    reason: Mapped[str] = mapped_column(Text, primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    writer: Mapped[str] = _takings_writer()
    documents: Mapped[int] = mapped_column(Integer)
    gross_pence: Mapped[int] = _pence()
    discount_pence: Mapped[int] = _pence()
    net_pence: Mapped[int] = _pence()
    vat_pence: Mapped[int] = _pence()


class TakingsLineDayRow(Base):
    """The lines of a clinic day by document kind, item kind, practitioner and discount (its reason grouped)."""

    __tablename__ = "takings_line_days"

    day: Mapped[dt.date] = mapped_column(primary_key=True)
    document_kind: Mapped[str] = mapped_column(String(10), primary_key=True)
    line_kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    practitioner_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    discount_group: Mapped[str] = mapped_column(Text, primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    writer: Mapped[str] = _takings_writer()
    lines: Mapped[int] = mapped_column(Integer)
    gross_pence: Mapped[int] = _pence()
    discount_pence: Mapped[int] = _pence()
    net_pence: Mapped[int] = _pence()
    vat_pence: Mapped[int] = _pence()


class TenderDayRow(Base):
    """The tenders of a clinic day by document kind and tender kind."""

    __tablename__ = "tender_days"

    day: Mapped[dt.date] = mapped_column(primary_key=True)
    document_kind: Mapped[str] = mapped_column(String(10), primary_key=True)
    tender_kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    writer: Mapped[str] = _takings_writer()
    tenders: Mapped[int] = mapped_column(Integer)
    amount_pence: Mapped[int] = _pence()


class DepositRow(Base):
    """A deposit asked for when booking, paid through a payment link and credited at checkout.

    ``requested`` (link sent) → ``paid`` → ``credited`` (taken off the bill, ``credited_sale_id``); a cancelled
    booking's deposit is ``refund_pending`` → ``refunded``, or ``kept`` under the clinic's policy; one never
    paid is ``cancelled`` with its link.
    """

    __tablename__ = "deposits"
    __table_args__ = (_one_of("status", DepositStatus),)

    id: Mapped[str] = _id()
    appointment_id: Mapped[str] = _ref("appointments.id", index=True)
    amount_pence: Mapped[int] = _pence()
    currency: Mapped[str] = _currency()
    status: Mapped[str] = mapped_column(String(20))
    payment_link_id: Mapped[str | None] = _ref("payment_links.id", index=True)
    gc_billing_request_id: Mapped[str | None] = mapped_column(String(40), index=True)
    authorisation_url: Mapped[str | None] = mapped_column(Text)
    gc_refund_id: Mapped[str | None] = mapped_column(String(40))
    credited_sale_id: Mapped[str | None] = _ref("sales.id")
    paid_at: Mapped[dt.datetime | None]
    refunded_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = _created()
    updated_at: Mapped[dt.datetime] = _updated()


class PaymentLinkRow(Base):
    """A GoCardless billing request with a payment request (Instant Bank Pay) and a hosted flow.

    ``purpose``: a ``basket`` (``quote`` is the priced basket it collects; paid, it becomes a sale), an
    ``invoice``, a booking ``deposit``, or a ``portal`` purchase made through a package's public link
    (``package_id``; the buyer is matched or added by email). Status: ``preparing`` (queued for GoCardless) →
    ``open`` (the link works) → ``authorised`` (the payer approved it in their bank) → ``paid`` (confirmed);
    or ``cancelled`` / ``expired`` / ``failed``. A link sent again names the one it replaces. A link paid for an
    invoice that was settled meanwhile is given back: ``refund_pending`` → ``refunded``.
    """

    __tablename__ = "payment_links"
    __table_args__ = (_one_of("status", LinkStatus), _one_of("purpose", LinkPurpose))

    id: Mapped[str] = _id()
    purpose: Mapped[str] = mapped_column(String(20))
    client_id: Mapped[str | None] = _ref("clients.id", index=True)
    invoice_id: Mapped[str | None] = _ref("invoices.id", index=True)
    package_id: Mapped[str | None] = _ref("packages.id")
    staff_id: Mapped[str | None] = _ref("staff.id")
    replaces_id: Mapped[str | None] = _ref("payment_links.id")
    status: Mapped[str] = mapped_column(String(20), index=True)
    description: Mapped[str] = mapped_column(String(200))
    quote: Mapped[Any] = mapped_column(JSONText)
    amount_pence: Mapped[int] = _pence()
    currency: Mapped[str] = _currency()
    buyer_name: Mapped[str | None] = mapped_column(String(170))
    buyer_email: Mapped[str | None] = mapped_column(String(254))
    gc_billing_request_id: Mapped[str | None] = mapped_column(String(40), index=True)
    gc_flow_id: Mapped[str | None] = mapped_column(String(40))
    gc_payment_id: Mapped[str | None] = mapped_column(String(40), unique=True)
    gc_customer_id: Mapped[str | None] = mapped_column(String(40))
    gc_refund_id: Mapped[str | None] = mapped_column(String(40))
    authorisation_url: Mapped[str | None] = mapped_column(Text)
    sale_id: Mapped[str | None] = _ref("sales.id")
    paid_at: Mapped[dt.datetime | None]
    closed_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = _created()
    updated_at: Mapped[dt.datetime] = _updated()


class PackageLinkRow(Base):
    """A package's public "Buy" link for the booking portal: a GoCardless billing request template.

    ``name`` and ``price_pence`` are what the template was last made or updated with; ``published`` is False
    once the package is no longer sold (the page stops showing it)."""

    __tablename__ = "package_links"

    package_id: Mapped[str] = mapped_column(String(36), ForeignKey("packages.id"), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    price_pence: Mapped[int] = _pence()
    currency: Mapped[str] = _currency()
    published: Mapped[bool]
    gc_template_id: Mapped[str | None] = mapped_column(String(40), unique=True)
    authorisation_url: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = _updated()


class InvoiceRow(_TotalsColumns, Base):
    """An invoice (``domain/invoices.py``): a draft has no number or dates; issuing gives it both.

    ``sale_id`` is the sale its payment completed (once paid); a void invoice keeps its number.
    """

    __tablename__ = "invoices"
    __table_args__ = (
        _one_of("status", InvoiceStatus),
        _net_is_gross_less_discount(),
        CheckConstraint("due_on >= issued_on", name="due_after_issue"),
        CheckConstraint(
            "status = 'draft' OR (number IS NOT NULL AND issued_on IS NOT NULL AND due_on IS NOT NULL)",
            name="issued_has_number_and_dates",
        ),
        CheckConstraint("payment_terms_days >= 0", name="payment_terms_days_not_negative"),
    )

    id: Mapped[str] = _id()
    number: Mapped[str | None] = mapped_column(String(32), unique=True)
    client_id: Mapped[str] = _ref("clients.id", index=True)
    staff_id: Mapped[str] = _ref("staff.id")
    status: Mapped[str] = mapped_column(String(20), index=True)
    payment_terms_days: Mapped[int]
    priced_on: Mapped[dt.date]
    issued_on: Mapped[dt.date | None]
    due_on: Mapped[dt.date | None]
    created_at: Mapped[dt.datetime] = _created()
    updated_at: Mapped[dt.datetime] = _updated()
    paid_at: Mapped[dt.datetime | None]
    sale_id: Mapped[str | None] = mapped_column(String(36), ForeignKey("sales.id"), unique=True)
    voided_at: Mapped[dt.datetime | None]
    void_reason: Mapped[str | None] = mapped_column(Text)

    lines: Mapped[list[InvoiceLineRow]] = relationship(
        back_populates="invoice",
        lazy="raise",
        order_by="InvoiceLineRow.position",
        cascade="all, delete-orphan",
    )


class InvoiceLineRow(_PricedLineColumns, Base):
    """A priced invoice line. A manager's price override is kept with it, so the line can be priced again."""

    __tablename__ = "invoice_lines"
    __table_args__ = (UniqueConstraint("invoice_id", "position"), _net_is_gross_less_discount())

    id: Mapped[str] = _id()
    invoice_id: Mapped[str] = _ref("invoices.id")
    client_package_id: Mapped[str | None] = _ref("client_packages.id")
    appointment_id: Mapped[str | None] = _ref("appointments.id")
    override_price_pence: Mapped[int | None] = mapped_column(BigInteger)
    override_reason: Mapped[str | None] = mapped_column(String(200))
    override_staff_id: Mapped[str | None] = _ref("staff.id")

    invoice: Mapped[InvoiceRow] = relationship(back_populates="lines", lazy="raise")


class NumberSequenceRow(Base):
    """The next human number of a series ("sale:A", "invoice:2026"); see ``UnitOfWork.next_number``."""

    __tablename__ = "number_sequences"
    __table_args__ = (CheckConstraint("next_value >= 1", name="next_value_positive"),)

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    next_value: Mapped[int] = mapped_column(BigInteger)


# --- Sync with GoCardless -----------------------------------------------------------------------------------


class OutboxRow(Base):
    """Work for GoCardless, written in the same transaction as the change that needs it (DESIGN.md §5).

    ``seq`` orders the work (drain in ``seq`` order per record); ``id`` is the stable reference that
    ``depends_on`` points at. ``idempotency_key`` is written before the first attempt and sent on every one.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        _one_of("status", OutboxStatus),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        Index("ix_outbox_status_next_attempt", "status", "next_attempt_at"),
        Index("ix_outbox_record", "record_type", "record_id"),
        {"sqlite_autoincrement": True},
    )

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(36), unique=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(40))
    record_type: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[str] = mapped_column(String(36))
    payload: Mapped[Any] = mapped_column(JSONText)
    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)
    status: Mapped[str] = mapped_column(String(30), default="pending")
    depends_on: Mapped[str | None] = _ref("outbox.id", index=True)
    attempts: Mapped[int] = _counter()
    next_attempt_at: Mapped[dt.datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    remote_id: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[dt.datetime] = _created()
    updated_at: Mapped[dt.datetime] = _updated()


class SyncStateRow(Base):
    """Small facts the sync engine keeps between runs (the events watermark, the last successful sync)."""

    __tablename__ = "sync_state"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class ProcessedEventRow(Base):
    """A GoCardless event already seen, so a replayed page never applies it twice; also the Sync screen's log."""

    __tablename__ = "processed_events"

    event_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    resource_type: Mapped[str] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(60))
    processed_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    # What applying it did, for the Sync screen's log: applied / ignored / deferred, and for whom.
    outcome: Mapped[str] = mapped_column(String(20), default="applied")
    membership_id: Mapped[str | None] = mapped_column(String(36))
    note: Mapped[str | None] = mapped_column(Text)


EMAIL_STATUSES = ("queued", "sending", "sent", "failed")


class EmailRow(Base):
    """One email to a client (a receipt, an invoice, a payment link), queued at the till and sent once by
    ``services/email.send_queued_emails``. ``sending`` is written before the server is asked, so a till that
    stops mid-send never sends it again on its own (it becomes ``failed`` for staff to check)."""

    __tablename__ = "emails"
    __table_args__ = (
        _one_of("status", EMAIL_STATUSES),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        Index("ix_emails_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: Mapped[str] = _id()
    kind: Mapped[str] = mapped_column(String(20))  # receipt, invoice, payment_link, mandate_link
    record_id: Mapped[str | None] = mapped_column(String(36), index=True)
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    attachment_name: Mapped[str | None] = mapped_column(String(120))
    attachment: Mapped[bytes | None] = mapped_column(LargeBinary)
    message_id: Mapped[str] = mapped_column(String(200), unique=True)
    status: Mapped[str] = mapped_column(String(20), default="queued")
    attempts: Mapped[int] = _counter()
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[dt.datetime | None]
    staff_id: Mapped[str] = _ref("staff.id")
    created_at: Mapped[dt.datetime] = _created()
    sent_at: Mapped[dt.datetime | None]


class DayClosureRow(Base):
    """A till's day, closed with its Z report: the figures as they were, never changed afterwards. A mistake
    found later is put right by a new document on a later day (DESIGN.md §3, close of day)."""

    __tablename__ = "day_closures"
    __table_args__ = (UniqueConstraint("till_prefix", "z_number"),)

    day: Mapped[dt.date] = mapped_column(primary_key=True)
    till_prefix: Mapped[str] = mapped_column(String(8), primary_key=True)
    z_number: Mapped[int]
    report: Mapped[str] = mapped_column(Text)  # the Z report's figures, JSON
    opening_float_pence: Mapped[int] = _pence()
    counted_pence: Mapped[int] = _pence()
    expected_pence: Mapped[int] = _pence()
    currency: Mapped[str] = _currency()
    reason: Mapped[str] = mapped_column(Text, default="")
    staff_id: Mapped[str] = _ref("staff.id")
    closed_at: Mapped[dt.datetime] = _created()


metadata = Base.metadata
