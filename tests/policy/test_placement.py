"""Program P's pure rules: retirement age under the 2025 reform, the subsidy period, publicity, checks."""

import dataclasses
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from subsidy.policy.versions import BAOTOU_2025, PlacementParams
from subsidy.policy.workdays import CalendarYearUnknown
from subsidy.programs.public_welfare.rules import (
    DECLARATION_YEAR_NOT_OPEN,
    DUPLICATE_DECLARATION,
    EXCLUSIVE_WITH_FLEXIBLE_EMPLOYMENT_INSURANCE,
    NO_FREE_PLACE,
    NO_SUBSIDY_AMOUNT,
    NOT_YET_EXPIRED,
    PLACEMENT_CAP_REACHED,
    POST_NOT_APPROVED,
    RE_PLACEMENT_NEEDS_HARDSHIP,
    REACHED_RETIREMENT_AGE,
    PlacementFacts,
    PlacementHistory,
    declaration_reasons,
    history_reasons,
    only_the_cap,
    placement_reasons,
    placement_schedule,
    publicity_last_day,
    retirement_age_months,
    retirement_category,
    statutory_retirement_date,
    subsidy_period,
)
from subsidy.programs.rent_subsidy.rules import OUTSIDE_POLICY_WINDOW, WRONG_COUNTY, add_months
from tests.calendars import calendar_for_tests

PARAMS = BAOTOU_2025.placement


def age(category: str, born: date) -> tuple[int, int]:
    return divmod(retirement_age_months(PARAMS.retirement_rules[category], born), 12)


# ---- retirement age: the cohort edges of the national reform (from 2025-01-01) ----------------------


@pytest.mark.parametrize(
    ("born", "years_months"),
    [
        (date(1964, 12, 31), (60, 0)),  # the last cohort before the reform
        (date(1965, 1, 1), (60, 1)),  # the first cohort: one month at once
        (date(1965, 4, 30), (60, 1)),
        (date(1965, 5, 1), (60, 2)),  # one month more every four months of birth
        (date(1968, 3, 10), (60, 10)),
        (date(1976, 8, 31), (62, 11)),
        (date(1976, 9, 1), (63, 0)),  # the target is reached
        (date(1990, 1, 1), (63, 0)),  # and never exceeded
    ],
)
def test_men_60_to_63_one_month_every_four_months(born: date, years_months: tuple[int, int]) -> None:
    assert age("male_60", born) == years_months


@pytest.mark.parametrize(
    ("born", "years_months"),
    [
        (date(1969, 12, 31), (55, 0)),
        (date(1970, 1, 1), (55, 1)),
        (date(1970, 4, 30), (55, 1)),
        (date(1970, 5, 1), (55, 2)),
        (date(1981, 8, 31), (57, 11)),
        (date(1981, 9, 1), (58, 0)),
        (date(1995, 6, 1), (58, 0)),
    ],
)
def test_women_55_to_58_one_month_every_four_months(born: date, years_months: tuple[int, int]) -> None:
    assert age("female_55", born) == years_months


@pytest.mark.parametrize(
    ("born", "years_months"),
    [
        (date(1974, 12, 31), (50, 0)),
        (date(1975, 1, 1), (50, 1)),
        (date(1975, 2, 28), (50, 1)),
        (date(1975, 3, 1), (50, 2)),  # one month more every two months of birth
        (date(1984, 10, 31), (54, 11)),
        (date(1984, 11, 1), (55, 0)),
        (date(1999, 1, 1), (55, 0)),
    ],
)
def test_women_50_to_55_one_month_every_two_months(born: date, years_months: tuple[int, int]) -> None:
    assert age("female_50", born) == years_months


def test_retirement_dates_match_the_published_table() -> None:
    # The reform's own examples: a man born in January 1965 retires in February 2025, one born in
    # September 1976 at 63; a woman worker born in November 1984 at 55.
    assert statutory_retirement_date("M", date(1965, 1, 15), None, PARAMS) == date(2025, 2, 15)
    assert statutory_retirement_date("M", date(1976, 9, 1), None, PARAMS) == date(2039, 9, 1)
    assert statutory_retirement_date("F", date(1984, 11, 1), "female_50", PARAMS) == date(2039, 11, 1)
    assert statutory_retirement_date("F", date(1970, 1, 31), "female_55", PARAMS) == date(2025, 2, 28)
    assert statutory_retirement_date("M", date(1964, 12, 31), None, PARAMS) == date(2024, 12, 31)


def test_the_category_of_a_woman_is_an_input_with_a_default() -> None:
    assert retirement_category("M", None, PARAMS) == "male_60"
    assert retirement_category("F", "female_55", PARAMS) == "female_55"
    assert retirement_category("F", None, PARAMS) == "female_50"  # the parameter's default
    women_55 = dataclasses.replace(PARAMS, default_female_retirement_category="female_55")
    assert retirement_category("F", None, women_55) == "female_55"
    with pytest.raises(ValueError):
        retirement_category("M", "female_55", PARAMS)
    with pytest.raises(ValueError):
        retirement_category("F", "male_60", PARAMS)
    with pytest.raises(ValueError):
        retirement_category("X", None, PARAMS)


