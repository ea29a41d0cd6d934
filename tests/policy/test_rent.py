import dataclasses
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from subsidy.policy.versions import BAOTOU_2023, BAOTOU_2025, RentSubsidyParams
from subsidy.programs.rent_subsidy.rules import (
    ALREADY_HAS_ACTIVE_RENT_SUBSIDY,
    BLIND_MASSAGE_EXCLUDED,
    LEASE_OUTSIDE_SUBSIDY_PERIOD,
    MORE_THAN_THREE_YEARS_SINCE_START,
    OPERATED_LESS_THAN_ONE_YEAR,
    OUTSIDE_POLICY_WINDOW,
    RENT_MONTHS_EXHAUSTED,
    WRONG_COUNTY,
    RentFacts,
    SubsidyMonth,
    add_months,
    monthly_subsidy,
    months_ended_by,
    rent_eligibility,
    rent_schedule,
)

PARAMS = BAOTOU_2025.rent
ONE_DAY = timedelta(days=1)

# A shop in Kundulun District: licensed 2024-03-01, started the same day, a lease covering its first
# three years, applied for in spring 2025 when the 2025 version is in force.
SHOP = RentFacts(
    hukou_county="150203",
    applied_to_county="150203",
    business_type="general",
    license_date=date(2024, 3, 1),
    started_on=date(2024, 3, 1),
    lease_start=date(2024, 3, 1),
    lease_end=date(2027, 2, 28),
    monthly_rent=Decimal("1200.00"),
)
APPLIED_ON = date(2025, 4, 15)


def test_reason_codes_are_the_glossary_codes() -> None:
    assert OPERATED_LESS_THAN_ONE_YEAR == "operated_less_than_one_year"
    assert MORE_THAN_THREE_YEARS_SINCE_START == "more_than_three_years_since_start"
    assert BLIND_MASSAGE_EXCLUDED == "blind_massage_excluded"
    assert WRONG_COUNTY == "wrong_county"
    assert OUTSIDE_POLICY_WINDOW == "outside_policy_window"
    assert ALREADY_HAS_ACTIVE_RENT_SUBSIDY == "already_has_active_rent_subsidy"
    assert LEASE_OUTSIDE_SUBSIDY_PERIOD == "lease_outside_subsidy_period"
    assert RENT_MONTHS_EXHAUSTED == "rent_months_exhausted"


# --- calendar months ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("anchor", "months", "expected"),
    [
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2023, 1, 31), 1, date(2023, 2, 28)),
        (date(2024, 1, 31), 2, date(2024, 3, 31)),  # from the anchor, not from 02-29
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
        (date(2024, 2, 29), 48, date(2028, 2, 29)),
        (date(2024, 3, 15), 36, date(2027, 3, 15)),
        (date(2024, 12, 31), 1, date(2025, 1, 31)),
        (date(2024, 3, 31), -1, date(2024, 2, 29)),
        (date(2024, 1, 15), -13, date(2022, 12, 15)),
        (date(2024, 5, 5), 0, date(2024, 5, 5)),
    ],
)
def test_add_months(anchor: date, months: int, expected: date) -> None:
    assert add_months(anchor, months) == expected


# --- amount ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rent", "subsidy"),
    [
        ("0.01", "0.01"),
        ("999.99", "999.99"),
        ("1000.00", "1000.00"),
        ("1000.01", "1000.00"),
        ("1200.00", "1000.00"),
        ("1000", "1000.00"),
    ],
)
def test_monthly_subsidy_is_the_rent_up_to_the_cap(rent: str, subsidy: str) -> None:
    amount = monthly_subsidy(Decimal(rent), PARAMS)
    assert amount == Decimal(subsidy)
    assert str(amount) == subsidy


def test_monthly_subsidy_refuses_bad_rent() -> None:
    with pytest.raises(ValueError):
        monthly_subsidy(Decimal("-1.00"), PARAMS)
    with pytest.raises(ValueError):
        monthly_subsidy(Decimal("999.999"), PARAMS)


# --- eligibility -------------------------------------------------------------------------------------------


def test_the_shop_is_eligible() -> None:
    assert rent_eligibility(SHOP, BAOTOU_2025, APPLIED_ON) == []


def test_no_version_in_force() -> None:
    assert rent_eligibility(SHOP, None, APPLIED_ON) == [OUTSIDE_POLICY_WINDOW]


