"""The clients whose sessions expire soon, on the liability page: their table, and the reminder written for
each, the text to copy and the same as an email (``services.email`` kind ``reminder``) with an SMS-ready line,
for the email dialog."""

from __future__ import annotations

from aestheticc_pos.services import report_packages
from aestheticc_pos.services.context import ClinicSettings
from aestheticc_pos.services.report_packages import ClientWithExpiringSessions, ExpiringSessions
from aestheticc_pos.ui import format as fmt
from aestheticc_pos.ui.client_messages import ClientMessage
from aestheticc_pos.ui.report_export import ReportTable


def reminder_text(client: ClientWithExpiringSessions, clinic_name: str, clinic_phone: str) -> str:
    """What the clinic would send the client: each package, its sessions left and the last day to use them."""
    lines = [f"Dear {client.first_name},", ""]
    for p in client.packages:
        lines.append(
            f"You still have {_sessions(p.unbooked)} of your {p.name} to use by {fmt.long_date(p.expires_on)}."
        )
    contact = f" on {clinic_phone}" if clinic_phone else ""
    lines += ["", f"Reply to this message or call us{contact} to book, so none of them goes to waste.", ""]
    lines.append(f"With best wishes,\n{clinic_name or 'The clinic'}")
    return "\n".join(lines)


def reminder_message(client: ClientWithExpiringSessions, settings: ClinicSettings) -> ClientMessage:
    """The reminder as an email (kept with the client's id, so the dialog lists the reminders sent before)."""
    clinic = settings.name or "the clinic"
    first = min(client.packages, key=lambda p: p.expires_on)
    more = " (and more)" if len(client.packages) > 1 else ""
    call = f" Call {settings.phone} to book." if settings.phone else " Reply to book."
    return ClientMessage(
        "reminder",
        client.client_id,
        f"Your sessions at {clinic}: use them by {fmt.long_date(first.expires_on)}",
        reminder_text(client, settings.name, settings.phone),
        f"{clinic}: {_sessions(first.unbooked)} of your {first.name}{more} to use by "
        f"{fmt.date(first.expires_on)}.{call}",
    )


def _sessions(count: int) -> str:
    return f"{count} session{'s' if count != 1 else ''}"


def expiring_table(e: ExpiringSessions) -> ReportTable:
    return ReportTable(
        "Sessions expiring soon",
        ("Client", "Email", "Package", "Sessions left", "Booked", "Expires", "Value"),
        tuple(
            (
                c.name,
                c.email or "",
                ", ".join(p.name for p in c.packages),
                sum(p.unbooked for p in c.packages),
                sum(p.booked for p in c.packages),
                min(p.expires_on for p in c.packages),
                e.money(sum(p.value.pence for p in c.packages)),
            )
            for c in e.clients
        ),
        frozenset({3, 4, 6}),
        f"Sessions not booked yet, in packages expiring within {e.within_days} days."
        + (
            f" Only the clients of the {report_packages.EXPIRING_SHOWN} soonest expiries are listed here;"
            " CSV…, PDF… and Print… have every client."
            if e.more
            else ""
        ),
        stretch=2,  # the package: the client and the email read whole
    )
