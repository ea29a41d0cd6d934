"""The graduate hiring subsidy's own database steps, each in one transaction under the person's row lock, with its
audit record, idempotent on retry (lock order: the person's row, then the application's; DESIGN.md §8).

- `graduate_hiring.check`: the pure rules' reasons, plus the exclusivity with a public-welfare post that holds a
  place and the one-subsidy-at-a-time rule; an eligible claim holds the employment in the person registry
  (`employed`, `employment_key(credit code, contract start)`, `claimed`);
- `graduate_hiring.grant`: at approval, the exclusivity again (a placement may have taken a post since), then the
  registry record `granted`.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from subsidy.db.audit_chain import append_audit
from subsidy.db.models import Application
from subsidy.db.person_holds import GRADUATE_HIRING_PENDING_OR_RUNNING, holds, lock_person, placement_held
from subsidy.db.person_records import employment_key, grant_claims, held_records, hold
from subsidy.programs.graduate_hiring_subsidy.contracts import (
    CHECK_GRADUATE_HIRING,
    GRADUATE_HIRING_PROGRAM,
    GRANT_GRADUATE_HIRING,
    GraduateHiringCheck,
    GraduateHiringGrant,
    GraduateHiringOutcome,
    GrantResult,
)
from subsidy.programs.graduate_hiring_subsidy.rules import (
    ALREADY_HAS_GRADUATE_HIRING_SUBSIDY,
    EXCLUSIVE_WITH_PUBLIC_WELFARE_POST,
    OUTSIDE_POLICY_WINDOW,
)


def _activity_key(label: str) -> str:
    info = activity.info()
    return f"{info.workflow_run_id}:{info.activity_id}:{label}"


async def standing_reasons(
    session: AsyncSession, person_id: uuid.UUID, application_id: uuid.UUID | None, key: str
) -> list[str]:
    """What the person's other applications say against this one (the caller holds the person's row lock)."""
    reasons: list[str] = []
    if await placement_held(session, person_id):
        reasons.append(EXCLUSIVE_WITH_PUBLIC_WELFARE_POST)
    if await holds(
        session, person_id, GRADUATE_HIRING_PROGRAM, GRADUATE_HIRING_PENDING_OR_RUNNING, application_id
    ) or await held_records(
        session, [person_id], GRADUATE_HIRING_PROGRAM, keys=[key], exclude_application=application_id
    ):
        reasons.append(ALREADY_HAS_GRADUATE_HIRING_SUBSIDY)
    return reasons


class GraduateHiringActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    def all(self) -> list[Any]:
        return [self.check_graduate_hiring, self.grant_graduate_hiring]

    @activity.defn(name=CHECK_GRADUATE_HIRING)
    async def check_graduate_hiring(self, check: GraduateHiringCheck) -> GraduateHiringOutcome:
        application_id = uuid.UUID(check.application_id)
        person_id = uuid.UUID(check.person_id)
        key = employment_key(check.employer_credit_code, check.contract_start)
        async with self._sessions.begin() as session:
            await lock_person(session, person_id)
            application = await session.get(Application, application_id, with_for_update=True)
            assert application is not None
            stored = application.eligibility
            if stored is not None and stored.get("round_key") == _activity_key(""):
                return GraduateHiringOutcome(stored["eligible"], stored["reasons"])
            reasons = list(check.reasons)
            if OUTSIDE_POLICY_WINDOW not in reasons:
                reasons += await standing_reasons(session, person_id, application_id, key)
            if not reasons and not await hold(
                session,
                person_id=person_id,
                program=GRADUATE_HIRING_PROGRAM,
                kind="employed",
                key=key,
                county=check.county,
                status="claimed",
                recorded_by=check.submitted_by,
                application_id=application_id,
                organisation=check.employer_credit_code,
                started_on=check.contract_start,
            ):
                reasons.append(ALREADY_HAS_GRADUATE_HIRING_SUBSIDY)
            eligible = not reasons
            application.eligibility = {
                "eligible": eligible,
                "reasons": reasons,
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
                at=datetime.now(UTC),
                application_id=application_id,
                detail={
                    "eligible": eligible,
                    "reasons": reasons,
                    "policy_version": check.policy_version,
                    "clause": check.clause,
                },
                dedup_key=_activity_key("eligibility"),
            )
            return GraduateHiringOutcome(eligible, reasons)

    @activity.defn(name=GRANT_GRADUATE_HIRING)
    async def grant_graduate_hiring(self, grant: GraduateHiringGrant) -> GrantResult:
        """The registry record granted, unless a placement holds a post for the person by now (nothing written)."""
        application_id = uuid.UUID(grant.application_id)
        person_id = uuid.UUID(grant.person_id)
        async with self._sessions.begin() as session:
            await lock_person(session, person_id)
            if await placement_held(session, person_id):
                return GrantResult([EXCLUSIVE_WITH_PUBLIC_WELFARE_POST])
            granted = await grant_claims(session, application_id)
            if granted:
                await append_audit(
                    session,
                    kind="person_records_granted",
                    actor="system",
                    at=datetime.now(UTC),
                    application_id=application_id,
                    detail={"records": granted, "reason": "review_approved"},
                )
            return GrantResult([])
