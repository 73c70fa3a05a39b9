"""The booking portal: the clinic's active packages and membership tiers published as ``catalogue.json`` and a
static ``index.html`` whose "Buy" buttons are reusable GoCardless payment links, one per package.

``publish_catalogue`` keeps one ``package_links`` row per package sold online and queues its GoCardless work:
a billing request template for a package that has none, an update when its name or price changed (the link
stays the same address), nothing for one unchanged. A package no longer sold is left off the page. A package
whose link GoCardless has not made yet is shown with "Ask at reception" until the next publish after a sync.

A purchase arrives through the sync engine: a billing request made from a package's link names the package in
its payment's metadata (``package_id``). ``portal_purchase_in`` records it as a ``portal`` payment link with the
buyer's name and email; when the payment is confirmed (``payment_links.link_paid_in``) ``complete_portal_sale_in``
finds the client by email (or adds them) and sells them the package: its steps, sessions and expiry are theirs,
and booking a step too early is refused as at the desk.

Outbox rows: record_type ``package_link``, record_id the package's id; kinds ``create_billing_request_template``
(payload: name, payment_request_amount in pence, payment_request_currency, payment_request_description,
payment_request_metadata {package_id}) and ``update_billing_request_template`` (``billing_request_template_id``,
None: the remote id of the create it depends on, and the fields that changed). The engine writes the
template's id and address back to ``package_links``.
"""

from __future__ import annotations

import datetime as dt
import html
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from aestheticc_pos.domain import outbox
from aestheticc_pos.domain.catalogue import ItemKind, Package, Tier
from aestheticc_pos.domain.checkout import TenderKind, amount_text
from aestheticc_pos.domain.errors import InvalidInput
from aestheticc_pos.domain.money import Money
from aestheticc_pos.domain.outbox import OutboxKind, OutboxStatus
from aestheticc_pos.domain.payment_links import LinkPurpose, LinkStatus
from aestheticc_pos.domain.pricing import BasketLine, Channel, Quote, QuotedLine
from aestheticc_pos.domain.staff import Action
from aestheticc_pos.services.authority import Audience, use_case
from aestheticc_pos.services.clients import add_client_in
from aestheticc_pos.services.context import ClinicSettings, Services, read_clinic_settings
from aestheticc_pos.services.packages import lock_client_packages
from aestheticc_pos.services.pricing import Payment
from aestheticc_pos.services.sales import record_sale_in
from aestheticc_pos.store import catalogue_repo
from aestheticc_pos.store.outbox_repo import enqueue
from aestheticc_pos.store.tables import ClientRow, OutboxRow, PackageLinkRow, PaymentLinkRow
from aestheticc_pos.store.unit_of_work import UnitOfWork

RECORD_TYPE = "package_link"
CATALOGUE_VERSION = 1


@dataclass(frozen=True, slots=True)
class Published:
    folder: Path
    packages: int
    tiers: int
    waiting_for_links: int  # packages shown with "Ask at reception" until GoCardless has made their link
    queued: int  # GoCardless work queued by this publish

    @property
    def sentence(self) -> str:
        text = (
            f"Published {self.packages} package{'s' if self.packages != 1 else ''} and {self.tiers} tier"
            + ("s" if self.tiers != 1 else "")
            + f" to {self.folder}."
        )
        if self.waiting_for_links:
            text += (
                f" {self.waiting_for_links} package{'s' if self.waiting_for_links != 1 else ''} "
                "will get a Buy button once the till has synced with GoCardless: publish again then."
            )
        return text


@use_case(Action.PUBLISH_PORTAL, retry=False)
def publish_catalogue(services: Services, out_dir: Path, *, staff_id: str) -> Published:
    """Write ``catalogue.json`` and ``index.html`` to ``out_dir`` and queue the packages' links (module doc).
    ``staff_id``: who pressed Publish (a manager)."""
    return _publish(services, out_dir)


@use_case(Audience.TILL, retry=False)
def publish_catalogue_from_the_command_line(services: Services, out_dir: Path) -> Published:
    """``publish_catalogue`` for ``aestheticc-pos publish-catalogue``: someone at the till computer's own
    command line (who can read the database file anyway), as a scheduled job of the clinic's website."""
    return _publish(services, out_dir)


