"""Refunding a package's unused sessions (DESIGN.md §3 "Packages"): the sessions closed at package value
(``price × unused ÷ total``, never the list price) and the money-out document that gives them back — a refund of
the package's line on the sale that sold it, or, for a package that came with no sale (brought over from
another system), a refund document of its own."""

from __future__ import annotations

from sqlalchemy import select

from aestheticc_pos.domain import refunds as rules
from aestheticc_pos.domain.catalogue import ItemKind
from aestheticc_pos.domain.checkout import Tender, TenderKind
from aestheticc_pos.domain.errors import InvalidInput, NotFound
from aestheticc_pos.domain.refunds import DocumentKind, RefundMethod
from aestheticc_pos.domain.staff import Action
from aestheticc_pos.services import inputs
from aestheticc_pos.services import refund_effects as effects
from aestheticc_pos.services.authority import use_case
from aestheticc_pos.services.close_of_day import require_today_open_in
from aestheticc_pos.services.context import Services, read_clinic_settings
from aestheticc_pos.services.packages import PackageRefund, lock_client_packages
from aestheticc_pos.services.refunds import refund_method, refund_sale
from aestheticc_pos.store.audit_repo import append_audit
from aestheticc_pos.store.tables import ClientPackageRow, SaleLineRow, SaleRow, TenderRow
from aestheticc_pos.store.takings_summary import add_written_to_takings_in
from aestheticc_pos.store.unit_of_work import UnitOfWork


@use_case(Action.REFUND)
def refund_unused_sessions(
    services: Services,
    *,
    client_package_id: str,
    reason: str,
    staff_id: str,
    method: RefundMethod | str = RefundMethod.CASH,
) -> PackageRefund:
    """Close a package's unused sessions and give back their package value (``price × unused ÷ total``, never
    the list price), with a refund document: against the sale that sold it when there is one. Refused while a
    session is still booked. Audited."""
    method = refund_method(method)
    reason = inputs.text(reason, what="A reason for the refund")
    with services.uow(read_only=True) as uow:
        row = uow.session.get(ClientPackageRow, client_package_id)
        if row is None:
            raise NotFound("That client package does not exist.")
        sold_by = row.sale_id
        line = _package_line(uow, row.sale_id, row.package_id) if row.sale_id else None
    if sold_by is None or line is None:
        return _refund_package_alone(services, client_package_id, method, reason, staff_id)
    receipt = refund_sale(
        services, sale_id=sold_by, lines={line: 1}, method=method, reason=reason, staff_id=staff_id
    )
    with services.uow(read_only=True) as uow:
        closed = effects.sessions_refunded(uow.session, client_package_id)
    return PackageRefund(client_package_id, -receipt.net, closed)


def _refund_package_alone(
    services: Services, client_package_id: str, method: RefundMethod, reason: str, staff_id: str
) -> PackageRefund:
    """A package that came with no sale (brought over from another system): the sessions closed and the
    money-out document on its own."""
    if method is RefundMethod.ORIGINAL:
        raise InvalidInput(
            "This package was not sold at this till, so give the money back in cash or by card.",
            field="method",
        )
    with services.uow() as uow:
        s = uow.session
        settings = read_clinic_settings(s)
        now = services.now()
        today = now.astimezone(settings.tz).date()
        row = s.get(ClientPackageRow, client_package_id)
        assert row is not None  # checked by the caller; packages are never deleted
        lock_client_packages(uow, row.client_id)
        require_today_open_in(uow, now, what="the refund")
        value, sessions = effects.refund_unused_in(
            uow, client_package_id, now=now, today=today, staff_id=staff_id, reason=reason
        )
        number = uow.next_number(f"sale:{settings.till_prefix}", settings.till_prefix + "-{n:06d}")
        document_id = services.new_id()
        (tender,) = rules.tenders_back((), value, method) or (Tender(TenderKind.CASH, value),)
        s.add(
            SaleRow(
                id=document_id,
                number=number,
                till_prefix=settings.till_prefix,
                client_id=row.client_id,
                staff_id=staff_id,
                kind=DocumentKind.REFUND.value,
                channel="pos",
                gross_pence=-value.pence,
                discount_pence=0,
                net_pence=-value.pence,
                vat_pence=-value.vat_inside(row.vat_rate_bp).pence,
                currency=value.currency,
                created_at=now,
                reason=reason,
            )
        )
        s.flush()
        s.add(
            SaleLineRow(
                sale_id=document_id,
                position=1,
                kind=ItemKind.PACKAGE.value,
                item_id=row.package_id,
                name=f"{row.name}: unused sessions",
                quantity=1,
                unit_price_pence=value.pence,
                gross_pence=-value.pence,
                discount_pence=0,
                net_pence=-value.pence,
                vat_pence=-value.vat_inside(row.vat_rate_bp).pence,
                vat_rate_bp=row.vat_rate_bp,
                client_package_id=client_package_id,
            )
        )
        if tender.amount:
            s.add(
                TenderRow(
                    sale_id=document_id,
                    kind=tender.kind.value,
                    amount_pence=-tender.amount.pence,
                    currency=tender.amount.currency,
                )
            )
        add_written_to_takings_in(s, document_id, today)
        append_audit(
            s,
            at=now,
            staff_id=staff_id,
            action="sale.refunded",
            record_type="sale",
            record_id=document_id,
            reason=reason,
            details={"number": number, "net_pence": -value.pence, "tenders": tender.kind.value},
        )
        uow.commit()
    return PackageRefund(client_package_id, value, sessions)


def _package_line(uow: UnitOfWork, sale_id: str, package_id: str) -> int | None:
    return uow.session.scalar(
        select(SaleLineRow.position).where(
            SaleLineRow.sale_id == sale_id,
            SaleLineRow.kind == ItemKind.PACKAGE.value,
            SaleLineRow.item_id == package_id,
        )
    )
