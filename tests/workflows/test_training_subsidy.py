"""TrainingSubsidyWorkflow on the time-skipping test server, with the real activities writing real PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer

from subsidy.db.models import Application, AuditRecord, LedgerEntry, Person, ScheduledPayment, Task
from subsidy.policy.versions import version_in_force, version_to_json
from subsidy.policy.workdays import CHINA
from subsidy.programs.training_subsidy.contracts import (
    TRAINING_SUBSIDY_WORKFLOW,
    AttendanceLine,
    TrainingEventInput,
    TrainingSubsidyInput,
    TrainingView,
)
from subsidy.programs.training_subsidy.form import TrainingSubsidyForm
from subsidy.programs.training_subsidy.models import COUNTING_STATUSES, TrainingClass, TrainingEnrolment
from subsidy.programs.training_subsidy.workflow import TrainingSubsidyWorkflow
from subsidy.service.embedded import installed_binary
from subsidy.service.temporal import build_worker
from subsidy.temporal_client.client import DATA_CONVERTER
from subsidy.workflows.contracts import CONFLICT, FORBIDDEN, INVALID, Actor, DecideInput, DecideResult, EventResult
from tests.helpers import new_resident_id
from tests.workflows.conftest import eventually, total

PROVIDER = Actor("provider-a", ["provider"])
OTHER_PROVIDER = Actor("provider-b", ["provider"])
DPF_A = Actor("dpf-150203-a", ["county_dpf"], "150203")
DPF_B = Actor("dpf-150203-b", ["county_dpf"], "150203")
DPF_OTHER_COUNTY = Actor("dpf-150204-a", ["county_dpf"], "150204")

Handle = WorkflowHandle[Any, str]


def class_form(
    trainees: Sequence[str],
    *,
    start: date,
    end: date | None = None,
    days: int = 5,
    hours: int = 40,
    code: str = "6-18-02-04",
    level: str = "初级",
    county: str = "150203",
    planned_cost: str = "6000.00",
) -> dict[str, Any]:
    return {
        "program": "training_subsidy",
        "county": county,
        "course": {
            "code": code,
            "title": "焊工",
            "level": level,
            "kind": "vocational",
            "start_date": start.isoformat(),
            "end_date": (end or start + timedelta(days=6)).isoformat(),
            "class_days": days,
            "class_hours": hours,
        },
        "trainees": [
            {"name": f"学员{line}", "id_number": number, "disability_cert_number": number + "41"}
            for line, number in enumerate(trainees)
        ],
        "planned_cost": planned_cost,
    }


@dataclass
class TrainingHarness:
    env: WorkflowEnvironment
    sessions: async_sessionmaker[AsyncSession]
    task_queue: str

    async def today(self) -> date:
        """The test server's today in China: time skipping moves it past the real one."""
        return (await self.env.get_current_time()).astimezone(CHINA).date()

    async def ended_class(self, trainees: Sequence[str], **fields: Any) -> tuple[str, Handle]:
        """A week-long class whose last day was three days ago: it can be reported at once."""
        today = await self.today()
        return await self.submit(class_form(trainees, start=today - timedelta(days=9), **fields))

    async def submit(self, form_fields: dict[str, Any], submitted_by: Actor = PROVIDER) -> tuple[str, Handle]:
        form = TrainingSubsidyForm.model_validate(form_fields)
        applied_on = await self.today()
        version = version_in_force(applied_on)
        application_id = uuid.uuid4()
        async with self.sessions.begin() as session:
            session.add(
                Application(
                    id=application_id,
                    program="training_subsidy",
                    status="submitted",
                    county=form.county,
                    submitted_by=submitted_by.username,
                    workflow_id=f"application-{application_id}",
                    form=form.model_dump(mode="json"),
                )
            )
        handle: Handle = await self.env.client.start_workflow(
            TRAINING_SUBSIDY_WORKFLOW,
            TrainingSubsidyInput(
                application_id=str(application_id),
                program="training_subsidy",
                submitted_by=submitted_by.username,
                applied_on=applied_on,
                county=form.county,
                course=form.course_message(),
                trainee_count=len(form.trainees),
                planned_cost=form.planned_amount(),
                policy=version_to_json(version) if version else None,
            ),
            id=f"application-{application_id}",
            task_queue=self.task_queue,
            result_type=str,
        )
        return str(application_id), handle

    async def view(self, handle: Handle) -> TrainingView:
        view: TrainingView = await handle.query("view", result_type=TrainingView)
        return view

    async def settled(self, handle: Handle) -> TrainingView:
        """The view once the trainees are decided (the class is under review or rejected)."""

        async def decided() -> TrainingView | None:
            view = await self.view(handle)
            return view if view.status != "submitted" else None

        result: TrainingView = await eventually(decided, 15)
        return result

    async def open_task(self, handle: Handle, step: str) -> str:
        """The task the workflow itself holds open: deciding it cannot race the task row's creation."""

        async def held() -> str | None:
            task_id = (await self.view(handle)).open_task_id
            if task_id is None:
                return None
            async with self.sessions() as session:
                task = await session.get(Task, uuid.UUID(task_id))
            return task_id if task is not None and task.step == step else None

        task_id: str = await eventually(held, 15)
        return task_id

    async def decide(
        self, handle: Handle, task_id: str, actor: Actor, decision: str = "approve", reason: str | None = None
    ) -> DecideResult:
        request = DecideInput(task_id=task_id, decision=decision, actor=actor, reason=reason)
        result: DecideResult = await handle.execute_update("decide", request, result_type=DecideResult)
        return result

    async def report(
        self, handle: Handle, hours: Sequence[int], actual_cost: str, actor: Actor = PROVIDER
    ) -> EventResult:
        request = TrainingEventInput(
            type="completion_report",
            actor=actor,
            attendance=[AttendanceLine(line, attended) for line, attended in enumerate(hours)],
            actual_cost=Decimal(actual_cost),
        )
        result: EventResult = await handle.execute_update("event", request, result_type=EventResult)
        return result

    async def approved_plan(self, handle: Handle) -> None:
        await self.decide(handle, await self.open_task(handle, "plan_review"), DPF_A)

    async def enrolments(self, application_id: str) -> list[TrainingEnrolment]:
        async with self.sessions() as session:
            rows = await session.scalars(
                select(TrainingEnrolment)
                .where(TrainingEnrolment.application_id == uuid.UUID(application_id))
                .order_by(TrainingEnrolment.line)
            )
            return list(rows.all())

    async def counting_for(self, id_number: str) -> int:
        """How many trainings hold this person's places now, across every class."""
        async with self.sessions() as session:
            return int(
                await session.scalar(
                    select(func.count())
                    .select_from(TrainingEnrolment)
                    .join(Person, Person.id == TrainingEnrolment.person_id)
                    .where(Person.id_number == id_number, TrainingEnrolment.status.in_(COUNTING_STATUSES))
                )
                or 0
            )

    async def ledger(self, application_id: str) -> list[LedgerEntry]:
        async with self.sessions() as session:
            rows = await session.scalars(
                select(LedgerEntry)
                .where(LedgerEntry.application_id == uuid.UUID(application_id))
                .order_by(LedgerEntry.funder)
            )
            return list(rows.all())

    async def application(self, application_id: str) -> Application:
        async with self.sessions() as session:
            found = await session.get(Application, uuid.UUID(application_id))
            assert found is not None
            return found

    async def count_tasks(self, application_id: str) -> int:
        async with self.sessions() as session:
            return int(
                await session.scalar(
                    select(func.count()).select_from(Task).where(Task.application_id == uuid.UUID(application_id))
                )
                or 0
            )