def _publish(services: Services, out_dir: Path) -> Published:
    """The files are written before the links are committed, so a folder the till cannot write to changes
    nothing."""
    with services.uow() as uow:
        s = uow.session
        settings = read_clinic_settings(s)
        packages = catalogue_repo.list_packages(s, active_only=True)
        tiers = catalogue_repo.list_tiers(s, active_only=True)
        queued = _sync_links(s, packages)
        links = {row.package_id: row for row in s.scalars(select(PackageLinkRow))}
        catalogue = catalogue_json(settings, packages, tiers, links, services.now())
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
            _write(out_dir / "catalogue.json", json.dumps(catalogue, indent=2, ensure_ascii=False) + "\n")
            _write(out_dir / "index.html", catalogue_html(catalogue))
        except OSError as error:
            raise InvalidInput(
                f"The booking portal could not be written to {out_dir} ({error.strerror or error}). "
                "Choose a folder this computer can write to.",
                field="out_dir",
            ) from None
        uow.commit()
    waiting = sum(1 for p in catalogue["packages"] if not p["buy_url"])
    return Published(out_dir, len(packages), len(tiers), waiting, queued)


def _sync_links(s: Session, packages: list[Package]) -> int:
    """Make each active package's link row match it, queueing the GoCardless work; returns how much."""
    queued = 0
    active = {p.id for p in packages}
    for row in s.scalars(select(PackageLinkRow).where(PackageLinkRow.published.is_(True))):
        if row.package_id not in active:
            row.published = False
    for package in packages:
        row = s.get(PackageLinkRow, package.id)
        terms = _template_terms(package)
        if row is None:
            s.add(
                PackageLinkRow(
                    package_id=package.id,
                    name=package.name,
                    price_pence=package.price.pence,
                    currency=package.price.currency,
                    published=True,
                )
            )
            s.flush()
            _queue(s, package.id, OutboxKind.CREATE_BILLING_REQUEST_TEMPLATE, terms)
            queued += 1
            continue
        row.published = True
        latest = _latest_job(s, package.id)
        sent_terms = (
            (row.name, row.price_pence, row.currency) if latest is None else _terms_of(latest.payload)
        )
        if sent_terms == (package.name, package.price.pence, package.price.currency):
            continue
        create = _latest_job(s, package.id, OutboxKind.CREATE_BILLING_REQUEST_TEMPLATE)
        if create is not None and outbox.is_unsent(OutboxStatus(create.status), create.attempts):
            create.payload = terms  # never sent: it goes with the new terms
        else:
            update = {k: v for k, v in terms.items() if k != "payment_request_metadata"}
            _queue(
                s,
                package.id,
                OutboxKind.UPDATE_BILLING_REQUEST_TEMPLATE,
                {"billing_request_template_id": row.gc_template_id, **update},
                depends_on=None if row.gc_template_id is not None or create is None else create.id,
            )
            queued += 1
    s.flush()
    return queued


def _latest_job(s: Session, package_id: str, kind: OutboxKind | None = None) -> OutboxRow | None:
    """The package's latest link work (of ``kind``), not counting work staff discarded."""
    query = select(OutboxRow).where(
        OutboxRow.record_type == RECORD_TYPE,
        OutboxRow.record_id == package_id,
        OutboxRow.status != OutboxStatus.DISCARDED,
    )
    if kind is not None:
        query = query.where(OutboxRow.kind == kind)
    return s.scalars(query.order_by(OutboxRow.seq.desc())).first()


def _terms_of(payload: dict[str, Any]) -> tuple[str, int, str]:
    return (
        payload.get("name", ""),
        int(payload.get("payment_request_amount", 0)),
        payload.get("payment_request_currency", ""),
    )


def _template_terms(package: Package) -> dict[str, Any]:
    return {
        "name": package.name[:200],
        "payment_request_amount": package.price.pence,
        "payment_request_currency": package.price.currency,
        "payment_request_description": package.name[:200],
        "payment_request_metadata": {"package_id": package.id},
    }


def _queue(
    s: Session, package_id: str, kind: OutboxKind, payload: dict[str, Any], *, depends_on: str | None = None
) -> str:
    return enqueue(
        s, kind=kind, record_type=RECORD_TYPE, record_id=package_id, payload=payload, depends_on=depends_on
    )


# --- A purchase from the portal (called by the sync engine) -------------------------------------------------


