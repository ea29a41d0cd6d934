"""The messages between the API, the workflows and the activities: one dataclass per message.

Standard library only, so the API can import it without the worker. No personal data travels here:
the workflow sees the facts the rules need and surrogate ids; names and ID numbers stay in PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

RENT_SUBSIDY_WORKFLOW = "RentSubsidyWorkflow"

# Error types carried by ApplicationError from update validators; the API maps them to HTTP once.
FORBIDDEN = "Forbidden"
CONFLICT = "Conflict"
INVALID = "Invalid"
# The reason code of an INVALID refusal, as its first detail: a verified amount above the declared one.
VERIFIED_ABOVE_DECLARED = "verified_above_declared"


def workflow_id_for(application_id: str) -> str:
    """A workflow id made from the application's surrogate id only: never from an ID number."""
    return f"application-{application_id}"


@dataclass
class Actor:
    """Who sends an update. Temporal does not record it, so it travels in the input and lands in the audit log."""

    username: str
    roles: list[str]
    county: str | None = None


@dataclass
class RentFactsMessage:
    hukou_county: str
    applied_to_county: str
    business_type: str
    license_date: date
    started_on: date
    lease_start: date
    lease_end: date
    monthly_rent: Decimal


@dataclass
class ScheduleMonth:
    period: str
    start: date
    end: date
    amount: Decimal
    city_share: Decimal
    county_share: Decimal
    status: str = "planned"


@dataclass
class DecisionRecord:
    task_id: str
    step: str
    decision: str
    by: str
    at: datetime
    reason: str | None = None


@dataclass
class RentSubsidyState:
    """What survives `continue_as_new`: the rest of the procedure, not its history."""

    status: str
    schedule: list[ScheduleMonth] = field(default_factory=list)
    decisions: list[DecisionRecord] = field(default_factory=list)
    review_round: int = 1
    months_already_used: int = 0


@dataclass
class RentSubsidyInput:
    application_id: str
    program: str
    submitted_by: str
    applied_on: date
    county: str
    person_id: str
    facts: RentFactsMessage
    # The pinned policy version, as data (`policy.versions.version_to_json`), or None when none was in force.
    policy: dict[str, Any] | None
    state: RentSubsidyState | None = None


@dataclass
class DecideInput:
    task_id: str
    decision: str  # approve | reject | return
    actor: Actor
    reason: str | None = None
    values: dict[str, str] = field(default_factory=dict)


@dataclass
class DecideResult:
    task_id: str
    decision: str
    status: str


@dataclass
class EventInput:
    type: str  # withdrawn | business_closed | lease_ended | corrected
    actor: Actor
    date: dt.date | None = None
    corrected: RentFactsMessage | None = None
    note: str | None = None


@dataclass
class EventResult:
    type: str
    status: str


@dataclass
class WorkflowView:
    status: str
    open_task_id: str | None
    policy_version: str | None
    schedule: list[ScheduleMonth]


# ---- activity messages -------------------------------------------------------------------------


@dataclass
class EligibilityRecord:
    application_id: str
    person_id: str
    program: str
    reasons: list[str]
    policy_version: str | None
    clause: str | None
    max_months: int


@dataclass
class EligibilityOutcome:
    eligible: bool
    reasons: list[str]
    months_already_used: int


@dataclass
class OpenTaskInput:
    application_id: str
    workflow_id: str
    program: str
    step: str
    round: int
    role: str
    county: str | None
    due_at: datetime | None
    summary: str
    due_is_estimate: bool = False  # counted Monday to Friday: past the years the official calendar knew


@dataclass
class DecisionToRecord:
    application_id: str
    task_id: str
    step: str
    decision: str
    actor: Actor
    at: datetime
    reason: str | None
    values: dict[str, str]
    new_status: str
    schedule: list[ScheduleMonth] = field(default_factory=list)
    # False for a step that does not settle the round (a filing, a reminder): the other open tasks stay open.
    settles_round: bool = True


@dataclass
class OverdueInput:
    application_id: str
    task_id: str
    escalation: OpenTaskInput


@dataclass
class StatusChange:
    application_id: str
    status: str
    actor: str
    kind: str
    detail: dict[str, Any] = field(default_factory=dict)
    cancel_open_tasks: bool = False
    cancel_planned_months: bool = False
    corrected_facts: RentFactsMessage | None = None


@dataclass
class PaymentInput:
    application_id: str
    program: str
    county: str
    period: str
    amount: Decimal
    city_share: Decimal
    county_share: Decimal


@dataclass
class PaymentResult:
    period: str
    rows_posted: int
