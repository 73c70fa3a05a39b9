"""What the appointment screen shows about one appointment, in two parts:

- ``AppointmentFacts``: who (and their membership), with whom, how it is paid, the notes, and the deposit in
  words with its link's QR code and "Copy link" while it waits to be paid ("being prepared" until the sync
  has made it);
- ``CoveringPackages``: the sessions left on every package covering the treatment, and whether the booking
  respects the package's minimum gaps.

Both only show what they are given; ``AppointmentView`` loads it.
"""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QGridLayout, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from aestheticc_pos.domain.appointments import AppointmentStatus
from aestheticc_pos.domain.memberships import MembershipStatus
from aestheticc_pos.services.appointments import AppointmentDetail, AppointmentView
from aestheticc_pos.services.deposits import DepositView
from aestheticc_pos.services.membership_views import MembershipView
from aestheticc_pos.ui import format as fmt
from aestheticc_pos.ui.models.appointments import package_badge
from aestheticc_pos.ui.widgets.package_progress import PackageProgress, set_tone
from aestheticc_pos.ui.widgets.qr import LinkPanel

GAPS_RESPECTED = "Respects the package's minimum gaps."
DEPOSIT_BEING_PREPARED = (
    "The deposit link is being prepared: its QR code appears here once the till has reached GoCardless "
    "(see Sync, F8)."
)
_MEMBERSHIP_WORDS = {
    MembershipStatus.PENDING_MANDATE: "Direct Debit not set up yet",
    MembershipStatus.ACTIVE: "active",
    MembershipStatus.PAST_DUE: "payment overdue",
    MembershipStatus.SUSPENDED: "suspended",
    MembershipStatus.PAUSED: "paused",
    MembershipStatus.CANCELLING: "ending",
    MembershipStatus.ENDED: "ended",
}


class AppointmentFacts(QFrame):
    """The facts card; ``open_client`` when the client's name is clicked."""

    open_client = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("card")
        grid = QGridLayout(self)
        grid.setContentsMargins(18, 14, 18, 14)
        grid.setHorizontalSpacing(18)
        grid.setVerticalSpacing(8)
        self.client_button = QPushButton("")
        self.client_button.setObjectName("link")
        self.client_button.setToolTip("Open the client's record")
        self.client_button.clicked.connect(self.open_client)
        self.membership_badge = QLabel("")
        client_row = QHBoxLayout()
        client_row.addWidget(self.client_button)
        client_row.addSpacing(8)
        client_row.addWidget(self.membership_badge, 0, Qt.AlignmentFlag.AlignVCenter)
        client_row.addStretch(1)
        self.practitioner = QLabel("")
        self.paid_by = QLabel("")
        self.notes = QLabel("")
        self.notes.setWordWrap(True)
        self.notes_caption = _caption("Notes")
        self.deposit_words = QLabel("")
        self.deposit_caption = _caption("Deposit")
        self.deposit_link = LinkPanel("The client scans this to pay the deposit by bank:", size=140)
        self.deposit_link.setMaximumWidth(420)
        grid.addWidget(_caption("Client"), 0, 0)
        grid.addLayout(client_row, 0, 1)
        grid.addWidget(_caption("Practitioner"), 1, 0)
        grid.addWidget(self.practitioner, 1, 1)
        grid.addWidget(_caption("Paid by"), 2, 0)
        grid.addWidget(self.paid_by, 2, 1)
        grid.addWidget(self.notes_caption, 3, 0, Qt.AlignmentFlag.AlignTop)
        grid.addWidget(self.notes, 3, 1)
        grid.addWidget(self.deposit_caption, 4, 0, Qt.AlignmentFlag.AlignTop)
        grid.addWidget(self.deposit_words, 4, 1)
        grid.addWidget(self.deposit_link, 5, 1)
        self.show_deposit(None)
        grid.setColumnStretch(1, 1)

    def show_appointment(self, a: AppointmentView, membership: MembershipView | None) -> None:
        self.client_button.setText(a.client_name)
        self._show_membership(membership)
        self.practitioner.setText(a.practitioner_name)
        self.paid_by.setText(package_badge(a) or "Payment at checkout")
        self.notes.setText(a.notes)
        self.notes.setVisible(bool(a.notes))
        self.notes_caption.setVisible(bool(a.notes))

    def show_deposit(self, deposit: DepositView | None) -> None:
        """The deposit in words; its link's QR code while it waits to be paid."""
        self.deposit_caption.setVisible(deposit is not None)
        self.deposit_words.setVisible(deposit is not None)
        waiting = (
            deposit is not None
            and deposit.status == "requested"
            and deposit.link_status in ("preparing", "open")
        )
        self.deposit_link.setVisible(waiting)
        if deposit is None:
            return
        self.deposit_words.setText(deposit.words)
        if waiting:
            self.deposit_link.set_link(deposit.authorisation_url, missing=DEPOSIT_BEING_PREPARED)

    def _show_membership(self, membership: MembershipView | None) -> None:
        if membership is None:
            self.membership_badge.hide()
            return
        words = _MEMBERSHIP_WORDS[membership.status]
        if membership.status is MembershipStatus.CANCELLING and membership.ends_on is not None:
            words = f"ending {fmt.date(membership.ends_on)}"
        self.membership_badge.setText(f"{membership.tier_name} member · {words}")
        set_tone(self.membership_badge, "okBadge" if membership.discount_in_force else "warning")
        self.membership_badge.show()


class CoveringPackages(QWidget):
    """Each package covering the treatment as a ``PackageProgress``, then whether the booking keeps the gaps."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(12)
        self.heading = QLabel("Packages covering this treatment")
        self.heading.setObjectName("heading")
        layout.addWidget(self.heading)
        self.no_package = QLabel("")
        self.no_package.setWordWrap(True)
        layout.addWidget(self.no_package)
        self.packages_box = QVBoxLayout()
        self.packages_box.setSpacing(10)
        layout.addLayout(self.packages_box)
        self.gaps = QLabel("")
        self.gaps.setWordWrap(True)
        layout.addWidget(self.gaps)
        self.progress: list[PackageProgress] = []

    def show_packages(self, detail: AppointmentDetail, today: dt.date) -> None:
        summaries = detail.packages
        while len(self.progress) > len(summaries):
            self.progress.pop().deleteLater()
        for index, summary in enumerate(summaries):
            if index < len(self.progress):
                self.progress[index].set_summary(summary, today)
            else:
                widget = PackageProgress(summary, today)
                self.progress.append(widget)
                self.packages_box.addWidget(widget)
        if summaries:
            self.no_package.hide()
        else:
            self.no_package.setText(
                f"No package of {detail.appointment.client_name} covers "
                f"{detail.appointment.treatment_name}: it is paid at checkout."
            )
            self.no_package.show()
        a = detail.appointment
        if a.client_package_id is None or a.status is not AppointmentStatus.BOOKED:
            self.gaps.hide()  # the gap rules concern bookings made from a package, while they are still ahead
        elif detail.step_rule_problems:
            self.gaps.setText("\n".join(detail.step_rule_problems))
            set_tone(self.gaps, "dangerText")
            self.gaps.show()
        else:
            self.gaps.setText(f"✓  {GAPS_RESPECTED}")
            set_tone(self.gaps, "ok")
            self.gaps.show()


def _caption(text: str) -> QLabel:
    label = QLabel(text)
    set_tone(label, "muted")
    return label
