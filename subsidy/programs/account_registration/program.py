"""Account registration: the County DPF verifies whom a new account acts for (subsidy/api/bindings.py).

Sent to POST /api/v1/registrations, never to /applications: nobody applies for it with an application form.
"""

from __future__ import annotations

from subsidy.activities.procedure import ProcedureActivities
from subsidy.api.errors import Invalid
from subsidy.api.schemas import EventIn
from subsidy.db.models import Application
from subsidy.programs.account_registration.activities import RegistrationActivities
from subsidy.programs.account_registration.contracts import (
    ACCOUNT_REGISTRATION_WORKFLOW,
    REGISTRATION_PROGRAM,
    REGISTRATION_STEP,
    RegistrationInput,
)
from subsidy.programs.account_registration.form import RegistrationRecord
from subsidy.programs.account_registration.workflow import AccountRegistrationWorkflow
from subsidy.programs.model import N_, Program, StartContext, Step
from subsidy.workflows.contracts import Actor, EventInput


def registration_input(context: StartContext, form: RegistrationRecord) -> RegistrationInput:
    return RegistrationInput(
        application_id=context.application_id,
        program=form.program,
        submitted_by=context.submitted_by,
        county=context.county,
        kind=form.kind,
    )


def registration_event(application: Application, event: EventIn, actor: Actor) -> EventInput:
    raise Invalid("type", "a registration has no events: the County DPF verifies or rejects it")


PROGRAM = Program(
    code=REGISTRATION_PROGRAM,
    title=N_("Account registration"),
    form=RegistrationRecord,
    applicant_roles=(),
    workflow=ACCOUNT_REGISTRATION_WORKFLOW,
    person=lambda form: None,
    county=lambda form: form.county,
    workflow_input=registration_input,
    event_input=registration_event,
    terminal_statuses=("approved", "rejected"),  # the workflow ends with the County DPF's decision
    steps=(
        Step(
            REGISTRATION_STEP,
            "county_dpf",
            N_("County DPF verification of an account registration"),
            acts=(("approve", N_("Verify and bind the account")), ("reject", N_("Reject"))),
        ),
    ),
    workflow_classes=(AccountRegistrationWorkflow,),
    pages="subsidy.programs.account_registration.pages",
    activities=(ProcedureActivities, RegistrationActivities),
)
