"""Program R: start-up premises rent subsidy (自主创业场地租金补贴), 包府办发〔2023〕43号 (九) 2.

A person with a disability who runs a business in rented premises, after at least one year of normal
operation from the licence date and within three years of starting the business, receives per month
min(actual rent, 1000 yuan) for at most 36 months; blind massage shops are excluded; the City and the
County DPF pay half each. The application goes to the DPF of the household-registration county.

Interpretation (POLICY.md): the subsidised period is the business's first 36 months counted from its
licence date, limited to the months its lease covers, and a month the lease covers only in part is paid
by days.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from subsidy.policy.money import from_fen, split_shares, to_fen, to_money
from subsidy.policy.versions import PolicyVersion, RentSubsidyParams

__all__ = [
    "ALREADY_HAS_ACTIVE_RENT_SUBSIDY",
    "BLIND_MASSAGE_EXCLUDED",
    "LEASE_OUTSIDE_SUBSIDY_PERIOD",
    "MORE_THAN_THREE_YEARS_SINCE_START",
    "OPERATED_LESS_THAN_ONE_YEAR",
    "OUTSIDE_POLICY_WINDOW",
    "RENT_MONTHS_EXHAUSTED",
    "WRONG_COUNTY",
    "RentFacts",
    "SubsidyMonth",
    "add_months",
    "monthly_subsidy",
    "months_ended_by",
    "rent_eligibility",
    "rent_schedule",
]

OPERATED_LESS_THAN_ONE_YEAR = "operated_less_than_one_year"
MORE_THAN_THREE_YEARS_SINCE_START = "more_than_three_years_since_start"
BLIND_MASSAGE_EXCLUDED = "blind_massage_excluded"
WRONG_COUNTY = "wrong_county"
OUTSIDE_POLICY_WINDOW = "outside_policy_window"
LEASE_OUTSIDE_SUBSIDY_PERIOD = "lease_outside_subsidy_period"
# These two depend on the applicant's other applications, which only the database knows: the caller
# decides them inside the transaction that locks the person's row.
ALREADY_HAS_ACTIVE_RENT_SUBSIDY = "already_has_active_rent_subsidy"
RENT_MONTHS_EXHAUSTED = "rent_months_exhausted"


@dataclass(frozen=True)
class RentFacts:
    """What the application form states about the business and its premises."""

    hukou_county: str
    applied_to_county: str
    business_type: str  # "general" or "blind_massage"
    license_date: date
    started_on: date
    lease_start: date
    lease_end: date  # inclusive, as written in the lease contract
    monthly_rent: Decimal

    def __post_init__(self) -> None:
        # Malformed facts are a form error, not a policy refusal: they raise instead of giving a reason code.
        if self.lease_end < self.lease_start:
            raise ValueError("the lease cannot end before it starts")
        rent = to_money(self.monthly_rent)
        if rent <= 0:
            raise ValueError("the monthly rent must be positive")
        object.__setattr__(self, "monthly_rent", rent)


@dataclass(frozen=True)
class SubsidyMonth:
    period: str  # "YYYY-MM" of the month's start
    start: date
    end: date  # exclusive: the start of the next subsidy month
    amount: Decimal
    city_share: Decimal
    county_share: Decimal


def add_months(anchor: date, months: int) -> date:
    """The same day `months` calendar months later, clamped to the month's end (2024-01-31 + 1 -> 2024-02-29).

    Schedules call this from the licence date for every month instead of chaining, because chaining
    would drift: 01-31 -> 02-29 -> 03-29 where 03-31 is meant.
    """
    month_index = anchor.year * 12 + (anchor.month - 1) + months
    year, month = divmod(month_index, 12)
    month += 1
    day = min(anchor.day, calendar.monthrange(year, month)[1])
    return date(year, month, day)


def monthly_subsidy(monthly_rent: Decimal, params: RentSubsidyParams) -> Decimal:
    """The subsidy for a fully covered month: the actual rent, at most the cap."""
    rent = to_money(monthly_rent)
    if rent < 0:
        raise ValueError("the monthly rent cannot be negative")
    return min(rent, params.monthly_cap)


def rent_eligibility(facts: RentFacts, version: PolicyVersion | None, applied_on: date) -> list[str]:
    """Every reason to refuse, in a stable order; an empty list means eligible.

    Only `outside_policy_window` stands alone: without a version in force there are no rules to apply.
    """
    if version is None or not version.in_force_on(applied_on):
        return [OUTSIDE_POLICY_WINDOW]
    params = version.rent
    reasons: list[str] = []
    # "正常运营满一年": the anniversary of the licence date itself counts as a full year.
    if applied_on < add_months(facts.license_date, params.min_operating_months):
        reasons.append(OPERATED_LESS_THAN_ONE_YEAR)
    # "在自主创业三年内": the third anniversary of the start is still within the three years.
    if applied_on > add_months(facts.started_on, 12 * params.apply_within_years):
        reasons.append(MORE_THAN_THREE_YEARS_SINCE_START)
    if facts.business_type in params.excluded_business_types:
        reasons.append(BLIND_MASSAGE_EXCLUDED)
    if facts.applied_to_county != facts.hukou_county or facts.hukou_county not in version.counties:
        reasons.append(WRONG_COUNTY)
    if not any(_covered_days(facts, k) > 0 for k in range(params.max_months)):
        reasons.append(LEASE_OUTSIDE_SUBSIDY_PERIOD)
    return reasons


def rent_schedule(facts: RentFacts, params: RentSubsidyParams, months_already_used: int = 0) -> list[SubsidyMonth]:
    """The months to pay, earliest first.

    Subsidy month k runs [licence date + k months, licence date + k+1 months) for k < max_months.
    Months the lease does not touch are skipped; a partly covered month is paid by covered days
    (rounded down to the fen) when the parameter says so. The applicant's allowance is max_months
    in total, so months already used by earlier subsidies cut the schedule from its end. A month whose
    pro-rata amount rounds down to 0.00 is left out: it pays nothing and must not use up the allowance.
    """
    if months_already_used < 0:
        raise ValueError("months already used cannot be negative")
    allowance = max(params.max_months - months_already_used, 0)
    full_month = monthly_subsidy(facts.monthly_rent, params)
    schedule: list[SubsidyMonth] = []
    for k in range(params.max_months):
        if len(schedule) >= allowance:
            break
        covered = _covered_days(facts, k)
        if covered <= 0:
            continue
        start = add_months(facts.license_date, k)
        end = add_months(facts.license_date, k + 1)
        days_in_month = (end - start).days
        if covered < days_in_month and params.pro_rata_partial_months:
            amount = _pro_rata(full_month, covered, days_in_month)
        else:
            amount = full_month
        if amount <= 0:
            continue
        city, county = split_shares(amount, params.city_share)
        schedule.append(
            SubsidyMonth(
                period=f"{start.year:04d}-{start.month:02d}",
                start=start,
                end=end,
                amount=amount,
                city_share=city,
                county_share=county,
            )
        )
    return schedule


def months_ended_by(schedule: Sequence[SubsidyMonth], moment_day: date) -> list[SubsidyMonth]:
    """The months already over on `moment_day`: at approval these are paid at once, in arrears."""
    return [month for month in schedule if month.end <= moment_day]


def _covered_days(facts: RentFacts, k: int) -> int:
    """Days of subsidy month k inside the lease (0 when they do not meet)."""
    start = add_months(facts.license_date, k)
    end = add_months(facts.license_date, k + 1)
    lease_end_exclusive = facts.lease_end + timedelta(days=1)
    return max((min(end, lease_end_exclusive) - max(start, facts.lease_start)).days, 0)


def _pro_rata(full_month: Decimal, covered_days: int, days_in_month: int) -> Decimal:
    # Whole fen and integer division: exact, and rounds down as the interpretation requires.
    return from_fen(to_fen(full_month) * covered_days // days_in_month)
