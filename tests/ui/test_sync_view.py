"""The Sync screen, the status bar's words, and the GoCardless card of Settings."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from PySide6.QtCore import Qt
from sqlalchemy import select
from staffing import front_desk

from aestheticc_pos.services import clients as clients_service
from aestheticc_pos.services import membership_billing, memberships
from aestheticc_pos.services import staff as staff_service
from aestheticc_pos.services.handlers import MessageBus
from aestheticc_pos.services.membership_billing import NotBilled
from aestheticc_pos.settings import SETTINGS_FILE, load_settings
from aestheticc_pos.store.tables import MembershipRow, OutboxRow, ProcessedEventRow
from aestheticc_pos.sync import outbox
from aestheticc_pos.sync.connection import SyncConnection
from aestheticc_pos.sync.gateway import PermanentGatewayError
from aestheticc_pos.sync.practice import PracticeTurns
from aestheticc_pos.sync.runner import SyncState, SyncStatus
from aestheticc_pos.sync.secrets import NO_KEYRING, MemorySecretStore
from aestheticc_pos.sync.simulator import Simulator
from aestheticc_pos.ui.desk import Desk
from aestheticc_pos.ui.sync_bridge import status_text
from aestheticc_pos.ui.views.gocardless_settings import GoCardlessCard
from aestheticc_pos.ui.views.sync import ALL_BILLED, SyncView

WAIT = 5000
TOKEN = "live_a-real-looking-access-token-0123456789"


@pytest.fixture(autouse=True)
def _background_work_done(qtbot, demo_desk: Desk):
    """Let every service call a test started call back before its widgets go away."""
    yield
    qtbot.waitUntil(lambda: not demo_desk.runner.busy, timeout=WAIT)


@pytest.fixture
def secrets() -> MemorySecretStore:
    return MemorySecretStore()


@pytest.fixture
def connected(qtbot, demo_desk: Desk, secrets: MemorySecretStore) -> Desk:
    """The demo desk with a connection that is never started (its runner's cycles are run by hand)."""
    services = demo_desk.services
    connection = SyncConnection(
        services.uow, services.clock, services.today, secrets, "live", bus=MessageBus(services)
    )  # type: ignore[arg-type]
    demo_desk.connect_sync(connection)
    return demo_desk


def _refused_sign_up(desk: Desk) -> str:
    services = desk.services
    client = clients_service.add_client(
        services, staff_id=front_desk(services), first_name="Zoe", last_name="Quinn", email="zoe@example.com"
    )
    manager = next(m for m in staff_service.list_staff(services) if m.name == "Sophie Laurent")
    memberships.start_membership(services, client_id=client.id, tier_id="tier-gold", staff_id=manager.id)
    with services.uow() as uow:
        row = uow.session.scalars(select(OutboxRow).order_by(OutboxRow.seq).limit(1)).one()
        row.attempts = 1
        outbox.mark_failed(
            row, PermanentGatewayError("GoCardless refused the client's details: email."), services.now()
        )
        uow.commit()
        return row.id


def _billed_except(desk: Desk, leave: int) -> list[NotBilled]:
    """Every demo member with a Direct Debit is billed monthly: stop the monthly collection of ``leave`` of
    them (as if it was cancelled at GoCardless) and return them as the review lists them."""
    with desk.services.uow() as uow:
        rows = uow.session.scalars(
            select(MembershipRow)
            .where(MembershipRow.gc_subscription_id.is_not(None), MembershipRow.status == "active")
            .order_by(MembershipRow.id)
            .limit(leave)
        ).all()
        for row in rows:
            row.gc_subscription_id = None
        uow.commit()
    return membership_billing.memberships_not_billed(desk.services)


def _subscriptions_queued(desk: Desk, membership_id: str) -> list[str]:
    with desk.services.uow(read_only=True) as uow:
        return list(
            uow.session.scalars(
                select(OutboxRow.status).where(
                    OutboxRow.kind == "create_subscription", OutboxRow.record_id == membership_id
                )
            )
        )


def _keep(qtbot, widget) -> None:
    """Close ``widget`` at the end of the test only once the desk's background work has called back."""
    qtbot.addWidget(
        widget, before_close_func=lambda w: qtbot.waitUntil(lambda: not w.desk.runner.busy, timeout=WAIT)
    )


def _view(qtbot, desk: Desk) -> SyncView:
    view = SyncView(desk)
    _keep(qtbot, view)
    view.refresh()
    qtbot.waitUntil(lambda: view.overview is not None, timeout=WAIT)
    return view


def test_the_status_bar_says_the_state_and_counts() -> None:
    state = SyncState(SyncStatus.OFFLINE, "Offline.", dt.datetime.now(dt.UTC))
    assert status_text(state, 0, 0) == "Sync: offline"
    assert status_text(state, 3, 1) == "Sync: offline · 3 queued · 1 needs attention"
    assert status_text(state, 1, 2) == "Sync: offline · 1 queued · 2 need attention"


def test_refused_work_is_listed_and_only_a_manager_may_act_on_it(
    qtbot, switch_staff, connected: Desk
) -> None:
    _refused_sign_up(connected)
    view = _view(qtbot, connected)

    assert view.attention_model.rowCount() == 1
    assert view.attention_model.index(0, 0).data() == "Zoe Quinn"
    assert view.attention_model.index(0, 1).data() == "add the client to GoCardless"
    assert view.attention_model.index(0, 3).data() == "2"
    view.attention_table.selectRow(0)
    assert not view.retry_button.isEnabled() and not view.discard_button.isEnabled()
    assert view.manager_hint.isVisibleTo(view)

    switch_staff(connected, "Sophie Laurent")
    assert view.retry_button.isEnabled() and view.discard_button.isEnabled()
    assert not view.manager_hint.isVisibleTo(view)
    qtbot.mouseClick(view.retry_button, Qt.MouseButton.LeftButton)

    qtbot.waitUntil(lambda: view.attention_model.rowCount() == 0, timeout=WAIT)
    assert view.attention_empty.isVisibleTo(view)
    assert view.queued.text() == "Waiting to be sent: 3"


def test_a_manager_discards_refused_work_with_a_reason(qtbot, switch_staff, connected: Desk) -> None:
    _refused_sign_up(connected)
    switch_staff(connected, "Sophie Laurent")
    view = _view(qtbot, connected)
    view.attention_table.selectRow(0)
    messages: list[str] = []
    connected.message.connect(messages.append)

    view.discard_selected(reason="The client asked us not to use Direct Debit")

    qtbot.waitUntil(lambda: view.attention_model.rowCount() == 0, timeout=WAIT)
    assert messages[-1] == "Discarded with 2 later steps: add the client to GoCardless."
    assert view.queued.text() == "Nothing waiting to be sent."


def test_events_that_changed_nothing_are_shown_only_on_request(qtbot, connected: Desk) -> None:
    with connected.services.uow() as uow:
        uow.session.add_all(
            [
                ProcessedEventRow(
                    event_id="EV1", resource_type="payments", action="confirmed", outcome="applied"
                ),
                ProcessedEventRow(
                    event_id="EV2",
                    resource_type="billing_requests",
                    action="flow_visited",
                    outcome="ignored",
                    note="Changes nothing here.",
                ),
            ]
        )
        uow.commit()
    view = _view(qtbot, connected)

    assert [view.events_model.index(r, 1).data() for r in range(view.events_model.rowCount())] == [
        "Payment collected"
    ]
    view.all_events.setChecked(True)
    assert view.events_model.rowCount() == 2


def test_the_state_shown_follows_the_runner(qtbot, connected: Desk) -> None:
    view = _view(qtbot, connected)
    assert "Connecting" in view.state_label.text()

    state = connected.sync.connection.runner.run_once()  # no token in the keyring
    connected.sync.state_changed.emit(state)

    qtbot.waitUntil(lambda: "Not set up" in view.state_label.text(), timeout=WAIT)
    assert "Settings" in view.sentence.text()


def test_a_manager_saves_the_token_to_the_keyring_and_it_is_never_shown(
    qtbot, switch_staff, connected: Desk, secrets
) -> None:
    switch_staff(connected, "Sophie Laurent")
    card = GoCardlessCard(connected, load_settings())
    _keep(qtbot, card)

    card.token.setText("too-short")
    card.save_token()
    assert card.feedback.text() == "That is too short for a GoCardless access token: copy the whole token."
    assert secrets.get_token("live") is None

    card.token.setText(TOKEN)
    card.save_token()

    qtbot.waitUntil(lambda: secrets.get_token("live") == TOKEN, timeout=WAIT)
    qtbot.waitUntil(lambda: "Token saved" in card.feedback.text(), timeout=WAIT)
    assert card.token.text() == ""
    assert TOKEN not in card.feedback.text() + card.state.text()
    assert card.token.echoMode() is card.token.EchoMode.Password


def test_the_environment_is_this_tills_choice_and_kept_in_its_settings(
    qtbot, switch_staff, connected: Desk
) -> None:
    switch_staff(connected, "Sophie Laurent")
    settings = load_settings()
    card = GoCardlessCard(connected, settings)
    _keep(qtbot, card)

    card.environment.setCurrentIndex(card.environment.findData("sandbox"))
    card.change_environment()

    qtbot.waitUntil(lambda: "now syncs with the GoCardless sandbox" in card.feedback.text(), timeout=WAIT)
    assert connected.sync.connection.environment == "sandbox"
    saved = json.loads((settings.data_dir / SETTINGS_FILE).read_text(encoding="utf-8"))
    assert saved == {"gocardless_environment": "sandbox"}
    assert load_settings().gocardless_environment == "sandbox"


def test_a_receptionist_cannot_change_gocardless(qtbot, connected: Desk) -> None:
    card = GoCardlessCard(connected, load_settings())
    _keep(qtbot, card)

    assert not card.token.isEnabled() and not card.save_button.isEnabled()
    assert not card.environment.isEnabled()


def test_with_no_keyring_the_card_says_so_and_offers_nothing_to_type(
    qtbot, switch_staff, demo_desk: Desk
) -> None:
    services = demo_desk.services
    connection = SyncConnection(
        services.uow,
        services.clock,
        services.today,
        MemorySecretStore(available=False),
        "live",  # type: ignore[arg-type]
        bus=MessageBus(services),
    )
    demo_desk.connect_sync(connection)
    switch_staff(demo_desk, "Sophie Laurent")
    card = GoCardlessCard(demo_desk, load_settings())
    _keep(qtbot, card)

    qtbot.waitUntil(lambda: card.state.text() == NO_KEYRING, timeout=WAIT)
    assert not card.token.isVisibleTo(card) and not card.save_button.isVisibleTo(card)


def test_a_manager_starts_billing_a_member_with_a_direct_debit_and_no_monthly_collection(
    qtbot, switch_staff, connected: Desk
) -> None:
    [kept] = _billed_except(connected, leave=1)
    view = _view(qtbot, connected)
    model = view.not_billed_model
    assert [[model.index(0, c).data() for c in range(3)]] == [[kept.client_name, kept.tier_name, kept.reason]]
    assert model.rowCount() == 1 and not view.not_billed_empty.isVisibleTo(view)
    view.not_billed_table.selectRow(0)
    assert not view.start_billing_button.isEnabled() and view.billing_hint.isVisibleTo(view)  # a receptionist

    switch_staff(connected, "Sophie Laurent")
    assert view.start_billing_button.isEnabled() and not view.billing_hint.isVisibleTo(view)
    messages: list[str] = []
    connected.message.connect(messages.append)
    qtbot.mouseClick(view.start_billing_button, Qt.MouseButton.LeftButton)

    qtbot.waitUntil(lambda: model.rowCount() == 0, timeout=WAIT)
    assert view.not_billed_empty.isVisibleTo(view) and view.not_billed_empty.text() == ALL_BILLED
    assert not view.start_billing_button.isVisibleTo(view)
    assert _subscriptions_queued(connected, kept.membership_id) == ["pending"]
    assert f"{kept.client_name}'s monthly collection will be sent to GoCardless at the next sync." in messages


def test_starting_billing_already_started_elsewhere_is_refused_with_a_sentence(
    qtbot, switch_staff, connected: Desk
) -> None:
    [kept] = _billed_except(connected, leave=1)
    switch_staff(connected, "Sophie Laurent")
    view = _view(qtbot, connected)
    view.not_billed_table.selectRow(0)
    membership_billing.start_billing(  # another till got there first
        connected.services, membership_id=kept.membership_id, staff_id=connected.staff_id
    )

    view.start_billing_for_selected()

    qtbot.waitUntil(lambda: view.error.isVisibleTo(view), timeout=WAIT)
    assert view.error.text() == "A monthly collection is already being sent for this member (see Sync)."
    assert _subscriptions_queued(connected, kept.membership_id) == ["pending"]


def test_when_every_member_is_billed_the_section_says_so(qtbot, demo_desk: Desk) -> None:
    assert _billed_except(demo_desk, leave=0) == []
    view = _view(qtbot, demo_desk)

    assert view.not_billed_model.rowCount() == 0
    assert view.not_billed_empty.isVisibleTo(view) and view.not_billed_empty.text() == ALL_BILLED
    assert not view.not_billed_table.isVisibleTo(view) and not view.start_billing_button.isVisibleTo(view)


def test_training_practice_turns_show_in_the_sync_screen_and_the_till_applies_them(
    qtbot, demo_desk: Desk
) -> None:
    """In training mode the Sync screen can make the simulated GoCardless move a member's Direct Debit to a new
    mandate; the next sync applies it, and the recent events say so."""
    services = demo_desk.services
    with Simulator() as simulator:
        simulator.set_clock(services.now())
        connection = SyncConnection(
            services.uow,
            services.clock,
            services.today,
            MemorySecretStore(available=False),
            "sandbox",
            bus=MessageBus(services),
            base_url=simulator.base_url,
            training=True,
        )  # type: ignore[arg-type]
        connection.practice = PracticeTurns(services.uow, simulator)  # type: ignore[arg-type]
        demo_desk.connect_sync(connection)
        client = clients_service.add_client(
            services,
            staff_id=front_desk(services),
            first_name="Tara",
            last_name="Practice",
            email="t@example.com",
        )
        membership_id = memberships.start_membership(
            services, client_id=client.id, tier_id="tier-gold", staff_id=front_desk(services)
        ).id
        assert connection.runner.run_once().status is SyncStatus.ONLINE
        with services.uow(read_only=True) as uow:
            flow = uow.session.get(MembershipRow, membership_id).gc_flow_id
        simulator.authorise(flow, account_holder_name="Tara Practice", account_number="55779911")
        connection.runner.run_once()
        with services.uow(read_only=True) as uow:
            old_mandate = uow.session.get(MembershipRow, membership_id).gc_mandate_id
        assert old_mandate

        view = SyncView(demo_desk)
        qtbot.addWidget(view)
        view.show()
        panel = view.practice
        assert panel is not None and panel.isVisible()
        view.refresh()
        qtbot.waitUntil(lambda: panel.member.count() == 1, timeout=WAIT)
        assert panel.member.currentText() == "Tara Practice"
        labels = [panel.turn.itemText(i) for i in range(panel.turn.count())]
        assert "The bank moves the Direct Debit to a new mandate" in labels and len(labels) == 13
        panel.turn.setCurrentIndex(panel.turn.findData("replace_mandate"))
        qtbot.mouseClick(panel.go, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: "new mandate" in panel.result.text(), timeout=WAIT)
        [new_mandate] = [m["id"] for m in simulator.all("mandates") if m["id"] != old_mandate]
        assert new_mandate in panel.result.text()

        connection.runner.run_once()
        with services.uow(read_only=True) as uow:
            assert uow.session.get(MembershipRow, membership_id).gc_mandate_id == new_mandate
        view.refresh()
        qtbot.waitUntil(
            lambda: any(
                "moved the Direct Debit to a new mandate" in (view.events_model.row(i).note or "")
                for i in range(view.events_model.rowCount())
            ),
            timeout=WAIT,
        )


def test_without_training_the_sync_screen_has_no_practice_panel(qtbot, connected: Desk) -> None:
    view = SyncView(connected)
    qtbot.addWidget(view)
    assert view.practice is None


def test_not_connected_the_screen_says_what_waits_and_never_that_all_is_well(qtbot, demo_desk: Desk) -> None:
    assert demo_desk.sync is None  # the demo clinic has no GoCardless token on this till
    view = _view(qtbot, demo_desk)
    assert view.subtitle.text() == "GoCardless is not connected on this till."
    assert view.queued.text() == (
        "Nothing is sent from this till until GoCardless is connected (Settings → GoCardless)."
    )
    client = clients_service.add_client(
        demo_desk.services, staff_id=front_desk(demo_desk.services), first_name="Ada", last_name="Lovelace"
    )
    memberships.start_membership(
        demo_desk.services, client_id=client.id, tier_id="tier-gold", staff_id=demo_desk.staff_id
    )  # its Direct Debit set-up is queued for GoCardless
    view.refresh()
    qtbot.waitUntil(lambda: view.overview.queued > 0, timeout=WAIT)
    waiting = view.overview.queued
    assert view.queued.text() == (
        f"{waiting} waiting to be sent, and nothing is sent until GoCardless is connected: "
        "a manager connects it in Settings → GoCardless."
    )
    assert view.attention_empty.text() != "Nothing needs attention."
