"""The API side of the blind massage subsidy: its workflow input, its events, and its year held at submission.

`admit` runs in the submission's transaction with the person's row locked: it holds the person registry's
`subsidised` record of the year claimed, so a second claim of the same year is refused with 409
`already_claimed_this_year` (a year from the federation's register too) until the first ends unpaid.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from subsidy.api.errors import Conflict, Invalid
from subsidy.api.schemas import EventIn
from subsidy.db.models import Application
from subsidy.db.person_claims import AT_SUBMISSION
from subsidy.db.person_holds import lock_person
from subsidy.db.person_records import hold, year_key
from subsidy.programs.blind_massage_insurance_subsidy.contracts import MASSAGE_EVENTS, PROGRAM, BlindMassageInput
from subsidy.programs.blind_massage_insurance_subsidy.form import BlindMassageForm
from subsidy.programs.blind_massage_insurance_subsidy.rules import ALREADY_CLAIMED_THIS_YEAR
from subsidy.programs.model import StartContext
from subsidy.workflows.contracts import Actor, EventInput


def massage_input(context: StartContext, form: BlindMassageForm) -> BlindMassageInput:
    assert context.person_id is not None
    return BlindMassageInput(
        application_id=context.application_id,
        program=form.program,
        submitted_by=context.submitted_by,
        applied_on=context.applied_on,
        county=context.county,
        person_id=context.person_id,
        year=form.year,
        insurance_paid=form.paid(),
        disability_category=form.disability_category,
        policy=context.policy,
    )


def massage_event(application: Application, event: EventIn, actor: Actor) -> EventInput:
    if event.type not in MASSAGE_EVENTS:
        raise Invalid("type", f"{event.type} is not an event of the blind massage insurance subsidy")
    return EventInput(type=event.type, actor=actor, date=event.date, note=event.note)


async def admit_massage(
    session: AsyncSession, form: BlindMassageForm, person_id: uuid.UUID | None, username: str
) -> str | None:
    assert person_id is not None
    await lock_person(session, person_id)
    held = await hold(
        session,
        person_id=person_id,
        program=PROGRAM,
        kind="subsidised",
        key=year_key(form.year),
        county=form.applied_to_county,
        status="claimed",
        recorded_by=username,
        year=form.year,
        source=AT_SUBMISSION,
    )
    if not held:
        raise Conflict(f"{ALREADY_CLAIMED_THIS_YEAR}: the subsidy for {form.year} is already claimed or was paid")
    return None
