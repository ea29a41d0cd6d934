"""The over-quota employment reward (超比例安排残疾人就业奖励), 包府办发〔2023〕43号 (三) 2: pure rules of
`version.over_quota`.

An employer whose employees with disabilities exceed the quota (`quota_ratio` of its total staff, 1.5 %) receives, for
each person above it, `reward_minimum_wage_months` (5) times the county's monthly minimum wage. A grade 1 or 2
certificate counts as two persons (财税〔2015〕72号). With `fraction_rule` "whole_persons" only whole persons above the
required number count (counted 7 − required 3.0 → 4; 7 − 3.2 → 3). Units funded by the state budget and
concentrated-placement institutions are excluded.

Interpretations (POLICY.md): a person counts for one employer's claim per year, the first approved (the activities
enforce it under the people's row locks); the minimum wage used is the standard in force on 31 December of the year
claimed; the claim is for a year that is over.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_FLOOR, Decimal

from subsidy.policy.money import split_shares, to_money
from subsidy.policy.versions import OverQuotaParams, PolicyVersion

OUTSIDE_POLICY_WINDOW = "outside_policy_window"
WRONG_COUNTY = "wrong_county"
YEAR_NOT_ENDED = "year_not_ended"
STATE_FUNDED_UNIT_EXCLUDED = "state_funded_unit_excluded"
CONCENTRATED_PLACEMENT_EXCLUDED = "concentrated_placement_excluded"
NO_EXCESS = "no_excess"
NO_MINIMUM_WAGE_FOR_DATE = "no_minimum_wage_for_date"
COUNTED_BY_ANOTHER_EMPLOYER = "counted_by_another_employer"
ALREADY_CLAIMED_THIS_YEAR = "already_claimed_this_year"

UNIT_KINDS = ("enterprise", "state_funded", "concentrated_placement")
EXCLUDED_BECAUSE = {
    "state_funded": STATE_FUNDED_UNIT_EXCLUDED,
    "concentrated_placement": CONCENTRATED_PLACEMENT_EXCLUDED,
}


@dataclass(frozen=True)
class Figures:
    counted: int
    required: Decimal
    excess: Decimal
    amount: Decimal
    city_share: Decimal
    county_share: Decimal


def claim_reasons(version: PolicyVersion | None, applied_on: date, county: str, year: int, unit_kind: str) -> list[str]:
    """The reasons that refuse the claim as a whole, before any employee is counted."""
    if version is None or not version.in_force_on(applied_on):
        return [OUTSIDE_POLICY_WINDOW]
    reasons = [] if county in version.counties else [WRONG_COUNTY]
    if year >= applied_on.year:
        reasons.append(YEAR_NOT_ENDED)
    if unit_kind in version.over_quota.excluded_unit_kinds:
        reasons.append(EXCLUDED_BECAUSE.get(unit_kind, STATE_FUNDED_UNIT_EXCLUDED))
    return reasons


def wage_day(year: int) -> date:
    """The day whose minimum wage the reward uses: the last day of the year claimed."""
    return date(year, 12, 31)


def period_of(year: int) -> str:
    """The payment's period: the month in which the rewarded year ends."""
    return f"{year:04d}-12"


def counts_as(grade: int, params: OverQuotaParams) -> int:
    """How many persons an employee counts as: `severe_counts_as` for a grade in `severe_grades`, else one."""
    return params.severe_counts_as if grade in params.severe_grades else 1


def required_persons(staff_total: int, params: OverQuotaParams) -> Decimal:
    """The quota: `quota_ratio` × total staff, exact (200 → 3.0)."""
    if staff_total < 1:
        raise ValueError("an employer has at least one member of staff")
    return params.quota_ratio * staff_total


def excess_persons(counted: int, required: Decimal, params: OverQuotaParams) -> Decimal:
    """Persons above the quota: whole persons only with "whole_persons" (7 − 3.2 → 3); never below zero."""
    excess = Decimal(counted) - required
    if params.fraction_rule == "whole_persons":
        excess = excess.to_integral_value(rounding=ROUND_FLOOR)
    return max(excess, Decimal(0))


def reward(excess: Decimal, monthly_minimum_wage: Decimal, params: OverQuotaParams) -> Decimal:
    """excess × `reward_minimum_wage_months` × the monthly minimum wage, in yuan (rounded down to the fen)."""
    return to_money(
        (excess * params.reward_minimum_wage_months * to_money(monthly_minimum_wage)).quantize(
            Decimal("0.01"), rounding=ROUND_FLOOR
        )
    )


def figures(
    counted_weights: Iterable[int], staff_total: int, monthly_minimum_wage: Decimal, params: OverQuotaParams
) -> Figures:
    """What a claim comes to, from how many persons each counted employee counts as."""
    counted = sum(counted_weights)
    required = required_persons(staff_total, params)
    excess = excess_persons(counted, required, params)
    amount = reward(excess, monthly_minimum_wage, params)
    city, county = split_shares(amount, params.city_share)
    return Figures(counted, required, excess, amount, city, county)


def persons_text(value: Decimal) -> str:
    """A number of persons as the pages and the audit show it: 3.0, 3.195, 4."""
    text = format(value.normalize(), "f") if value == value.to_integral_value() else format(value, "f")
    if "." in text:
        text = text.rstrip("0")
        return text + "0" if text.endswith(".") else text
    return text


def required_text(value: Decimal) -> str:
    """The required number of persons, always with its decimals (200 staff → 3.0)."""
    text = persons_text(value)
    return text if "." in text else text + ".0"
