"""The messages of the blind massage practitioners' insurance subsidy: one dataclass per message, standard library only.

No personal data travels here: the practitioner is their `people` row id, the certificate only its category digit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from subsidy.workflows.contracts import ScheduleMonth

BLIND_MASSAGE_WORKFLOW = "BlindMassageInsuranceWorkflow"
PROGRAM = "blind_massage_insurance_subsidy"

CHECK_MASSAGE_CLAIM = "blind_massage.check"

REVIEW_STEP = "review"
WITHDRAWN = "withdrawn"
MASSAGE_EVENTS = (WITHDRAWN,)
VERIFIED_VALUE = "insurance_verified"


@dataclass
class BlindMassageInput:
    application_id: str
    program: str
    submitted_by: str
    applied_on: date
    county: str  # the practitioner's household registration, whose County DPF decides
    person_id: str
    year: int
    insurance_paid: Decimal
    disability_category: int  # the certificate's category digit (1: visual)
    policy: dict[str, Any] | None


@dataclass
class MassageCheck:
    """The pure rules' reasons, and under the person's lock: the year's claim, and the years already subsidised."""

    application_id: str
    person_id: str
    year: int
    reasons: list[str]
    max_years_per_person: int
    policy_version: str | None
    clause: str | None


@dataclass
class MassageOutcome:
    eligible: bool
    reasons: list[str]
    years_before: int


@dataclass
class MassageView:
    status: str
    open_task_id: str | None
    policy_version: str | None
    years_before: int | None
    payment: ScheduleMonth | None
