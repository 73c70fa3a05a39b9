"""Use cases: one function per thing a person at the clinic does (DESIGN.md §1).

Each opens a unit of work, loads what it needs, calls the domain, writes (with any GoCardless work queued in
the outbox in the same transaction) and returns plain values. Bad input raises a ``DomainError`` sentence.
"""