@given(st.dates(min_value=date(1940, 1, 1), max_value=date(2010, 12, 31)), st.sampled_from(["male_60", "female_55"]))
def test_the_age_never_falls_with_a_later_birth_and_stays_within_baseline_and_target(born: date, category: str) -> None:
    rule = PARAMS.retirement_rules[category]
    months = retirement_age_months(rule, born)
    assert 12 * rule.baseline_years <= months <= 12 * rule.target_years
    assert retirement_age_months(rule, add_months(born, 1)) >= months


# ---- subsidy period ---------------------------------------------------------------------------------


def test_a_person_of_40_gets_three_years() -> None:
    start = date(2026, 3, 10)
    retirement = statutory_retirement_date("M", date(1986, 3, 10), None, PARAMS)
    period = subsidy_period(start, retirement, PARAMS)
    assert (period.end, period.extended_to_retirement) == (date(2029, 3, 10), False)
    months = placement_schedule(period, "150203", PARAMS)
    assert len(months) == 36 and months[0].period == "2026-03" and months[-1].period == "2029-02"


def test_a_man_of_58_is_subsidised_up_to_retirement_instead() -> None:
    # Born March 1968: 60 years and 10 months under the reform, retiring 2029-01-10, less than 5 years away.
    start = date(2026, 3, 10)
    retirement = statutory_retirement_date("M", date(1968, 3, 10), None, PARAMS)
    assert retirement == date(2029, 1, 10)
    period = subsidy_period(start, retirement, PARAMS)
    assert (period.end, period.extended_to_retirement) == (retirement, True)
    assert len(placement_schedule(period, "150203", PARAMS)) == 34


def test_a_man_of_57_is_extended_beyond_three_years() -> None:
    start = date(2026, 6, 1)
    retirement = statutory_retirement_date("M", date(1969, 6, 1), None, PARAMS)  # 61 years 2 months
    assert retirement == date(2030, 8, 1)
    period = subsidy_period(start, retirement, PARAMS)
    assert period.extended_to_retirement
    assert len(placement_schedule(period, "150203", PARAMS)) == 50  # 4 years 2 months


def test_exactly_five_years_from_retirement_keeps_three_years() -> None:
    start = date(2026, 6, 1)
    period = subsidy_period(start, add_months(start, 60), PARAMS)
    assert not period.extended_to_retirement and period.end == date(2029, 6, 1)
    one_day_less = subsidy_period(start, add_months(start, 60) - (date(2026, 6, 2) - start), PARAMS)
    assert one_day_less.extended_to_retirement


def test_a_month_cut_short_by_retirement_is_paid_by_days() -> None:
    start = date(2026, 3, 10)
    retirement = date(2029, 1, 25)  # 15 of the last month's 31 days
    months = placement_schedule(subsidy_period(start, retirement, PARAMS), "150203", PARAMS)
    assert len(months) == 35
    last = months[-1]
    assert (last.start, last.end) == (date(2029, 1, 10), date(2029, 1, 25))
    assert last.post_subsidy == Decimal("958.06")  # 1980.00 * 15 / 31, down to the fen
    assert last.social_insurance == Decimal("477.31")  # 986.45 * 15 / 31
    whole = dataclasses.replace(PARAMS, pro_rata_partial_months=False)
    assert placement_schedule(subsidy_period(start, retirement, whole), "150203", whole)[-1].post_subsidy == Decimal(
        "1980.00"
    )


def test_each_kind_of_money_is_split_exactly_to_the_fen() -> None:
    period = subsidy_period(date(2026, 1, 1), date(2060, 1, 1), PARAMS)
    month = placement_schedule(period, "150203", PARAMS)[0]
    assert (month.post_subsidy, month.post_city, month.post_county) == (
        Decimal("1980.00"),
        Decimal("990.00"),
        Decimal("990.00"),
    )
    # The odd fen falls to the county.
    assert (month.social_insurance, month.insurance_city, month.insurance_county) == (
        Decimal("986.45"),
        Decimal("493.22"),
        Decimal("493.23"),
    )
    assert month.amount == month.city_share + month.county_share == Decimal("2966.45")
    city_pays_all = dataclasses.replace(PARAMS, city_share=Decimal("1"))
    assert placement_schedule(period, "150221", city_pays_all)[0].county_share == Decimal("0.00")


def test_a_county_without_amounts_has_no_schedule_and_a_reason() -> None:
    empty = dataclasses.replace(BAOTOU_2025, placement=PlacementParams())
    facts = _facts(county="150203")
    assert placement_reasons(facts, empty, date(2026, 3, 1)) == [NO_SUBSIDY_AMOUNT]
    with pytest.raises(ValueError):
        placement_schedule(subsidy_period(date(2026, 1, 1), date(2060, 1, 1), PARAMS), "150203", empty.placement)


# ---- publicity on the official calendar --------------------------------------------------------------


