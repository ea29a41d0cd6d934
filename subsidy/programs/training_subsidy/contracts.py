"""The messages of the training subsidy (program T): one dataclass per message, standard library only.

The shared messages (`Actor`, `DecideInput`, `DecideResult`, `EventResult`, the task, decision, status and
payment messages of the generic activities) stay in `contracts.py`; this module adds what is new for a class.

No personal data travels here: a trainee is their line in the class plan (0-based), never a name or an ID
number. Names and ID numbers stay in PostgreSQL (the stored form and the `people` rows), and the API turns the
ID numbers of an attendance list into lines before the workflow sees it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from subsidy.workflows.contracts import Actor

TRAINING_SUBSIDY_WORKFLOW = "TrainingSubsidyWorkflow"

# Activity names: the workflow calls activities by name so that it never imports database code.
ENROL_TRAINEES = "training.enrol_trainees"
RECORD_COMPLETION = "training.record_completion"
RELEASE_ENROLMENTS = "training.release_enrolments"

PLAN_REVIEW_STEP = "plan_review"
COMPLETION_REVIEW_STEP = "completion_review"
COMPLETION_REPORT = "completion_report"
WITHDRAWN = "withdrawn"
TRAINING_EVENTS = (COMPLETION_REPORT, WITHDRAWN)


@dataclass
class CourseMessage:
    code: str
    title: str
    level: str
    kind: str  # vocational | rural_practical
    start_date: date
    end_date: date
    class_days: int
    class_hours: int


@dataclass
class AttendanceLine:
    line: int  # the trainee's position in the class plan
    hours: int


@dataclass
class TrainingReport:
    """The provider's completion report as the workflow accepted it, with what the rules made of it."""

    reported_by: str
    at: datetime
    actual_cost: Decimal
    attendance: list[AttendanceLine]
    qualified_lines: list[int]
    reimbursement: Decimal
    city_share: Decimal
    county_share: Decimal


@dataclass
class TrainingSubsidyInput:
    application_id: str
    program: str
    submitted_by: str
    applied_on: date
    county: str
    course: CourseMessage
    trainee_count: int
    planned_cost: Decimal
    # The pinned policy version, as data (`policy.versions.version_to_json`), or None when none was in force.
    policy: dict[str, Any] | None


@dataclass
class TrainingEventInput:
    type: str  # completion_report | withdrawn
    actor: Actor
    date: dt.date | None = None
    attendance: list[AttendanceLine] = field(default_factory=list)
    actual_cost: Decimal | None = None
    note: str | None = None


@dataclass
class TrainingView:
    status: str
    open_task_id: str | None
    policy_version: str | None
    enrolled_lines: list[int]
    excluded_lines: list[int]
    report_deadline: datetime | None
    report: TrainingReport | None


# ---- activity messages -------------------------------------------------------------------------


@dataclass
class EnrolmentRequest:
    """Decide the class: `plan_reasons` refuse it as a whole; otherwise each trainee is checked against their limits."""

    application_id: str
    county: str
    course: CourseMessage
    planned_cost: Decimal
    plan_reasons: list[str]
    policy_version: str | None
    clause: str | None
    max_trainings_per_year: int
    same_course_level_window_months: int


@dataclass
class TraineeOutcome:
    line: int
    enrolled: bool
    reasons: list[str]


@dataclass
class EnrolmentOutcome:
    eligible: bool
    reasons: list[str]
    trainees: list[TraineeOutcome]


@dataclass
class CompletionRecord:
    application_id: str
    report: TrainingReport


@dataclass
class ReleaseRequest:
    """Give the trainees' places back: the class will not be paid, so it is not a subsidised training for them."""

    application_id: str
    reason: str
    actor: str
