"""Money in CNY, exact to the fen (0.01 yuan)."""

from __future__ import annotations

import re
from decimal import ROUND_DOWN, ROUND_FLOOR, Context, Decimal, InvalidOperation

CENT = Decimal("0.01")

# A private context, so that no caller's changes to the thread's decimal context can alter a result.
# The precision is far beyond any amount a subsidy reaches, so multiplication below stays exact.
_EXACT = Context(prec=60, traps=[InvalidOperation])


def to_money(value: Decimal | str | int) -> Decimal:
    """The amount as a Decimal with exactly two places.

    Input that would need rounding is refused rather than rounded: a form that says 10.005 yuan is
    wrong, and silently paying 10.00 or 10.01 would hide it. Trailing zeros beyond the fen
    ("10.500") are accepted because they change nothing.
    """
    if isinstance(value, bool) or not isinstance(value, Decimal | str | int):
        # bool is an int, and float would carry binary fractions: neither is a money value.
        raise ValueError("money must be a Decimal, an integer or decimal text")
    if isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            raise ValueError("money text is not a decimal number") from None
    else:
        number = Decimal(value)
    if not number.is_finite():
        raise ValueError("money must be a finite number")
    try:
        quantized = number.quantize(CENT, context=_EXACT)
    except InvalidOperation:
        raise ValueError("money amount is too large") from None
    if quantized != number:
        raise ValueError("money has more than two decimal places")
    return _without_negative_zero(quantized)


# Amounts as people type them: ASCII or full-width digits (Chinese input methods), an ASCII or full-width decimal
# point and at most two decimals. No sign, exponent ("1e3"), group separator or other scripts' digits ("٣٠٠٠"):
# Decimal() reads all of those, and none is how an amount is written on a lease or an invoice.
MONEY_TEXT_PATTERN = "^[0-9\uff10-\uff19]{1,7}([.\uff0e][0-9\uff10-\uff19]{1,2})?$"
_MONEY_TEXT = re.compile(MONEY_TEXT_PATTERN)
_FULL_WIDTH_DIGITS = {0xFF10 + digit: ord("0") + digit for digit in range(10)} | {0xFF0E: ord(".")}


def parse_money_text(text: str) -> Decimal:
    """An amount typed in a form or a decision (`MONEY_TEXT_PATTERN`, surrounding spaces ignored) as money."""
    stripped = text.strip()
    if not _MONEY_TEXT.fullmatch(stripped):
        raise ValueError("money text is 1 to 7 digits with at most two decimals")
    return to_money(stripped.translate(_FULL_WIDTH_DIGITS))


def floor_to_fen(value: Decimal) -> Decimal:
    """Round towards minus infinity to the fen: a computed share never pays more than it should."""
    if not value.is_finite():
        raise ValueError("money must be a finite number")
    return _without_negative_zero(value.quantize(CENT, rounding=ROUND_FLOOR, context=_EXACT))


def split_shares(amount: Decimal, city_fraction: Decimal = Decimal("0.5")) -> tuple[Decimal, Decimal]:
    """Split an amount between the City DPF and the County DPF: returns (city, county).

    The city's part is rounded down and the county takes the remainder, so the two always add up
    to the amount exactly and an odd fen falls to the county (999.99 -> 499.99 + 500.00).
    """
    money = to_money(amount)
    if not city_fraction.is_finite() or not Decimal(0) <= city_fraction <= Decimal(1):
        raise ValueError("city fraction must be between 0 and 1")
    city = _EXACT.multiply(money, city_fraction).quantize(CENT, rounding=ROUND_DOWN, context=_EXACT)
    county = _EXACT.subtract(money, city)
    return _without_negative_zero(city), _without_negative_zero(county)


def to_fen(value: Decimal) -> int:
    """The amount as a whole number of fen, for arithmetic that must not round (1000.00 -> 100000)."""
    return int(_EXACT.multiply(to_money(value), Decimal(100)))


def from_fen(fen: int) -> Decimal:
    """A whole number of fen as a money amount (100000 -> 1000.00)."""
    return _without_negative_zero(_EXACT.multiply(Decimal(fen), CENT))


def _without_negative_zero(value: Decimal) -> Decimal:
    # "-0.00" equals zero but would be printed on ledgers and in JSON as a negative amount.
    return value.copy_abs() if value.is_zero() else value
