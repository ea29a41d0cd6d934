"""The dispatch referral reward's rules, pure functions of the policy parameters (`version.dispatch_referral`).

A labour dispatch agency that referred a person with a disability into an employment is rewarded once, when the
person has been employed `min_employment_months` (a year) from the contract's start: `reward` (500.00), split
between the City DPF and the County DPF by `city_share`, for the month in which the year ends.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from subsidy.policy.money import split_shares
from subsidy.policy.versions import DispatchReferralParams, PolicyVersion
from subsidy.programs.rent_subsidy.rules import OUTSIDE_POLICY_WINDOW, WRONG_COUNTY, add_months

REFERRAL_ALREADY_CLAIMED = "referral_already_claimed"
EMPLOYMENT_SHORTER_THAN_ONE_YEAR = "employment_shorter_than_one_year"
CONTRACT_SHORTER_THAN_ONE_YEAR = "contract_shorter_than_one_year"
CONTRACT_NOT_STARTED = "contract_not_started"


def year_ends_on(contract_start: date, params: DispatchReferralParams) -> date:
    """The day the required employment is complete: the contract's start plus `min_employment_months`."""
    return add_months(contract_start, params.min_employment_months)


def referral_reasons(
    version: PolicyVersion | None, applied_on: date, county: str, contract_start: date, contract_end: date
) -> list[str]:
    """Why the referral cannot be rewarded, from the form alone (the claim on the employment needs the database)."""
    if version is None or not version.in_force_on(applied_on):
        return [OUTSIDE_POLICY_WINDOW]
    reasons: list[str] = []
    if county not in version.counties:
        reasons.append(WRONG_COUNTY)
    if contract_start > applied_on:
        reasons.append(CONTRACT_NOT_STARTED)
    # The contract's last day is included: a contract from 2025-03-10 to 2026-03-09 lasts one year.
    if contract_end + timedelta(days=1) < year_ends_on(contract_start, version.dispatch_referral):
        reasons.append(CONTRACT_SHORTER_THAN_ONE_YEAR)
    return reasons


def reward_shares(params: DispatchReferralParams) -> tuple[Decimal, Decimal, Decimal]:
    """The reward and its (city, county) shares."""
    city, county = split_shares(params.reward, params.city_share)
    return params.reward, city, county


def reward_period(contract_start: date, params: DispatchReferralParams) -> str:
    """The month in which the rewarded year ends ("2026-03" for a contract from 2025-03-10)."""
    end = year_ends_on(contract_start, params)
    return f"{end.year:04d}-{end.month:02d}"
