"""The graduate hiring subsidy's workflow input, messages and activity names (standard library only)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

GRADUATE_HIRING_PROGRAM = "graduate_hiring_subsidy"
GRADUATE_HIRING_WORKFLOW = "GraduateHiringSubsidyWorkflow"
REVIEW_STEP = "review"
YEAR_CHECK_STEP = "year_check"
EMPLOYMENT_CONFIRMED = "employment_confirmed"
EMPLOYMENT_ENDED = "employment_ended"
WITHDRAWN = "withdrawn"
GRADUATE_HIRING_EVENTS = (EMPLOYMENT_CONFIRMED, EMPLOYMENT_ENDED, WITHDRAWN)

# Activity names (the workflow calls them by name).
CHECK_GRADUATE_HIRING = "graduate_hiring.check"
GRANT_GRADUATE_HIRING = "graduate_hiring.grant"


@dataclass
class GraduateHiringInput:
    application_id: str
    program: str
    submitted_by: str
    applied_on: date
    county: str
    person_id: str
    employer_credit_code: str
    graduated_on: date
    contract_start: date
    contract_end: date
    social_insurance_from: date
    policy: dict[str, Any] | None = None


@dataclass
class GraduateHiringCheck:
    """The pure rules' reasons, and what the registry needs, for the check under the person's row lock."""

    application_id: str
    person_id: str
    county: str
    employer_credit_code: str
    contract_start: date
    reasons: list[str]
    policy_version: str | None
    clause: str | None
    submitted_by: str


@dataclass
class GraduateHiringOutcome:
    eligible: bool
    reasons: list[str]


@dataclass
class GraduateHiringGrant:
    application_id: str
    person_id: str


@dataclass
class GrantResult:
    reasons: list[str]  # empty: granted


@dataclass
class SubsidyYear:
    """Year `number` of the subsidy: from `start` to `end` (exclusive), paid once its check is approved."""

    number: int
    start: date
    end: date
    period: str
    status: str = "planned"  # planned | paid | cancelled
    amount: Decimal | None = None
    city_share: Decimal | None = None
    county_share: Decimal | None = None
    confirmed_on: date | None = None
    confirmation_note: str | None = None
    minimum_wage: Decimal | None = None
    minimum_wage_standard: str | None = None
    minimum_wage_on: date | None = None


@dataclass
class GraduateHiringView:
    status: str
    open_task_id: str | None
    policy_version: str | None
    years: list[SubsidyYear] = field(default_factory=list)
    awaiting_confirmation: int | None = None  # the year whose confirmation the subsidy waits for
    employment_ended_on: date | None = None
