"""The Memberships page's members in arrears as a table: on screen the most overdue, in its exports every one."""

from __future__ import annotations

from aestheticc_pos.services.report_memberships import MembersInArrears
from aestheticc_pos.ui import format as fmt
from aestheticc_pos.ui.report_export import ReportTable

STATUS = {"past_due": "Past due", "suspended": "Suspended"}


def arrears_table(a: MembersInArrears) -> ReportTable:
    return ReportTable(
        "Members in arrears",
        ("Client", "Tier", "Status", "Owed", "Past due since", "Days overdue"),
        tuple(
            (
                m.client_name,
                m.tier_name,
                STATUS.get(m.status.value, m.status.value),
                m.owed,
                m.past_due_since,
                m.days_overdue,
            )
            for m in a.members
        ),
        frozenset({3, 5}),
        f"Owed in total: {fmt.money(a.total)} (payments failed or charged back)."
        + (
            f" Only the {len(a.members):,} longest overdue of the {a.count:,} members in arrears are listed here;"
            " CSV…, PDF… and Print… have every member."
            if a.more
            else ""
        ),
    )
