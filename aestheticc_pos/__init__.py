"""Aestheticc POS: the front-desk system of an aesthetic clinic."""

__version__ = "0.1.0"
