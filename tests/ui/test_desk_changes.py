"""The desk hears every commit, from whichever thread, as the topics its screens show."""

from __future__ import annotations

from aestheticc_pos.services import clients as clients_service
from aestheticc_pos.ui import topics


def test_a_change_made_off_the_gui_thread_reaches_the_screens_as_its_topics(qtbot, demo_desk) -> None:
    heard: list[frozenset[str]] = []
    demo_desk.changed.connect(heard.append)
    add = lambda: clients_service.add_client(  # noqa: E731 - the call the worker thread makes
        demo_desk.services, staff_id=demo_desk.staff_id, first_name="Grace", last_name="Hopper"
    )
    with qtbot.waitSignal(demo_desk.changed, timeout=5000):
        demo_desk.run(add)
    assert topics.CLIENTS in heard[0]
    assert topics.topics_of({"sales", "session_ledger", "audit_log"}) == {topics.SALES, topics.PACKAGES}
