"""The programs the API can start: each names its form, who may apply, its workflow and how to build its input.

Submission itself (idempotency, the application row, the audit record, starting the workflow) is written once in
`procedures.submit_application`; a program only says what differs.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Annotated, Any

from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from subsidy.api import public_welfare
from subsidy.api.errors import Invalid
from subsidy.api.schemas import EventIn
from subsidy.api.training import training_event, training_input
from subsidy.db.models import Application
from subsidy.forms.public_welfare import (
    FlexibleInsuranceForm,
    PostCollectionForm,
    PublicWelfarePlacementForm,
    PublicWelfarePostForm,
)
from subsidy.forms.rent_subsidy import RentSubsidyForm, corrected_rent_facts
from subsidy.forms.training_subsidy import TrainingSubsidyForm
from subsidy.workflows.contracts import RENT_SUBSIDY_WORKFLOW, Actor, EventInput, RentSubsidyInput
from subsidy.workflows.placement_contracts import (
    FLEXIBLE_INSURANCE_WORKFLOW,
    POST_COLLECTION_WORKFLOW,
    PUBLIC_WELFARE_PLACEMENT_WORKFLOW,
    PUBLIC_WELFARE_POST_WORKFLOW,
)
from subsidy.workflows.training_contracts import TRAINING_SUBSIDY_WORKFLOW


@dataclass(frozen=True)
class StartContext:
    """What every workflow input is made of, besides the form."""

    application_id: str
    submitted_by: str
    applied_on: date
    county: str
    person_id: str | None
    policy: dict[str, Any] | None


@dataclass(frozen=True)
class Program:
    code: str
    form: type[BaseModel]
    applicant_roles: tuple[str, ...]
    workflow: str
    # The person whose entitlement the application concerns, as (id_number, name); None for class or post plans.
    person: Callable[[Any], tuple[str, str] | None]
    county: Callable[[Any], str]
    workflow_input: Callable[[StartContext, Any], Any]
    # The argument of the workflow's `event` update for an API event (raise `Invalid` for one that does not apply).
    event_input: Callable[[Application, EventIn, Actor], Any]
    # Checks that need the database, run in the submission's transaction after the person's row is written (and
    # so locked): raise a ServiceError to refuse, e.g. 409 for an entitlement that excludes this one. Returns the
    # county when the form alone does not name it (a placement's is its post's), else None.
    admit: Callable[[AsyncSession, Any, uuid.UUID | None, str], Awaitable[str | None]] | None = None
    # The fields an event of each type may carry besides `type`, `date` and `note` (e.g. a rent correction's
    # `corrected`); any other field given is refused, naming it, rather than silently dropped.
    event_fields: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # The statuses in which the procedure has ended: nothing more can happen, and its history can be archived.
    terminal_statuses: tuple[str, ...] = ("rejected", "completed", "terminated", "withdrawn")

    def event(self, application: Application, event: EventIn, actor: Actor) -> Any:
        """The argument of the workflow's `event` update, after refusing any field this event does not use."""
        allowed = {"type", "date", "note", *self.event_fields.get(event.type, ())}
        for name in EventIn.model_fields:
            if name not in allowed and getattr(event, name) is not None:
                raise Invalid(name, f"{name} is not a field of a {event.type} event of {self.code}")
        return self.event_input(application, event, actor)


def _rent_input(context: StartContext, form: RentSubsidyForm) -> RentSubsidyInput:
    assert context.person_id is not None
    return RentSubsidyInput(
        application_id=context.application_id,
        program=form.program,
        submitted_by=context.submitted_by,
        applied_on=context.applied_on,
        county=context.county,
        person_id=context.person_id,
        facts=form.facts(),
        policy=context.policy,
    )


def _rent_event(application: Application, event: EventIn, actor: Actor) -> EventInput:
    if event.type not in RENT_EVENTS:
        raise Invalid("type", f"{event.type} is not an event of the rent subsidy")
    corrected = None
    if event.type == "corrected":
        if event.corrected is None:
            raise Invalid("corrected", "the corrected fields are required")
        corrected = corrected_rent_facts(application.form, event.corrected)
        if application.county and {corrected.applied_to_county, corrected.hukou_county} != {application.county}:
            # The application's tasks, reviewers and budget belong to the county it was filed in; moving it would
            # leave the new county unaware and pay from the old one's budget. The person applies there afresh.
            raise Invalid("corrected.hukou_county", COUNTY_CHANGE_NOT_ALLOWED_MESSAGE)
    elif event.corrected is not None:
        raise Invalid("corrected", f"a {event.type} event carries no corrections")
    return EventInput(type=event.type, actor=actor, date=event.date, corrected=corrected, note=event.note)


