"""The API side of the dispatch referral reward: its workflow input, its events, and its claim at submission.

`admit` runs in the submission's transaction with the person's row locked (the `person_row` upsert, and
`lock_person` again): it holds the person registry's `referred` record of the employment (the employer's credit
code and the contract's start), so a second claim of the same employment, by any agency, is refused with 409
`referral_already_claimed` until the first ends unpaid. The workflow's first step ties the record to the application.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from subsidy.api.errors import Conflict, Invalid
from subsidy.api.schemas import EventIn
from subsidy.db.models import Application
from subsidy.db.person_claims import AT_SUBMISSION
from subsidy.db.person_holds import lock_person
from subsidy.db.person_records import employment_key, hold
from subsidy.programs.dispatch_referral_reward.contracts import PROGRAM, REFERRAL_EVENTS, DispatchReferralInput
from subsidy.programs.dispatch_referral_reward.form import DispatchReferralForm
from subsidy.programs.dispatch_referral_reward.rules import REFERRAL_ALREADY_CLAIMED
from subsidy.programs.model import StartContext
from subsidy.workflows.contracts import Actor, EventInput


def referral_input(context: StartContext, form: DispatchReferralForm) -> DispatchReferralInput:
    assert context.person_id is not None
    return DispatchReferralInput(
        application_id=context.application_id,
        program=form.program,
        submitted_by=context.submitted_by,
        applied_on=context.applied_on,
        county=context.county,
        person_id=context.person_id,
        employer_credit_code=form.employer.credit_code,
        contract_start=form.contract.start_date,
        contract_end=form.contract.end_date,
        policy=context.policy,
    )


def referral_event(application: Application, event: EventIn, actor: Actor) -> EventInput:
    if event.type not in REFERRAL_EVENTS:
        raise Invalid("type", f"{event.type} is not an event of the dispatch referral reward")
    return EventInput(type=event.type, actor=actor, date=event.date, note=event.note)


async def admit_referral(
    session: AsyncSession, form: DispatchReferralForm, person_id: uuid.UUID | None, username: str
) -> str | None:
    assert person_id is not None
    await lock_person(session, person_id)
    held = await hold(
        session,
        person_id=person_id,
        program=PROGRAM,
        kind="referred",
        key=employment_key(form.employer.credit_code, form.contract.start_date),
        county=form.county,
        status="claimed",
        recorded_by=username,
        organisation=form.employer.credit_code,
        started_on=form.contract.start_date,
        source=AT_SUBMISSION,
    )
    if not held:
        raise Conflict(
            f"{REFERRAL_ALREADY_CLAIMED}: the reward for this person's employment with this employer from "
            f"{form.contract.start_date.isoformat()} is already claimed"
        )
    return None
