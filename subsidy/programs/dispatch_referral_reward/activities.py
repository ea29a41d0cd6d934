"""The dispatch referral reward's own database step: its rules under the person's row lock, with the audit record.

Tasks, decisions, status changes and the payment go through the generic `ProcedureActivities`; granting or
releasing the person registry's record through `PersonRecordActivities`.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from subsidy.activities.procedure import _activity_key, _now
from subsidy.db.audit_chain import append_audit
from subsidy.db.models import Application
from subsidy.db.person_claims import attach_claim
from subsidy.db.person_holds import lock_person
from subsidy.db.person_records import employment_key, release_claims
from subsidy.programs.dispatch_referral_reward.contracts import CHECK_REFERRAL, PROGRAM, ReferralCheck, ReferralOutcome
from subsidy.programs.dispatch_referral_reward.rules import REFERRAL_ALREADY_CLAIMED


class DispatchReferralActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    def all(self) -> list[Any]:
        return [self.check_referral]

    @activity.defn(name=CHECK_REFERRAL)
    async def check_referral(self, check: ReferralCheck) -> ReferralOutcome:
        """The referral's rules, and its claim on the employment tied to the application (one reward per person and
        employment, whichever agency claims it first); an ineligible referral gives its claim back at once."""
        application_id = uuid.UUID(check.application_id)
        person_id = uuid.UUID(check.person_id)
        async with self._sessions.begin() as session:
            await lock_person(session, person_id)
            application = await session.get(Application, application_id, with_for_update=True)
            assert application is not None
            stored = application.eligibility
            if stored is not None and stored.get("round_key") == _activity_key(""):
                return ReferralOutcome(stored["eligible"], stored["reasons"])
            reasons = list(check.reasons)
            held = await attach_claim(
                session,
                application_id=application_id,
                person_id=person_id,
                program=PROGRAM,
                kind="referred",
                key=employment_key(check.employer_credit_code, check.contract_start),
                county=application.county,
                recorded_by=application.submitted_by,
                organisation=check.employer_credit_code,
                started_on=check.contract_start,
            )
            if not held:
                reasons.append(REFERRAL_ALREADY_CLAIMED)
            eligible = not reasons
            if not eligible:
                await release_claims(session, application_id)
            year_ends = check.year_ends_on.isoformat() if check.year_ends_on else None
            application.eligibility = {
                "eligible": eligible,
                "reasons": reasons,
                "year_ends_on": year_ends,
                "policy_version": check.policy_version,
                "clause": check.clause,
                "round_key": _activity_key(""),
            }
            application.policy_version = check.policy_version
            application.status = "active" if eligible else "rejected"
            await append_audit(
                session,
                kind="eligibility",
                actor="system",
                at=_now(),
                application_id=application_id,
                detail={
                    "eligible": eligible,
                    "reasons": reasons,
                    "year_ends_on": year_ends,
                    "policy_version": check.policy_version,
                    "clause": check.clause,
                },
                dedup_key=_activity_key("eligibility"),
            )
            return ReferralOutcome(eligible, reasons)
