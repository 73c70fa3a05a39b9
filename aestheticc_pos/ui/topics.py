"""What a change touched (DESIGN.md §1, Anki's ``OpChanges``): ``Desk.notify`` carries a set of these names and
every screen refreshes when one it shows is in the set."""

from __future__ import annotations

CLIENTS = "clients"
APPOINTMENTS = "appointments"
SALES = "sales"
PACKAGES = "packages"
MEMBERSHIPS = "memberships"
CATALOGUE = "catalogue"
SETTINGS = "settings"
STAFF = "staff"
SYNC = "sync"
PAYMENTS = "payments"  # invoices and payment links
EMAILS = "emails"  # emails queued to clients