@pytest.fixture
async def training(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[TrainingHarness]:
    """A fresh time-skipping server per test: skipped time is global to a server, and each test starts today."""
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=DATA_CONVERTER, test_server_existing_path=installed_binary("temporal-test-server")
    )
    task_queue = f"test-{uuid.uuid4()}"
    try:
        async with build_worker(env.client, task_queue, sessions):
            yield TrainingHarness(env, sessions, task_queue)
    finally:
        await env.shutdown()


def refusal_type(error: WorkflowUpdateFailedError) -> str | None:
    cause = error.cause
    assert isinstance(cause, ApplicationError)
    return cause.type


def people(count: int) -> list[str]:
    return [new_resident_id(born=date(1991, 3, 9)) for _ in range(count)]


# --- money ------------------------------------------------------------------------------------------------


async def test_three_qualified_trainees_and_cost_6000_pay_4500_as_2250_and_2250(training: TrainingHarness) -> None:
    # Read before awaiting the result: once a result is awaited, the test server may skip far ahead.
    end_month = (await training.today() - timedelta(days=3)).strftime("%Y-%m")
    application_id, handle = await training.ended_class(people(3))
    view = await training.settled(handle)
    assert view.status == "under_review" and view.enrolled_lines == [0, 1, 2] and view.excluded_lines == []
    plan_task = await training.open_task(handle, "plan_review")
    async with training.sessions() as session:
        task = await session.get(Task, uuid.UUID(plan_task))
        assert task is not None and (task.role, task.county) == ("county_dpf", "150203")
        assert "3 of 3 trainees enrolled" in task.summary and "学员" not in task.summary
    assert (await training.decide(handle, plan_task, DPF_A)).status == "approved"

    assert (await training.report(handle, [40, 40, 40], "6000.00")).status == "under_review"
    review = await training.open_task(handle, "completion_review")
    assert (await training.decide(handle, review, DPF_B)).status == "approved"
    assert await handle.result() == "completed"

    rows = await training.ledger(application_id)
    assert [(r.funder, r.amount, r.period, r.county, r.program) for r in rows] == [
        ("city", Decimal("2250.00"), end_month, "150203", "training_subsidy"),
        ("county", Decimal("2250.00"), end_month, "150203", "training_subsidy"),
    ]
    assert [e.status for e in await training.enrolments(application_id)] == ["qualified"] * 3
    async with training.sessions() as session:
        training_class = await session.get(TrainingClass, uuid.UUID(application_id))
        assert training_class is not None
        assert (training_class.actual_cost, training_class.qualified_count, training_class.reimbursement) == (
            Decimal("6000.00"),
            3,
            Decimal("4500.00"),
        )
        months = (
            await session.scalars(
                select(ScheduledPayment).where(ScheduledPayment.application_id == uuid.UUID(application_id))
            )
        ).all()
        assert [(m.period, m.amount, m.status) for m in months] == [(end_month, Decimal("4500.00"), "due")]
    assert (await training.application(application_id)).status == "completed"

    # The recorded history replays against today's code.
    history = await handle.fetch_history()
    await Replayer(workflows=[TrainingSubsidyWorkflow], data_converter=DATA_CONVERTER).replay_workflow(history)


