"""The package widget as staff read it: per step used / booked / remaining, and how close the expiry is."""

from __future__ import annotations

import datetime as dt

from aestheticc_pos.domain.packages import ClientPackageStatus, PackageSummary, StepSummary
from aestheticc_pos.ui.widgets.package_progress import PackageProgress

TODAY = dt.date(2026, 11, 24)


def _summary(
    expires_on: dt.date, *, used: int = 0, booked: int = 1, status=ClientPackageStatus.ACTIVE
) -> PackageSummary:
    steps = (
        StepSummary(
            1,
            "tr-consult",
            "Consultation",
            total=1,
            used=used,
            booked=booked,
            remaining=1 - used - booked,
            next_booking_on=None,
        ),
        StepSummary(
            2,
            "tr-botox",
            "Treatment",
            total=1,
            used=0,
            booked=0,
            remaining=1,
            next_booking_on=dt.date(2026, 11, 26),
        ),
        StepSummary(3, "tr-review", "Review", total=1, used=0, booked=0, remaining=1, next_booking_on=None),
    )
    days = (expires_on - TODAY).days
    return PackageSummary(
        client_package_id="cp-1",
        name="Botox starter",
        status=status,
        purchased_on=dt.date(2026, 8, 1),
        expires_on=expires_on,
        days_to_expiry=days,
        expiring_soon=0 <= days <= 30,
        expired=days < 0,
        steps=steps,
    )


def _counts(widget: PackageProgress, position: int) -> tuple[str, str, str]:
    used, booked, remaining = widget.counts[position]
    return used.text(), booked.text(), remaining.text()


def _texts(widget: PackageProgress) -> str:
    from PySide6.QtWidgets import QLabel

    return " | ".join(label.text() for label in widget.findChildren(QLabel))


def test_it_shows_used_booked_and_remaining_per_step_with_a_calm_expiry(qtbot) -> None:
    widget = PackageProgress(_summary(dt.date(2027, 3, 24)), TODAY)
    qtbot.addWidget(widget)

    assert widget.name.text() == "Botox starter"
    assert _counts(widget, 1) == ("0", "1", "0")
    assert _counts(widget, 2) == ("0", "0", "1")
    assert widget.bars[1].accessibleName() == "0 used, 1 booked, 0 remaining of 1"
    assert widget.expiry.text() == "Expires 24 Mar 2027"
    assert widget.expiry.property("tone") == "ok"
    shown = _texts(widget)
    assert "1. Consultation" in shown and "2. Treatment" in shown
    assert "Next can be booked from 26 Nov 2026" in shown  # the treatment's earliest date
    assert "Book the previous step first" in shown  # the review waits for the treatment


def test_expiry_within_30_days_is_a_warning_and_a_past_expiry_a_danger(qtbot) -> None:
    widget = PackageProgress(_summary(dt.date(2026, 12, 10)), TODAY)
    qtbot.addWidget(widget)
    assert widget.expiry.text() == "Expires 10 Dec 2026 — in 16 days"
    assert widget.expiry.property("tone") == "warning"

    widget.set_summary(_summary(dt.date(2026, 11, 20)))
    assert widget.expiry.text() == "Expired on 20 Nov 2026"
    assert widget.expiry.property("tone") == "danger"
    assert "Next can be booked" not in _texts(widget)  # nothing can be booked on an expired package


def test_set_summary_shows_the_new_counts(qtbot) -> None:
    widget = PackageProgress(_summary(dt.date(2027, 3, 24)), TODAY)
    qtbot.addWidget(widget)

    widget.set_summary(_summary(dt.date(2027, 3, 24), used=1, booked=0))

    assert _counts(widget, 1) == ("1", "0", "0")
    assert widget.bars[1].accessibleName() == "1 used, 0 booked, 0 remaining of 1"
    assert len(widget.counts) == 3


def test_a_refunded_package_says_so_and_raises_no_alarm(qtbot) -> None:
    refunded = _summary(dt.date(2026, 12, 1), used=1, booked=0, status=ClientPackageStatus.REFUNDED)
    widget = PackageProgress(refunded, TODAY)
    qtbot.addWidget(widget)
    assert widget.name.text() == "Botox starter  ·  Refunded"
    assert widget.expiry.property("tone") == "muted"
