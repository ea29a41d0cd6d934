"""The programs the API can start: each names its form, who may apply, its workflow and how to build its input.

Submission itself (idempotency, the application row, the audit record, starting the workflow) is written once in
`procedures.submit_application`; a program only says what differs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from pydantic import BaseModel, Field

from subsidy.api.errors import Invalid
from subsidy.api.schemas import EventIn
from subsidy.db.models import Application
from subsidy.forms.rent_subsidy import RentSubsidyForm, corrected_rent_facts
from subsidy.workflows.contracts import RENT_SUBSIDY_WORKFLOW, Actor, EventInput, RentSubsidyInput


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
    elif event.corrected is not None:
        raise Invalid("corrected", f"a {event.type} event carries no corrections")
    return EventInput(type=event.type, actor=actor, date=event.date, corrected=corrected, note=event.note)


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
)

PROGRAMS: dict[str, Program] = {program.code: program for program in (RENT_SUBSIDY,)}

# The body of POST /api/v1/applications: one form per program, told apart by `program`.
# A program with a single form still goes through the union so that adding one changes only this line.
ApplicationForm = Annotated[RentSubsidyForm, Field(discriminator="program")]
