"""Program P: public-welfare post placement (公益性岗位), 包府办发〔2023〕43号 (一) 2.

Employers declare public-service or professional-technical posts once a year; the County DPF collects the
declarations and the County HR bureau approves them. A person placed on an approved post, after publicity (公示),
receives a monthly post subsidy and social-insurance subsidy for at most three years, or up to the statutory
retirement age when that is less than five years away at the start. After a placement has ended, a severely
disabled or special-hardship person may be placed again (filed with the region); in principle at most two
placements. The placement excludes the flexible-employment social insurance subsidy, in both directions.

Interpretations (POLICY.md, all parameters of `PlacementParams`): publicity lasts `publicity_working_days` official
working days; `max_placements` counts the first placement and a further one needs a two-official City override;
the City pays `city_share` of each amount; a month cut short by retirement is paid by days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from subsidy.policy.money import from_fen, split_shares, to_fen
from subsidy.policy.versions import PlacementParams, PolicyVersion, RetirementRule
from subsidy.policy.workdays import OfficialCalendar, add_working_days
from subsidy.programs.rent_subsidy.rules import OUTSIDE_POLICY_WINDOW, WRONG_COUNTY, add_months

__all__ = [
    "ALREADY_HAS_FLEXIBLE_INSURANCE",
    "DECLARATION_YEAR_NOT_OPEN",
    "DUPLICATE_DECLARATION",
    "EXCLUSIVE_WITH_FLEXIBLE_EMPLOYMENT_INSURANCE",
    "EXCLUSIVE_WITH_PUBLIC_WELFARE_POST",
    "NOT_YET_EXPIRED",
    "NO_FREE_PLACE",
    "NO_SUBSIDY_AMOUNT",
    "PLACEMENT_CAP_REACHED",
    "POST_NOT_APPROVED",
    "REACHED_RETIREMENT_AGE",
    "RE_PLACEMENT_NEEDS_HARDSHIP",
    "PlacementFacts",
    "PlacementHistory",
    "PlacementMonth",
    "SubsidyPeriod",
    "declaration_reasons",
    "flexible_insurance_reasons",
    "history_reasons",
    "monthly_amounts",
    "only_the_cap",
    "placement_reasons",
    "placement_schedule",
    "publicity_last_day",
    "retirement_age_months",
    "retirement_category",
    "statutory_retirement_date",
    "subsidy_period",
]

# Reason codes. The last four depend on the person's and the post's other records, which only the database
# knows: the caller decides them inside the transaction that locks the person's row.
DECLARATION_YEAR_NOT_OPEN = "declaration_year_not_open"
DUPLICATE_DECLARATION = "already_declared_this_year"
REACHED_RETIREMENT_AGE = "reached_retirement_age"
NO_SUBSIDY_AMOUNT = "no_subsidy_amount_for_county"
POST_NOT_APPROVED = "post_not_approved"
NO_FREE_PLACE = "post_has_no_free_place"
RE_PLACEMENT_NEEDS_HARDSHIP = "re_placement_needs_hardship"
EXCLUSIVE_WITH_FLEXIBLE_EMPLOYMENT_INSURANCE = "exclusive_with_flexible_employment_insurance"
EXCLUSIVE_WITH_PUBLIC_WELFARE_POST = "exclusive_with_public_welfare_post"
ALREADY_HAS_FLEXIBLE_INSURANCE = "already_has_flexible_employment_insurance"
NOT_YET_EXPIRED = "not_yet_expired"
PLACEMENT_CAP_REACHED = "placement_cap_reached"


# ---- statutory retirement age ---------------------------------------------------------------------


def retirement_category(sex: str, female_category: str | None, params: PlacementParams) -> str:
    """The retirement rule that applies: men have one; a woman's baseline (50 or 55) is an input."""
    if sex == "M":
        if female_category is not None:
            raise ValueError("a retirement category of women was given for a man")
        return "male_60"
    if sex != "F":
        raise ValueError("sex must be M or F")
    category = female_category or params.default_female_retirement_category
    if category not in params.retirement_rules or category == "male_60":
        raise ValueError(f"unknown retirement category of women: {category}")
    return category


