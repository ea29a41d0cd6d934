"""The API side of the rent subsidy: its workflow input, and its events in the workflow's terms."""

from __future__ import annotations

from subsidy.api.errors import Invalid
from subsidy.api.schemas import EventIn
from subsidy.db.models import Application
from subsidy.programs.model import StartContext
from subsidy.programs.rent_subsidy.form import RentSubsidyForm, corrected_rent_facts
from subsidy.workflows.contracts import Actor, EventInput, RentSubsidyInput

COUNTY_CHANGE_NOT_ALLOWED = "county_change_not_allowed"
COUNTY_CHANGE_NOT_ALLOWED_MESSAGE = (
    f"{COUNTY_CHANGE_NOT_ALLOWED}: a correction cannot move the application to another county; withdraw it and "
    "apply to the County DPF of the new household registration"
)

RENT_EVENTS = ("withdrawn", "business_closed", "lease_ended", "corrected")


def rent_input(context: StartContext, form: RentSubsidyForm) -> RentSubsidyInput:
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


def rent_event(application: Application, event: EventIn, actor: Actor) -> EventInput:
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
