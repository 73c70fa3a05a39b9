"""The baseline schema: every table of the first release (see store/tables.py).

Revision ID: 0001
Revises:
Create Date: 2026-11-24 21:35:28.280673
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _search_string(length: int) -> sa.types.TypeEngine[str]:
    # Searched by prefix through a plain index: NOCASE on SQLite, "C" on PostgreSQL (see tables._search_string).
    return (
        sa.String(length)
        .with_variant(sa.String(length, collation="NOCASE"), "sqlite")
        .with_variant(sa.String(length, collation="C"), "postgresql")
    )


def upgrade() -> None:
    op.create_table(
        "clients",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("first_name", sa.String(length=80), nullable=False),
        sa.Column("last_name", sa.String(length=80), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("date_of_birth", sa.Date(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("marketing_consent", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("anonymised_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("search_name", _search_string(170), nullable=False),
        sa.Column("search_name_reversed", _search_string(170), nullable=False),
        sa.Column("search_email", _search_string(254), nullable=True),
        sa.Column("phone_digits", _search_string(40), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clients")),
    )
    op.create_index(op.f("ix_clients_phone_digits"), "clients", ["phone_digits"])
    op.create_index(op.f("ix_clients_search_email"), "clients", ["search_email"])
    op.create_index(op.f("ix_clients_search_name"), "clients", ["search_name"])
    op.create_index(op.f("ix_clients_search_name_reversed"), "clients", ["search_name_reversed"])

    op.create_table(
        "number_sequences",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("next_value", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("next_value >= 1", name=op.f("ck_number_sequences_next_value_positive")),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_number_sequences")),
    )
    op.create_table(
        "outbox",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("record_type", sa.String(length=40), nullable=False),
        sa.Column("record_id", sa.String(length=36), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=128), nullable=False),
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.Column("depends_on", sa.String(length=36), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("remote_id", sa.String(length=40), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'in_flight', 'done', 'waiting_for_prerequisite', 'failed')",
            name=op.f("ck_outbox_status_valid"),
        ),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_outbox_attempts_not_negative")),
        sa.ForeignKeyConstraint(["depends_on"], ["outbox.id"], name=op.f("fk_outbox_depends_on_outbox")),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_outbox")),
        sa.UniqueConstraint("id", name=op.f("uq_outbox_id")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_outbox_idempotency_key")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_outbox_depends_on"), "outbox", ["depends_on"])
    op.create_index("ix_outbox_record", "outbox", ["record_type", "record_id"])
    op.create_index("ix_outbox_status_next_attempt", "outbox", ["status", "next_attempt_at"])

    op.create_table(
        "packages",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("price_pence", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("vat_rate_bp", sa.Integer(), nullable=False),
        sa.Column("validity_days", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("price_pence >= 0", name=op.f("ck_packages_price_not_negative")),
        sa.CheckConstraint("validity_days > 0", name=op.f("ck_packages_validity_days_positive")),
        sa.CheckConstraint("vat_rate_bp BETWEEN 0 AND 10000", name=op.f("ck_packages_vat_rate_bp_range")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_packages")),
    )
    op.create_table(
        "processed_events",
        sa.Column("event_id", sa.String(length=40), nullable=False),
        sa.Column("resource_type", sa.String(length=40), nullable=False),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_processed_events")),
    )
    op.create_index(op.f("ix_processed_events_processed_at"), "processed_events", ["processed_at"])

    op.create_table(
        "products",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("price_pence", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("vat_rate_bp", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("price_pence >= 0", name=op.f("ck_products_price_not_negative")),
        sa.CheckConstraint("vat_rate_bp BETWEEN 0 AND 10000", name=op.f("ck_products_vat_rate_bp_range")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_products")),
    )
    op.create_table(
        "settings",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_settings")),
    )
    op.create_table(
        "staff",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("pin_hash", sa.String(length=128), nullable=False),
        sa.Column("pin_salt", sa.String(length=64), nullable=False),
        sa.Column("failed_attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "role IN ('manager', 'receptionist', 'practitioner')", name=op.f("ck_staff_role_valid")
        ),
        sa.CheckConstraint("failed_attempts >= 0", name=op.f("ck_staff_failed_attempts_not_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff")),
    )
    op.create_table(
        "sync_state",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_sync_state")),
    )
    op.create_table(
        "tiers",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("monthly_price_pence", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("discount_bp", sa.Integer(), nullable=False),
        sa.Column("covers_treatments", sa.Boolean(), nullable=False),
        sa.Column("covers_products", sa.Boolean(), nullable=False),
        sa.Column("covers_packages", sa.Boolean(), nullable=False),
        sa.Column("benefits_start", sa.String(length=20), nullable=False),
        sa.Column("grace_days", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "benefits_start IN ('sign_up', 'first_payment')", name=op.f("ck_tiers_benefits_start_valid")
        ),
        sa.CheckConstraint("discount_bp BETWEEN 0 AND 10000", name=op.f("ck_tiers_discount_bp_range")),
        sa.CheckConstraint("grace_days >= 0", name=op.f("ck_tiers_grace_days_not_negative")),
        sa.CheckConstraint("monthly_price_pence > 0", name=op.f("ck_tiers_monthly_price_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tiers")),
    )
    op.create_table(
        "treatments",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("price_pence", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("vat_rate_bp", sa.Integer(), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("deposit_kind", sa.String(length=10), nullable=False),
        sa.Column("deposit_pence", sa.BigInteger(), nullable=True),
        sa.Column("deposit_percent_bp", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "deposit_kind IN ('none', 'fixed', 'percent')", name=op.f("ck_treatments_deposit_kind_valid")
        ),
        sa.CheckConstraint(
            "deposit_percent_bp BETWEEN 0 AND 10000", name=op.f("ck_treatments_deposit_percent_bp_range")
        ),
        sa.CheckConstraint("duration_minutes > 0", name=op.f("ck_treatments_duration_positive")),
        sa.CheckConstraint("price_pence >= 0", name=op.f("ck_treatments_price_not_negative")),
        sa.CheckConstraint("vat_rate_bp BETWEEN 0 AND 10000", name=op.f("ck_treatments_vat_rate_bp_range")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_treatments")),
    )
    op.create_table(
        "audit_log",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("staff_id", sa.String(length=36), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("record_type", sa.String(length=40), nullable=False),
        sa.Column("record_id", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], name=op.f("fk_audit_log_staff_id_staff")),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_log")),
        sa.UniqueConstraint("hash", name=op.f("uq_audit_log_hash")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_audit_log_at"), "audit_log", ["at"])
    op.create_index("ix_audit_log_record", "audit_log", ["record_type", "record_id"])

    op.create_table(
        "invoices",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("client_id", sa.String(length=36), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("voided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("gross_pence", sa.BigInteger(), nullable=False),
        sa.Column("discount_pence", sa.BigInteger(), nullable=False),
        sa.Column("net_pence", sa.BigInteger(), nullable=False),
        sa.Column("vat_pence", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.CheckConstraint("due_on >= issued_on", name=op.f("ck_invoices_due_after_issue")),
        sa.CheckConstraint(
            "net_pence = gross_pence - discount_pence", name=op.f("ck_invoices_net_is_gross_less_discount")
        ),
        sa.ForeignKeyConstraint(["client_id"], ["clients.id"], name=op.f("fk_invoices_client_id_clients")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoices")),
        sa.UniqueConstraint("number", name=op.f("uq_invoices_number")),
    )
    op.create_index(op.f("ix_invoices_client_id"), "invoices", ["client_id"])
    op.create_index(op.f("ix_invoices_status"), "invoices", ["status"])

    op.create_table(
        "memberships",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("client_id", sa.String(length=36), nullable=False),
        sa.Column("tier_id", sa.String(length=36), nullable=False),
        sa.Column("tier_name", sa.String(length=120), nullable=False),
        sa.Column("monthly_price_pence", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("discount_bp", sa.Integer(), nullable=False),
        sa.Column("covers_treatments", sa.Boolean(), nullable=False),
        sa.Column("covers_products", sa.Boolean(), nullable=False),
        sa.Column("covers_packages", sa.Boolean(), nullable=False),
        sa.Column("benefits_start", sa.String(length=20), nullable=False),
        sa.Column("grace_days", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("started_on", sa.Date(), nullable=False),
        sa.Column("paid_through", sa.Date(), nullable=True),
        sa.Column("past_due_since", sa.Date(), nullable=True),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("first_payment_collected", sa.Boolean(), nullable=False),
        sa.Column("gc_customer_id", sa.String(length=40), nullable=True),
        sa.Column("gc_billing_request_id", sa.String(length=40), nullable=True),
        sa.Column("gc_flow_id", sa.String(length=40), nullable=True),
        sa.Column("gc_authorisation_url", sa.Text(), nullable=True),
        sa.Column("gc_mandate_id", sa.String(length=40), nullable=True),
        sa.Column("gc_mandate_status", sa.String(length=40), nullable=True),
        sa.Column("gc_subscription_id", sa.String(length=40), nullable=True),
        sa.Column("subscription_amendments", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("pending_retry_payment_id", sa.String(length=40), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "benefits_start IN ('sign_up', 'first_payment')", name=op.f("ck_memberships_benefits_start_valid")
        ),
        sa.CheckConstraint(
            "status IN ('pending_mandate', 'active', 'past_due', 'suspended', 'paused', 'cancelling', 'ended')",
            name=op.f("ck_memberships_status_valid"),
        ),
        sa.CheckConstraint("discount_bp BETWEEN 0 AND 10000", name=op.f("ck_memberships_discount_bp_range")),
        sa.CheckConstraint(
            "subscription_amendments >= 0", name=op.f("ck_memberships_subscription_amendments_not_negative")
        ),
        sa.ForeignKeyConstraint(["client_id"], ["clients.id"], name=op.f("fk_memberships_client_id_clients")),
        sa.ForeignKeyConstraint(["tier_id"], ["tiers.id"], name=op.f("fk_memberships_tier_id_tiers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_memberships")),
    )
    op.create_index(op.f("ix_memberships_client_id"), "memberships", ["client_id"])
    op.create_index(op.f("ix_memberships_gc_billing_request_id"), "memberships", ["gc_billing_request_id"])
    op.create_index(op.f("ix_memberships_gc_mandate_id"), "memberships", ["gc_mandate_id"])
    op.create_index(op.f("ix_memberships_gc_subscription_id"), "memberships", ["gc_subscription_id"])
    op.create_index(op.f("ix_memberships_status"), "memberships", ["status"])

    op.create_table(
        "package_steps",
        sa.Column("package_id", sa.String(length=36), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("treatment_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("sessions", sa.Integer(), nullable=False),
        sa.Column("min_days_after_previous", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("min_days_between_sessions", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.CheckConstraint(
            "min_days_after_previous >= 0 AND min_days_between_sessions >= 0",
            name=op.f("ck_package_steps_delays_not_negative"),
        ),
        sa.CheckConstraint("position >= 1", name=op.f("ck_package_steps_position_from_1")),
        sa.CheckConstraint("sessions >= 1", name=op.f("ck_package_steps_sessions_positive")),
        sa.ForeignKeyConstraint(
            ["package_id"], ["packages.id"], name=op.f("fk_package_steps_package_id_packages")
        ),
        sa.ForeignKeyConstraint(
            ["treatment_id"], ["treatments.id"], name=op.f("fk_package_steps_treatment_id_treatments")
        ),
        sa.PrimaryKeyConstraint("package_id", "position", name=op.f("pk_package_steps")),
    )
    op.create_index(op.f("ix_package_steps_treatment_id"), "package_steps", ["treatment_id"])

    op.create_table(
        "sales",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("till_prefix", sa.String(length=8), nullable=False),
        sa.Column("client_id", sa.String(length=36), nullable=True),
        sa.Column("staff_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("refers_to_sale_id", sa.String(length=36), nullable=True),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("gross_pence", sa.BigInteger(), nullable=False),
        sa.Column("discount_pence", sa.BigInteger(), nullable=False),
        sa.Column("net_pence", sa.BigInteger(), nullable=False),
        sa.Column("vat_pence", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.CheckConstraint("kind IN ('sale', 'refund', 'void')", name=op.f("ck_sales_kind_valid")),
        sa.CheckConstraint(
            "net_pence = gross_pence - discount_pence", name=op.f("ck_sales_net_is_gross_less_discount")
        ),
        sa.ForeignKeyConstraint(["client_id"], ["clients.id"], name=op.f("fk_sales_client_id_clients")),
        sa.ForeignKeyConstraint(
            ["refers_to_sale_id"], ["sales.id"], name=op.f("fk_sales_refers_to_sale_id_sales")
        ),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], name=op.f("fk_sales_staff_id_staff")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sales")),
        sa.UniqueConstraint("number", name=op.f("uq_sales_number")),
    )
    op.create_index(op.f("ix_sales_client_id"), "sales", ["client_id"])
    op.create_index(op.f("ix_sales_created_at"), "sales", ["created_at"])
    op.create_index(op.f("ix_sales_refers_to_sale_id"), "sales", ["refers_to_sale_id"])

    op.create_table(
        "client_packages",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("client_id", sa.String(length=36), nullable=False),
        sa.Column("package_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("price_pence", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("vat_rate_bp", sa.Integer(), nullable=False),
        sa.Column("validity_days", sa.Integer(), nullable=False),
        sa.Column("purchased_on", sa.Date(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("sale_id", sa.String(length=36), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "expires_on >= purchased_on", name=op.f("ck_client_packages_expires_after_purchase")
        ),
        sa.CheckConstraint("price_pence >= 0", name=op.f("ck_client_packages_price_not_negative")),
        sa.CheckConstraint("status IN ('active', 'refunded')", name=op.f("ck_client_packages_status_valid")),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_client_packages_client_id_clients")
        ),
        sa.ForeignKeyConstraint(
            ["package_id"], ["packages.id"], name=op.f("fk_client_packages_package_id_packages")
        ),
        sa.ForeignKeyConstraint(["sale_id"], ["sales.id"], name=op.f("fk_client_packages_sale_id_sales")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_client_packages")),
    )
    op.create_index(op.f("ix_client_packages_client_id"), "client_packages", ["client_id"])
    op.create_index(op.f("ix_client_packages_sale_id"), "client_packages", ["sale_id"])

    op.create_table(
        "membership_payments",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("membership_id", sa.String(length=36), nullable=False),
        sa.Column("gc_payment_id", sa.String(length=40), nullable=True),
        sa.Column("amount_pence", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("charge_date", sa.Date(), nullable=True),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=40), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "source IN ('direct_debit', 'desk')", name=op.f("ck_membership_payments_source_valid")
        ),
        sa.CheckConstraint("period_end >= period_start", name=op.f("ck_membership_payments_period_in_order")),
        sa.ForeignKeyConstraint(
            ["membership_id"],
            ["memberships.id"],
            name=op.f("fk_membership_payments_membership_id_memberships"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_membership_payments")),
        sa.UniqueConstraint("gc_payment_id", name=op.f("uq_membership_payments_gc_payment_id")),
    )
    op.create_index(op.f("ix_membership_payments_membership_id"), "membership_payments", ["membership_id"])

    op.create_table(
        "payment_links",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("client_id", sa.String(length=36), nullable=True),
        sa.Column("invoice_id", sa.String(length=36), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("quote", sa.Text(), nullable=False),
        sa.Column("amount_pence", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("gc_billing_request_id", sa.String(length=40), nullable=True),
        sa.Column("authorisation_url", sa.Text(), nullable=True),
        sa.Column("sale_id", sa.String(length=36), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_payment_links_client_id_clients")
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"], name=op.f("fk_payment_links_invoice_id_invoices")
        ),
        sa.ForeignKeyConstraint(["sale_id"], ["sales.id"], name=op.f("fk_payment_links_sale_id_sales")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_links")),
    )
    op.create_index(op.f("ix_payment_links_client_id"), "payment_links", ["client_id"])
    op.create_index(
        op.f("ix_payment_links_gc_billing_request_id"), "payment_links", ["gc_billing_request_id"]
    )
    op.create_index(op.f("ix_payment_links_invoice_id"), "payment_links", ["invoice_id"])

    op.create_table(
        "tenders",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("sale_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("amount_pence", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("reference", sa.String(length=120), nullable=True),
        sa.ForeignKeyConstraint(["sale_id"], ["sales.id"], name=op.f("fk_tenders_sale_id_sales")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tenders")),
    )
    op.create_index(op.f("ix_tenders_sale_id"), "tenders", ["sale_id"])

    op.create_table(
        "client_package_steps",
        sa.Column("client_package_id", sa.String(length=36), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("treatment_id", sa.String(length=36), nullable=False),
        sa.Column("treatment_name", sa.String(length=120), nullable=False),
        sa.Column("sessions", sa.Integer(), nullable=False),
        sa.Column("min_days_after_previous", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("min_days_between_sessions", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("adjusted", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("redeemed", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("reserved", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("refunded", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.CheckConstraint("redeemed >= 0", name=op.f("ck_client_package_steps_redeemed_not_negative")),
        sa.CheckConstraint("refunded >= 0", name=op.f("ck_client_package_steps_refunded_not_negative")),
        sa.CheckConstraint("reserved >= 0", name=op.f("ck_client_package_steps_reserved_not_negative")),
        sa.CheckConstraint(
            "sessions + adjusted - redeemed - reserved - refunded >= 0",
            name=op.f("ck_client_package_steps_remaining_not_negative"),
        ),
        sa.CheckConstraint("sessions >= 1", name=op.f("ck_client_package_steps_sessions_positive")),
        sa.ForeignKeyConstraint(
            ["client_package_id"],
            ["client_packages.id"],
            name=op.f("fk_client_package_steps_client_package_id_client_packages"),
        ),
        sa.ForeignKeyConstraint(
            ["treatment_id"], ["treatments.id"], name=op.f("fk_client_package_steps_treatment_id_treatments")
        ),
        sa.PrimaryKeyConstraint("client_package_id", "position", name=op.f("pk_client_package_steps")),
    )
    op.create_index(op.f("ix_client_package_steps_treatment_id"), "client_package_steps", ["treatment_id"])

    op.create_table(
        "appointments",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("client_id", sa.String(length=36), nullable=False),
        sa.Column("treatment_id", sa.String(length=36), nullable=False),
        sa.Column("practitioner_id", sa.String(length=36), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("client_package_id", sa.String(length=36), nullable=True),
        sa.Column("step_position", sa.Integer(), nullable=True),
        sa.Column("deposit_status", sa.String(length=20), nullable=True),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("duration_minutes > 0", name=op.f("ck_appointments_duration_positive")),
        sa.CheckConstraint(
            "status IN ('booked', 'attended', 'cancelled', 'late_cancelled', 'no_show')",
            name=op.f("ck_appointments_status_valid"),
        ),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_appointments_client_id_clients")
        ),
        sa.ForeignKeyConstraint(
            ["client_package_id", "step_position"],
            ["client_package_steps.client_package_id", "client_package_steps.position"],
            name=op.f("fk_appointments_client_package_id_client_package_steps"),
        ),
        sa.ForeignKeyConstraint(
            ["practitioner_id"], ["staff.id"], name=op.f("fk_appointments_practitioner_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["treatment_id"], ["treatments.id"], name=op.f("fk_appointments_treatment_id_treatments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointments")),
    )
    op.create_index(op.f("ix_appointments_client_id"), "appointments", ["client_id"])
    op.create_index("ix_appointments_client_package", "appointments", ["client_package_id", "step_position"])
    op.create_index("ix_appointments_practitioner_starts", "appointments", ["practitioner_id", "starts_at"])
    op.create_index(op.f("ix_appointments_starts_at"), "appointments", ["starts_at"])

    op.create_table(
        "deposits",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("appointment_id", sa.String(length=36), nullable=False),
        sa.Column("amount_pence", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("gc_billing_request_id", sa.String(length=40), nullable=True),
        sa.Column("authorisation_url", sa.Text(), nullable=True),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["appointment_id"], ["appointments.id"], name=op.f("fk_deposits_appointment_id_appointments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deposits")),
    )
    op.create_index(op.f("ix_deposits_appointment_id"), "deposits", ["appointment_id"])
    op.create_index(op.f("ix_deposits_gc_billing_request_id"), "deposits", ["gc_billing_request_id"])

    op.create_table(
        "invoice_lines",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("invoice_id", sa.String(length=36), nullable=False),
        sa.Column("client_package_id", sa.String(length=36), nullable=True),
        sa.Column("appointment_id", sa.String(length=36), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("item_id", sa.String(length=36), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price_pence", sa.BigInteger(), nullable=False),
        sa.Column("gross_pence", sa.BigInteger(), nullable=False),
        sa.Column("discount_pence", sa.BigInteger(), nullable=False),
        sa.Column("discount_reason", sa.String(length=200), nullable=True),
        sa.Column("net_pence", sa.BigInteger(), nullable=False),
        sa.Column("vat_pence", sa.BigInteger(), nullable=False),
        sa.Column("vat_rate_bp", sa.Integer(), nullable=False),
        sa.Column("step_position", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "net_pence = gross_pence - discount_pence",
            name=op.f("ck_invoice_lines_net_is_gross_less_discount"),
        ),
        sa.ForeignKeyConstraint(
            ["appointment_id"], ["appointments.id"], name=op.f("fk_invoice_lines_appointment_id_appointments")
        ),
        sa.ForeignKeyConstraint(
            ["client_package_id"],
            ["client_packages.id"],
            name=op.f("fk_invoice_lines_client_package_id_client_packages"),
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"], name=op.f("fk_invoice_lines_invoice_id_invoices")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoice_lines")),
        sa.UniqueConstraint("invoice_id", "position", name=op.f("uq_invoice_lines_invoice_id_position")),
    )
    op.create_table(
        "sale_lines",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("sale_id", sa.String(length=36), nullable=False),
        sa.Column("client_package_id", sa.String(length=36), nullable=True),
        sa.Column("appointment_id", sa.String(length=36), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("item_id", sa.String(length=36), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price_pence", sa.BigInteger(), nullable=False),
        sa.Column("gross_pence", sa.BigInteger(), nullable=False),
        sa.Column("discount_pence", sa.BigInteger(), nullable=False),
        sa.Column("discount_reason", sa.String(length=200), nullable=True),
        sa.Column("net_pence", sa.BigInteger(), nullable=False),
        sa.Column("vat_pence", sa.BigInteger(), nullable=False),
        sa.Column("vat_rate_bp", sa.Integer(), nullable=False),
        sa.Column("step_position", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "net_pence = gross_pence - discount_pence", name=op.f("ck_sale_lines_net_is_gross_less_discount")
        ),
        sa.ForeignKeyConstraint(
            ["appointment_id"], ["appointments.id"], name=op.f("fk_sale_lines_appointment_id_appointments")
        ),
        sa.ForeignKeyConstraint(
            ["client_package_id"],
            ["client_packages.id"],
            name=op.f("fk_sale_lines_client_package_id_client_packages"),
        ),
        sa.ForeignKeyConstraint(["sale_id"], ["sales.id"], name=op.f("fk_sale_lines_sale_id_sales")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sale_lines")),
        sa.UniqueConstraint("sale_id", "position", name=op.f("uq_sale_lines_sale_id_position")),
    )
    op.create_index(op.f("ix_sale_lines_appointment_id"), "sale_lines", ["appointment_id"])
    op.create_index(op.f("ix_sale_lines_client_package_id"), "sale_lines", ["client_package_id"])

    op.create_table(
        "session_ledger",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("client_package_id", sa.String(length=36), nullable=False),
        sa.Column("step_position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("sessions", sa.Integer(), nullable=False),
        sa.Column("session_on", sa.Date(), nullable=True),
        sa.Column("appointment_id", sa.String(length=36), nullable=True),
        sa.Column("sale_id", sa.String(length=36), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("staff_id", sa.String(length=36), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('reserve', 'release', 'redeem', 'void', 'adjust', 'refund')",
            name=op.f("ck_session_ledger_kind_valid"),
        ),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointments.id"],
            name=op.f("fk_session_ledger_appointment_id_appointments"),
        ),
        sa.ForeignKeyConstraint(
            ["client_package_id", "step_position"],
            ["client_package_steps.client_package_id", "client_package_steps.position"],
            name=op.f("fk_session_ledger_client_package_id_client_package_steps"),
        ),
        sa.ForeignKeyConstraint(["sale_id"], ["sales.id"], name=op.f("fk_session_ledger_sale_id_sales")),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], name=op.f("fk_session_ledger_staff_id_staff")),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_session_ledger")),
        sa.UniqueConstraint("id", name=op.f("uq_session_ledger_id")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_session_ledger_appointment_id"), "session_ledger", ["appointment_id"])
    op.create_index(op.f("ix_session_ledger_sale_id"), "session_ledger", ["sale_id"])
    op.create_index("ix_session_ledger_step", "session_ledger", ["client_package_id", "step_position"])


def downgrade() -> None:
    for table in (
        "session_ledger",
        "sale_lines",
        "invoice_lines",
        "deposits",
        "appointments",
        "client_package_steps",
        "tenders",
        "payment_links",
        "membership_payments",
        "client_packages",
        "sales",
        "package_steps",
        "memberships",
        "invoices",
        "audit_log",
        "treatments",
        "tiers",
        "sync_state",
        "staff",
        "settings",
        "products",
        "processed_events",
        "packages",
        "outbox",
        "number_sequences",
        "clients",
    ):
        op.drop_table(table)