def retirement_age_months(rule: RetirementRule, birth_date: date) -> int:
    """The statutory retirement age, in months, of a person born on `birth_date`."""
    cohort = _month_index(birth_date) - _month_index(rule.first_cohort)
    baseline = 12 * rule.baseline_years
    if cohort < 0:
        return baseline
    # The first cohort already retires one month later: born January 1965 -> 60 years and 1 month.
    return min(baseline + cohort // rule.birth_months_per_step + 1, 12 * rule.target_years)


def statutory_retirement_date(sex: str, birth_date: date, female_category: str | None, params: PlacementParams) -> date:
    """The day the person reaches statutory retirement age (from then on, no placement subsidy)."""
    rule = params.retirement_rules[retirement_category(sex, female_category, params)]
    return add_months(birth_date, retirement_age_months(rule, birth_date))


# ---- subsidy period and months -------------------------------------------------------------------


@dataclass(frozen=True)
class SubsidyPeriod:
    start: date
    end: date  # exclusive: the first day without subsidy
    retirement_on: date
    extended_to_retirement: bool


def subsidy_period(start: date, retirement_on: date, params: PlacementParams) -> SubsidyPeriod:
    """Three years from the start; "up to retirement" instead when retirement is less than five years away.

    Up to retirement also means never past it, so a person two years from retirement is subsidised for two.
    """
    if retirement_on <= start:
        raise ValueError("the person has reached retirement age by the start date")
    near_retirement = retirement_on < add_months(start, 12 * params.retirement_extension_within_years)
    end = retirement_on if near_retirement else add_months(start, 12 * params.subsidy_years)
    return SubsidyPeriod(start=start, end=end, retirement_on=retirement_on, extended_to_retirement=near_retirement)


@dataclass(frozen=True)
class PlacementMonth:
    """One subsidy month: two kinds of money, each split between the City and the County."""

    period: str  # "YYYY-MM" of the month's start
    start: date
    end: date  # exclusive
    post_subsidy: Decimal
    social_insurance: Decimal
    post_city: Decimal
    post_county: Decimal
    insurance_city: Decimal
    insurance_county: Decimal

    @property
    def amount(self) -> Decimal:
        return self.post_subsidy + self.social_insurance

    @property
    def city_share(self) -> Decimal:
        return self.post_city + self.insurance_city

    @property
    def county_share(self) -> Decimal:
        return self.post_county + self.insurance_county


def monthly_amounts(county: str, params: PlacementParams) -> tuple[Decimal, Decimal] | None:
    """(post subsidy, social-insurance subsidy) of a full month in the county, or None when the version has none."""
    post = params.monthly_post_subsidy_by_county.get(county)
    insurance = params.monthly_social_insurance_subsidy_by_county.get(county)
    if post is None or insurance is None:
        return None
    return post, insurance


def placement_schedule(period: SubsidyPeriod, county: str, params: PlacementParams) -> list[PlacementMonth]:
    """The months of the period, earliest first; month k runs [start + k months, start + k+1 months).

    Months are counted from the start date itself (not calendar months), as R counts from the licence date,
    so that 36 months are exactly three years. The last month is cut at the period's end.
    """
    amounts = monthly_amounts(county, params)
    if amounts is None:
        raise ValueError(f"the policy version has no placement amounts for county {county}")
    full_post, full_insurance = amounts
    months: list[PlacementMonth] = []
    k = 0
    while (start := add_months(period.start, k)) < period.end:
        month_end = add_months(period.start, k + 1)
        end = min(month_end, period.end)
        post, insurance = full_post, full_insurance
        if end < month_end and params.pro_rata_partial_months:
            covered, days = (end - start).days, (month_end - start).days
            post = from_fen(to_fen(full_post) * covered // days)
            insurance = from_fen(to_fen(full_insurance) * covered // days)
        post_city, post_county = split_shares(post, params.city_share)
        insurance_city, insurance_county = split_shares(insurance, params.city_share)
        months.append(
            PlacementMonth(
                period=f"{start.year:04d}-{start.month:02d}",
                start=start,
                end=end,
                post_subsidy=post,
                social_insurance=insurance,
                post_city=post_city,
                post_county=post_county,
                insurance_city=insurance_city,
                insurance_county=insurance_county,
            )
        )
        k += 1
    return months


# ---- publicity ---------------------------------------------------------------------------------------


def publicity_last_day(approved_on: date, params: PlacementParams, calendar: OfficialCalendar | None = None) -> date:
    """The last day of publicity: the `publicity_working_days`-th official working day after the approval.

    Raises `CalendarYearUnknown` when the days run into a year the official calendar does not know yet: a
    publicity period is a legal notice, and guessing Monday to Friday could shorten it across a holiday.
    Without `calendar`, the installed chinesecalendar package (the path of workflows before the calendar patch).
    """
    return add_working_days(approved_on, params.publicity_working_days, calendar)


# ---- checks ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlacementFacts:
    """What the placement form states about the person and the start, and the post's county."""

    county: str
    start_date: date
    sex: str  # "M" or "F"
    birth_date: date
    female_category: str | None  # "female_50" or "female_55" for a woman; None takes the parameter's default
    severe_disability: bool
    special_hardship: bool


def placement_reasons(facts: PlacementFacts, version: PolicyVersion | None, applied_on: date) -> list[str]:
    """The reasons that need no other record: policy window, county, amounts, retirement."""
    if version is None or not version.in_force_on(applied_on):
        return [OUTSIDE_POLICY_WINDOW]
    params = version.placement
    reasons: list[str] = []
    if facts.county not in version.counties:
        reasons.append(WRONG_COUNTY)
    elif monthly_amounts(facts.county, params) is None:
        reasons.append(NO_SUBSIDY_AMOUNT)
    retirement = statutory_retirement_date(facts.sex, facts.birth_date, facts.female_category, params)
    if retirement <= facts.start_date:
        reasons.append(REACHED_RETIREMENT_AGE)
    return reasons


@dataclass(frozen=True)
class PlacementHistory:
    """What the database says about the post and the person, read under the person's row lock."""

    post_approved: bool
    free_places: int
    earlier_placements: int  # placements of the person that took up a post (publicity or later), this one excluded
    earlier_running: bool  # one of them is still in publicity or active
    flexible_insurance_held: bool


def history_reasons(
    history: PlacementHistory,
    *,
    severe_disability: bool,
    special_hardship: bool,
    max_placements: int,
    override_granted: bool = False,
) -> list[str]:
    """The reasons that depend on other records, in a stable order."""
    reasons: list[str] = []
    if not history.post_approved:
        reasons.append(POST_NOT_APPROVED)
    elif history.free_places <= 0:
        reasons.append(NO_FREE_PLACE)
    if history.flexible_insurance_held:
        reasons.append(EXCLUSIVE_WITH_FLEXIBLE_EMPLOYMENT_INSURANCE)
    if history.earlier_running:
        reasons.append(NOT_YET_EXPIRED)
    if history.earlier_placements >= max_placements and not override_granted:
        reasons.append(PLACEMENT_CAP_REACHED)
    # "重度残疾人和其他特殊困难人员 ... 可再次安置": a re-placement is for them only.
    if history.earlier_placements >= 1 and not (severe_disability or special_hardship):
        reasons.append(RE_PLACEMENT_NEEDS_HARDSHIP)
    return reasons


def only_the_cap(reasons: list[str]) -> bool:
    """Whether the cap alone stands in the way: then ("in principle") a City override may lift it."""
    return reasons == [PLACEMENT_CAP_REACHED]


def declaration_reasons(
    version: PolicyVersion | None, applied_on: date, county: str, year: int, already_declared: bool = False
) -> list[str]:
    """A yearly post declaration: for this year or the next, in a county of the plan, once per employer."""
    if version is None or not version.in_force_on(applied_on):
        return [OUTSIDE_POLICY_WINDOW]
    reasons: list[str] = []
    if county not in version.counties:
        reasons.append(WRONG_COUNTY)
    if year not in (applied_on.year, applied_on.year + 1):
        reasons.append(DECLARATION_YEAR_NOT_OPEN)
    if already_declared:
        reasons.append(DUPLICATE_DECLARATION)
    return reasons


def flexible_insurance_reasons(version: PolicyVersion | None, applied_on: date, county: str) -> list[str]:
    """The flexible-employment subsidy's own rules here are only where and when; exclusivity needs the database."""
    if version is None or not version.in_force_on(applied_on):
        return [OUTSIDE_POLICY_WINDOW]
    return [] if county in version.counties else [WRONG_COUNTY]


def _month_index(day: date) -> int:
    return day.year * 12 + day.month - 1
