"""The side effects that are new for a training class (program T).

Tasks, decisions, status changes and payments go through the generic `ProcedureActivities`; these add the
class record, the per-trainee limits decided under the trainees' `people` row locks, the completion report
and the release of places. Each runs in one transaction with its audit record and is idempotent.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import replace
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from subsidy.activities.procedure import _activity_key, _now
from subsidy.db.audit_chain import append_audit
from subsidy.db.models import Application, Person
from subsidy.policy.versions import TrainingParams
from subsidy.programs.training_subsidy.contracts import (
    ENROL_TRAINEES,
    RECORD_COMPLETION,
    RELEASE_ENROLMENTS,
    CompletionRecord,
    EnrolmentOutcome,
    EnrolmentRequest,
    ReleaseRequest,
    TraineeOutcome,
)
from subsidy.programs.training_subsidy.models import COUNTING_STATUSES, TrainingClass, TrainingEnrolment
from subsidy.programs.training_subsidy.rules import TrainingRecord, trainee_eligibility, union_of_reasons


class TrainingActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    def all(self) -> list[Any]:
        return [self.enrol_trainees, self.record_completion, self.release_enrolments]

    @activity.defn(name=ENROL_TRAINEES)
    async def enrol_trainees(self, request: EnrolmentRequest) -> EnrolmentOutcome:
        """Record the class and decide each trainee against their other trainings, in one transaction.

        Each trainee's `people` row is locked (DESIGN.md §8) before their trainings are counted, so a second
        class enrolling the same person waits here until this one has committed its enrolments, and then
        counts them. The rows are locked in ID-number order, the same order in every transaction, so two
        classes sharing several trainees cannot deadlock.
        """
        application_id = uuid.UUID(request.application_id)
        async with self._sessions.begin() as session:
            application = await session.get(Application, application_id, with_for_update=True)
            assert application is not None
            if application.eligibility is not None:  # a retry after the commit: the class is already decided
                return _stored_outcome(application.eligibility)
            await _record_class(session, application_id, request)
            trainees: list[dict[str, str]] = application.form["trainees"]
            if request.plan_reasons:
                outcome = EnrolmentOutcome(False, list(request.plan_reasons), [])
            else:
                outcome = await _enrol(session, application_id, trainees, request)
            application.eligibility = {
                "eligible": outcome.eligible,
                "reasons": outcome.reasons,
                "trainees": [{"line": t.line, "enrolled": t.enrolled, "reasons": t.reasons} for t in outcome.trainees],
                "policy_version": request.policy_version,
                "clause": request.clause,
            }
            application.policy_version = request.policy_version
            application.status = "under_review" if outcome.eligible else "rejected"
            await append_audit(
                session,
                kind="eligibility",
                actor="system",
                at=_now(),
                application_id=application_id,
                # Lines, never names or ID numbers: the audit log is read far more widely than the form.
                detail={
                    "eligible": outcome.eligible,
                    "reasons": outcome.reasons,
                    "enrolled": sum(1 for t in outcome.trainees if t.enrolled),
                    "excluded": [{"line": t.line, "reasons": t.reasons} for t in outcome.trainees if not t.enrolled],
                    "policy_version": request.policy_version,
                    "clause": request.clause,
                },
                dedup_key=f"training_enrolment:{request.application_id}",
            )
            return outcome

    @activity.defn(name=RECORD_COMPLETION)
    async def record_completion(self, record: CompletionRecord) -> None:
        """The provider's report: each enrolled trainee's hours, qualified or not, and the class's reimbursement."""
        application_id = uuid.UUID(record.application_id)
        report = record.report
        async with self._sessions.begin() as session:
            training_class = await session.get(TrainingClass, application_id, with_for_update=True)
            assert training_class is not None
            if training_class.reported_at is not None:
                return
            training_class.actual_cost = report.actual_cost
            training_class.qualified_count = len(report.qualified_lines)
            training_class.reimbursement = report.reimbursement
            training_class.reported_by = report.reported_by
            training_class.reported_at = report.at
            hours = {entry.line: entry.hours for entry in report.attendance}
            enrolled = await session.scalars(
                select(TrainingEnrolment).where(
                    TrainingEnrolment.application_id == application_id, TrainingEnrolment.status == "enrolled"
                )
            )
            qualified = set(report.qualified_lines)
            for enrolment in enrolled:
                # A trainee missing from the report attended no hours that the provider vouches for.
                enrolment.hours = hours.get(enrolment.line, 0)
                enrolment.status = "qualified" if enrolment.line in qualified else "not_qualified"
            await session.execute(
                update(Application).where(Application.id == application_id).values(status="under_review")
            )
            await append_audit(
                session,
                kind="completion_report",
                actor=report.reported_by,
                at=report.at,
                application_id=application_id,
                detail={
                    "actual_cost": str(report.actual_cost),
                    "qualified_lines": report.qualified_lines,
                    "reimbursement": str(report.reimbursement),
                    "city": str(report.city_share),
                    "county": str(report.county_share),
                },
                dedup_key=f"completion_report:{record.application_id}",
            )

    @activity.defn(name=RELEASE_ENROLMENTS)
    async def release_enrolments(self, request: ReleaseRequest) -> int:
        """The places this class held no longer count toward the trainees' limits; returns how many were freed."""
        application_id = uuid.UUID(request.application_id)
        async with self._sessions.begin() as session:
            result = await session.execute(
                update(TrainingEnrolment)
                .where(
                    TrainingEnrolment.application_id == application_id,
                    TrainingEnrolment.status.in_(COUNTING_STATUSES),
                )
                .values(status="released", reasons=[request.reason])
                .returning(TrainingEnrolment.id)
            )
            released = len(result.all())
            if released:
                await append_audit(
                    session,
                    kind="enrolments_released",
                    actor=request.actor,
                    at=_now(),
                    application_id=application_id,
                    detail={"reason": request.reason, "released": released},
                    dedup_key=_activity_key("release"),
                )
            return released


