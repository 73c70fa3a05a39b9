"""Client packages: the session ledger, balances, step delays, expiry and refunds (DESIGN.md §3 "Packages").

A client package is the snapshot of a catalogue package sold to one client plus an append-only ledger.

- ``model``: the client package, its ledger entries and the replay of the ledger into balances (the bottom).
- ``steps``: the step rules, when a session of a step may be booked.
- ``ledger``: the operations that append to the ledger (sell, reserve, release, redeem, void, adjust, extend,
  refund) and the balances they leave.
- ``summaries``: which package pays for a treatment, what staff see of a package, what checkout may use.

The rest of the code imports from this package (``from aestheticc_pos.domain.packages import reserve``), not from
its modules.
"""

from aestheticc_pos.domain.packages.ledger import (
    CounterChange,
    adjust,
    booked_sessions,
    counter_change,
    extend_expiry,
    redeem,
    refund_unused,
    release,
    remaining_sessions,
    reserve,
    sell_package,
    step_balance,
    void_redemption,
)
from aestheticc_pos.domain.packages.model import (
    BookedSession,
    ClientPackage,
    ClientPackageStatus,
    LedgerEntry,
    LedgerKind,
    StepBalance,
    format_date,
)
from aestheticc_pos.domain.packages.steps import (
    BrokenBooking,
    bookings_broken_by_cancel,
    broken_bookings,
    check_booking,
    earliest_booking_date,
    step_gaps,
)
from aestheticc_pos.domain.packages.summaries import (
    EXPIRING_SOON_DAYS,
    PackageSummary,
    StepSummary,
    choose_package,
    package_credits,
    package_summary,
    step_for_treatment,
)

__all__ = [
    "EXPIRING_SOON_DAYS",
    "BookedSession",
    "BrokenBooking",
    "ClientPackage",
    "ClientPackageStatus",
    "CounterChange",
    "LedgerEntry",
    "LedgerKind",
    "PackageSummary",
    "StepBalance",
    "StepSummary",
    "adjust",
    "booked_sessions",
    "bookings_broken_by_cancel",
    "broken_bookings",
    "check_booking",
    "choose_package",
    "counter_change",
    "earliest_booking_date",
    "extend_expiry",
    "format_date",
    "package_credits",
    "package_summary",
    "redeem",
    "refund_unused",
    "release",
    "remaining_sessions",
    "reserve",
    "sell_package",
    "step_balance",
    "step_for_treatment",
    "step_gaps",
    "void_redemption",
]
