"""The messages of program P (public-welfare posts and placements) and of the flexible-employment insurance subsidy.

Standard library only, like `contracts.py`, whose shared messages (`Actor`, `DecideInput`, `DecideResult`,
`EventInput`, `EventResult`, `OpenTaskInput`, `DecisionToRecord`, `StatusChange`, `WorkflowView`) these
procedures use as they are. No personal data travels here: a person is a surrogate id plus the facts the rules
need (sex, birth date, hardship flags); names and ID numbers stay in PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from subsidy.workflows.contracts import DecisionRecord, OpenTaskInput

PUBLIC_WELFARE_POST_WORKFLOW = "PublicWelfarePostWorkflow"
POST_COLLECTION_WORKFLOW = "PostCollectionWorkflow"
PUBLIC_WELFARE_PLACEMENT_WORKFLOW = "PublicWelfarePlacementWorkflow"
FLEXIBLE_INSURANCE_WORKFLOW = "FlexibleEmploymentInsuranceWorkflow"

POST_PROGRAM = "public_welfare_post"
COLLECTION_PROGRAM = "public_welfare_post_collection"
PLACEMENT_PROGRAM = "public_welfare_placement"
FLEXIBLE_PROGRAM = "flexible_employment_insurance_subsidy"

# Ledger items of a placement month (the ledger's default item, for one-kind programs, is "subsidy").
POST_SUBSIDY_ITEM = "post_subsidy"
SOCIAL_INSURANCE_ITEM = "social_insurance"


def collection_workflow_id(county: str, year: int) -> str:
    """One collection per county and year; the id names nothing but the county code and the year."""
    return f"post-collection-{county}-{year}"


# ---- post declaration ------------------------------------------------------------------------------


@dataclass
class PostMessage:
    number: int
    title: str
    category: str
    places: int
    monthly_wage: Decimal


@dataclass
class PostDeclarationInput:
    application_id: str
    program: str
    submitted_by: str
    applied_on: date
    county: str
    year: int
    employer_credit_code: str
    posts: list[PostMessage]
    policy: dict[str, Any] | None
    status: str = "submitted"


@dataclass
class DeclarationRecord:
    application_id: str
    county: str
    year: int
    employer_credit_code: str
    posts: list[PostMessage]
    reasons: list[str]
    policy_version: str | None
    clause: str | None


@dataclass
class DeclarationOutcome:
    eligible: bool
    reasons: list[str]


@dataclass
class CollectionEntry:
    """A declaration in the County DPF's yearly collection."""

    application_id: str
    workflow_id: str
    posts: int
    places: int


@dataclass
class JoinCollection:
    county: str
    year: int
    policy_version: str | None
    entry: CollectionEntry


@dataclass
class Collected:
    """The County DPF's answer to a declaration: reported to County HR, or refused with a reason."""

    reported: bool
    by: str
    reason: str | None = None


@dataclass
class SettlePosts:
    application_id: str
    approved: list[int]
    rejected: list[int]
    at: datetime
    withdrawn: bool = False  # every post still declared is withdrawn with the declaration


# ---- the County DPF's yearly collection ---------------------------------------------------------------


@dataclass
class CollectionState:
    status: str = "under_review"
    pending: list[CollectionEntry] = field(default_factory=list)
    reported: list[CollectionEntry] = field(default_factory=list)
    decisions: list[DecisionRecord] = field(default_factory=list)
    round: int = 1


@dataclass
class PostCollectionInput:
    collection_id: str
    county: str
    year: int
    first_round: int
    closes_on: date  # the collection of a year takes declarations until the year is over
    state: CollectionState | None = None


@dataclass
class ReportCollection:
    entries: list[CollectionEntry]
    collected: Collected


@dataclass
class TaskSummary:
    task_id: str
    summary: str


# ---- placement ----------------------------------------------------------------------------------------


@dataclass
class PlacementMonthMessage:
    period: str
    start: date
    end: date
    post_subsidy: Decimal
    social_insurance: Decimal
    post_city: Decimal
    post_county: Decimal
    insurance_city: Decimal
    insurance_county: Decimal
    status: str = "planned"

    @property
    def amount(self) -> Decimal:
        return self.post_subsidy + self.social_insurance

    @property
    def city_share(self) -> Decimal:
        return self.post_city + self.insurance_city

    @property
    def county_share(self) -> Decimal:
        return self.post_county + self.insurance_county


@dataclass
class PlacementState:
    """What survives `continue_as_new`."""

    status: str
    schedule: list[PlacementMonthMessage] = field(default_factory=list)
    decisions: list[DecisionRecord] = field(default_factory=list)
    open_tasks: dict[str, OpenTaskInput] = field(default_factory=dict)
    review_round: int = 1
    sequence: int = 0
    post_id: str | None = None
    override_signers: list[str] = field(default_factory=list)
    publicity_from: date | None = None
    publicity_until: date | None = None
    filing_task_id: str | None = None
    filed: bool = False


@dataclass
class PlacementInput:
    application_id: str
    program: str
    submitted_by: str
    applied_on: date
    county: str  # the post's county
    person_id: str
    post_application_id: str
    post_number: int
    start_date: date
    sex: str
    birth_date: date
    female_category: str | None
    severe_disability: bool
    special_hardship: bool
    policy: dict[str, Any] | None
    # The submitter's written request for a City override of the placement cap, if any.
    override_reason: str | None = None
    state: PlacementState | None = None


@dataclass
class PlacementCheck:
    application_id: str
    person_id: str
    post_application_id: str
    post_number: int
    start_date: date
    reasons: list[str]  # those the pure rules found
    severe_disability: bool
    special_hardship: bool
    max_placements: int
    override_requested: bool
    policy_version: str | None
    clause: str | None


@dataclass
class PlacementCheckOutcome:
    eligible: bool
    reasons: list[str]
    post_id: str | None
    sequence: int
    # The cap alone stands in the way and the submitter asked for a City override.
    needs_override: bool = False


@dataclass
class PlacementClaim:
    """HR's approval takes the place: every cross-application rule again, under the person's and the post's locks."""

    application_id: str
    person_id: str
    post_id: str
    severe_disability: bool
    special_hardship: bool
    max_placements: int
    override_granted: bool
    publicity_from: date
    publicity_until: date


@dataclass
class ClaimResult:
    reasons: list[str]


@dataclass
class PlacementActivation:
    application_id: str
    schedule: list[PlacementMonthMessage]
    period_end: date
    retirement_on: date
    extended_to_retirement: bool


@dataclass
class PlacementPayment:
    application_id: str
    program: str
    county: str
    month: PlacementMonthMessage


# ---- flexible-employment insurance subsidy --------------------------------------------------------------


@dataclass
class FlexibleInsuranceState:
    status: str
    decisions: list[DecisionRecord] = field(default_factory=list)
    open_tasks: dict[str, OpenTaskInput] = field(default_factory=dict)


@dataclass
class FlexibleInsuranceInput:
    application_id: str
    program: str
    submitted_by: str
    applied_on: date
    county: str
    person_id: str
    start_date: date
    policy: dict[str, Any] | None


@dataclass
class EntitlementCheck:
    """The flexible-employment subsidy's one cross-application rule, under the person's row lock."""

    application_id: str
    person_id: str
    reasons: list[str]
    policy_version: str | None
    clause: str | None


@dataclass
class EntitlementOutcome:
    eligible: bool
    reasons: list[str]


@dataclass
class EntitlementClaim:
    application_id: str
    person_id: str