def test_a_version_not_in_force_on_the_application_date_stands_alone() -> None:
    blind_massage_in_another_county = dataclasses.replace(
        SHOP, business_type="blind_massage", applied_to_county="150204"
    )
    assert rent_eligibility(blind_massage_in_another_county, BAOTOU_2023, APPLIED_ON) == [OUTSIDE_POLICY_WINDOW]


def test_one_year_of_operation_counts_from_the_licence_date() -> None:
    anniversary = date(2025, 3, 1)
    assert rent_eligibility(SHOP, BAOTOU_2025, anniversary) == []
    assert rent_eligibility(SHOP, BAOTOU_2025, anniversary - ONE_DAY) == [OPERATED_LESS_THAN_ONE_YEAR]


def test_one_year_of_operation_from_a_leap_day_licence() -> None:
    facts = dataclasses.replace(SHOP, license_date=date(2024, 2, 29), started_on=date(2024, 2, 29))
    assert rent_eligibility(facts, BAOTOU_2025, date(2025, 2, 28)) == []
    assert rent_eligibility(facts, BAOTOU_2025, date(2025, 2, 27)) == [OPERATED_LESS_THAN_ONE_YEAR]


def test_application_within_three_years_of_starting() -> None:
    facts = dataclasses.replace(SHOP, started_on=date(2022, 5, 10), license_date=date(2022, 6, 1))
    third_anniversary = date(2025, 5, 10)
    assert rent_eligibility(facts, BAOTOU_2025, third_anniversary) == []
    assert rent_eligibility(facts, BAOTOU_2025, third_anniversary + ONE_DAY) == [MORE_THAN_THREE_YEARS_SINCE_START]


def test_blind_massage_shops_are_excluded() -> None:
    facts = dataclasses.replace(SHOP, business_type="blind_massage")
    assert rent_eligibility(facts, BAOTOU_2025, APPLIED_ON) == [BLIND_MASSAGE_EXCLUDED]


def test_the_application_goes_to_the_household_registration_county() -> None:
    elsewhere = dataclasses.replace(SHOP, applied_to_county="150204")
    assert rent_eligibility(elsewhere, BAOTOU_2025, APPLIED_ON) == [WRONG_COUNTY]
    from_another_city = dataclasses.replace(SHOP, hukou_county="150102", applied_to_county="150102")
    assert rent_eligibility(from_another_city, BAOTOU_2025, APPLIED_ON) == [WRONG_COUNTY]
    high_tech_zone = dataclasses.replace(SHOP, hukou_county="150271", applied_to_county="150271")
    assert rent_eligibility(high_tech_zone, BAOTOU_2025, APPLIED_ON) == []


def test_a_lease_that_misses_the_first_36_months() -> None:
    before = dataclasses.replace(SHOP, lease_start=date(2023, 1, 1), lease_end=date(2024, 2, 29))
    assert rent_eligibility(before, BAOTOU_2025, APPLIED_ON) == [LEASE_OUTSIDE_SUBSIDY_PERIOD]
    after = dataclasses.replace(SHOP, lease_start=date(2027, 3, 1), lease_end=date(2028, 2, 29))
    assert rent_eligibility(after, BAOTOU_2025, APPLIED_ON) == [LEASE_OUTSIDE_SUBSIDY_PERIOD]
    last_day_only = dataclasses.replace(SHOP, lease_start=date(2027, 2, 28), lease_end=date(2028, 2, 29))
    assert rent_eligibility(last_day_only, BAOTOU_2025, APPLIED_ON) == []
    first_day_only = dataclasses.replace(SHOP, lease_start=date(2023, 1, 1), lease_end=date(2024, 3, 1))
    assert rent_eligibility(first_day_only, BAOTOU_2025, APPLIED_ON) == []


def test_all_reasons_are_given_in_a_stable_order() -> None:
    facts = dataclasses.replace(
        SHOP,
        business_type="blind_massage",
        applied_to_county="150204",
        license_date=date(2025, 1, 1),
        started_on=date(2021, 1, 1),
        lease_start=date(2020, 1, 1),
        lease_end=date(2020, 12, 31),
    )
    assert rent_eligibility(facts, BAOTOU_2025, APPLIED_ON) == [
        OPERATED_LESS_THAN_ONE_YEAR,
        MORE_THAN_THREE_YEARS_SINCE_START,
        BLIND_MASSAGE_EXCLUDED,
        WRONG_COUNTY,
        LEASE_OUTSIDE_SUBSIDY_PERIOD,
    ]


