"""The PySide6 front desk: thin widgets over services (DESIGN.md §6)."""