COUNTY_CHANGE_NOT_ALLOWED = "county_change_not_allowed"
COUNTY_CHANGE_NOT_ALLOWED_MESSAGE = (
    f"{COUNTY_CHANGE_NOT_ALLOWED}: a correction cannot move the application to another county; withdraw it and "
    "apply to the County DPF of the new household registration"
)

RENT_EVENTS = ("withdrawn", "business_closed", "lease_ended", "corrected")

RENT_SUBSIDY = Program(
    code="rent_subsidy",
    form=RentSubsidyForm,
    applicant_roles=("applicant",),
    workflow=RENT_SUBSIDY_WORKFLOW,
    person=lambda form: (form.applicant.id_number, form.applicant.name),
    county=lambda form: form.applied_to_county,
    workflow_input=_rent_input,
    event_input=_rent_event,
    event_fields={"corrected": ("corrected",)},
)

TRAINING_SUBSIDY = Program(
    code="training_subsidy",
    form=TrainingSubsidyForm,
    applicant_roles=("provider",),
    workflow=TRAINING_SUBSIDY_WORKFLOW,
    person=lambda form: None,  # a class has many trainees: the workflow's first activity records them
    county=lambda form: form.county,
    workflow_input=training_input,
    event_input=training_event,
    event_fields={"completion_report": ("attendance", "actual_cost")},
)

PUBLIC_WELFARE_POST = Program(
    code="public_welfare_post",
    form=PublicWelfarePostForm,
    applicant_roles=("employer",),
    workflow=PUBLIC_WELFARE_POST_WORKFLOW,
    person=lambda form: None,  # an employer's posts: no person's entitlement
    county=lambda form: form.county,
    workflow_input=public_welfare.post_input,
    event_input=public_welfare.post_event,
    terminal_statuses=("approved", "rejected", "withdrawn"),  # an approved declaration's posts live on as places
)

# The County DPF's yearly collection: a row and a workflow that declarations open; nobody submits it.
PUBLIC_WELFARE_POST_COLLECTION = Program(
    code="public_welfare_post_collection",
    form=PostCollectionForm,
    applicant_roles=(),
    workflow=POST_COLLECTION_WORKFLOW,
    person=lambda form: None,
    county=lambda form: form.county,
    workflow_input=public_welfare.collection_input,
    event_input=public_welfare.collection_event,
    terminal_statuses=("completed",),
)

PUBLIC_WELFARE_PLACEMENT = Program(
    code="public_welfare_placement",
    form=PublicWelfarePlacementForm,
    applicant_roles=("employer",),
    workflow=PUBLIC_WELFARE_PLACEMENT_WORKFLOW,
    person=lambda form: (form.person.id_number, form.person.name),
    county=lambda form: "",  # the post's county, which `admit` finds
    workflow_input=public_welfare.placement_input,
    event_input=public_welfare.placement_event,
    admit=public_welfare.admit_placement,
)

FLEXIBLE_EMPLOYMENT_INSURANCE_SUBSIDY = Program(
    code="flexible_employment_insurance_subsidy",
    form=FlexibleInsuranceForm,
    applicant_roles=("applicant",),
    workflow=FLEXIBLE_INSURANCE_WORKFLOW,
    person=lambda form: (form.person.id_number, form.person.name),
    county=lambda form: form.applied_to_county,
    workflow_input=public_welfare.flexible_input,
    event_input=public_welfare.flexible_event,
    admit=public_welfare.admit_flexible,
    terminal_statuses=("rejected", "terminated", "withdrawn"),  # the subsidy runs until the employment ends
)

PROGRAMS: dict[str, Program] = {
    program.code: program
    for program in (
        RENT_SUBSIDY,
        TRAINING_SUBSIDY,
        PUBLIC_WELFARE_POST,
        PUBLIC_WELFARE_POST_COLLECTION,
        PUBLIC_WELFARE_PLACEMENT,
        FLEXIBLE_EMPLOYMENT_INSURANCE_SUBSIDY,
    )
}



def is_terminal(program: str, status: str) -> bool:
    found = PROGRAMS.get(program)
    return found is not None and status in found.terminal_statuses


# The body of POST /api/v1/applications: one form per program, told apart by `program`.
# A program with a single form still goes through the union so that adding one changes only this line.
ApplicationForm = Annotated[
    RentSubsidyForm | TrainingSubsidyForm | PublicWelfarePostForm | PublicWelfarePlacementForm | FlexibleInsuranceForm,
    Field(discriminator="program"),
]
