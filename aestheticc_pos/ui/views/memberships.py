"""The Memberships screen: every member with their status, discount, paid-through date and Direct Debit state,
filtered by status; sign a client up, and act on the member chosen in the list.

One background call loads the memberships that have not ended (``memberships_list``); the filter only picks
from them, so switching filters is instant and each shows its count. The dialogs are in
``dialogs/membership_forms.py``; pausing, resuming and withdrawing notice need no dialog; ending a membership
asks first. The Direct Debit link and QR code come later: for now the state is shown in words.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from aestheticc_pos.domain.memberships import MembershipStatus
from aestheticc_pos.domain.staff import Action
from aestheticc_pos.services import membership_views, memberships
from aestheticc_pos.services.membership_views import WAITING_FOR_CLIENT, MembershipView
from aestheticc_pos.ui import format as fmt
from aestheticc_pos.ui.client_messages import mandate_link_message
from aestheticc_pos.ui.desk import Desk
from aestheticc_pos.ui.dialogs.membership_forms import (
    ArrearsDialog,
    ChangeTierDialog,
    NoticeDialog,
    SignUpDialog,
)
from aestheticc_pos.ui.dialogs.send_to_client import EmailButton
from aestheticc_pos.ui.forms import FormDialog, error_label
from aestheticc_pos.ui.models.rows import Column, RowsModel, rows_table
from aestheticc_pos.ui.topics import CLIENTS, MEMBERSHIPS
from aestheticc_pos.ui.widgets.qr import LinkPanel

Status = MembershipStatus
# The filter, in order: (caption, the statuses it shows); None shows them all.
FILTERS: tuple[tuple[str, Status | None], ...] = (
    ("All", None),
    ("Active", Status.ACTIVE),
    ("Pending Direct Debit", Status.PENDING_MANDATE),
    ("Past due", Status.PAST_DUE),
    ("Suspended", Status.SUSPENDED),
    ("Cancelling", Status.CANCELLING),
    ("Paused", Status.PAUSED),
)
STATUS_WORDS = {
    Status.PENDING_MANDATE: "Pending Direct Debit",
    Status.ACTIVE: "Active",
    Status.PAST_DUE: "Past due",
    Status.SUSPENDED: "Suspended",
    Status.PAUSED: "Paused",
    Status.CANCELLING: "Cancelling",
    Status.ENDED: "Ended",
}
_PANEL_STYLE = """
QPushButton#chip { border-radius: 14px; padding: 5px 14px; }
QPushButton#chip:checked { background: #5b4b8a; color: #ffffff; border-color: #5b4b8a; }
QPushButton#primary:disabled { background: #c9c2d9; color: #f7f5f2; }
QLabel#muted { color: #6b6478; }
QLabel#caption { color: #6b6478; font-size: 12px; }
"""


def status_text(m: MembershipView) -> str:
    """ "Active", "Cancelling: ends 24 Dec 2026", "Past due since 12 Nov 2026"."""
    words = STATUS_WORDS[m.status]
    if m.status is Status.CANCELLING and m.ends_on is not None:
        return f"{words}: ends {fmt.date(m.ends_on)}"
    if m.status in (Status.PAST_DUE, Status.SUSPENDED) and m.past_due_since is not None:
        return f"{words} since {fmt.date(m.past_due_since)}"
    return words


def short_status_text(m: MembershipView) -> str:
    """The status in a few words for the list ("Ends 24 Dec 2026", "Past due"); the tooltip and the panel
    say since when."""
    if m.status is Status.CANCELLING and m.ends_on is not None:
        return f"Ends {fmt.date(m.ends_on)}"
    return STATUS_WORDS[m.status]


def direct_debit_text(m: MembershipView, *, short: bool = False) -> str:
    """The mandate's state in words ("Waiting for the client to authorise the Direct Debit", "Active")."""
    if m.direct_debit == WAITING_FOR_CLIENT:
        return "Awaiting client" if short else "Waiting for the client to authorise the Direct Debit"
    return m.direct_debit[:1].upper() + m.direct_debit[1:]


