"""Money in minor units, percentages in basis points, half-up rounding (DESIGN.md §2).

A ``Money`` is an integer number of pence plus an ISO currency code. Floats never touch it: typed amounts
are parsed with ``Decimal`` and every percentage is rounded half up to the penny exactly once.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from aestheticc_pos.domain.errors import InvalidInput

BASIS_POINTS = 10_000  # 100% in basis points
STANDARD_VAT_BP = 2_000  # 20%
MAX_PENCE = 10**11  # a billion pounds: anything larger is a typing mistake, not a price


def round_half_up_div(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` rounded half up (away from zero on .5) with integers only."""
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    sign = -1 if numerator < 0 else 1
    q, r = divmod(abs(numerator), denominator)
    if 2 * r >= denominator:
        q += 1
    return sign * q


@dataclass(frozen=True, order=False, slots=True)
class Money:
    """An amount of money: ``pence`` minor units of ``currency``. Immutable and hashable."""

    pence: int
    currency: str = "GBP"

    def __post_init__(self) -> None:
        if isinstance(self.pence, bool) or not isinstance(self.pence, int):
            raise TypeError(f"Money needs an integer number of minor units, not {self.pence!r}")
        if len(self.currency) != 3 or not self.currency.isupper():
            raise ValueError(f"not an ISO currency code: {self.currency!r}")

    @classmethod
    def zero(cls, currency: str = "GBP") -> Money:
        return cls(0, currency)

    @classmethod
    def parse(
        cls, text: str | int | Decimal, currency: str = "GBP", *, allow_negative: bool = False
    ) -> Money:
        """Read an amount typed in pounds ("12.5", "£1,234.56", " 3 ") into Money.

        Raises ``InvalidInput`` with a sentence for anything that is not a plain amount with at most two
        decimals: "abc", "1.234", "", "NaN", a negative amount (unless allowed) or an absurdly large one.
        """
        raw = str(text).strip().replace(",", "").replace("£", "").replace("€", "").strip()
        try:
            value = Decimal(raw)
        except InvalidOperation:
            raise InvalidInput(f"“{text}” is not an amount of money. Type it like 12.50.") from None
        if not value.is_finite():
            raise InvalidInput(f"“{text}” is not an amount of money. Type it like 12.50.")
        if value.as_tuple().exponent < -2:  # type: ignore[operator]
            raise InvalidInput(f"“{text}” has more than two decimal places. Type it like 12.50.")
        if value < 0 and not allow_negative:
            raise InvalidInput(f"An amount cannot be negative (you typed “{text}”).")
        # The order matters: an exponent like 1e999999 would overflow the multiplication.
        if value.adjusted() >= 12 or abs(value) * 100 >= MAX_PENCE:
            raise InvalidInput(f"“{text}” is too large to be a price.")
        return cls(int(value * 100), currency)

    def _same(self, other: Money) -> None:
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise ValueError(f"cannot combine {self.currency} with {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.pence + other.pence, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.pence - other.pence, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.pence, self.currency)

    def __mul__(self, factor: int) -> Money:
        if isinstance(factor, bool) or not isinstance(factor, int):
            raise TypeError("Money can only be multiplied by a whole number; use percent() for rates")
        return Money(self.pence * factor, self.currency)

    __rmul__ = __mul__

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.pence < other.pence

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.pence <= other.pence

    def __gt__(self, other: Money) -> bool:
        self._same(other)
        return self.pence > other.pence

    def __ge__(self, other: Money) -> bool:
        self._same(other)
        return self.pence >= other.pence

    def __bool__(self) -> bool:
        return self.pence != 0

    @property
    def is_negative(self) -> bool:
        return self.pence < 0

    def percent(self, basis_points: int) -> Money:
        """This amount times ``basis_points``/10000, rounded half up to the penny (once)."""
        check_basis_points(basis_points)
        return Money(round_half_up_div(self.pence * basis_points, BASIS_POINTS), self.currency)

    def fraction(self, numerator: int, denominator: int) -> Money:
        """This amount times ``numerator/denominator``, rounded half up (pro-rata refunds)."""
        return Money(round_half_up_div(self.pence * numerator, denominator), self.currency)

    def vat_inside(self, vat_rate_bp: int) -> Money:
        """The VAT contained in this VAT-inclusive amount: ``round_half_up(gross * rate / (1 + rate))``."""
        check_basis_points(vat_rate_bp)
        return Money(round_half_up_div(self.pence * vat_rate_bp, BASIS_POINTS + vat_rate_bp), self.currency)

    def min(self, other: Money) -> Money:
        return self if self <= other else other

    def max(self, other: Money) -> Money:
        return self if self >= other else other

    def __str__(self) -> str:  # for logs and debugging; the UI formats money itself (ui/format.py)
        sign = "-" if self.pence < 0 else ""
        whole, part = divmod(abs(self.pence), 100)
        return f"{sign}{whole}.{part:02d} {self.currency}"


def sum_money(amounts: list[Money] | tuple[Money, ...], currency: str = "GBP") -> Money:
    """The sum of ``amounts`` (zero of ``currency`` when empty)."""
    total = Money.zero(currency)
    for amount in amounts:
        total = total + amount
    return total


def check_basis_points(value: int, *, what: str = "A percentage") -> int:
    """Accept 0..10000 basis points (0%..100%); anything else is an ``InvalidInput``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"{what} must be a whole number of basis points.")
    if not 0 <= value <= BASIS_POINTS:
        raise InvalidInput(f"{what} must be between 0% and 100%.")
    return value


def parse_percent(text: str, *, what: str = "A percentage") -> int:
    """Read "20", "20%" or "12.5" into basis points (2000, 2000, 1250)."""
    raw = str(text).strip().rstrip("%").strip()
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise InvalidInput(f"“{text}” is not a percentage. Type it like 20 or 12.5.") from None
    if not value.is_finite() or value.as_tuple().exponent < -2:  # type: ignore[operator]
        raise InvalidInput(f"“{text}” is not a percentage. Type it like 20 or 12.5.")
    if value.adjusted() > 3:  # far above 100, and read before it can overflow
        return check_basis_points(10_001, what=what)
    return check_basis_points(int(value * 100), what=what)
