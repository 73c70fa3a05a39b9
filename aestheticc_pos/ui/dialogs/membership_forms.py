"""The desk's membership dialogs: sign a client up, change tier, give notice, take a payment of arrears.

    SignUpDialog(desk)                        # pick the client (search) and the tier; shows how it is billed
    SignUpDialog(desk, client=summary)        # from a client's record: the client is already chosen
    ChangeTierDialog(desk, membership)        # ``membership``: a MembershipView
    NoticeDialog(desk, membership)
    ArrearsDialog(desk, membership)

Each saves through ``services/memberships.py`` on the desk's thread pool, shows the rules' refusals as
sentences where they belong (nothing typed is lost), and on success says so in a sentence on the desk and
emits ``saved`` with the updated ``MembershipView`` (the screens refresh from what the commit wrote).
"""

from __future__ import annotations

import datetime as dt

import shiboken6
from PySide6.QtCore import QDate, QLocale, Qt, QTimer
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from aestheticc_pos.domain.catalogue import Tier
from aestheticc_pos.domain.errors import InvalidInput
from aestheticc_pos.services import catalogue, inputs, membership_billing, membership_views, memberships
from aestheticc_pos.services import clients as clients_service
from aestheticc_pos.services.clients import ClientSummary
from aestheticc_pos.services.membership_billing import SignUpTerms
from aestheticc_pos.services.membership_views import Arrears, MembershipView
from aestheticc_pos.ui import format as fmt
from aestheticc_pos.ui.desk import Desk
from aestheticc_pos.ui.forms import Call, FormDialog
from aestheticc_pos.ui.models.clients import phone_text

SEARCH_DELAY_MS = 200
SEARCH_LIMIT = 30
WORKING_OUT = "Working out the first payment…"
# The space kept for the chosen tier's terms and how it is billed: fixed heights, so the dialog never grows (and
# its buttons never move under the mouse) when another tier is chosen or the billing sentence arrives.
TERMS_LINES = 2
BILLING_LINES = 5


class _MembershipForm(FormDialog):
    field_aliases = {"tier": "tier_id"}

    def add_tier_choice(self, caption: str, *, excluding: str | None = None, hint: str = "") -> None:
        """A choice of the tiers on offer (``excluding`` one) with the chosen tier's terms under it."""
        self.tier_id = QComboBox()
        self.tier_id.setMinimumWidth(300)
        self.tier_id.setMaximumWidth(360)
        self.tier_terms = QLabel("")
        self.tier_terms.setWordWrap(True)
        self.tier_terms.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.tiers: dict[str, Tier] = {}
        self.add_field("tier_id", caption, self.tier_id, hint=hint)
        self.add_field("terms", "", self.tier_terms)
        keep_lines(self.tier_terms, TERMS_LINES)
        self.tier_id.currentIndexChanged.connect(lambda _i: self._show_terms())
        services = self.desk.services
        self.desk.run(
            lambda: catalogue.list_tiers(services),
            lambda tiers: self._show_tiers([t for t in tiers if t.id != excluding]),
            lambda message: self.show_error(None, message),
        )

    def chosen_tier_id(self, refusal: str) -> str:
        tier_id = self.tier_id.currentData()
        if not tier_id:
            raise InvalidInput(refusal, field="tier_id")
        return str(tier_id)

    def _show_tiers(self, tiers: list[Tier]) -> None:
        self.tiers = {t.id: t for t in tiers}
        self.tier_id.clear()
        for t in tiers:
            self.tier_id.addItem(f"{t.name} — {fmt.money(t.monthly_price)} a month", t.id)
        self._show_terms()

    def _show_terms(self) -> None:
        tier = self.tiers.get(self.tier_id.currentData() or "")
        self.tier_terms.setText("" if tier is None else tier_terms(tier))
        self.refit()