async def test_cost_4000_for_three_qualified_trainees_pays_the_cost_2000_and_2000(training: TrainingHarness) -> None:
    application_id, handle = await training.ended_class(people(3), hours=48, planned_cost="4000.00")
    await training.approved_plan(handle)
    await training.report(handle, [48, 40, 45], "4000.00")
    await training.decide(handle, await training.open_task(handle, "completion_review"), DPF_B)
    assert await handle.result() == "completed"
    rows = await training.ledger(application_id)
    assert total(rows) == Decimal("4000.00")
    assert (total(rows, "city"), total(rows, "county")) == (Decimal("2000.00"), Decimal("2000.00"))


async def test_a_trainee_at_39_hours_is_not_counted_and_one_at_40_is(training: TrainingHarness) -> None:
    forty, thirty_nine, also_forty = people(3)
    today = await training.today()  # before awaiting a result, after which the test server may skip ahead
    application_id, handle = await training.ended_class([forty, thirty_nine, also_forty])
    await training.approved_plan(handle)
    await training.report(handle, [40, 39, 40], "6000.00")
    view = await training.view(handle)
    assert view.report is not None and view.report.qualified_lines == [0, 2]
    assert view.report.reimbursement == Decimal("3000.00")
    await training.decide(handle, await training.open_task(handle, "completion_review"), DPF_B)
    assert await handle.result() == "completed"
    rows = await training.ledger(application_id)
    assert (total(rows, "city"), total(rows, "county")) == (Decimal("1500.00"), Decimal("1500.00"))
    enrolments = await training.enrolments(application_id)
    assert [(e.status, e.hours) for e in enrolments] == [("qualified", 40), ("not_qualified", 39), ("qualified", 40)]

    # The 39-hour trainee was not subsidised, so the same course and level a month later is open to them;
    # the 40-hour trainee's training counts, so it is not.
    again_id, again = await training.submit(class_form([thirty_nine, forty], start=today + timedelta(days=21)))
    view = await training.settled(again)
    assert view.enrolled_lines == [0] and view.excluded_lines == [1]
    assert [e.reasons for e in await training.enrolments(again_id)] == [[], ["same_course_level_within_a_year"]]


# --- per-person limits ------------------------------------------------------------------------------------