def test_malformed_facts_are_refused() -> None:
    with pytest.raises(ValueError):
        dataclasses.replace(SHOP, lease_end=date(2024, 2, 29))
    with pytest.raises(ValueError):
        dataclasses.replace(SHOP, monthly_rent=Decimal("0.00"))
    with pytest.raises(ValueError):
        dataclasses.replace(SHOP, monthly_rent=Decimal("1200.005"))
    assert dataclasses.replace(SHOP, monthly_rent=Decimal("1200")).monthly_rent == Decimal("1200.00")


# --- schedule ----------------------------------------------------------------------------------------------


def test_a_full_36_month_lease_pays_36_capped_months() -> None:
    schedule = rent_schedule(SHOP, PARAMS)
    assert len(schedule) == 36
    assert schedule[0] == SubsidyMonth(
        period="2024-03",
        start=date(2024, 3, 1),
        end=date(2024, 4, 1),
        amount=Decimal("1000.00"),
        city_share=Decimal("500.00"),
        county_share=Decimal("500.00"),
    )
    assert schedule[-1].period == "2027-02"
    assert schedule[-1].end == date(2027, 3, 1)
    assert all(month.amount == Decimal("1000.00") for month in schedule)
    assert sum(month.amount for month in schedule) == Decimal("36000.00")
    assert sum(month.city_share for month in schedule) == Decimal("18000.00")
    assert sum(month.county_share for month in schedule) == Decimal("18000.00")


def test_a_longer_lease_still_pays_only_the_first_36_months() -> None:
    facts = dataclasses.replace(SHOP, lease_start=date(2023, 1, 1), lease_end=date(2030, 12, 31))
    schedule = rent_schedule(facts, PARAMS)
    assert len(schedule) == 36
    assert (schedule[0].start, schedule[-1].end) == (date(2024, 3, 1), date(2027, 3, 1))


def test_months_follow_the_licence_date_not_the_calendar_month() -> None:
    facts = dataclasses.replace(
        SHOP, license_date=date(2024, 1, 31), lease_start=date(2024, 1, 31), lease_end=date(2027, 1, 30)
    )
    schedule = rent_schedule(facts, PARAMS)
    assert [(m.start, m.end) for m in schedule[:3]] == [
        (date(2024, 1, 31), date(2024, 2, 29)),
        (date(2024, 2, 29), date(2024, 3, 31)),
        (date(2024, 3, 31), date(2024, 4, 30)),
    ]
    assert len(schedule) == 36
    assert all(m.amount == Decimal("1000.00") for m in schedule)


def test_a_lease_ending_mid_schedule_cuts_it() -> None:
    facts = dataclasses.replace(SHOP, lease_end=date(2025, 2, 28))  # exactly 12 months
    schedule = rent_schedule(facts, PARAMS)
    assert len(schedule) == 12
    assert schedule[-1].period == "2025-02"
    assert schedule[-1].amount == Decimal("1000.00")


def test_a_lease_ending_mid_month_pays_the_last_month_pro_rata() -> None:
    facts = dataclasses.replace(SHOP, lease_end=date(2025, 3, 10))  # 10 of March's 31 days
    schedule = rent_schedule(facts, PARAMS)
    assert len(schedule) == 13
    # 1000.00 x 10 / 31 = 322.580... -> 322.58
    assert schedule[-1].amount == Decimal("322.58")
    assert (schedule[-1].city_share, schedule[-1].county_share) == (Decimal("161.29"), Decimal("161.29"))


def test_a_lease_starting_mid_month_gives_a_pro_rata_first_month() -> None:
    facts = dataclasses.replace(SHOP, lease_start=date(2024, 3, 16))  # 16 of March's 31 days
    schedule = rent_schedule(facts, PARAMS)
    assert len(schedule) == 36
    # 1000.00 x 16 / 31 = 516.129... -> 516.12, rounded down
    assert schedule[0].amount == Decimal("516.12")
    assert (schedule[0].city_share, schedule[0].county_share) == (Decimal("258.06"), Decimal("258.06"))
    assert all(m.amount == Decimal("1000.00") for m in schedule[1:])


