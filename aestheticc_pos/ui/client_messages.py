"""What the till says to a client when it sends them something: the email (subject and body) and the same news
as an SMS-ready text, short enough for one or two messages. The UI is the one place that formats money and
dates, so the words are written here and the services only queue them (``services/email.py``)."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from aestheticc_pos.domain.money import Money
from aestheticc_pos.services.context import ClinicSettings
from aestheticc_pos.services.invoice_records import InvoiceDetail
from aestheticc_pos.services.sales import Receipt
from aestheticc_pos.ui import format as fmt
from aestheticc_pos.ui.invoice_pdf import save_invoice_pdf
from aestheticc_pos.ui.receipt import receipt_text


@dataclass(frozen=True, slots=True)
class ClientMessage:
    kind: str  # what services.email.KINDS calls it
    record_id: str | None
    subject: str
    body: str
    sms: str
    attachment_name: str | None = None


def receipt_message(receipt: Receipt, settings: ClinicSettings) -> ClientMessage:
    clinic = _clinic(settings)
    day = fmt.date(receipt.created_at.astimezone(settings.tz).date())
    body = (
        f"{_hello(receipt.client_name)}\n\nThank you for visiting {clinic}. Your receipt {receipt.number} is "
        f"below and attached as a PDF.\n\n{receipt_text(receipt, settings)}\n{_signature(settings)}"
    )
    sms = f"{clinic}: thank you for your visit. Receipt {receipt.number}, {fmt.money(receipt.net)}, {day}."
    return ClientMessage(
        "receipt",
        receipt.sale_id,
        f"Your receipt {receipt.number} from {clinic}",
        body,
        sms,
        f"Receipt {receipt.number}.pdf",
    )


def invoice_message(invoice: InvoiceDetail, settings: ClinicSettings, pay_url: str | None) -> ClientMessage:
    clinic = _clinic(settings)
    number = invoice.number or "(draft)"
    due = f", due {fmt.date(invoice.due_on)}" if invoice.due_on else ""
    pay = f"\n\nYou can pay it online here:\n{pay_url}" if pay_url else ""
    body = (
        f"{_hello(invoice.client_name)}\n\nPlease find attached invoice {number} from {clinic} for "
        f"{fmt.money(invoice.net)}{due}.{pay}\n\n{_signature(settings)}"
    )
    sms = f"{clinic}: invoice {number} for {fmt.money(invoice.net)}{due}." + (
        f" Pay: {pay_url}" if pay_url else ""
    )
    return ClientMessage(
        "invoice", invoice.id, f"Invoice {number} from {clinic}", body, sms, f"Invoice {number}.pdf"
    )


def payment_link_message(
    *,
    record_id: str,
    client_name: str | None,
    description: str,
    amount: Money,
    url: str,
    settings: ClinicSettings,
) -> ClientMessage:
    clinic = _clinic(settings)
    body = (
        f"{_hello(client_name)}\n\nHere is your secure link to pay {fmt.money(amount)} to {clinic} "
        f"for {description}:\n\n{url}\n\nThe payment is made straight from your bank account (GoCardless).\n\n"
        f"{_signature(settings)}"
    )
    sms = f"{clinic}: pay {fmt.money(amount)} for {description} securely here: {url}"
    return ClientMessage("payment_link", record_id, f"Your payment link from {clinic}", body, sms)


def mandate_link_message(
    *,
    record_id: str,
    client_name: str | None,
    tier_name: str,
    monthly: Money,
    url: str,
    settings: ClinicSettings,
) -> ClientMessage:
    clinic = _clinic(settings)
    body = (
        f"{_hello(client_name)}\n\nTo start your {tier_name} membership at {clinic} "
        f"({fmt.money(monthly)} a month), please set up your Direct Debit here:\n\n{url}\n\n"
        "It takes two minutes and is protected by the Direct Debit Guarantee.\n\n"
        f"{_signature(settings)}"
    )
    sms = f"{clinic}: set up the Direct Debit for your {tier_name} membership here: {url}"
    return ClientMessage(
        "mandate_link", record_id, f"Set up your {tier_name} membership Direct Debit", body, sms
    )


def invoice_pdf_bytes(invoice: InvoiceDetail, settings: ClinicSettings) -> bytes | None:
    """The invoice's PDF, to attach (None when it could not be drawn: the email still says what is owed)."""
    with tempfile.TemporaryDirectory() as folder:
        try:
            return save_invoice_pdf(invoice, settings, Path(folder) / "invoice.pdf").read_bytes()
        except OSError:
            return None


def _clinic(settings: ClinicSettings) -> str:
    return settings.name or "the clinic"


def _hello(name: str | None) -> str:
    first = (name or "").split(" ")[0]
    return f"Dear {first}," if first else "Hello,"


def _signature(settings: ClinicSettings) -> str:
    lines = [settings.name or ""]
    if settings.phone:
        lines.append(settings.phone)
    return "\n".join(line for line in lines if line)
