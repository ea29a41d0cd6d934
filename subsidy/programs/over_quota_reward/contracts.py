"""The messages of the over-quota employment reward: one dataclass per message, standard library only.

No personal data travels here: an employee is their line in the claim (1-based) with what counts for the rule (how
many persons they count as), never a name, an ID number or a certificate number. Those stay in PostgreSQL (the stored
form and the `people` rows); the activities read them there, under the people's row locks.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from subsidy.workflows.contracts import Actor

OVER_QUOTA_PROGRAM = "over_quota_reward"
OVER_QUOTA_WORKFLOW = "OverQuotaRewardWorkflow"

# Activity names: the workflow calls activities by name so that it never imports database code.
COUNT_EMPLOYEES = "over_quota.count_employees"
HOLD_COUNTED = "over_quota.hold_counted"

REVIEW_STEP = "county_dpf_review"
WITHDRAWN = "withdrawn"
OVER_QUOTA_EVENTS = (WITHDRAWN,)


@dataclass
class OverQuotaInput:
    application_id: str
    program: str
    submitted_by: str
    applied_on: date
    county: str
    year: int
    unit_kind: str  # enterprise | state_funded | concentrated_placement
    staff_total: int
    employee_count: int
    employer_credit_code: str
    # The pinned policy version, as data (`policy.versions.version_to_json`), or None when none was in force.
    policy: dict[str, Any] | None


@dataclass
class CountingRule:
    """The parameters of `version.over_quota` the activities apply (they import no policy version)."""

    quota_ratio: Decimal
    severe_grades: list[int]
    severe_counts_as: int
    fraction_rule: str
    reward_minimum_wage_months: int
    city_share: Decimal


@dataclass
class WageUsed:
    """The monthly minimum wage a claim used (`MinimumWageUsed`), as the audit and the pages show it."""

    monthly: Decimal
    tier: int
    standard: str
    day: date
    document: str = ""


@dataclass
class EmployeeLine:
    line: int  # 1-based, the line of the claim
    counts_as: int  # 1, or `severe_counts_as` for a grade in `severe_grades`
    counted: bool
    reason: str | None = None  # why not counted: counted_by_another_employer


@dataclass
class Figures:
    """What the rules made of a claim: persons counted, persons required by the ratio, the excess, the reward."""

    counted: int
    required: Decimal
    excess: Decimal
    amount: Decimal
    city_share: Decimal
    county_share: Decimal


@dataclass
class CountRequest:
    """Decide the claim at submission: `plan_reasons` refuse it as a whole; else each employee is counted or not."""

    application_id: str
    year: int
    organisation: str
    staff_total: int
    rule: CountingRule
    wage: WageUsed | None
    plan_reasons: list[str]
    policy_version: str | None
    clause: str | None


@dataclass
class CountOutcome:
    eligible: bool
    reasons: list[str]
    lines: list[EmployeeLine] = field(default_factory=list)
    figures: Figures | None = None


@dataclass
class HoldRequest:
    """At approval: hold the counted lines `granted` in the person registry, under the same locks, and say what
    was actually counted (a line taken meanwhile by another employer's approval is not)."""

    application_id: str
    year: int
    organisation: str
    county: str
    staff_total: int
    rule: CountingRule
    wage: WageUsed
    actor: str


@dataclass
class HoldOutcome:
    held: bool  # False: no excess remains, nothing was held
    lines: list[EmployeeLine]
    figures: Figures


@dataclass
class OverQuotaEventInput:
    type: str  # withdrawn
    actor: Actor
    date: dt.date | None = None
    note: str | None = None


@dataclass
class OverQuotaView:
    status: str
    open_task_id: str | None
    policy_version: str | None
    reasons: list[str]
    lines: list[EmployeeLine]
    figures: Figures | None
    wage: WageUsed | None