def test_pro_rata_of_a_rent_below_the_cap() -> None:
    facts = dataclasses.replace(SHOP, lease_start=date(2024, 3, 16), monthly_rent=Decimal("999.99"))
    schedule = rent_schedule(facts, PARAMS)
    # 999.99 x 16 / 31 = 516.124... -> 516.12
    assert schedule[0].amount == Decimal("516.12")
    assert schedule[1].amount == Decimal("999.99")
    assert (schedule[1].city_share, schedule[1].county_share) == (Decimal("499.99"), Decimal("500.00"))


def test_without_pro_rata_a_partly_covered_month_is_paid_in_full() -> None:
    params = dataclasses.replace(PARAMS, pro_rata_partial_months=False)
    facts = dataclasses.replace(SHOP, lease_start=date(2024, 3, 16), lease_end=date(2025, 3, 10))
    schedule = rent_schedule(facts, params)
    assert len(schedule) == 13
    assert all(m.amount == Decimal("1000.00") for m in schedule)


def test_a_month_whose_pro_rata_amount_is_zero_is_left_out() -> None:
    # 0.10 x 1 / 31 rounds down to 0.00: nothing to pay, no month of the allowance used.
    facts = dataclasses.replace(SHOP, lease_start=date(2024, 3, 31), monthly_rent=Decimal("0.10"))
    schedule = rent_schedule(facts, PARAMS)
    assert schedule[0].period == "2024-04"
    assert len(schedule) == 35


@pytest.mark.parametrize(("used", "left"), [(0, 36), (1, 35), (30, 6), (35, 1), (36, 0), (40, 0)])
def test_months_already_used_shorten_the_schedule_from_its_end(used: int, left: int) -> None:
    schedule = rent_schedule(SHOP, PARAMS, months_already_used=used)
    assert len(schedule) == left
    if schedule:
        assert schedule[0].period == "2024-03"


def test_months_already_used_cannot_be_negative() -> None:
    with pytest.raises(ValueError):
        rent_schedule(SHOP, PARAMS, months_already_used=-1)


def test_months_ended_by_uses_the_exclusive_end() -> None:
    schedule = rent_schedule(SHOP, PARAMS)
    assert months_ended_by(schedule, date(2024, 3, 31)) == []
    assert [m.period for m in months_ended_by(schedule, date(2024, 4, 1))] == ["2024-03"]
    # Approval on 2025-04-15: the 13 months from March 2024 to March 2025 are paid in arrears.
    ended = months_ended_by(schedule, APPLIED_ON)
    assert len(ended) == 13
    assert ended[-1].period == "2025-03"
    assert months_ended_by(schedule, date(2030, 1, 1)) == schedule


# --- properties ---------------------------------------------------------------------------------------------


@st.composite
def rent_cases(draw: st.DrawFn) -> tuple[RentFacts, RentSubsidyParams, int]:
    license_date = draw(st.dates(min_value=date(2015, 1, 1), max_value=date(2035, 12, 31)))
    lease_start = license_date + timedelta(days=draw(st.integers(min_value=-800, max_value=1200)))
    lease_end = lease_start + timedelta(days=draw(st.integers(min_value=0, max_value=1600)))
    rent = draw(st.decimals(min_value=Decimal("0.01"), max_value=Decimal("20000.00"), places=2))
    facts = dataclasses.replace(
        SHOP,
        license_date=license_date,
        started_on=license_date,
        lease_start=lease_start,
        lease_end=lease_end,
        monthly_rent=rent,
    )
    params = dataclasses.replace(PARAMS, pro_rata_partial_months=draw(st.booleans()))
    return facts, params, draw(st.integers(min_value=0, max_value=45))


@given(rent_cases())
def test_schedule_properties(case: tuple[RentFacts, RentSubsidyParams, int]) -> None:
    facts, params, used = case
    schedule = rent_schedule(facts, params, months_already_used=used)
    assert len(schedule) <= max(36 - used, 0)
    periods = [month.period for month in schedule]
    assert periods == sorted(set(periods))
    for month in schedule:
        assert Decimal("0.00") < month.amount <= Decimal("1000.00")
        assert month.amount <= facts.monthly_rent
        assert month.city_share + month.county_share == month.amount
        assert month.start < month.end
        assert month.start < facts.lease_end + ONE_DAY and facts.lease_start < month.end
        assert facts.license_date <= month.start and month.end <= add_months(facts.license_date, 36)
    for earlier, later in zip(schedule, schedule[1:], strict=False):
        assert earlier.end <= later.start
