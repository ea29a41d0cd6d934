"""The API side of the graduate hiring subsidy: its workflow input, its events, and its admission.

Admission runs in the submission's transaction with the person's row locked, before the application row is written:
a person whose public-welfare placement holds a place is refused `exclusive_with_public_welfare_post`, and a person
with a graduate hiring subsidy pending or running (or this very employment subsidised before) is refused
`already_has_graduate_hiring_subsidy`, both 409. The workflow's first step checks again under the same lock and
claims the employment in the person registry.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from subsidy.api.errors import Conflict, Invalid
from subsidy.api.schemas import EventIn
from subsidy.db.models import Application
from subsidy.db.person_holds import lock_person
from subsidy.db.person_records import employment_key
from subsidy.programs.graduate_hiring_subsidy.activities import standing_reasons
from subsidy.programs.graduate_hiring_subsidy.contracts import GRADUATE_HIRING_EVENTS, GraduateHiringInput
from subsidy.programs.graduate_hiring_subsidy.form import GraduateHiringForm
from subsidy.programs.graduate_hiring_subsidy.rules import (
    ALREADY_HAS_GRADUATE_HIRING_SUBSIDY,
    EXCLUSIVE_WITH_PUBLIC_WELFARE_POST,
)
from subsidy.programs.model import StartContext
from subsidy.workflows.contracts import Actor, EventInput

REFUSALS = {
    EXCLUSIVE_WITH_PUBLIC_WELFARE_POST: "the person holds a public-welfare post, whose subsidy excludes the graduate "
    "hiring subsidy",
    ALREADY_HAS_GRADUATE_HIRING_SUBSIDY: "the person already has a graduate hiring subsidy pending or running (or "
    "this employment was subsidised already)",
}


def graduate_input(context: StartContext, form: GraduateHiringForm) -> GraduateHiringInput:
    assert context.person_id is not None
    return GraduateHiringInput(
        application_id=context.application_id,
        program=form.program,
        submitted_by=context.submitted_by,
        applied_on=context.applied_on,
        county=context.county,
        person_id=context.person_id,
        employer_credit_code=form.employer.credit_code,
        graduated_on=form.graduated_on,
        contract_start=form.contract.start_date,
        contract_end=form.contract.end_date,
        social_insurance_from=form.social_insurance_from,
        policy=context.policy,
    )


def graduate_event(application: Application, event: EventIn, actor: Actor) -> EventInput:
    if event.type not in GRADUATE_HIRING_EVENTS:
        raise Invalid("type", f"{event.type} is not an event of the graduate hiring subsidy")
    return EventInput(type=event.type, actor=actor, date=event.date, note=event.note)


async def admit_graduate(
    session: AsyncSession, form: GraduateHiringForm, person_id: uuid.UUID | None, username: str
) -> str | None:
    assert person_id is not None
    await lock_person(session, person_id)
    key = employment_key(form.employer.credit_code, form.contract.start_date)
    reasons = await standing_reasons(session, person_id, None, key)
    if reasons:
        raise Conflict(f"{reasons[0]}: {REFUSALS[reasons[0]]}")
    return None
