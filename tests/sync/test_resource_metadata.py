"""Events name the membership their resource was made for (``resource_metadata``), and the till uses it.

GoCardless copies a resource's metadata onto each event about it. The till writes ``membership_id`` on every
resource it creates for a membership, so an event about a resource the till does not know by its id still finds
its membership. Here that happens for real: the till's database is restored from a backup taken before the
client authorised the Direct Debit, so the subscription GoCardless made since is unknown to it; the pull finds the
membership through the subscription's metadata (and a replay of the subscription request returns the same one).
"""

from __future__ import annotations

from pathlib import Path

from harness import Till

from aestheticc_pos.store.backup import backup_sqlite_to_file, restore_sqlite
from aestheticc_pos.sync.inbox import Outcome


def _restored_after_set_up(till: Till, tmp_path: Path) -> tuple[str, str]:
    """A member signed up and synced, a backup, the client authorises and the till syncs (subscription made),
    then the backup is restored. Returns (membership id, subscription id at GoCardless)."""
    membership_id = till.sign_up()
    till.cycle()
    url = till.uow.engine.url.render_as_string(hide_password=False)
    backup = tmp_path / "before-authorised.db"
    backup_sqlite_to_file(url, backup)
    till.authorise(membership_id)
    till.cycle()
    subscription = till.membership(membership_id).gc_subscription_id
    assert subscription is not None
    till.uow.engine.dispose()
    restore_sqlite(backup, url)
    restored = till.membership(membership_id)
    assert (restored.gc_mandate_id, restored.gc_subscription_id) == (None, None)
    return membership_id, subscription


def test_an_event_about_an_unknown_subscription_finds_its_membership_by_resource_metadata(
    till: Till, tmp_path: Path
) -> None:
    membership_id, subscription = _restored_after_set_up(till, tmp_path)
    [created] = till.simulator.events("subscriptions", "created")
    assert created["resource_metadata"] == {"membership_id": membership_id}

    report = till.engine.pull_events_once(till.today)  # the pull alone: nothing recorded the id meanwhile

    assert report.deferred == 0
    assert till.membership(membership_id).gc_subscription_id == subscription
    log = till.log()[created["id"]]
    assert (log.outcome, log.membership_id) == (Outcome.APPLIED, membership_id)
    till.cycle()  # the subscription queued again by the replayed set-up is the same one at GoCardless
    assert till.simulator.count("subscriptions") == 1
    assert till.membership(membership_id).gc_subscription_id == subscription


def test_without_resource_metadata_the_same_event_waits_until_the_id_is_known(
    till: Till, tmp_path: Path
) -> None:
    """The control: the path above is the metadata's doing (stripped here, the event is kept for later)."""
    membership_id, subscription = _restored_after_set_up(till, tmp_path)
    with till.simulator.store.lock:
        for event in till.simulator.store.resources["events"].values():
            event["resource_metadata"] = {}
    [created] = till.simulator.events("subscriptions", "created")

    report = till.engine.pull_events_once(till.today)

    assert report.deferred >= 1
    assert till.log()[created["id"]].outcome == Outcome.DEFERRED
    assert till.membership(membership_id).gc_subscription_id is None
    till.cycle()  # the drain's replay makes the id known; the kept event is applied then
    assert till.membership(membership_id).gc_subscription_id == subscription
    assert till.simulator.count("subscriptions") == 1
