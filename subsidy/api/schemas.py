"""Response and request bodies of the JSON API (API.md). Money is a string with two decimals."""

from __future__ import annotations

import datetime as dt
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

from subsidy.api.value_formats import APPROVED_ON_PATTERN, REJECTED_POSTS_PATTERN
from subsidy.forms.text import PlainText
from subsidy.programs.rent_subsidy.form import MoneyText, RentCorrection, ResidentIdText

MoneyOut = Annotated[Decimal, PlainSerializer(lambda v: f"{v:.2f}", return_type=str, when_used="always")]


class Health(BaseModel):
    status: str
    database: str
    temporal: str
    # "next_year_unknown" from 1 November while next year's official calendar is not loaded, "next_year_example" while
    # it is known only from an example file (status stays "ok").
    calendar: Literal["ok", "next_year_unknown", "next_year_example"] = "ok"
    calendar_warning: str | None = None


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"


class ActsFor(BaseModel):
    """Whom the account acts for: a person (ID number masked) or an organisation (credit code)."""

    kind: Literal["person", "employer", "provider", "agency"]
    name: str
    status: Literal["pending", "verified", "rejected"]
    id_number_masked: str | None = None
    credit_code: str | None = None


class Me(BaseModel):
    username: str
    roles: list[str]
    county: str | None
    # True after an administrator's reset: only POST /api/v1/auth/change-password (and logout) is allowed.
    must_change_password: bool = False
    acts_for: ActsFor | None = Field(default=None, description="null for officials")


class RegistrationCreated(BaseModel):
    id: str
    status: Literal["pending"]


class RegistrationOut(BaseModel):
    """A registration as its account and the County DPF of its county see it."""

    id: str
    status: Literal["pending", "verified", "rejected"]
    username: str
    kind: Literal["person", "employer", "provider", "agency"]
    name: str
    county: str
    id_number_masked: str | None = None
    disability_cert_number: str | None = Field(default=None, description="shown to the verifying County DPF only")
    credit_code: str | None = None
    reason: str | None = Field(default=None, description="why the County DPF refused it")
    decided_by: str | None = None
    submitted_at: datetime


class Eligibility(BaseModel):
    eligible: bool
    reasons: list[str]


class DecisionOut(BaseModel):
    step: str
    decision: str
    by: str
    at: datetime
    reason: str | None


class ScheduleRow(BaseModel):
    period: str
    start: date
    end: date
    amount: MoneyOut
    city_share: MoneyOut
    county_share: MoneyOut
    status: str


class Totals(BaseModel):
    paid: MoneyOut = Field(description="confirmed paid by the bank")
    due: MoneyOut = Field(description="owed for the periods ended so far (the ledger, net of recoveries)")
    city: MoneyOut = Field(description="the city's part of `due`")
    county: MoneyOut = Field(description="the county's part of `due`")
    planned: MoneyOut
    cancelled: MoneyOut


class ApplicationOut(BaseModel):
    id: str
    program: str
    status: str
    county: str
    policy_version: str | None
    submitted_at: datetime
    submitted_by: str
    applicant: dict[str, str] = Field(description="name and masked ID number of the person concerned")
    eligibility: Eligibility | None
    decisions: list[DecisionOut]
    schedule: list[ScheduleRow]
    totals: Totals


class ApplicationSummary(BaseModel):
    id: str
    program: str
    status: str
    county: str
    policy_version: str | None
    submitted_at: datetime
    submitted_by: str
    applicant: dict[str, str]


class AttendanceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id_number: ResidentIdText
    hours: Annotated[int, Field(ge=0, le=10_000)]


class EventIn(BaseModel):
    """An event of API.md; each program accepts the types that apply to it (others get 422)."""

    model_config = ConfigDict(extra="forbid")

    type: Literal[
        "withdrawn",
        "business_closed",
        "lease_ended",
        "corrected",
        "objection",
        "completion_report",
        "employment_confirmed",
        "employment_ended",
    ]
    date: dt.date | None = None
    note: Annotated[str, Field(max_length=2000), PlainText] | None = None
    corrected: RentCorrection | None = None
    attendance: Annotated[list[AttendanceIn], Field(max_length=500)] | None = None
    actual_cost: MoneyText | None = None


class TaskOut(BaseModel):
    id: str
    application_id: str
    program: str
    step: str
    role: str
    county: str | None
    status: str
    overdue: bool
    claimed_by: str | None
    created_at: datetime
    due_at: datetime | None
    # Counted Monday to Friday: the days ran past the years the official calendar knew.
    due_is_estimate: bool = False
    summary: str


class DecisionValues(BaseModel):
    """What the official verified. Each step takes only its own values (others: 422 `unknown_value`)."""

    model_config = ConfigDict(extra="forbid")

    monthly_rent: MoneyText | None = Field(
        default=None,
        description="rent subsidy, steps county_review and city_escalation: the verified monthly rent, required to"
        " approve, at most the declared one (422 `verified_above_declared`)",
    )
    rejected_posts: Annotated[str, Field(max_length=200, pattern=REJECTED_POSTS_PATTERN)] | None = Field(
        default=None,
        description="public_welfare_post, step hr_approval: the numbers of the posts rejected (from 1, comma"
        " separated, e.g. 2,3), not all of them",
    )
    insurance_verified: MoneyText | None = Field(
        default=None,
        description="blind_massage_insurance_subsidy, step review: the social insurance actually paid for the year, as"
        " verified; required to approve, at most the declared amount (422 `verified_above_declared`)",
    )
    approved_on: Annotated[str, Field(max_length=10, pattern=APPROVED_ON_PATTERN)] | None = Field(
        default=None,
        description="public_welfare_placement, step hr_approval: the day the approval was decided on paper"
        " (YYYY-MM-DD, a real day between the application day and today; default today)",
    )


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Literal["approve", "reject", "return"]
    reason: Annotated[str, Field(max_length=2000), PlainText] | None = None
    values: DecisionValues = Field(
        default_factory=DecisionValues,
        description='what the official verified, e.g. {"monthly_rent": "1200.00"}',
    )


class DecisionOutcome(BaseModel):
    task: TaskOut
    application: ApplicationOut


class LedgerRow(BaseModel):
    application_id: str
    period: str
    funder: str
    item: str = Field(default="subsidy", description="post_subsidy or social_insurance for a placement")
    county: str
    program: str
    amount: MoneyOut
    posted_at: datetime


class PolicyOut(BaseModel):
    id: str = Field(description="the version's id in /api/v1/policies/{id}: its code")
    code: str
    jurisdiction: str
    valid_from: date
    valid_to: date | None = Field(description="the window in force: a newer version's approval may have closed it")
    parameters: dict[str, Any] = Field(description="the version exactly as loaded (what a workflow pins)")
    status: str = Field(description="pending, approved (only these apply) or rejected")
    loaded_by: str
    loaded_at: datetime
    approved_by: str | None
    approved_at: datetime | None
    rejected_by: str | None
    rejected_at: datetime | None
    rejection_reason: str | None
    source: str | None = Field(description="the file it was loaded from")
    difference: list[dict[str, Any]] | None = Field(
        description="{path, in_force, proposed} against the version in force when it was loaded"
    )
