"""The clinic's rules as plain Python: no Qt, no SQLAlchemy, no network (DESIGN.md §1)."""
