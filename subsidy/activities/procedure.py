"""The side effects of a procedure: eligibility records, task rows, decisions, status changes, payments.

Every activity is idempotent, keyed on the application and the step (or on Temporal's own activity id), so
Temporal's retries never write twice. Each runs in one transaction that also appends to the audit log.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from subsidy.activities import names
from subsidy.activities.postings import plan_schedule, post_month
from subsidy.db.audit_chain import append_audit
from subsidy.db.models import Application, Decision, Person, ScheduledPayment, Task
from subsidy.payments.recoveries import recover_after
from subsidy.programs.rent_subsidy.rules import ALREADY_HAS_ACTIVE_RENT_SUBSIDY, RENT_MONTHS_EXHAUSTED
from subsidy.workflows.contracts import (
    DecisionToRecord,
    EligibilityOutcome,
    EligibilityRecord,
    OpenTaskInput,
    OverdueInput,
    PaymentInput,
    PaymentResult,
    StatusChange,
)

# An application in one of these holds (or is about to hold) the person's rent subsidy.
HOLDS_ENTITLEMENT = ("under_review", "returned", "approved", "active")


def _activity_key(label: str) -> str:
    """Stable across retries of one activity execution, different for every other execution."""
    info = activity.info()
    return f"{info.workflow_run_id}:{info.activity_id}:{label}"


def _now() -> datetime:
    return datetime.now(UTC)


class ProcedureActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    def all(self) -> list[Any]:
        return [
            self.record_eligibility,
            self.open_task,
            self.escalate_overdue_task,
            self.record_decision,
            self.change_status,
            self.post_payment,
        ]

    @activity.defn(name=names.RECORD_ELIGIBILITY)
    async def record_eligibility(self, record: EligibilityRecord) -> EligibilityOutcome:
        """Add the cross-application rules to the pure ones, under the person's row lock (DESIGN.md §8)."""
        application_id = uuid.UUID(record.application_id)
        async with self._sessions.begin() as session:
            await session.execute(select(Person.id).where(Person.id == uuid.UUID(record.person_id)).with_for_update())
            application = await session.get(Application, application_id, with_for_update=True)
            assert application is not None
            if application.eligibility is not None and application.eligibility.get("round_key") == _activity_key(""):
                stored = application.eligibility
                return EligibilityOutcome(stored["eligible"], stored["reasons"], stored["months_already_used"])
            reasons = list(record.reasons)
            holders = await session.scalar(
                select(func.count())
                .select_from(Application)
                .where(
                    Application.person_id == application.person_id,
                    Application.program == record.program,
                    Application.id != application_id,
                    Application.status.in_(HOLDS_ENTITLEMENT),
                )
            )
            if holders:
                reasons.append(ALREADY_HAS_ACTIVE_RENT_SUBSIDY)
            months_used = (
                await session.scalar(
                    select(func.count())
                    .select_from(ScheduledPayment)
                    .join(Application, Application.id == ScheduledPayment.application_id)
                    .where(
                        Application.person_id == application.person_id,
                        Application.program == record.program,
                        Application.id != application_id,
                        ScheduledPayment.status != "cancelled",
                    )
                )
                or 0
            )
            if record.max_months and months_used >= record.max_months:
                reasons.append(RENT_MONTHS_EXHAUSTED)
            eligible = not reasons
            application.eligibility = {
                "eligible": eligible,
                "reasons": reasons,
                "months_already_used": months_used,
                "policy_version": record.policy_version,
                "clause": record.clause,
                "round_key": _activity_key(""),
            }
            application.policy_version = record.policy_version
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
                    "policy_version": record.policy_version,
                    "clause": record.clause,
                },
                dedup_key=_activity_key("eligibility"),
            )
            return EligibilityOutcome(eligible, reasons, months_used)

    @activity.defn(name=names.OPEN_TASK)
    async def open_task(self, task: OpenTaskInput) -> str:
        async with self._sessions.begin() as session:
            return str(await _open_task(session, task))

    @activity.defn(name=names.ESCALATE_OVERDUE_TASK)
    async def escalate_overdue_task(self, request: OverdueInput) -> str:
        async with self._sessions.begin() as session:
            await session.execute(update(Task).where(Task.id == uuid.UUID(request.task_id)).values(overdue=True))
            escalation_id = await _open_task(session, request.escalation)
            await append_audit(
                session,
                kind="task_overdue",
                actor="system",
                at=_now(),
                application_id=uuid.UUID(request.application_id),
                detail={"task_id": request.task_id, "escalation_task_id": str(escalation_id)},
                dedup_key=_activity_key("overdue"),
            )
            return str(escalation_id)

    @activity.defn(name=names.RECORD_DECISION)
    async def record_decision(self, record: DecisionToRecord) -> None:
        application_id = uuid.UUID(record.application_id)
        task_id = uuid.UUID(record.task_id)
        async with self._sessions.begin() as session:
            if await session.scalar(select(Decision.id).where(Decision.task_id == task_id)) is not None:
                return
            session.add(
                Decision(
                    application_id=application_id,
                    task_id=task_id,
                    step=record.step,
                    decision=record.decision,
                    decided_by=record.actor.username,
                    decided_at=record.at,
                    reason=record.reason,
                    values=dict(record.values),
                )
            )
            await session.execute(
                update(Task)
                .where(Task.id == task_id)
                .values(
                    status="done",
                    decided_by=record.actor.username,
                    decision=record.decision,
                    closed_at=record.at,
                )
            )
            # The other open task of the round (review or escalation) is settled by the same decision.
            if record.settles_round:
                await session.execute(
                    update(Task)
                    .where(Task.application_id == application_id, Task.status.in_(("open", "claimed")))
                    .values(status="cancelled", closed_at=record.at)
                )
            await session.execute(
                update(Application).where(Application.id == application_id).values(status=record.new_status)
            )
            await plan_schedule(session, application_id, record.schedule)
            await append_audit(
                session,
                kind="decision",
                actor=record.actor.username,
                at=record.at,
                application_id=application_id,
                detail={
                    "task_id": record.task_id,
                    "step": record.step,
                    "decision": record.decision,
                    "reason": record.reason,
                    "values": record.values,
                    "roles": record.actor.roles,
                    "county": record.actor.county,
                    "new_status": record.new_status,
                    "months": len(record.schedule),
                },
                dedup_key=f"decision:{record.task_id}",
            )

    @activity.defn(name=names.CHANGE_STATUS)
    async def change_status(self, change: StatusChange) -> None:
        application_id = uuid.UUID(change.application_id)
        now = _now()
        async with self._sessions.begin() as session:
            values: dict[str, Any] = {"status": change.status}
            if change.corrected_facts is not None:
                application = await session.get(Application, application_id, with_for_update=True)
                assert application is not None
                values["form"] = _apply_corrections(application.form, asdict(change.corrected_facts))
            await session.execute(update(Application).where(Application.id == application_id).values(**values))
            if change.cancel_open_tasks:
                await session.execute(
                    update(Task)
                    .where(Task.application_id == application_id, Task.status.in_(("open", "claimed")))
                    .values(status="cancelled", closed_at=now)
                )
            cancelled = 0
            if change.cancel_planned_months:
                result = await session.execute(
                    update(ScheduledPayment)
                    .where(
                        ScheduledPayment.application_id == application_id,
                        ScheduledPayment.status == "planned",
                    )
                    .values(status="cancelled")
                )
                cancelled = result.rowcount  # type: ignore[attr-defined]
            ended_on = change.detail.get("date")
            if change.status == "terminated" and ended_on:
                # Reported late: periods that began after the day are cancelled if unsent, else recovered.
                await recover_after(session, application_id, change.kind, date.fromisoformat(ended_on), change.actor)
            await append_audit(
                session,
                kind=change.kind,
                actor=change.actor,
                at=now,
                application_id=application_id,
                detail={**change.detail, "status": change.status, "months_cancelled": cancelled},
                dedup_key=_activity_key(change.kind),
            )

    @activity.defn(name=names.POST_PAYMENT)
    async def post_payment(self, payment: PaymentInput) -> PaymentResult:
        """Two ledger rows (city, county) for one month; the unique keys make a second posting a no-op."""
        application_id = uuid.UUID(payment.application_id)
        async with self._sessions.begin() as session:
            rows = [
                {
                    "idempotency_key": f"{payment.application_id}:{payment.period}:{funder}",
                    "application_id": application_id,
                    "period": payment.period,
                    "funder": funder,
                    "county": payment.county,
                    "program": payment.program,
                    "amount": amount,
                }
                for funder, amount in (("city", payment.city_share), ("county", payment.county_share))
            ]
            posted = await post_month(session, application_id, payment.period, rows)
            if posted:
                await append_audit(
                    session,
                    kind="payment",
                    actor="system",
                    at=_now(),
                    application_id=application_id,
                    detail={
                        "period": payment.period,
                        "amount": str(payment.amount),
                        "city": str(payment.city_share),
                        "county": str(payment.county_share),
                    },
                    dedup_key=f"payment:{payment.application_id}:{payment.period}",
                )
            return PaymentResult(payment.period, posted)


