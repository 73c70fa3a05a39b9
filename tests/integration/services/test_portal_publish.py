"""Publishing the booking portal: only active packages and tiers, one GoCardless link per package made once and
updated (not remade) when its price changes, a Buy button only once the link exists with the current price."""

from __future__ import annotations

import json
from dataclasses import replace

from catalogue_fixtures import BOTOX_STARTER, MICRONEEDLING_COURSE, save_demo_catalogue
from sqlalchemy import select
from staffing import a_manager

from aestheticc_pos.domain.catalogue import Tier
from aestheticc_pos.domain.money import Money
from aestheticc_pos.services.portal import publish_catalogue
from aestheticc_pos.store import catalogue_repo
from aestheticc_pos.store.tables import OutboxRow, PackageLinkRow

GOLD = Tier(id="tier-gold", name="Gold", monthly_price=Money.parse("49.00"), discount_bp=2000)


def _work(services) -> list[tuple[str, str, dict]]:
    with services.uow(read_only=True) as uow:
        return [
            (r.kind, r.record_id, r.payload)
            for r in uow.session.scalars(
                select(OutboxRow).where(OutboxRow.record_type == "package_link").order_by(OutboxRow.seq)
            )
        ]


def _made(services, package_id: str, template_id: str) -> None:
    """What the sync engine records when GoCardless has made the package's link."""
    with services.uow() as uow:
        row = uow.session.get(PackageLinkRow, package_id)
        row.gc_template_id = template_id
        row.authorisation_url = f"http://127.0.0.1:9/template/{template_id}"
        for job in uow.session.scalars(select(OutboxRow).where(OutboxRow.record_id == package_id)):
            job.status, job.remote_id = "done", template_id
        uow.commit()


def _read(folder) -> tuple[dict, str]:
    return json.loads((folder / "catalogue.json").read_text("utf-8")), (folder / "index.html").read_text(
        "utf-8"
    )


def test_the_first_publish_lists_what_is_sold_and_queues_one_link_per_package(services, tmp_path) -> None:
    save_demo_catalogue(services)
    with services.uow() as uow:
        catalogue_repo.save_tier(uow.session, GOLD)
        uow.commit()

    published = publish_catalogue(services, tmp_path, staff_id=a_manager(services))

    catalogue, page = _read(tmp_path)
    assert [p["name"] for p in catalogue["packages"]] == ["Botox starter", "Microneedling course of 6"]
    botox = catalogue["packages"][0]
    assert (botox["price_pence"], botox["sessions"], botox["buy_url"]) == (30000, 3, None)
    assert [s["min_days_after_previous"] for s in botox["steps"]] == [0, 2, 14]
    assert catalogue["tiers"] == [
        {
            "id": "tier-gold",
            "name": "Gold",
            "description": "",
            "monthly_price_pence": 4900,
            "currency": "GBP",
            "monthly_price_text": "£49.00",
            "discount_percent": 20,
            "covers": ["treatments"],
        }
    ]
    assert "Botox starter" in page and "ask at reception" in page and "Gold" in page
    assert published.waiting_for_links == 2 and published.queued == 2
    assert [(k, pid) for k, pid, _ in _work(services)] == [
        ("create_billing_request_template", BOTOX_STARTER.id),
        ("create_billing_request_template", MICRONEEDLING_COURSE.id),
    ]
    assert _work(services)[0][2] == {
        "name": "Botox starter",
        "payment_request_amount": 30000,
        "payment_request_currency": "GBP",
        "payment_request_description": "Botox starter",
        "payment_request_metadata": {"package_id": BOTOX_STARTER.id},
    }


def test_publishing_again_adds_the_buy_buttons_and_queues_nothing_new(services, tmp_path) -> None:
    save_demo_catalogue(services)
    publish_catalogue(services, tmp_path, staff_id=a_manager(services))
    _made(services, BOTOX_STARTER.id, "BRT0001")

    again = publish_catalogue(services, tmp_path, staff_id=a_manager(services))

    catalogue, page = _read(tmp_path)
    assert catalogue["packages"][0]["buy_url"] == "http://127.0.0.1:9/template/BRT0001"
    assert 'href="http://127.0.0.1:9/template/BRT0001"' in page
    assert (again.queued, again.waiting_for_links) == (0, 1)
    assert len(_work(services)) == 2


def test_a_price_change_updates_the_same_link_and_hides_the_button_until_it_is_done(
    services, tmp_path
) -> None:
    save_demo_catalogue(services)
    publish_catalogue(services, tmp_path, staff_id=a_manager(services))
    _made(services, BOTOX_STARTER.id, "BRT0001")
    with services.uow() as uow:
        catalogue_repo.save_package(uow.session, replace(BOTOX_STARTER, price=Money.parse("320.00")))
        uow.commit()

    publish_catalogue(services, tmp_path, staff_id=a_manager(services))

    kind, _, payload = _work(services)[-1]
    assert kind == "update_billing_request_template"
    assert payload["billing_request_template_id"] == "BRT0001" and payload["payment_request_amount"] == 32000
    catalogue, _ = _read(tmp_path)
    assert catalogue["packages"][0]["price_pence"] == 32000
    assert catalogue["packages"][0]["buy_url"] is None  # not with the old price


def test_a_package_no_longer_sold_leaves_the_page(services, tmp_path) -> None:
    save_demo_catalogue(services)
    publish_catalogue(services, tmp_path, staff_id=a_manager(services))
    with services.uow() as uow:
        catalogue_repo.save_package(uow.session, replace(MICRONEEDLING_COURSE, active=False))
        uow.commit()

    publish_catalogue(services, tmp_path, staff_id=a_manager(services))

    catalogue, page = _read(tmp_path)
    assert [p["id"] for p in catalogue["packages"]] == [BOTOX_STARTER.id]
    assert "Microneedling" not in page
    with services.uow(read_only=True) as uow:
        assert uow.session.get(PackageLinkRow, MICRONEEDLING_COURSE.id).published is False


def test_a_price_change_before_the_link_was_sent_goes_with_the_first_request(services, tmp_path) -> None:
    save_demo_catalogue(services)
    publish_catalogue(services, tmp_path, staff_id=a_manager(services))
    with services.uow() as uow:
        catalogue_repo.save_package(uow.session, replace(BOTOX_STARTER, price=Money.parse("290.00")))
        uow.commit()

    publish_catalogue(services, tmp_path, staff_id=a_manager(services))

    work = _work(services)
    assert [k for k, _, _ in work] == ["create_billing_request_template"] * 2
    assert work[0][2]["payment_request_amount"] == 29000
