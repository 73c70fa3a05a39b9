"""The memberships counted by the days they run and what they are billed, kept by the database itself
(``membership_spans``).

The Memberships report and today's MRR count a group's memberships billed at their own price (most of them:
``store/membership_repricing.py``) by tier, day by day, and sum their prices: a question of when each starts and
ends, its status, tier and price, asked of every membership (100,000 in a million-client group). They ask this
summary instead: per start day, last day (``kept_sums.NEVER`` for none), status, tier, whether repriced and
from when at its own price again (``NEVER`` for not), the memberships' count and monthly prices summed — a few
rows per start day. Kept by triggers on ``memberships`` (``store/kept_sums.py``); ``rebuild_membership_spans``
sums every membership again (migration 0020's backfill).
"""

from __future__ import annotations

from sqlalchemy import Connection

from aestheticc_pos.store.kept_sums import KeptSum, create_triggers, drop_triggers

MEMBERSHIP_SPANS = KeptSum(
    summary="membership_spans",
    source="memberships",
    key={
        "started_on": "{row}.started_on",
        "ends_on": "COALESCE({row}.ends_on, {never})",
        "status": "{row}.status",
        "tier_name": "{row}.tier_name",
        "repriced": "{row}.repriced",
        "own_price_from": "COALESCE({row}.own_price_from, {never})",
    },
    sums={"members": "1", "price_pence": "{row}.monthly_price_pence"},
    facts=(
        "started_on",
        "ends_on",
        "status",
        "tier_name",
        "repriced",
        "own_price_from",
        "monthly_price_pence",
    ),
)


def create_membership_spans_triggers(connection: Connection) -> None:
    create_triggers(connection, MEMBERSHIP_SPANS)


def drop_membership_spans_triggers(connection: Connection) -> None:
    drop_triggers(connection, MEMBERSHIP_SPANS)


def rebuild_membership_spans(connection: Connection) -> None:
    """Sum every membership again, replacing what the summary held (its rows then have the writer '')."""
    MEMBERSHIP_SPANS.rebuild(connection)