async def _open_task(session: AsyncSession, task: OpenTaskInput) -> uuid.UUID:
    application_id = uuid.UUID(task.application_id)
    new_id = uuid.uuid4()
    inserted = await session.scalar(
        insert(Task)
        .values(
            id=new_id,
            application_id=application_id,
            workflow_id=task.workflow_id,
            program=task.program,
            step=task.step,
            round=task.round,
            role=task.role,
            county=task.county,
            status="open",
            due_at=task.due_at,
            due_is_estimate=task.due_is_estimate,
            summary=task.summary,
        )
        .on_conflict_do_nothing(constraint="one_task_per_step_round")
        .returning(Task.id)
    )
    if inserted is None:  # a retry: the row is already there
        existing = await session.scalar(
            select(Task.id).where(
                Task.application_id == application_id, Task.step == task.step, Task.round == task.round
            )
        )
        assert existing is not None
        return existing
    await append_audit(
        session,
        kind="task_created",
        actor="system",
        at=_now(),
        application_id=application_id,
        detail={
            "task_id": str(new_id),
            "step": task.step,
            "round": task.round,
            "role": task.role,
            "county": task.county,
            "due_at": task.due_at.isoformat() if task.due_at else None,
            **({"due_is_estimate": True} if task.due_is_estimate else {}),
        },
    )
    return new_id


def _apply_corrections(form: dict[str, Any], facts: dict[str, Any]) -> dict[str, Any]:
    """Write the corrected facts back into the stored form, in the form's own shape."""
    updated = {**form, "business": dict(form.get("business", {})), "lease": dict(form.get("lease", {}))}
    updated["applicant"] = {**form.get("applicant", {}), "hukou_county": facts["hukou_county"]}
    updated["business"].update(
        business_type=facts["business_type"],
        license_date=str(facts["license_date"]),
        started_on=str(facts["started_on"]),
    )
    updated["lease"].update(
        start_date=str(facts["lease_start"]),
        end_date=str(facts["lease_end"]),
        monthly_rent=str(facts["monthly_rent"]),
    )
    return updated