def portal_purchase_in(
    uow: UnitOfWork,
    services: Services,
    *,
    billing_request_id: str,
    payment_id: str | None,
    package_id: str,
    amount: Money,
    buyer_name: str,
    buyer_email: str | None,
    customer_id: str | None,
) -> str:
    """Record a purchase made from a package's public link (the payer approved it). Returns the link's id; a
    billing request already recorded is not recorded twice."""
    s = uow.session
    existing = s.scalar(
        select(PaymentLinkRow.id).where(PaymentLinkRow.gc_billing_request_id == billing_request_id)
    )
    if existing is not None:
        return existing
    package = catalogue_repo.load_package(s, package_id)
    link_id = services.new_id()
    s.add(
        PaymentLinkRow(
            id=link_id,
            purpose=LinkPurpose.PORTAL.value,
            package_id=package_id,
            status=LinkStatus.AUTHORISED.value,
            description=f"{package.name} (booking portal)"[:200],
            quote={},
            amount_pence=amount.pence,
            currency=amount.currency,
            buyer_name=buyer_name[:170] or None,
            buyer_email=(buyer_email or "").strip()[:254] or None,
            gc_billing_request_id=billing_request_id,
            gc_payment_id=payment_id,
            gc_customer_id=customer_id,
        )
    )
    s.flush()
    return link_id


def complete_portal_sale_in(uow: UnitOfWork, services: Services, row: PaymentLinkRow, staff_id: str) -> str:
    """The portal purchase's payment is confirmed: find or add the client, and sell them the package at the
    price they paid. Returns the sale's id."""
    s = uow.session
    settings = read_clinic_settings(s)
    client_id = _client_for(uow, services, row)
    row.client_id = client_id
    assert row.package_id is not None
    package = catalogue_repo.load_package(s, row.package_id)
    lock_client_packages(uow, client_id)
    paid = Money(row.amount_pence, row.currency)
    sale_id, _ = record_sale_in(
        uow,
        services,
        settings,
        priced=_bought(package, paid, services.today(settings)),
        payments=[Payment(TenderKind.PAYMENT_LINK, paid, row.gc_billing_request_id)],
        client_id=client_id,
        staff_id=staff_id,
    )
    return sale_id


def _client_for(uow: UnitOfWork, services: Services, row: PaymentLinkRow) -> str:
    """The client with the buyer's email (the oldest such, not erased), or a new client."""
    s = uow.session
    email = (row.buyer_email or "").strip()
    if email:
        found = s.scalar(
            select(ClientRow.id)
            .where(func.lower(ClientRow.email) == email.lower(), ClientRow.anonymised_at.is_(None))
            .order_by(ClientRow.created_at)
            .limit(1)
        )
        if found is not None:
            return found
    first, _, last = (row.buyer_name or "Online buyer").strip().partition(" ")
    client = add_client_in(
        uow,
        services,
        first_name=first or "Online",
        last_name=last or "buyer",
        email=email or None,
        notes="Added by a purchase on the booking portal.",
    )
    return client.id


def _bought(package: Package, paid: Money, on: dt.date) -> Quote:
    """The package line at the price paid on the portal (its price when the link was last published)."""
    line = BasketLine(
        ItemKind.PACKAGE, package.id, package.name, paid, 1, package.vat_rate_bp, use_package=False
    )
    vat = paid.vat_inside(package.vat_rate_bp)
    zero = Money.zero(paid.currency)
    quoted = QuotedLine(line=line, gross=paid, discount=zero, discount_reason=None, net=paid, vat=vat)
    return Quote((quoted,), paid, zero, paid, vat, paid.currency, Channel.PAYMENT_LINK, on)


# --- The published files ----------------------------------------------------------------------------------------


def catalogue_json(
    settings: ClinicSettings,
    packages: list[Package],
    tiers: list[Tier],
    links: dict[str, PackageLinkRow],
    now: dt.datetime,
) -> dict[str, Any]:
    """The documented ``catalogue.json`` (docs/booking-portal.md): amounts in pence, plus display text."""
    return {
        "version": CATALOGUE_VERSION,
        "published_at": now.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
        "clinic": {
            "name": settings.name,
            "address": settings.address,
            "phone": settings.phone,
            "email": settings.email,
        },
        "packages": [
            {
                "id": p.id,
                "name": p.name,
                "description": p.description,
                "price_pence": p.price.pence,
                "currency": p.price.currency,
                "price_text": amount_text(p.price),
                "validity_days": p.validity_days,
                "sessions": p.total_sessions,
                "steps": [
                    {
                        "position": step.position,
                        "name": step.name,
                        "sessions": step.sessions,
                        "min_days_after_previous": step.min_days_after_previous,
                        "min_days_between_sessions": step.min_days_between_sessions,
                    }
                    for step in p.steps
                ],
                "buy_url": _buy_url(links.get(p.id), p),
            }
            for p in packages
        ],
        "tiers": [
            {
                "id": t.id,
                "name": t.name,
                "description": t.description,
                "monthly_price_pence": t.monthly_price.pence,
                "currency": t.monthly_price.currency,
                "monthly_price_text": amount_text(t.monthly_price),
                "discount_percent": t.discount_bp / 100,
                "covers": [
                    w
                    for w, on in (
                        ("treatments", t.covers_treatments),
                        ("products", t.covers_products),
                        ("packages", t.covers_packages),
                    )
                    if on
                ],
            }
            for t in tiers
        ],
    }