class SignUpDialog(_MembershipForm):
    """Find the client (name, phone or email), choose the tier, sign up: pending until they authorise the
    Direct Debit. Under the tier, what the client pays and when (``membership_billing.sign_up_terms``: the
    first month, and the tier's sign-up fee, as they authorise; then monthly), read again for each tier."""

    def __init__(
        self, desk: Desk, client: ClientSummary | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(desk, title="Sign a client up", save_text="Sign up", parent=parent)
        self._asked = 0  # the newest search sent; older answers are dropped
        self._terms_asked = 0  # the newest billing terms asked for; likewise
        self._terms_tier: str | None = None  # the tier they were asked for
        self.billing = QLabel("")
        self.billing.setWordWrap(True)
        self.billing.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Type a name, phone number or email")
        self.results = QListWidget()
        self.results.setFixedHeight(180)
        client_box = QWidget()
        column = QVBoxLayout(client_box)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.search)
        column.addWidget(self.results)
        self.add_field("client", "Client", client_box, top=True)
        self.add_tier_choice("Tier")
        self.add_field("billing", "Payments", self.billing, top=True)
        keep_lines(self.billing, BILLING_LINES)
        self.finish_layout()

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SEARCH_DELAY_MS)
        self._timer.timeout.connect(self._search_now)
        self.search.textEdited.connect(lambda _text: self._timer.start())
        self.search.returnPressed.connect(self._choose_first)
        self.results.currentItemChanged.connect(lambda *_: self._clear_error("client"))
        if client is not None:
            self._show_clients([client])
            self.results.setCurrentRow(0)
        else:
            self._search_now()
        self.search.setFocus()

    def chosen_client(self) -> ClientSummary | None:
        item = self.results.currentItem()
        return None if item is None else item.data(Qt.ItemDataRole.UserRole)

    def prepare(self) -> Call:
        client = self.chosen_client()
        if client is None:
            raise InvalidInput("Choose the client from the list.", field="client")
        tier_id = self.chosen_tier_id("Choose a tier.")
        services, staff_id = self.desk.services, self.desk.staff_id
        return lambda: memberships.start_membership(
            services, client_id=client.id, tier_id=tier_id, staff_id=staff_id
        )

    def saved_message(self, result: MembershipView) -> str:
        return (
            f"{result.client_name} is signed up to {result.tier_name}. "
            "Waiting for them to authorise the Direct Debit."
        )

    def _show_terms(self) -> None:
        super()._show_terms()
        tier_id = self.tier_id.currentData()
        if tier_id == self._terms_tier:
            return
        self._terms_tier = tier_id
        self._terms_asked += 1
        asked, services = self._terms_asked, self.desk.services
        if not tier_id:
            self.billing.setText("")
            return
        self.billing.setText(WORKING_OUT)
        self.desk.run(
            lambda: membership_billing.sign_up_terms(services, tier_id),
            lambda terms: self._show_billing(asked, terms),
            lambda message: self._show_billing(asked, message),
        )

    def _show_billing(self, asked: int, terms: SignUpTerms | str) -> None:
        """How the chosen tier is billed (or why that could not be read), unless another tier was chosen since."""
        if asked == self._terms_asked and shiboken6.isValid(self.billing):  # not after the dialog closed
            self.billing.setText(terms if isinstance(terms, str) else terms.sentence)

    def _search_now(self) -> None:
        self._asked += 1
        asked, typed, services = self._asked, self.search.text(), self.desk.services
        self.desk.run(
            lambda: clients_service.search_clients(services, typed, limit=SEARCH_LIMIT),
            lambda found: self._show_clients(found) if asked == self._asked else None,
            lambda message: self.show_error("client", message),
        )

    def _show_clients(self, found: list[ClientSummary]) -> None:
        if not shiboken6.isValid(self.results):  # the dialog closed while the search ran
            return
        self.results.clear()
        for client in found:
            contact = " · ".join(part for part in (phone_text(client.phone), client.email) if part)
            item = QListWidgetItem(f"{client.full_name}    {contact}" if contact else client.full_name)
            item.setData(Qt.ItemDataRole.UserRole, client)
            self.results.addItem(item)
        if not found:
            self.results.addItem(QListWidgetItem("No client matches. Check the spelling, or add the client."))
            self.results.item(0).setFlags(Qt.ItemFlag.NoItemFlags)

    def _choose_first(self) -> None:
        if self.results.count() and self.chosen_client() is None:
            self.results.setCurrentRow(0)
            self.tier_id.setFocus()


class ChangeTierDialog(_MembershipForm):
    """Move a member to another tier: the discount changes today, the Direct Debit from the next collection."""

    def __init__(self, desk: Desk, membership: MembershipView, parent: QWidget | None = None) -> None:
        super().__init__(
            desk, title=f"Change {membership.client_name}'s tier", save_text="Change tier", parent=parent
        )
        self.membership = membership
        current = QLabel(
            f"{membership.tier_name}: {fmt.money(membership.monthly_price)} a month, "
            f"{fmt.percent(membership.discount_bp)} off"
        )
        self.add_field("current", "Now", current)
        self.add_tier_choice(
            "New tier",
            excluding=membership.tier_id,
            hint="The new discount applies straight away; the Direct Debit changes from the next collection.",
        )
        self.finish_layout()

    def prepare(self) -> Call:
        tier_id = self.chosen_tier_id("Choose the new tier.")
        services, staff_id, membership_id = self.desk.services, self.desk.staff_id, self.membership.id
        return lambda: memberships.change_tier(
            services, membership_id=membership_id, tier_id=tier_id, staff_id=staff_id
        )

    def saved_message(self, result: MembershipView) -> str:
        return f"{result.client_name} is now a {result.tier_name} member."


class NoticeDialog(_MembershipForm):
    """The member gives notice: the last day of their membership (giving notice again moves it)."""

    field_aliases = {"ends_on": "last_day"}

    def __init__(self, desk: Desk, membership: MembershipView, parent: QWidget | None = None) -> None:
        super().__init__(
            desk, title=f"{membership.client_name} gives notice", save_text="Give notice", parent=parent
        )
        self.membership = membership
        today = membership.today
        suggested = membership.ends_on or membership.paid_through
        if suggested is None or suggested < today:
            suggested = today
        self.last_day = date_edit(suggested, minimum=today)
        self.add_field(
            "last_day",
            "Last day",
            self.last_day,
            hint="The discount lasts until the end of this day; nothing is collected for the time after it.",
        )
        self.finish_layout()
        self.last_day.setFocus()

    def prepare(self) -> Call:
        services, staff_id, membership_id = self.desk.services, self.desk.staff_id, self.membership.id
        last_day = self.last_day.date().toPython()
        return lambda: memberships.give_notice(
            services, membership_id=membership_id, ends_on=last_day, staff_id=staff_id
        )

    def saved_message(self, result: MembershipView) -> str:
        return f"{result.client_name}'s membership ends on {fmt.date(result.ends_on)}."


