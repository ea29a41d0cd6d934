"""The messages of the dispatch referral reward: one dataclass per message, standard library only.

No personal data travels here: the person is their `people` row id; the employment is the employer's credit code
and the contract's dates (the key of the person registry's `referred` record).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from subsidy.workflows.contracts import ScheduleMonth

DISPATCH_REFERRAL_WORKFLOW = "DispatchReferralWorkflow"
PROGRAM = "dispatch_referral_reward"

# Activity names: the workflow calls activities by name so that it never imports database code.
CHECK_REFERRAL = "dispatch_referral.check"

EMPLOYMENT_CHECK_STEP = "employment_check"
EMPLOYMENT_ENDED = "employment_ended"
WITHDRAWN = "withdrawn"
REFERRAL_EVENTS = (EMPLOYMENT_ENDED, WITHDRAWN)


@dataclass
class DispatchReferralInput:
    application_id: str
    program: str
    submitted_by: str
    applied_on: date
    county: str
    person_id: str
    employer_credit_code: str
    contract_start: date
    contract_end: date
    # The pinned policy version, as data (`policy.versions.version_to_json`), or None when none was in force.
    policy: dict[str, Any] | None


@dataclass
class ReferralCheck:
    """The referral's rules: the pure ones (`reasons`), and under the person's lock the claim `admit` held."""

    application_id: str
    person_id: str
    employer_credit_code: str
    contract_start: date
    reasons: list[str]
    policy_version: str | None
    clause: str | None
    year_ends_on: date | None


@dataclass
class ReferralOutcome:
    eligible: bool
    reasons: list[str]


@dataclass
class ReferralView:
    status: str
    open_task_id: str | None
    policy_version: str | None
    year_ends_on: date | None
    ended_because: str | None
    payment: ScheduleMonth | None
    check_opened_at: datetime | None = None
    reward: Decimal | None = None