def _buy_url(row: PackageLinkRow | None, package: Package) -> str | None:
    """The package's link, only once GoCardless has it with the package's current name and price."""
    if row is None or not row.authorisation_url:
        return None
    if (row.name, row.price_pence) != (package.name, package.price.pence):
        return None
    return row.authorisation_url


def catalogue_html(catalogue: dict[str, Any]) -> str:
    clinic = catalogue["clinic"]
    esc = html.escape
    cards = []
    for p in catalogue["packages"]:
        steps = "".join(
            f"<li>{esc(s['name'])}: {s['sessions']} session{'s' if s['sessions'] != 1 else ''}"
            + (
                f", at least {s['min_days_after_previous']} days after the step before"
                if s["min_days_after_previous"]
                else ""
            )
            + "</li>"
            for s in p["steps"]
        )
        button = (
            f'<a class="buy" href="{esc(p["buy_url"])}">Buy — {esc(p["price_text"])}</a>'
            if p["buy_url"]
            else f'<span class="ask">{esc(p["price_text"])} · ask at reception</span>'
        )
        description = f"<p>{esc(p['description'])}</p>" if p["description"] else ""
        cards.append(
            f'<article class="card"><h3>{esc(p["name"])}</h3>{description}<ul>{steps}</ul>'
            f'<p class="small">Valid for {p["validity_days"]} days from purchase.</p>{button}</article>'
        )
    tiers = []
    for t in catalogue["tiers"]:
        covers = ", ".join(t["covers"]) or "—"
        tiers.append(
            f'<article class="card tier"><h3>{esc(t["name"])}</h3>'
            f'<p class="price">{esc(t["monthly_price_text"])} <span class="small">a month by Direct Debit</span></p>'
            f"<p>{t['discount_percent']:g}% off {esc(covers)}.</p>"
            f'<span class="ask">Ask at reception to join</span></article>'
        )
    contact = " · ".join(esc(v) for v in (clinic["address"], clinic["phone"], clinic["email"]) if v)
    packages_html = "".join(cards) or "<p>No packages are on sale online at the moment.</p>"
    tiers_html = "".join(tiers) or "<p>Ask at reception about memberships.</p>"
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(clinic["name"])} — packages and memberships</title>
<style>
  :root {{ --ink:#2b2540; --muted:#6b6478; --accent:#5b4a8b; --bg:#f6f4f0; }}
  * {{ box-sizing: border-box; }}
  body {{ margin:0; font-family: system-ui, -apple-system, "Segoe UI", sans-serif; color:var(--ink);
         background:var(--bg); }}
  header {{ background:var(--ink); color:#fff; padding:40px 24px; text-align:center; }}
  header h1 {{ margin:0 0 8px; font-weight:600; letter-spacing:.5px; }}
  header p {{ margin:0; color:#d9d3e8; }}
  main {{ max-width:1040px; margin:0 auto; padding:24px; }}
  h2 {{ margin:32px 0 12px; }}
  .grid {{ display:grid; grid-template-columns:repeat(auto-fill,minmax(290px,1fr)); gap:18px; }}
  .card {{ background:#fff; border-radius:14px; padding:22px; box-shadow:0 1px 3px rgba(0,0,0,.08);
          display:flex; flex-direction:column; }}
  .card h3 {{ margin:0 0 8px; }}
  .card ul {{ padding-left:18px; margin:8px 0; }}
  .small {{ color:var(--muted); font-size:.9em; }}
  .price {{ font-size:1.4em; margin:6px 0; }}
  .buy {{ margin-top:auto; display:block; text-align:center; background:var(--accent); color:#fff;
         padding:12px; border-radius:10px; text-decoration:none; font-weight:600; }}
  .buy:hover {{ background:#46386e; }}
  .ask {{ margin-top:auto; display:block; text-align:center; color:var(--muted); padding:12px;
         border:1px dashed #cfc8dc; border-radius:10px; }}
  footer {{ text-align:center; color:var(--muted); padding:32px 12px; font-size:.9em; }}
</style>
</head>
<body>
<header><h1>{esc(clinic["name"])}</h1><p>{contact}</p></header>
<main>
<h2>Treatment packages</h2>
<div class="grid">{packages_html}</div>
<h2>Memberships</h2>
<div class="grid">{tiers_html}</div>
</main>
<footer>Payments are taken securely by bank through GoCardless. Prices include VAT.</footer>
</body>
</html>
"""


def _write(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