def test_publicity_across_the_spring_festival_2026() -> None:
    # 15-23 February 2026 off; Saturdays 14 and 28 February are working days (test data: tests/calendars).
    calendar = calendar_for_tests(2026)
    assert publicity_last_day(date(2026, 2, 12), PARAMS, calendar) == date(2026, 2, 26)  # 13, 14, 24, 25, 26
    assert publicity_last_day(date(2026, 2, 13), PARAMS, calendar) == date(2026, 2, 27)  # 14, 24, 25, 26, 27
    assert publicity_last_day(date(2026, 2, 23), PARAMS, calendar) == date(2026, 2, 28)  # 24-28 (Saturday)


def test_publicity_into_a_year_the_calendar_does_not_know_is_an_error() -> None:
    with pytest.raises(CalendarYearUnknown) as unknown:
        publicity_last_day(date(2026, 12, 28), PARAMS, calendar_for_tests(2026))
    assert unknown.value.year == 2027
    # With the next year known, the same approval counts into it: 29, 30, 31 December, then 4 and 5 January
    # (1 January is New Year's Day in the test calendar of 2027, and 2-3 January a weekend).
    assert publicity_last_day(date(2026, 12, 28), PARAMS, calendar_for_tests(2026, 2027)) == date(2027, 1, 5)


# ---- checks ------------------------------------------------------------------------------------------


def _facts(**changes: object) -> PlacementFacts:
    base = PlacementFacts(
        county="150203",
        start_date=date(2026, 3, 1),
        sex="M",
        birth_date=date(1980, 5, 5),
        female_category=None,
        severe_disability=False,
        special_hardship=False,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def test_placement_reasons() -> None:
    assert placement_reasons(_facts(), BAOTOU_2025, date(2026, 2, 1)) == []
    assert placement_reasons(_facts(), BAOTOU_2025, date(2024, 12, 31)) == [OUTSIDE_POLICY_WINDOW]
    assert placement_reasons(_facts(), None, date(2026, 2, 1)) == [OUTSIDE_POLICY_WINDOW]
    assert placement_reasons(_facts(county="110105"), BAOTOU_2025, date(2026, 2, 1)) == [WRONG_COUNTY]
    # A woman worker born in 1974 retired at 50 in 2024.
    woman = _facts(sex="F", birth_date=date(1974, 6, 1))
    assert placement_reasons(woman, BAOTOU_2025, date(2026, 2, 1)) == [REACHED_RETIREMENT_AGE]
    assert (
        placement_reasons(dataclasses.replace(woman, female_category="female_55"), BAOTOU_2025, date(2026, 2, 1)) == []
    )


def _history(**changes: object) -> PlacementHistory:
    base = PlacementHistory(
        post_approved=True, free_places=1, earlier_placements=0, earlier_running=False, flexible_insurance_held=False
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def reasons(history: PlacementHistory, *, hardship: bool = False, override: bool = False) -> list[str]:
    return history_reasons(
        history, severe_disability=False, special_hardship=hardship, max_placements=2, override_granted=override
    )


def test_history_reasons() -> None:
    assert reasons(_history()) == []
    assert reasons(_history(post_approved=False, free_places=3)) == [POST_NOT_APPROVED]
    assert reasons(_history(free_places=0)) == [NO_FREE_PLACE]
    assert reasons(_history(flexible_insurance_held=True)) == [EXCLUSIVE_WITH_FLEXIBLE_EMPLOYMENT_INSURANCE]
    # A second placement while the first runs, for a person without hardship: every reason is named.
    assert reasons(_history(earlier_placements=1, earlier_running=True)) == [
        NOT_YET_EXPIRED,
        RE_PLACEMENT_NEEDS_HARDSHIP,
    ]
    assert reasons(_history(earlier_placements=1), hardship=True) == []
    assert (
        history_reasons(
            _history(earlier_placements=1), severe_disability=True, special_hardship=False, max_placements=2
        )
        == []
    )


def test_the_third_placement_reaches_the_cap_and_only_a_city_override_lifts_it() -> None:
    third = _history(earlier_placements=2)
    assert reasons(third, hardship=True) == [PLACEMENT_CAP_REACHED]
    assert only_the_cap(reasons(third, hardship=True))
    assert not only_the_cap(reasons(third))  # without hardship there is more than the cap
    assert reasons(third, hardship=True, override=True) == []
    assert history_reasons(third, severe_disability=False, special_hardship=True, max_placements=3) == []


def test_declaration_reasons() -> None:
    assert declaration_reasons(BAOTOU_2025, date(2026, 11, 23), "150203", 2026) == []
    assert declaration_reasons(BAOTOU_2025, date(2026, 11, 23), "150203", 2027) == []
    assert declaration_reasons(BAOTOU_2025, date(2026, 11, 23), "150203", 2025) == [DECLARATION_YEAR_NOT_OPEN]
    assert declaration_reasons(BAOTOU_2025, date(2026, 11, 23), "150203", 2026, already_declared=True) == [
        DUPLICATE_DECLARATION
    ]
    assert declaration_reasons(BAOTOU_2025, date(2026, 11, 23), "110105", 2026) == [WRONG_COUNTY]
    assert declaration_reasons(None, date(2026, 11, 23), "150203", 2026) == [OUTSIDE_POLICY_WINDOW]