async def _record_class(session: AsyncSession, application_id: uuid.UUID, request: EnrolmentRequest) -> None:
    course = request.course
    await session.execute(
        insert(TrainingClass)
        .values(
            application_id=application_id,
            county=request.county,
            course_code=course.code,
            course_title=course.title,
            course_level=course.level,
            course_kind=course.kind,
            start_date=course.start_date,
            end_date=course.end_date,
            class_days=course.class_days,
            class_hours=course.class_hours,
            planned_cost=request.planned_cost,
        )
        .on_conflict_do_nothing()
    )


async def _enrol(
    session: AsyncSession, application_id: uuid.UUID, trainees: list[dict[str, str]], request: EnrolmentRequest
) -> EnrolmentOutcome:
    # Sorted, so that inserting new people also waits on other transactions in the same order as the locks.
    by_number = sorted({t["id_number"]: t["name"] for t in trainees}.items())
    await session.execute(
        insert(Person)
        .values([{"id": uuid.uuid4(), "id_number": number, "name": name} for number, name in by_number])
        .on_conflict_do_nothing(index_elements=[Person.id_number])
    )
    locked = await session.execute(
        select(Person.id_number, Person.id)
        .where(Person.id_number.in_([number for number, _ in by_number]))
        .order_by(Person.id_number)
        .with_for_update()
    )
    person_of: dict[str, uuid.UUID] = {number: person_id for number, person_id in locked.all()}
    earlier = await _counting_trainings(session, list(person_of.values()))
    params = replace(
        TrainingParams(),
        max_trainings_per_year=request.max_trainings_per_year,
        same_course_level_window_months=request.same_course_level_window_months,
    )
    course = TrainingRecord(request.course.code, request.course.level, request.course.start_date)
    outcomes: list[TraineeOutcome] = []
    for line, trainee in enumerate(trainees):
        person_id = person_of[trainee["id_number"]]
        reasons = trainee_eligibility(course, earlier[person_id], params)
        outcomes.append(TraineeOutcome(line=line, enrolled=not reasons, reasons=reasons))
        session.add(
            TrainingEnrolment(
                application_id=application_id,
                line=line,
                person_id=person_id,
                status="excluded" if reasons else "enrolled",
                reasons=reasons,
            )
        )
    await session.flush()
    eligible = any(outcome.enrolled for outcome in outcomes)
    # A class nobody may attend is refused for the reasons its trainees were excluded.
    reasons = [] if eligible else union_of_reasons(outcome.reasons for outcome in outcomes)
    return EnrolmentOutcome(eligible, reasons, outcomes)


async def _counting_trainings(
    session: AsyncSession, person_ids: list[uuid.UUID]
) -> defaultdict[uuid.UUID, list[TrainingRecord]]:
    """Every training that holds one of these people's places, in any class and any county."""
    rows = await session.execute(
        select(
            TrainingEnrolment.person_id,
            TrainingClass.course_code,
            TrainingClass.course_level,
            TrainingClass.start_date,
        )
        .join(TrainingClass, TrainingClass.application_id == TrainingEnrolment.application_id)
        .where(TrainingEnrolment.person_id.in_(person_ids), TrainingEnrolment.status.in_(COUNTING_STATUSES))
    )
    earlier: defaultdict[uuid.UUID, list[TrainingRecord]] = defaultdict(list)
    for person_id, code, level, start_date in rows.all():
        earlier[person_id].append(TrainingRecord(code, level, start_date))
    return earlier


def _stored_outcome(stored: dict[str, Any]) -> EnrolmentOutcome:
    return EnrolmentOutcome(
        eligible=stored["eligible"],
        reasons=list(stored["reasons"]),
        trainees=[TraineeOutcome(t["line"], t["enrolled"], list(t["reasons"])) for t in stored.get("trainees", [])],
    )
