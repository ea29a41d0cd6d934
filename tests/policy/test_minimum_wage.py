"""The monthly minimum wage as dated data: the standard in force on the day a rule names, by the county's tier."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from subsidy.policy.minimum_wage import (
    MinimumWageStandard,
    minimum_wage_on,
    read_standards,
    shipped_standards,
    standard_to_json,
)

LATER = MinimumWageStandard(
    code="nmg-test-2026",
    region="150000",
    document="a later adjustment (test data)",
    valid_from=date(2026, 7, 1),
    description="test",
    monthly_by_tier={1: Decimal("2100.00"), 2: Decimal("2030.00")},
    county_tiers={"150203": 1, "150222": 2},
)


def test_the_shipped_standard_gives_baotou_its_tiers() -> None:
    standards = shipped_standards()
    kundulun = minimum_wage_on(standards, "150203", date(2025, 12, 31))
    guyang = minimum_wage_on(standards, "150222", date(2025, 12, 31))
    assert kundulun is not None and guyang is not None
    assert (kundulun.tier, kundulun.monthly, kundulun.standard) == (1, Decimal("1980.00"), "nmg-2021")
    assert (guyang.tier, guyang.monthly) == (2, Decimal("1910.00"))
    assert "ASSUMPTION" in standards[0].description  # 稀土高新区's tier and the date are assumptions, said so


def test_a_day_before_every_standard_or_an_unnamed_county_has_none() -> None:
    standards = shipped_standards()
    assert minimum_wage_on(standards, "150203", date(2021, 11, 30)) is None
    assert minimum_wage_on(standards, "150203", date(2021, 12, 1)) is not None
    assert minimum_wage_on(standards, "110101", date(2025, 1, 1)) is None


def test_a_later_standard_applies_from_its_first_day() -> None:
    standards = (*shipped_standards(), LATER)
    before = minimum_wage_on(standards, "150203", date(2026, 6, 30))
    on = minimum_wage_on(standards, "150203", date(2026, 7, 1))
    assert before is not None and before.monthly == Decimal("1980.00")
    assert on is not None and (on.monthly, on.standard) == (Decimal("2100.00"), "nmg-test-2026")
    # A county the later standard does not name keeps the standard that does.
    other = minimum_wage_on(standards, "150221", date(2026, 7, 1))
    assert other is not None and other.standard == "nmg-2021"


def test_a_standard_round_trips_through_its_file_form() -> None:
    import yaml

    text = yaml.safe_dump({"standards": [standard_to_json(LATER)]}, allow_unicode=True)
    assert read_standards(text) == (LATER,)


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"monthly_by_tier": {1: 1980.0}}, "quoted text"),
        ({"county_tiers": {"150203": 3}}, "tier 3"),
        ({"county_tiers": {"15020": 1}}, "six-digit"),
        ({"document": " "}, "document"),
        ({"extra": 1}, "unknown keys"),
        ({"monthly_by_tier": {1: "0.00"}}, "above zero"),
    ],
)
def test_a_bad_standard_is_refused_naming_what_is_wrong(change: dict[str, object], problem: str) -> None:
    import yaml

    data = {**standard_to_json(LATER), **change}
    with pytest.raises(ValueError, match=problem):
        read_standards(yaml.safe_dump({"standards": [data]}))
