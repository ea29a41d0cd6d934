"""The blind massage subsidy's own database step: its rules under the person's row lock, with the audit record.

Tasks, decisions, status changes and the payment go through the generic `ProcedureActivities`; granting or
releasing the person registry's year through `PersonRecordActivities`.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from subsidy.activities.procedure import _activity_key, _now
from subsidy.db.audit_chain import append_audit
from subsidy.db.models import Application
from subsidy.db.person_claims import attach_claim
from subsidy.db.person_holds import lock_person
from subsidy.db.person_records import PersonProgramRecord, release_claims, year_key
from subsidy.programs.blind_massage_insurance_subsidy.contracts import (
    CHECK_MASSAGE_CLAIM,
    PROGRAM,
    MassageCheck,
    MassageOutcome,
)
from subsidy.programs.blind_massage_insurance_subsidy.rules import ALREADY_CLAIMED_THIS_YEAR, SUBSIDY_YEARS_EXHAUSTED


async def years_subsidised(session: AsyncSession, person_id: uuid.UUID, exclude: uuid.UUID | None = None) -> int:
    """The years granted to the person, by applications of this program and from the register (any county)."""
    query = select(func.count(func.distinct(PersonProgramRecord.key))).where(
        PersonProgramRecord.person_id == person_id,
        PersonProgramRecord.program == PROGRAM,
        PersonProgramRecord.status == "granted",
    )
    if exclude is not None:
        query = query.where(
            (PersonProgramRecord.application_id.is_(None)) | (PersonProgramRecord.application_id != exclude)
        )
    return int(await session.scalar(query) or 0)


class BlindMassageActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    def all(self) -> list[Any]:
        return [self.check_claim]

    @activity.defn(name=CHECK_MASSAGE_CLAIM)
    async def check_claim(self, check: MassageCheck) -> MassageOutcome:
        """The claim's rules, its year tied to the application (one claim per person and year), and the years
        already subsidised counted against the limit; an ineligible claim gives its year back at once."""
        application_id = uuid.UUID(check.application_id)
        person_id = uuid.UUID(check.person_id)
        async with self._sessions.begin() as session:
            await lock_person(session, person_id)
            application = await session.get(Application, application_id, with_for_update=True)
            assert application is not None
            stored = application.eligibility
            if stored is not None and stored.get("round_key") == _activity_key(""):
                return MassageOutcome(stored["eligible"], stored["reasons"], stored["years_before"])
            reasons = list(check.reasons)
            held = await attach_claim(
                session,
                application_id=application_id,
                person_id=person_id,
                program=PROGRAM,
                kind="subsidised",
                key=year_key(check.year),
                county=application.county,
                recorded_by=application.submitted_by,
                year=check.year,
            )
            if not held:
                reasons.append(ALREADY_CLAIMED_THIS_YEAR)
            years_before = await years_subsidised(session, person_id, exclude=application_id)
            if years_before >= check.max_years_per_person:
                reasons.append(SUBSIDY_YEARS_EXHAUSTED)
            eligible = not reasons
            if not eligible:
                await release_claims(session, application_id)
            application.eligibility = {
                "eligible": eligible,
                "reasons": reasons,
                "years_before": years_before,
                "max_years_per_person": check.max_years_per_person,
                "policy_version": check.policy_version,
                "clause": check.clause,
                "round_key": _activity_key(""),
            }
            application.policy_version = check.policy_version
            application.status = "under_review" if eligible else "rejected"
            await append_audit(
                session,
                kind="eligibility",
                actor="system",
                at=_now(),
                application_id=application_id,
                detail={
                    "eligible": eligible,
                    "reasons": reasons,
                    "years_before": years_before,
                    "max_years_per_person": check.max_years_per_person,
                    "policy_version": check.policy_version,
                    "clause": check.clause,
                },
                dedup_key=_activity_key("eligibility"),
            )
            return MassageOutcome(eligible, reasons, years_before)