def discount_text(m: MembershipView) -> str:
    return f"{fmt.percent(m.discount_bp)} in force" if m.discount_in_force else "Not in force"


def retry_text(m: MembershipView) -> str:
    """ "GoCardless will try the failed payment again on 2 Apr 2027.", or "" when it will not."""
    if m.retry_on is None:
        return ""
    return f"GoCardless will try the failed payment again on {fmt.date(m.retry_on)}."


COLUMNS = (
    Column("Client", lambda m: m.client_name),
    Column("Tier", lambda m: m.tier_name),
    Column("Status", short_status_text, tip=status_text),
    Column("Discount", discount_text),
    Column("Paid through", lambda m: fmt.date(m.paid_through) or "—"),
    Column("Direct Debit", lambda m: direct_debit_text(m, short=True), tip=direct_debit_text),
)


class MembershipsView(QWidget):
    """``refresh()`` reloads the list (also after any change to memberships)."""

    def __init__(self, desk: Desk) -> None:
        super().__init__()
        self.desk = desk
        self.setStyleSheet(_PANEL_STYLE)
        self.all: list[MembershipView] = []
        self.dialog: FormDialog | None = None  # the dialog open now, if any
        self.confirm: QMessageBox | None = None
        self._wanted: str | None = None  # the membership to select once the list holds it

        layout = QVBoxLayout(self)
        layout.setContentsMargins(32, 24, 32, 24)
        layout.setSpacing(12)
        title = QLabel("Memberships")
        title.setObjectName("title")
        subtitle = QLabel("Members, their Direct Debits and anything they owe.")
        subtitle.setObjectName("subtitle")
        layout.addWidget(title)
        layout.addWidget(subtitle)
        self.sign_up_button = QPushButton("Sign a client up…")
        self.sign_up_button.setObjectName("primary")
        self.sign_up_button.clicked.connect(self.sign_up)

        chips = QHBoxLayout()
        chips.setSpacing(8)
        self.filters = QButtonGroup(self)
        self.filters.setExclusive(True)
        self.chips: dict[Status | None, QPushButton] = {}
        for index, (caption, status) in enumerate(FILTERS):
            chip = QPushButton(caption)
            chip.setObjectName("chip")
            chip.setCheckable(True)
            self.filters.addButton(chip, index)
            self.chips[status] = chip
            chips.addWidget(chip)
        chips.addStretch(1)
        chips.addWidget(self.sign_up_button)
        self.chips[None].setChecked(True)
        self.filters.idToggled.connect(lambda _id, on: self._apply_filter() if on else None)
        layout.addLayout(chips)

        self.status = error_label()
        layout.addWidget(self.status)

        body = QHBoxLayout()
        body.setSpacing(16)
        self.model = RowsModel(COLUMNS, parent=self)
        self.table = rows_table(self.model, stretch=0)  # a long name ends in "…", every other column fits
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._show_selected())
        list_column = QVBoxLayout()
        list_column.addWidget(self.table, 1)
        self.empty = QLabel("")
        self.empty.setObjectName("subtitle")
        list_column.addWidget(self.empty)
        body.addLayout(list_column, 1)
        self.panel = _MemberPanel()
        self.panel.email_link.desk = desk
        body.addWidget(_scrolling(self.panel))  # never squeezed: the QR code keeps its size and quiet zone
        layout.addLayout(body, 1)

        panel = self.panel
        panel.change_tier.clicked.connect(lambda: self._open(ChangeTierDialog))
        panel.give_notice.clicked.connect(lambda: self._open(NoticeDialog))
        panel.take_arrears.clicked.connect(lambda: self._open(ArrearsDialog))
        panel.withdraw_notice.clicked.connect(
            lambda: self._act(
                memberships.withdraw_notice, "{name}'s notice is withdrawn: the membership carries on."
            )
        )
        panel.pause.clicked.connect(lambda: self._act(memberships.pause, "{name}'s membership is paused."))
        panel.resume.clicked.connect(lambda: self._act(memberships.resume, "{name}'s membership is resumed."))
        panel.end.clicked.connect(self.end_selected)
        panel.new_link.clicked.connect(
            lambda: self._act(
                memberships.send_new_mandate_link,
                "A new Direct Debit link for {name} is being prepared; it shows here once the till has reached "
                "GoCardless.",
            )
        )

        desk.changed.connect(self._on_changed)
        desk.staff_changed.connect(lambda _member: self._show_selected())
        self._show_selected()

    # --- loading and the filter ----------------------------------------------------------------------------

    def refresh(self) -> None:
        services = self.desk.services
        self.desk.run(lambda: membership_views.memberships_list(services), self._show, self._show_error)

    def selected(self) -> MembershipView | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.row(rows[0].row()) if rows else None

    def set_filter(self, status: Status | None) -> None:
        self.chips[status].setChecked(True)

    def _show(self, views: list[MembershipView]) -> None:
        self.status.hide()
        self.all = views
        for caption, status in FILTERS:
            count = sum(1 for v in views if status is None or v.status is status)
            self.chips[status].setText(f"{caption}  {count}")
        self._apply_filter()

    def _apply_filter(self) -> None:
        # The membership just saved is chosen when a list that has it arrives (a refresh started by an
        # earlier commit may come back first, without it); until then the row chosen stays chosen.
        pending, current = self._wanted, getattr(self.selected(), "id", None)
        status = FILTERS[self.filters.checkedId()][1]
        shown = [v for v in self.all if status is None or v.status is status]
        self.model.set_rows(shown)
        if not self.all:
            self.empty.setText("No members yet. Sign a client up to a tier to start.")
        elif not shown:
            self.empty.setText(f"No memberships are {FILTERS[self.filters.checkedId()][0].lower()} today.")
        else:
            self.empty.setText("")
        row = None if pending is None else self.model.row_of(pending)
        if row is not None:
            self._wanted = None
        elif current is not None:
            row = self.model.row_of(current)
        if row is not None:
            self.table.selectRow(row)
        self._show_selected()

    def _choose(self, membership_id: str) -> None:
        """Choose the membership just saved: now if the list already has it (the refresh its commit started
        can come back before the save's own answer), else when a list that has it arrives."""
        row = self.model.row_of(membership_id)
        if row is None:
            self._wanted = membership_id
            return
        self._wanted = None
        self.table.selectRow(row)
        self._show_selected()

    def _on_changed(self, what: frozenset[str]) -> None:
        if what & {MEMBERSHIPS, CLIENTS}:
            self.refresh()

    # --- actions -------------------------------------------------------------------------------------------

    def sign_up(self) -> SignUpDialog | None:
        if not self._may_manage():
            return None
        dialog = SignUpDialog(self.desk, parent=self)
        self._show_dialog(dialog)
        return dialog

    def end_selected(self) -> QMessageBox | None:
        """Ask, then end the chosen membership today (for one that has not started, or ends at once)."""
        m = self.selected()
        if m is None or not self._may_manage():
            return None
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "End the membership",
            f"End {m.client_name}'s {m.tier_name} membership today?\n\n"
            "The discount stops now and nothing more is collected. To end it later, give notice instead.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            self,
        )
        box.button(QMessageBox.StandardButton.Yes).setText("End it today")
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.accepted.connect(lambda: self._act(memberships.end_membership, "{name}'s membership has ended."))
        self.confirm = box
        box.open()
        return box

    def _open(self, make: Callable[..., FormDialog]) -> FormDialog | None:
        m = self.selected()
        if m is None or not self._may_manage(arrears=make is ArrearsDialog):
            return None
        dialog = make(self.desk, m, parent=self)
        self._show_dialog(dialog)
        return dialog

    def _show_dialog(self, dialog: FormDialog) -> None:
        dialog.saved.connect(lambda view: self._choose(view.id))
        self.dialog = dialog
        dialog.open()

    def _act(self, change: Callable[..., MembershipView], message: str) -> None:
        m = self.selected()
        if m is None or not self._may_manage():
            return
        services, staff_id, membership_id = self.desk.services, self.desk.staff_id, m.id

        def done(view: MembershipView) -> None:
            self._choose(view.id)
            self.desk.message.emit(message.format(name=view.client_name))

        self.desk.run(
            lambda: change(services, membership_id=membership_id, staff_id=staff_id), done, self._show_error
        )

    def _may_manage(self, *, arrears: bool = False) -> bool:
        action = Action.TAKE_PAYMENTS if arrears else Action.MANAGE_MEMBERSHIPS
        if self.desk.may(action):
            return True
        self._show_error(f"Only a manager or a receptionist can {action.value}.")
        return False

    def _show_selected(self) -> None:
        self.sign_up_button.setEnabled(self.desk.may(Action.MANAGE_MEMBERSHIPS))
        self.panel.show_membership(
            self.selected(), self.desk.may(Action.MANAGE_MEMBERSHIPS), self.desk.may(Action.TAKE_PAYMENTS)
        )

    def _show_error(self, message: str) -> None:
        self.status.setText(message)
        self.status.show()


