"""The API side of the over-quota employment reward: its workflow input, its events, and its admission.

Admission runs in the submission's transaction: one claim per employer and year while one is pending or approved
(409 `already_claimed_this_year`), under a transaction-scoped advisory lock on the employer and year, so two claims
sent at the same moment queue and the second finds the first.
"""

from __future__ import annotations

import uuid

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from subsidy.api.errors import Conflict, Invalid
from subsidy.api.schemas import EventIn
from subsidy.db.models import Application
from subsidy.programs.model import StartContext
from subsidy.programs.over_quota_reward.contracts import (
    OVER_QUOTA_EVENTS,
    OVER_QUOTA_PROGRAM,
    OverQuotaEventInput,
    OverQuotaInput,
)
from subsidy.programs.over_quota_reward.form import OverQuotaRewardForm
from subsidy.programs.over_quota_reward.rules import ALREADY_CLAIMED_THIS_YEAR
from subsidy.workflows.contracts import Actor

# A claim in one of these is over without a reward: the employer may claim the year again.
ENDED_UNPAID = ("rejected", "withdrawn", "terminated")


def over_quota_input(context: StartContext, form: OverQuotaRewardForm) -> OverQuotaInput:
    return OverQuotaInput(
        application_id=context.application_id,
        program=form.program,
        submitted_by=context.submitted_by,
        applied_on=context.applied_on,
        county=context.county,
        year=form.year,
        unit_kind=form.unit_kind,
        staff_total=form.staff_total,
        employee_count=len(form.employees),
        employer_credit_code=form.employer.credit_code,
        policy=context.policy,
    )


def over_quota_event(application: Application, event: EventIn, actor: Actor) -> OverQuotaEventInput:
    if event.type not in OVER_QUOTA_EVENTS:
        raise Invalid("type", f"{event.type} is not an event of the over-quota employment reward")
    return OverQuotaEventInput(type=event.type, actor=actor, date=event.date, note=event.note)


async def admit_over_quota(
    session: AsyncSession, form: OverQuotaRewardForm, person_id: uuid.UUID | None, username: str
) -> str | None:
    """Refuse a second claim of the employer for the year while one is pending or approved."""
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
        {"key": f"{OVER_QUOTA_PROGRAM}:{form.employer.credit_code}:{form.year}"},
    )
    earlier = await session.scalar(
        select(func.count())
        .select_from(Application)
        .where(
            Application.program == OVER_QUOTA_PROGRAM,
            Application.form["employer"]["credit_code"].astext == form.employer.credit_code,
            Application.form["year"].astext == str(form.year),
            Application.status.not_in(ENDED_UNPAID),
        )
    )
    if earlier:
        raise Conflict(
            f"{ALREADY_CLAIMED_THIS_YEAR}: the employer already has a claim for {form.year} that is pending or approved"
        )
    return None