async def test_the_fourth_training_in_a_year_is_refused_and_the_first_of_the_next_year_accepted(
    training: TrainingHarness,
) -> None:
    person, newcomer = people(2)
    for code, start in (("A-1", date(2025, 3, 3)), ("B-1", date(2025, 6, 2)), ("C-1", date(2025, 9, 1))):
        _, earlier = await training.submit(class_form([person], start=start, code=code))
        assert (await training.settled(earlier)).status == "under_review"
    assert await training.counting_for(person) == 3

    # The fourth of 2025: this trainee is excluded, not the class.
    fourth_id, fourth = await training.submit(class_form([newcomer, person], start=date(2025, 11, 3), code="D-1"))
    view = await training.settled(fourth)
    assert view.status == "under_review" and view.enrolled_lines == [0] and view.excluded_lines == [1]
    assert [(e.status, e.reasons) for e in await training.enrolments(fourth_id)] == [
        ("enrolled", []),
        ("excluded", ["annual_training_limit"]),
    ]
    # A class with nobody left is rejected, with its trainees' reasons and no task.
    alone_id, alone = await training.submit(class_form([person], start=date(2025, 12, 1), code="E-1"))
    assert await alone.result() == "rejected"
    application = await training.application(alone_id)
    assert application.eligibility is not None and application.eligibility["reasons"] == ["annual_training_limit"]
    assert await training.count_tasks(alone_id) == 0

    # The first of 2026.
    next_year_id, next_year = await training.submit(class_form([person], start=date(2026, 1, 5), code="D-1"))
    assert (await training.settled(next_year)).enrolled_lines == [0]
    assert await training.counting_for(person) == 4


async def test_the_same_course_and_level_11_months_later_is_refused_and_12_months_later_accepted(
    training: TrainingHarness,
) -> None:
    (person,) = people(1)
    _, first = await training.submit(class_form([person], start=date(2025, 3, 3), code="K-9", level="中级"))
    assert (await training.settled(first)).enrolled_lines == [0]

    eleven_id, eleven = await training.submit(class_form([person], start=date(2026, 2, 3), code="K-9", level="中级"))
    assert await eleven.result() == "rejected"
    application = await training.application(eleven_id)
    assert application.eligibility is not None
    assert application.eligibility["reasons"] == ["same_course_level_within_a_year"]

    _, twelve = await training.submit(class_form([person], start=date(2026, 3, 3), code="K-9", level="中级"))
    assert (await training.settled(twelve)).enrolled_lines == [0]


async def test_two_classes_enrolling_the_same_person_at_once_cannot_push_them_past_the_limit(
    training: TrainingHarness,
) -> None:
    # Three people, each raced for by two classes at the same moment: one race alone may by chance not overlap
    # in the database, three at once make a missing lock show.
    racers = people(3)
    for person in racers:
        for code, start in (("R-1", date(2025, 2, 3)), ("R-2", date(2025, 4, 7))):
            _, earlier = await training.submit(class_form([person], start=start, code=code))
            await training.settled(earlier)
        assert await training.counting_for(person) == 2

    # For each person two providers file at the same moment; each class has the person and someone else.
    classes = [
        class_form([mate, person], start=date(2025, 10, 6 + 7 * second), code=f"R-{3 + second}")
        for person in racers
        for second, mate in enumerate(people(2))
    ]
    started = await asyncio.gather(*(training.submit(form) for form in classes))
    views = await asyncio.gather(*(training.settled(handle) for _, handle in started))
    assert all(view.status == "under_review" and 0 in view.enrolled_lines for view in views)
    for index, person in enumerate(racers):
        pair = views[2 * index : 2 * index + 2]
        got_the_place = [1 in view.enrolled_lines for view in pair]
        assert sorted(got_the_place) == [False, True], f"racer {index}: {got_the_place}"
        assert await training.counting_for(person) == 3
        loser_id = started[2 * index + (1 if got_the_place[0] else 0)][0]
        assert [e.reasons for e in await training.enrolments(loser_id)] == [[], ["annual_training_limit"]]


# --- the plan ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("days", "hours"), [(4, 40), (5, 39)])
async def test_a_class_shorter_than_5_days_or_40_hours_is_rejected_too_short(
    training: TrainingHarness, days: int, hours: int
) -> None:
    application_id, handle = await training.submit(
        class_form(people(2), start=date(2026, 3, 2), end=date(2026, 3, 8), days=days, hours=hours)
    )
    assert await handle.result() == "rejected"
    application = await training.application(application_id)
    assert application.eligibility is not None and application.eligibility["reasons"] == ["too_short"]
    assert application.policy_version == "baotou-2025"
    assert await training.count_tasks(application_id) == 0
    assert await training.enrolments(application_id) == []  # nobody's place was taken


async def test_a_class_before_the_policy_window_is_rejected(training: TrainingHarness) -> None:
    application_id, handle = await training.submit(class_form(people(1), start=date(2024, 12, 28)))
    assert await handle.result() == "rejected"
    application = await training.application(application_id)
    assert application.eligibility is not None and application.eligibility["reasons"] == ["outside_policy_window"]


# --- the report and its deadline --------------------------------------------------------------------------