class ArrearsDialog(_MembershipForm):
    """Take a payment of arrears at the desk: the amount owed, as ``arrears_of`` says, typed in."""

    def __init__(self, desk: Desk, membership: MembershipView, parent: QWidget | None = None) -> None:
        super().__init__(
            desk,
            title=f"{membership.client_name}'s arrears",
            save_text="Take payment",
            parent=parent,
        )
        self.membership = membership
        self.arrears: Arrears | None = None
        self.owed = QLabel("Working out what is owed…")
        self.owed.setObjectName("heading")
        self.period = QLabel("")
        self.period.setObjectName("hint")
        owed_box = QWidget()
        column = QVBoxLayout(owed_box)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        column.addWidget(self.owed)
        column.addWidget(self.period)
        self.amount = QLineEdit()
        self.amount.setMaximumWidth(200)
        self.add_field("owed", "Owed today", owed_box, top=True)
        self.add_field(
            "amount",
            "Amount paid",
            self.amount,
            hint="By card or cash at the desk. Any retry of the failed Direct Debit is cancelled.",
        )
        self.finish_layout()
        self.save_button.setEnabled(False)
        services, membership_id = desk.services, membership.id
        desk.run(
            lambda: membership_views.arrears_of(services, membership_id),
            self._show_arrears,
            lambda m: self.show_error(None, m),
        )
        self.amount.setFocus()

    def prepare(self) -> Call:
        typed = self.amount.text()
        if not typed.strip():
            raise InvalidInput("Type the amount the client paid.", field="amount")
        try:
            inputs.money(typed, what="The amount paid", currency=self.membership.monthly_price.currency)
        except InvalidInput as error:
            raise InvalidInput(str(error), field="amount") from None
        services, staff_id, membership_id = self.desk.services, self.desk.staff_id, self.membership.id
        return lambda: memberships.record_desk_payment_of_arrears(
            services, membership_id=membership_id, amount=typed, staff_id=staff_id
        )

    def saved_message(self, result: MembershipView) -> str:
        paid = fmt.money(self.arrears.amount) if self.arrears else "The arrears"
        return f"{result.client_name} paid {paid}: the membership is back in good standing."

    def _show_arrears(self, arrears: Arrears | None) -> None:
        self.arrears = arrears
        if arrears is None:
            self.owed.setText("Nothing is owed on this membership.")
            return
        months = "1 month" if arrears.months == 1 else f"{arrears.months} months"
        self.owed.setText(fmt.money(arrears.amount))
        self.period.setText(f"{months}, {fmt.date(arrears.period_start)} to {fmt.date(arrears.period_end)}")
        self.amount.setPlaceholderText(f"e.g. {fmt.editable_amount(arrears.amount)}")
        self.refit()
        self.save_button.setEnabled(True)


# --- Shared pieces --------------------------------------------------------------------------------------------


def tier_terms(tier: Tier) -> str:
    """ "£49.00 a month by Direct Debit. 20% off treatments and products; from the first collected payment." """
    covered = [
        name
        for name, yes in (
            ("treatments", tier.covers_treatments),
            ("products", tier.covers_products),
            ("package purchases", tier.covers_packages),
        )
        if yes
    ]
    covers = (
        " and ".join([", ".join(covered[:-1]), covered[-1]] if len(covered) > 1 else covered) or "nothing"
    )
    start = "from sign-up" if tier.benefits_start.value == "sign_up" else "from the first collected payment"
    return (
        f"{fmt.money(tier.monthly_price)} a month by Direct Debit. "
        f"{fmt.percent(tier.discount_bp)} off {covers}, {start}."
    )


def keep_lines(label: QLabel, lines: int) -> None:
    """Give ``label`` (already in its dialog, so styled as it will be shown) the fixed height of ``lines``
    lines of its text."""
    label.ensurePolished()
    label.setFixedHeight(label.fontMetrics().lineSpacing() * lines + 2)


def date_edit(day: dt.date, *, minimum: dt.date | None = None) -> QDateEdit:
    """A date field with a calendar, written the desk's way (24 Nov 2026) whatever the PC's language."""
    edit = QDateEdit()
    edit.setLocale(QLocale(QLocale.Language.English, QLocale.Country.UnitedKingdom))
    edit.setDisplayFormat("d MMM yyyy")
    edit.setCalendarPopup(True)
    if minimum is not None:
        edit.setMinimumDate(QDate(minimum))
    edit.setDate(QDate(day))
    edit.setMinimumWidth(180)
    edit.setMaximumWidth(200)
    return edit
