"""The blind massage practitioners' insurance subsidy's rules, pure functions of `version.blind_massage`.

A practitioner with a visual disability (the certificate's category digit in `eligible_categories`) is refunded
`insurance_paid_share` of the social insurance actually paid for the previous calendar year, to the fen (rounded
down), paid by the city (`city_share`), for at most `max_years_per_person` years in all, across counties and
including the years subsidised before the service (the federation's register).
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_DOWN, Decimal

from subsidy.policy.money import CENT, split_shares, to_money
from subsidy.policy.versions import BlindMassageParams, PolicyVersion
from subsidy.programs.rent_subsidy.rules import OUTSIDE_POLICY_WINDOW, WRONG_COUNTY

NOT_VISUAL_DISABILITY = "not_visual_disability"
NOT_THE_PREVIOUS_YEAR = "not_the_previous_year"
ALREADY_CLAIMED_THIS_YEAR = "already_claimed_this_year"
SUBSIDY_YEARS_EXHAUSTED = "subsidy_years_exhausted"
VERIFIED_ABOVE_DECLARED = "verified_above_declared"


def massage_reasons(
    version: PolicyVersion | None, applied_on: date, county: str, year: int, disability_category: int
) -> list[str]:
    """Why the claim cannot be paid, from the form alone (the years already subsidised need the database)."""
    if version is None or not version.in_force_on(applied_on):
        return [OUTSIDE_POLICY_WINDOW]
    reasons: list[str] = []
    if county not in version.counties:
        reasons.append(WRONG_COUNTY)
    if disability_category not in version.blind_massage.eligible_categories:
        reasons.append(NOT_VISUAL_DISABILITY)
    if year != applied_on.year - 1:
        reasons.append(NOT_THE_PREVIOUS_YEAR)
    return reasons


def years_exhausted(years_before: int, params: BlindMassageParams) -> bool:
    """The years already subsidised leave none for this claim (the 15th is paid, the 16th is not)."""
    return years_before >= params.max_years_per_person


def subsidy_amount(insurance_paid: Decimal, params: BlindMassageParams) -> Decimal:
    """`insurance_paid_share` of the insurance actually paid, to the fen (rounded down): 8000.00 -> 4000.00."""
    return (to_money(insurance_paid) * params.insurance_paid_share).quantize(CENT, rounding=ROUND_DOWN)


def subsidy_shares(insurance_paid: Decimal, params: BlindMassageParams) -> tuple[Decimal, Decimal, Decimal]:
    """The subsidy and its (city, county) shares."""
    amount = subsidy_amount(insurance_paid, params)
    city, county = split_shares(amount, params.city_share)
    return amount, city, county


def subsidy_period(year: int) -> str:
    """A claimed year is paid for its last month."""
    return f"{year:04d}-12"