async def test_no_report_by_the_deadline_closes_the_class_unpaid_and_releases_the_places(
    training: TrainingHarness,
) -> None:
    trainees = people(2)
    application_id, handle = await training.ended_class(trainees)
    await training.approved_plan(handle)
    view = await training.view(handle)
    assert view.report_deadline is not None
    ended = await training.today() - timedelta(days=3)
    assert view.report_deadline.astimezone(CHINA).date() == ended + timedelta(days=91)  # the end of day 90

    await training.env.sleep(timedelta(days=80))
    assert (await training.view(handle)).status == "approved"  # not yet
    assert await handle.result() == "terminated"

    application = await training.application(application_id)
    assert application.status == "terminated"
    assert await training.ledger(application_id) == []
    assert [(e.status, e.reasons) for e in await training.enrolments(application_id)] == [
        ("released", ["completion_report_deadline_passed"])
    ] * 2
    assert [await training.counting_for(person) for person in trainees] == [0, 0]
    async with training.sessions() as session:
        audit = (
            await session.scalars(
                select(AuditRecord)
                .where(AuditRecord.application_id == uuid.UUID(application_id))
                .order_by(AuditRecord.id)
            )
        ).all()
    closing = [r for r in audit if r.kind == "completion_report_deadline_passed"]
    assert len(closing) == 1 and closing[0].detail["reason"] == "completion_report_deadline_passed"
    assert closing[0].detail["status"] == "terminated"


async def test_who_may_report_and_decide_and_when(training: TrainingHarness) -> None:
    application_id, handle = await training.ended_class(people(3))
    plan_task = await training.open_task(handle, "plan_review")

    with pytest.raises(WorkflowUpdateFailedError) as refused:  # the plan is not approved yet
        await training.report(handle, [40, 40, 40], "6000.00")
    assert refusal_type(refused.value) == CONFLICT
    cases = [
        (PROVIDER.username, Actor(PROVIDER.username, ["county_dpf"], "150203"), "approve", None, FORBIDDEN),
        ("wrong role", PROVIDER, "approve", None, FORBIDDEN),
        ("other county", DPF_OTHER_COUNTY, "approve", None, FORBIDDEN),
        ("no reason", DPF_A, "reject", None, INVALID),
        ("no return", DPF_A, "return", "请补充学员名单", INVALID),
    ]
    for label, actor, decision, reason, expected in cases:
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await training.decide(handle, plan_task, actor, decision, reason)
        assert refusal_type(refused.value) == expected, label
    await training.decide(handle, plan_task, DPF_A)

    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await training.report(handle, [40, 40, 40], "6000.00", actor=OTHER_PROVIDER)
    assert refusal_type(refused.value) == FORBIDDEN
    for hours, cost in (([40, 40, 41], "6000.00"), ([40, 40, 40, 40], "6000.00"), ([40], "60.005")):
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await training.report(handle, hours, cost)
        assert refusal_type(refused.value) == INVALID, (hours, cost)
    await training.report(handle, [40, 40, 40], "6000.00")
    with pytest.raises(WorkflowUpdateFailedError) as refused:  # once
        await training.report(handle, [40, 40, 40], "6000.00")
    assert refusal_type(refused.value) == CONFLICT

    review = await training.open_task(handle, "completion_review")
    with pytest.raises(WorkflowUpdateFailedError) as refused:  # separation of duties: A approved the plan
        await training.decide(handle, review, DPF_A)
    assert refusal_type(refused.value) == FORBIDDEN
    await training.decide(handle, review, DPF_B, "reject", reason="发票与实际费用不符")
    assert await handle.result() == "rejected"
    assert await training.ledger(application_id) == []
    assert {e.status for e in await training.enrolments(application_id)} == {"released"}


async def test_withdrawing_a_class_under_review_closes_its_task_and_frees_the_places(
    training: TrainingHarness,
) -> None:
    trainees = people(2)
    application_id, handle = await training.ended_class(trainees)
    task_id = await training.open_task(handle, "plan_review")
    withdrawal = TrainingEventInput(type="withdrawn", actor=DPF_A)
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update("event", withdrawal, result_type=EventResult)
    assert refusal_type(refused.value) == FORBIDDEN
    withdrawal.actor = PROVIDER
    await handle.execute_update("event", withdrawal, result_type=EventResult)
    assert await handle.result() == "withdrawn"
    async with training.sessions() as session:
        task = await session.get(Task, uuid.UUID(task_id))
        assert task is not None and task.status == "cancelled"
    assert [await training.counting_for(person) for person in trainees] == [0, 0]
