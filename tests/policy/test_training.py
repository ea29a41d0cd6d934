"""Program T's pure rules, on both sides of every limit."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from subsidy.policy.versions import BAOTOU_2023, BAOTOU_2025
from subsidy.programs.training_subsidy.rules import (
    ANNUAL_TRAINING_LIMIT,
    OUTSIDE_POLICY_WINDOW,
    SAME_COURSE_LEVEL_WITHIN_A_YEAR,
    TOO_SHORT,
    WRONG_COUNTY,
    CoursePlan,
    TrainingRecord,
    annual_limit_reached,
    is_too_short,
    plan_eligibility,
    qualifies,
    reimbursement,
    reimbursement_shares,
    same_course_level_within_window,
    trainee_eligibility,
    union_of_reasons,
)

PARAMS = BAOTOU_2025.training
ONE_DAY = timedelta(days=1)

# A week-long welding class in Kundulun District, filed in spring 2025 under the 2025 version.
PLAN = CoursePlan(
    code="6-18-02-04",
    level="初级",
    kind="vocational",
    start_date=date(2025, 5, 12),
    end_date=date(2025, 5, 18),
    class_days=5,
    class_hours=40,
)
FILED_ON = date(2025, 4, 20)


def record(start: date, code: str = "6-18-02-04", level: str = "初级") -> TrainingRecord:
    return TrainingRecord(course_code=code, level=level, start_date=start)


def test_reason_codes_are_the_glossary_codes() -> None:
    assert TOO_SHORT == "too_short"
    assert ANNUAL_TRAINING_LIMIT == "annual_training_limit"
    assert SAME_COURSE_LEVEL_WITHIN_A_YEAR == "same_course_level_within_a_year"
    assert OUTSIDE_POLICY_WINDOW == "outside_policy_window"


def test_the_numbers_of_the_plan() -> None:
    assert PARAMS.per_person_cap == Decimal("1500.00")
    assert (PARAMS.min_days, PARAMS.min_class_hours) == (5, 40)
    assert (PARAMS.max_trainings_per_year, PARAMS.same_course_level_window_months) == (3, 12)
    assert PARAMS.city_share == Decimal("0.5")


# --- the plan --------------------------------------------------------------------------------------------


def test_five_days_and_forty_hours_is_long_enough() -> None:
    assert plan_eligibility(PLAN, "150203", BAOTOU_2025, FILED_ON) == []


@pytest.mark.parametrize(
    ("days", "hours", "short"),
    [(5, 40, False), (4, 40, True), (5, 39, True), (4, 39, True), (6, 48, False)],
)
def test_too_short_below_five_days_or_forty_hours(days: int, hours: int, short: bool) -> None:
    assert is_too_short(days, hours, PARAMS) is short
    plan = dataclasses.replace(PLAN, class_days=days, class_hours=hours)
    assert (TOO_SHORT in plan_eligibility(plan, "150203", BAOTOU_2025, FILED_ON)) is short


def test_filed_when_no_version_is_in_force_stands_alone() -> None:
    assert plan_eligibility(PLAN, "150203", None, FILED_ON) == [OUTSIDE_POLICY_WINDOW]
    short = dataclasses.replace(PLAN, start_date=date(2023, 5, 8), end_date=date(2023, 5, 14), class_days=4)
    assert plan_eligibility(short, "150203", BAOTOU_2023, date(2023, 4, 21)) == [OUTSIDE_POLICY_WINDOW]
    assert plan_eligibility(short, "150203", BAOTOU_2023, date(2023, 4, 22)) == [TOO_SHORT]


def test_course_dates_must_lie_inside_the_pinned_versions_window() -> None:
    # Filed under baotou-2023, which ends on 2024-12-31: a class that runs into 2025 is outside its window.
    last_day = dataclasses.replace(PLAN, start_date=date(2024, 12, 25), end_date=date(2024, 12, 31))
    over_the_end = dataclasses.replace(PLAN, start_date=date(2024, 12, 26), end_date=date(2025, 1, 1))
    filed = date(2024, 12, 1)
    assert plan_eligibility(last_day, "150203", BAOTOU_2023, filed) == []
    assert plan_eligibility(over_the_end, "150203", BAOTOU_2023, filed) == [OUTSIDE_POLICY_WINDOW]
    before_2025 = dataclasses.replace(PLAN, start_date=date(2024, 12, 31), end_date=date(2025, 1, 6))
    first_days = dataclasses.replace(PLAN, start_date=date(2025, 1, 1), end_date=date(2025, 1, 7))
    assert plan_eligibility(before_2025, "150203", BAOTOU_2025, date(2025, 1, 1)) == [OUTSIDE_POLICY_WINDOW]
    assert plan_eligibility(first_days, "150203", BAOTOU_2025, date(2025, 1, 1)) == []


def test_a_county_outside_baotou_is_refused() -> None:
    assert plan_eligibility(PLAN, "110105", BAOTOU_2025, FILED_ON) == [WRONG_COUNTY]


def test_reasons_come_in_one_order() -> None:
    plan = dataclasses.replace(PLAN, start_date=date(2024, 12, 30), class_days=4)
    assert plan_eligibility(plan, "110105", BAOTOU_2025, FILED_ON) == [OUTSIDE_POLICY_WINDOW, WRONG_COUNTY, TOO_SHORT]


def test_malformed_plans_raise() -> None:
    with pytest.raises(ValueError):
        dataclasses.replace(PLAN, end_date=PLAN.start_date - ONE_DAY)
    with pytest.raises(ValueError):
        dataclasses.replace(PLAN, class_days=8)  # 12-18 May has 7 calendar days
    with pytest.raises(ValueError):
        dataclasses.replace(PLAN, kind="online")


# --- per person: three a calendar year -------------------------------------------------------------------


def test_a_third_training_in_a_year_is_allowed_and_a_fourth_is_not() -> None:
    two = [record(date(2025, 2, 1), code="A"), record(date(2025, 6, 1), code="B")]
    three = [*two, record(date(2025, 9, 1), code="C")]
    assert not annual_limit_reached(date(2025, 11, 1), two, PARAMS)
    assert annual_limit_reached(date(2025, 11, 1), three, PARAMS)
    assert trainee_eligibility(record(date(2025, 11, 1), code="D"), three, PARAMS) == [ANNUAL_TRAINING_LIMIT]


def test_the_year_is_the_calendar_year_of_the_start_date() -> None:
    three = [record(date(2025, 1, 1), code="A"), record(date(2025, 6, 1), code="B"), record(date(2025, 12, 31), "C")]
    assert annual_limit_reached(date(2025, 12, 31), three, PARAMS)
    assert not annual_limit_reached(date(2026, 1, 1), three, PARAMS)
    assert trainee_eligibility(record(date(2026, 1, 1), code="D"), three, PARAMS) == []
    # Trainings of other years do not count toward this one's.
    other_years = [record(date(2024, 12, 31), code="A"), record(date(2026, 1, 1), code="B"), record(date(2026, 2, 1))]
    assert not annual_limit_reached(date(2025, 7, 1), other_years, PARAMS)


def test_the_annual_limit_is_a_parameter() -> None:
    two = [record(date(2025, 2, 1), code="A"), record(date(2025, 6, 1), code="B")]
    assert annual_limit_reached(date(2025, 7, 1), two, dataclasses.replace(PARAMS, max_trainings_per_year=2))


# --- per person: the same course and level not twice within a year ---------------------------------------


@pytest.mark.parametrize(
    ("earlier", "later", "refused"),
    [
        (date(2025, 3, 2), date(2026, 2, 2), True),  # 11 months later
        (date(2025, 3, 2), date(2026, 3, 1), True),  # one day short of 12 months
        (date(2025, 3, 2), date(2026, 3, 2), False),  # 12 months later: the year is over
        (date(2025, 3, 2), date(2025, 3, 2), True),  # the same day
        (date(2025, 1, 31), date(2026, 1, 30), True),
        (date(2025, 1, 31), date(2026, 1, 31), False),
        (date(2024, 2, 29), date(2025, 2, 27), True),  # a leap day: 12 months later is 2025-02-28
        (date(2024, 2, 29), date(2025, 2, 28), False),
    ],
)
def test_same_course_and_level_within_twelve_months(earlier: date, later: date, refused: bool) -> None:
    assert same_course_level_within_window(record(later), [record(earlier)], PARAMS) is refused
    # The rule is the same whichever of the two was filed first.
    assert same_course_level_within_window(record(earlier), [record(later)], PARAMS) is refused
    expected = [SAME_COURSE_LEVEL_WITHIN_A_YEAR] if refused else []
    assert trainee_eligibility(record(later), [record(earlier)], PARAMS) == expected


def test_another_course_or_another_level_is_not_the_same_programme() -> None:
    earlier = [record(date(2025, 3, 2))]
    assert not same_course_level_within_window(record(date(2025, 5, 1), level="中级"), earlier, PARAMS)
    assert not same_course_level_within_window(record(date(2025, 5, 1), code="6-18-02-05"), earlier, PARAMS)


def test_both_limits_at_once_in_order() -> None:
    three = [record(date(2025, 3, 2)), record(date(2025, 6, 1), code="B"), record(date(2025, 9, 1), code="C")]
    assert trainee_eligibility(record(date(2025, 11, 1)), three, PARAMS) == [
        ANNUAL_TRAINING_LIMIT,
        SAME_COURSE_LEVEL_WITHIN_A_YEAR,
    ]
    assert union_of_reasons([[SAME_COURSE_LEVEL_WITHIN_A_YEAR], [ANNUAL_TRAINING_LIMIT], []]) == [
        ANNUAL_TRAINING_LIMIT,
        SAME_COURSE_LEVEL_WITHIN_A_YEAR,
    ]


# --- completion and money --------------------------------------------------------------------------------


@pytest.mark.parametrize(("hours", "counted"), [(0, False), (39, False), (40, True), (41, True)])
def test_a_trainee_counts_from_forty_hours(hours: int, counted: bool) -> None:
    assert qualifies(hours, PARAMS) is counted


def test_hours_are_whole_and_not_negative() -> None:
    with pytest.raises(ValueError):
        qualifies(-1, PARAMS)
    with pytest.raises(ValueError):
        qualifies(True, PARAMS)


@pytest.mark.parametrize(
    ("cost", "qualified", "paid", "city", "county"),
    [
        ("6000.00", 3, "4500.00", "2250.00", "2250.00"),  # the cap: 1500 × 3
        ("4000.00", 3, "4000.00", "2000.00", "2000.00"),  # the documented cost
        ("4500.00", 3, "4500.00", "2250.00", "2250.00"),  # exactly at the cap
        ("4500.01", 3, "4500.00", "2250.00", "2250.00"),
        ("4499.99", 3, "4499.99", "2249.99", "2250.00"),  # the odd fen goes to the county
        ("6000.00", 2, "3000.00", "1500.00", "1500.00"),  # one trainee below 40 hours
        ("6000.00", 0, "0.00", "0.00", "0.00"),
        ("0.00", 3, "0.00", "0.00", "0.00"),
    ],
)
def test_reimbursement_is_the_lesser_of_cost_and_1500_per_qualified_trainee(
    cost: str, qualified: int, paid: str, city: str, county: str
) -> None:
    amount = reimbursement(Decimal(cost), qualified, PARAMS)
    assert amount == Decimal(paid) and str(amount) == paid
    assert reimbursement_shares(amount, PARAMS) == (Decimal(city), Decimal(county))


def test_reimbursement_refuses_what_is_not_money() -> None:
    with pytest.raises(ValueError):
        reimbursement(Decimal("100.005"), 1, PARAMS)
    with pytest.raises(ValueError):
        reimbursement(Decimal("-1.00"), 1, PARAMS)
    with pytest.raises(ValueError):
        reimbursement(Decimal("100.00"), -1, PARAMS)


@given(
    cost_fen=st.integers(min_value=0, max_value=10**9),
    qualified=st.integers(min_value=0, max_value=200),
)
def test_reimbursement_never_exceeds_either_bound_and_the_halves_add_up(cost_fen: int, qualified: int) -> None:
    cost = Decimal(cost_fen) / 100
    amount = reimbursement(cost, qualified, PARAMS)
    assert amount <= cost and amount <= PARAMS.per_person_cap * qualified
    assert amount in (cost, PARAMS.per_person_cap * qualified)
    city, county = reimbursement_shares(amount, PARAMS)
    assert city + county == amount and 0 <= county - city <= Decimal("0.01")
