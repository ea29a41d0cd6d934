from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from subsidy.policy.money import CENT, floor_to_fen, from_fen, parse_money_text, split_shares, to_fen, to_money


def test_cent_is_one_fen() -> None:
    assert CENT == Decimal("0.01")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1000", "1000.00"),
        ("999.9", "999.90"),
        ("999.99", "999.99"),
        (" 12.30 ", "12.30"),
        ("10.500", "10.50"),  # trailing zeros need no rounding
        ("1E3", "1000.00"),
        (0, "0.00"),
        (1500, "1500.00"),
        (Decimal("0.01"), "0.01"),
        ("-0", "0.00"),
        ("-5.25", "-5.25"),
    ],
)
def test_to_money_is_exact_with_two_places(value: Decimal | str | int, expected: str) -> None:
    money = to_money(value)
    assert money == Decimal(expected)
    assert str(money) == expected


@pytest.mark.parametrize(
    "value",
    [
        "1.005",
        "0.001",
        Decimal("999.999"),
        "NaN",
        "nan",
        "Infinity",
        "-inf",
        Decimal("sNaN"),
        "abc",
        "",
        "1,000",
    ],
)
def test_to_money_refuses_what_it_would_have_to_round_or_cannot_read(value: Decimal | str) -> None:
    with pytest.raises(ValueError):
        to_money(value)


@pytest.mark.parametrize("value", [1.5, True, None])
def test_to_money_refuses_float_bool_and_none(value: object) -> None:
    with pytest.raises(ValueError):
        to_money(value)  # type: ignore[arg-type]


def test_to_money_refuses_an_absurdly_large_amount() -> None:
    with pytest.raises(ValueError):
        to_money("1E100")


@pytest.mark.parametrize(
    ("amount", "city", "county"),
    [
        ("999.99", "499.99", "500.00"),
        ("1000.00", "500.00", "500.00"),
        ("0.01", "0.00", "0.01"),
        ("0.00", "0.00", "0.00"),
        ("36000.00", "18000.00", "18000.00"),
        ("482.75", "241.37", "241.38"),
    ],
)
def test_split_shares_rounds_the_city_down_and_gives_the_county_the_rest(amount: str, city: str, county: str) -> None:
    assert split_shares(Decimal(amount)) == (Decimal(city), Decimal(county))


def test_split_shares_with_another_fraction() -> None:
    assert split_shares(Decimal("100.00"), Decimal("0.3")) == (Decimal("30.00"), Decimal("70.00"))
    assert split_shares(Decimal("0.05"), Decimal("1")) == (Decimal("0.05"), Decimal("0.00"))
    assert split_shares(Decimal("0.05"), Decimal("0")) == (Decimal("0.00"), Decimal("0.05"))


def test_split_shares_of_a_reversal_mirrors_the_original() -> None:
    assert split_shares(Decimal("-999.99")) == (Decimal("-499.99"), Decimal("-500.00"))
    city, _ = split_shares(Decimal("-0.01"))
    assert str(city) == "0.00"  # never "-0.00" on a ledger


@pytest.mark.parametrize("fraction", [Decimal("-0.1"), Decimal("1.01"), Decimal("NaN")])
def test_split_shares_refuses_a_fraction_outside_zero_to_one(fraction: Decimal) -> None:
    with pytest.raises(ValueError):
        split_shares(Decimal("10.00"), fraction)


def test_split_shares_refuses_an_amount_with_fractions_of_a_fen() -> None:
    with pytest.raises(ValueError):
        split_shares(Decimal("10.005"))


@given(st.decimals(min_value=Decimal("0.00"), max_value=Decimal("99999.99"), places=2))
def test_shares_always_add_up_and_the_county_takes_the_odd_fen(amount: Decimal) -> None:
    city, county = split_shares(amount)
    assert city + county == amount
    assert city >= 0
    assert county >= 0
    assert city <= county
    assert county - city <= CENT
    assert city.as_tuple().exponent == -2
    assert county.as_tuple().exponent == -2


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1.239", "1.23"),
        ("1.2", "1.20"),
        ("482.758620", "482.75"),
        ("-1.231", "-1.24"),
        ("-0.001", "-0.01"),
        ("0.009", "0.00"),
    ],
)
def test_floor_to_fen_never_rounds_up(value: str, expected: str) -> None:
    assert str(floor_to_fen(Decimal(value))) == expected


def test_floor_to_fen_refuses_nan() -> None:
    with pytest.raises(ValueError):
        floor_to_fen(Decimal("NaN"))


def test_fen_conversions_are_exact() -> None:
    assert to_fen(Decimal("1000.00")) == 100000
    assert to_fen(Decimal("0.01")) == 1
    assert from_fen(100000) == Decimal("1000.00")
    assert str(from_fen(1)) == "0.01"
    assert str(from_fen(0)) == "0.00"


# --- amounts as typed in forms and decisions ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1000", "1000.00"),
        ("1000.5", "1000.50"),
        (" 999.99 ", "999.99"),
        ("１２００．００", "1200.00"),  # full-width digits and point, as Chinese input methods type them
        ("１２００.5", "1200.50"),
        ("9999999.99", "9999999.99"),  # 7 digits: the largest amount
        ("0.01", "0.01"),
    ],
)
def test_money_text_of_ascii_or_full_width_digits(text: str, expected: str) -> None:
    assert parse_money_text(text) == Decimal(expected)
    assert str(parse_money_text(text)) == expected


@pytest.mark.parametrize(
    "text",
    [
        "1e3",  # Decimal reads an exponent: 1000.00
        "1E3",
        "٣٠٠٠",  # Arabic-Indic digits: Decimal reads 3000
        "۳۰۰۰",  # Extended Arabic-Indic
        "३०००",  # Devanagari
        "1,200.00",
        "+1200",
        "-1200",
        "10000000",  # 8 digits
        "1200.001",
        "1200.",
        ".5",
        "Infinity",
        "NaN",
        "",
        "1 200",
    ],
)
def test_money_text_refuses_what_no_lease_or_invoice_says(text: str) -> None:
    with pytest.raises(ValueError):
        parse_money_text(text)
