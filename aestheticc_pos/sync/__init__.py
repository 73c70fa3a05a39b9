"""Synchronisation with GoCardless: outbox, sync engine, gateway and a local API simulator."""
