"""The graduate hiring subsidy's rules, pure functions of `version.graduate_hiring` (包府办发〔2023〕43号 (三) 2).

- a fresh graduate: the contract starts on or after the graduation day and no later than
  `hire_within_years_of_graduation` years after it (`not_a_fresh_graduate`);
- a labour contract of at least `min_contract_months` months, counted from its start to its last day inclusive
  (`contract_shorter_than_one_year`);
- social insurance from the contract's start, at most `social_insurance_within_days` days later (an
  interpretation, see the parameter) (`no_social_insurance`);
- `subsidy_years` years, year k from contract start + (k - 1) years to contract start + k years (exclusive); each
  paid `yearly_minimum_wage_months` × the county's monthly minimum wage in force on the year's last day, split by
  `city_share` (city rounded down to the fen), for the month in which the year ends.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from subsidy.policy.money import split_shares, to_money
from subsidy.policy.versions import GraduateHiringParams, PolicyVersion
from subsidy.programs.rent_subsidy.rules import OUTSIDE_POLICY_WINDOW, WRONG_COUNTY

NOT_A_FRESH_GRADUATE = "not_a_fresh_graduate"
CONTRACT_SHORTER_THAN_ONE_YEAR = "contract_shorter_than_one_year"
NO_SOCIAL_INSURANCE = "no_social_insurance"
EXCLUSIVE_WITH_PUBLIC_WELFARE_POST = "exclusive_with_public_welfare_post"
EXCLUSIVE_WITH_GRADUATE_HIRING_SUBSIDY = "exclusive_with_graduate_hiring_subsidy"
ALREADY_HAS_GRADUATE_HIRING_SUBSIDY = "already_has_graduate_hiring_subsidy"
NO_MINIMUM_WAGE_FOR_DATE = "no_minimum_wage_for_date"


def add_months(anchor: date, months: int) -> date:
    """The same day `months` calendar months later, clamped to the month's end (2024-01-31 + 1 -> 2024-02-29)."""
    index = anchor.year * 12 + (anchor.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(anchor.day, calendar.monthrange(year, month)[1]))


def add_years(anchor: date, years: int) -> date:
    """The same day `years` later (a 29 February falls on the 28th)."""
    return add_months(anchor, 12 * years)


def latest_fresh_start(graduated_on: date, params: GraduateHiringParams) -> date:
    """The last day on which a contract may start for the person to count as a fresh graduate."""
    return add_years(graduated_on, params.hire_within_years_of_graduation)


def shortest_contract_end(contract_start: date, params: GraduateHiringParams) -> date:
    """The earliest last day of a contract long enough: start + `min_contract_months` months - 1 day."""
    return add_months(contract_start, params.min_contract_months) - timedelta(days=1)


def latest_insurance_start(contract_start: date, params: GraduateHiringParams) -> date:
    return contract_start + timedelta(days=params.social_insurance_within_days)


def hiring_reasons(
    params: GraduateHiringParams,
    *,
    graduated_on: date,
    contract_start: date,
    contract_end: date,
    social_insurance_from: date,
) -> list[str]:
    """The reason codes that refuse the hire, in the order of the rules; empty: eligible."""
    reasons: list[str] = []
    if not graduated_on <= contract_start <= latest_fresh_start(graduated_on, params):
        reasons.append(NOT_A_FRESH_GRADUATE)
    if contract_end < shortest_contract_end(contract_start, params):
        reasons.append(CONTRACT_SHORTER_THAN_ONE_YEAR)
    if social_insurance_from > latest_insurance_start(contract_start, params):
        reasons.append(NO_SOCIAL_INSURANCE)
    return reasons


def application_reasons(
    version: PolicyVersion | None,
    applied_on: date,
    county: str,
    *,
    graduated_on: date,
    contract_start: date,
    contract_end: date,
    social_insurance_from: date,
) -> list[str]:
    """Where and when (a version in force, a county of it), then the hire's rules."""
    if version is None or not version.in_force_on(applied_on):
        return [OUTSIDE_POLICY_WINDOW]
    reasons = [] if county in version.counties else [WRONG_COUNTY]
    return reasons + hiring_reasons(
        version.graduate_hiring,
        graduated_on=graduated_on,
        contract_start=contract_start,
        contract_end=contract_end,
        social_insurance_from=social_insurance_from,
    )


@dataclass(frozen=True)
class YearSpan:
    number: int
    start: date
    end: date  # exclusive: the day after the year's last day

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    @property
    def period(self) -> str:
        """The month in which the year ends (the period convention of the ledger)."""
        return f"{self.last_day.year:04d}-{self.last_day.month:02d}"


def subsidy_years(contract_start: date, params: GraduateHiringParams) -> list[YearSpan]:
    return [
        YearSpan(k, add_years(contract_start, k - 1), add_years(contract_start, k))
        for k in range(1, params.subsidy_years + 1)
    ]


def confirmable(year: YearSpan, employment_ended_on: date | None) -> bool:
    """A year may still be confirmed and paid when it ended on or before the day the employment ended."""
    return employment_ended_on is None or year.last_day <= employment_ended_on


def year_amount(monthly_minimum_wage: Decimal, params: GraduateHiringParams) -> Decimal:
    """`yearly_minimum_wage_months` × the monthly minimum wage (5 × 1980.00 = 9900.00)."""
    return to_money(to_money(monthly_minimum_wage) * params.yearly_minimum_wage_months)


def year_shares(amount: Decimal, params: GraduateHiringParams) -> tuple[Decimal, Decimal]:
    """(city, county): the city's `city_share`, rounded down to the fen; the county the rest."""
    return split_shares(amount, params.city_share)