def _scrolling(panel: QWidget) -> QScrollArea:
    """``panel`` at its full height, scrolling when the window is too short for it (a sentence above the
    list takes room): squeezed instead, its QR code would lose a corner and could not be scanned."""
    area = QScrollArea()
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    area.setStyleSheet(
        "QScrollArea, QScrollArea > QWidget > QWidget#qt_scrollarea_viewport { background: transparent; }"
    )
    area.setWidget(panel)
    area.setFixedWidth(panel.width() + area.verticalScrollBar().sizeHint().width())
    return area


class _MemberPanel(QFrame):
    """The chosen membership in full, with what can be done to it now."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("card")
        self.setFixedWidth(300)
        box = QVBoxLayout(self)
        box.setContentsMargins(20, 18, 20, 18)
        box.setSpacing(10)
        self.name = QLabel("")
        self.name.setObjectName("heading")
        self.name.setWordWrap(True)
        self.hint = QLabel("Choose a member in the list to see their membership and act on it.")
        self.hint.setObjectName("muted")
        self.hint.setWordWrap(True)
        box.addWidget(self.name)
        box.addWidget(self.hint)
        self.facts = QGridLayout()
        self.facts.setHorizontalSpacing(12)
        self.facts.setVerticalSpacing(6)
        self.facts.setColumnStretch(1, 1)
        self.captions: dict[str, QLabel] = {}
        self.values: dict[str, QLabel] = {}
        for row, caption in enumerate(
            ("Tier", "Sign-up fee", "Status", "Discount", "Member since", "Paid through", "Direct Debit")
        ):
            label = QLabel(caption)
            label.setObjectName("caption")
            value = QLabel("")
            value.setWordWrap(True)
            self.facts.addWidget(label, row, 0, Qt.AlignmentFlag.AlignTop)
            self.facts.addWidget(value, row, 1)
            self.captions[caption] = label
            self.values[caption] = value
        box.addLayout(self.facts)
        self.retry = QLabel("")  # when GoCardless will try a failed payment again
        self.retry.setWordWrap(True)
        box.addWidget(self.retry)
        box.addSpacing(6)
        self.change_tier = QPushButton("Change tier…")
        self.give_notice = QPushButton("Give notice…")
        self.withdraw_notice = QPushButton("Withdraw notice")
        self.pause = QPushButton("Pause")
        self.resume = QPushButton("Resume")
        self.link = LinkPanel("The client scans this to set up their Direct Debit:")
        box.addWidget(self.link)
        self.email_link = EmailButton("Email the &link…")
        self.link.add_button(self.email_link)
        self.new_link = QPushButton("Prepare a new Direct Debit link")
        self.take_arrears = QPushButton("Take payment of arrears…")
        self.end = QPushButton("End the membership…")
        self.actions = (
            self.new_link,
            self.take_arrears,
            self.change_tier,
            self.give_notice,
            self.withdraw_notice,
            self.pause,
            self.resume,
            self.end,
        )
        for button in self.actions:
            box.addWidget(button)
        self.take_arrears.setObjectName("primary")
        box.addStretch(1)

    def show_membership(self, m: MembershipView | None, may_manage: bool, may_take_payments: bool) -> None:
        self.name.setText("" if m is None else m.client_name)
        self.name.setVisible(m is not None)
        self.hint.setVisible(m is None)
        for index in range(self.facts.count()):
            widget = self.facts.itemAt(index).widget()
            if widget is not None:
                widget.setVisible(m is not None)
        if m is None:
            for button in self.actions:
                button.hide()
            self.link.hide()
            self.email_link.hide()
            self.retry.hide()
            return
        fee = "" if m.signup_fee is None else f"{fmt.money(m.signup_fee)}, with the first month"
        self.values["Sign-up fee"].setText(fee)
        for part in (self.captions["Sign-up fee"], self.values["Sign-up fee"]):
            part.setVisible(bool(fee))
        self.retry.setText(retry_text(m))
        self.retry.setVisible(m.retry_on is not None)
        waiting = m.status is Status.PENDING_MANDATE and not m.needs_new_mandate
        self.link.setVisible(waiting)
        if waiting:
            self.link.set_link(
                m.authorisation_url,
                missing="The Direct Debit link is being prepared: it appears here once the till has reached "
                "GoCardless (see Sync, F8).",
            )
        self.email_link.set_target(_mandate_email(m) if waiting else None, client_id=m.client_id)
        self.values["Tier"].setText(
            f"{m.tier_name}, {fmt.money(m.monthly_price)} a month, {fmt.percent(m.discount_bp)} off"
        )
        self.values["Status"].setText(status_text(m))
        self.values["Discount"].setText(discount_text(m))
        self.values["Member since"].setText(fmt.date(m.started_on))
        self.values["Paid through"].setText(fmt.date(m.paid_through) or "Nothing collected yet")
        self.values["Direct Debit"].setText(direct_debit_text(m))
        s = m.status
        in_arrears = s in (Status.PAST_DUE, Status.SUSPENDED) or m.past_due_since is not None
        allowed = {
            self.new_link: may_manage and m.needs_new_mandate and s is not Status.ENDED,
            self.take_arrears: may_take_payments and in_arrears,
            self.change_tier: may_manage and s in (Status.ACTIVE, Status.PENDING_MANDATE, Status.PAUSED),
            self.give_notice: may_manage
            and s in (Status.ACTIVE, Status.PAST_DUE, Status.SUSPENDED, Status.CANCELLING),
            self.withdraw_notice: may_manage and m.ends_on is not None and s is not Status.ENDED,
            self.pause: may_manage and s is Status.ACTIVE,
            self.resume: may_manage and s is Status.PAUSED,
            self.end: may_manage and s is not Status.ENDED,
        }
        self.give_notice.setText("Move the end date…" if s is Status.CANCELLING else "Give notice…")
        for button, shown in allowed.items():
            button.setVisible(shown)


def _mandate_email(m: MembershipView):  # type: ignore[no-untyped-def]
    """What "Email the Direct Debit link" sends, once GoCardless has made the link."""
    url = m.authorisation_url
    if not url:
        return None
    return lambda settings: mandate_link_message(
        record_id=m.id,
        client_name=m.client_name,
        tier_name=m.tier_name,
        monthly=m.monthly_price,
        url=url,
        settings=settings,
    )
