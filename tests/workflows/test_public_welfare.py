"""Program P and the flexible-employment insurance subsidy on the time-skipping server, with real activities on
real PostgreSQL: declaration → collection → HR → placement → publicity → 36 months; retirement; caps; override;
the Spring Festival; objections; and the exclusivity race."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import WorkflowExecutionStatus, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from subsidy.db.calendar import store_year
from subsidy.db.calendar_models import CalendarYearRow
from subsidy.db.models import Application, AuditRecord, Decision, LedgerEntry, Person, ScheduledPayment, Task
from subsidy.policy.calendar_file import parse_year_file
from subsidy.policy.versions import BAOTOU_2025, version_in_force, version_to_json
from subsidy.policy.workdays import CHINA, add_working_days
from subsidy.programs.public_welfare.activities import collection_application_id
from subsidy.programs.public_welfare.contracts import (
    FLEXIBLE_INSURANCE_WORKFLOW,
    FLEXIBLE_PROGRAM,
    PLACEMENT_PROGRAM,
    POST_PROGRAM,
    PUBLIC_WELFARE_PLACEMENT_WORKFLOW,
    PUBLIC_WELFARE_POST_WORKFLOW,
    FlexibleInsuranceInput,
    PlacementInput,
    PostDeclarationInput,
    PostMessage,
    collection_workflow_id,
)
from subsidy.programs.public_welfare.models import PublicWelfarePlacement, PublicWelfarePost
from subsidy.programs.public_welfare.rules import placement_schedule, statutory_retirement_date, subsidy_period
from subsidy.programs.rent_subsidy.rules import add_months
from subsidy.service.embedded import installed_binary
from subsidy.service.temporal import build_worker
from subsidy.temporal_client.client import DATA_CONVERTER
from subsidy.workflows.contracts import (
    CONFLICT,
    FORBIDDEN,
    INVALID,
    Actor,
    DecideInput,
    DecideResult,
    EventInput,
    EventResult,
    WorkflowView,
    workflow_id_for,
)
from tests.calendars import EXAMPLE_2027, database_calendar, example_year_for_a_test, year_for_tests
from tests.helpers import new_credit_code, new_resident_id_of
from tests.histories.recorder import record as record_history
from tests.workflows.conftest import eventually, total

COUNTY = "150203"
EMPLOYER = Actor("employer-a", ["employer"])
APPLICANT = Actor("applicant-a", ["applicant"])
DPF = Actor("dpf-150203-a", ["county_dpf"], COUNTY)
HR_A = Actor("hr-150203-a", ["county_hr"], COUNTY)
HR_B = Actor("hr-150203-b", ["county_hr"], COUNTY)
CITY_A = Actor("city-a", ["city_dpf"])
CITY_B = Actor("city-b", ["city_dpf"])
REGION = Actor("region-a", ["region_hr"])
PARAMS = BAOTOU_2025.placement


@dataclass
class Someone:
    id_number: str
    sex: str
    birth_date: date
    severe_disability: bool = False
    special_hardship: bool = False
    female_category: str | None = None


@dataclass
class Harness:
    env: WorkflowEnvironment
    sessions: async_sessionmaker[AsyncSession]
    task_queue: str

    async def today(self) -> date:
        """The test server's today in China: time skipping moves it far past the real one."""
        return (await self.env.get_current_time()).astimezone(CHINA).date()

    async def someone(self, years: int, months: int = 0, days: int = 0, sex: str = "M", **flags: Any) -> Someone:
        born = add_months(await self.today(), -(12 * years + months)) - timedelta(days=days)
        return Someone(new_resident_id_of(sex, born), sex, born, **flags)

    async def _row(self, program: str, submitted_by: str, county: str, person: Someone | None) -> tuple[str, str]:
        application_id = uuid.uuid4()
        async with self.sessions.begin() as session:
            person_id = None
            if person is not None:
                person_id = await session.scalar(
                    insert(Person)
                    .values(id=uuid.uuid4(), id_number=person.id_number, name="李四")
                    .on_conflict_do_update(index_elements=[Person.id_number], set_={"name": "李四"})
                    .returning(Person.id)
                )
            session.add(
                Application(
                    id=application_id,
                    program=program,
                    status="submitted",
                    county=county,
                    submitted_by=submitted_by,
                    person_id=person_id,
                    workflow_id=workflow_id_for(str(application_id)),
                    form={"program": program, "employer": {"name": "包头市某公益单位"}},
                )
            )
        return str(application_id), str(person_id)

    async def declare(
        self, places: tuple[int, ...] = (1,), *, year: int | None = None, credit_code: str | None = None
    ) -> tuple[str, WorkflowHandle[Any, str]]:
        today = await self.today()
        application_id, _ = await self._row(POST_PROGRAM, EMPLOYER.username, COUNTY, None)
        handle = await self.env.client.start_workflow(
            PUBLIC_WELFARE_POST_WORKFLOW,
            PostDeclarationInput(
                application_id=application_id,
                program=POST_PROGRAM,
                submitted_by=EMPLOYER.username,
                applied_on=today,
                county=COUNTY,
                year=year or today.year,
                employer_credit_code=credit_code or new_credit_code(),
                posts=[
                    PostMessage(n, f"社区服务岗{n}", "public_service", count, Decimal("2200.00"))
                    for n, count in enumerate(places, start=1)
                ],
                policy=version_to_json(BAOTOU_2025),
            ),
            id=workflow_id_for(application_id),
            task_queue=self.task_queue,
            result_type=str,
        )
        return application_id, handle

    async def open_task(self, application_id: str, step: str, within: float = 15) -> Task:
        async def find() -> Task | None:
            async with self.sessions() as session:
                task: Task | None = await session.scalar(
                    select(Task)
                    .where(
                        Task.application_id == uuid.UUID(application_id),
                        Task.step == step,
                        Task.status.in_(("open", "claimed")),
                    )
                    .order_by(Task.round.desc())
                    .limit(1)
                )
                return task

        found: Task = await eventually(find, within)

        # The row is written by the activity a moment before the workflow learns the task's id.
        async def known() -> bool:
            view = await self.env.client.get_workflow_handle(found.workflow_id).query("view", result_type=WorkflowView)
            return view.open_task_id == str(found.id)

        await eventually(known, within)
        return found

    async def collection_task(self, year: int, showing: int = 1) -> Task:
        """This server's open collection round, once its summary counts `showing` declarations.

        Asked of the collection workflow itself: rounds that earlier tests' servers left open share its id.
        """
        collection = self.env.client.get_workflow_handle(collection_workflow_id(COUNTY, year))

        async def find() -> Task | None:
            try:
                view = await collection.query("view", result_type=WorkflowView)
            except RPCError:
                return None  # not started yet
            if view.open_task_id is None:
                return None
            async with self.sessions() as session:
                task = await session.get(Task, uuid.UUID(view.open_task_id))
            return task if task is not None and f": {showing} declarations" in task.summary else None

        found: Task = await eventually(find, 15)
        return found

    async def decide(
        self, task: Task, actor: Actor, decision: str = "approve", reason: str | None = None, **values: str
    ) -> str:
        handle = self.env.client.get_workflow_handle(task.workflow_id)
        request = DecideInput(str(task.id), decision, actor, reason, dict(values))
        result = await handle.execute_update("decide", request, result_type=DecideResult)
        return result.status

    async def event(self, handle: WorkflowHandle[Any, str], request: EventInput) -> str:
        result = await handle.execute_update("event", request, result_type=EventResult)
        return result.status

    async def approved_post(self, places: int = 1) -> str:
        application_id, handle = await self.declare((places,))
        await self.decide(await self.collection_task((await self.today()).year), DPF)
        await self.decide(await self.open_task(application_id, "hr_approval"), HR_A)
        await self.ends(handle, "approved")
        return application_id

    async def propose(
        self,
        post: str,
        person: Someone,
        *,
        start_date: date | None = None,
        applied_on: date | None = None,
        override_reason: str | None = None,
    ) -> tuple[str, WorkflowHandle[Any, str]]:
        applied_on = applied_on or await self.today()
        version = version_in_force(applied_on)
        application_id, person_id = await self._row(PLACEMENT_PROGRAM, EMPLOYER.username, COUNTY, person)
        handle = await self.env.client.start_workflow(
            PUBLIC_WELFARE_PLACEMENT_WORKFLOW,
            PlacementInput(
                application_id=application_id,
                program=PLACEMENT_PROGRAM,
                submitted_by=EMPLOYER.username,
                applied_on=applied_on,
                county=COUNTY,
                person_id=person_id,
                post_application_id=post,
                post_number=1,
                start_date=start_date or await self.today(),
                sex=person.sex,
                birth_date=person.birth_date,
                female_category=person.female_category,
                severe_disability=person.severe_disability,
                special_hardship=person.special_hardship,
                policy=version_to_json(version) if version else None,
                override_reason=override_reason,
            ),
            id=workflow_id_for(application_id),
            task_queue=self.task_queue,
            result_type=str,
        )
        return application_id, handle

    async def placed(self, post: str, person: Someone, **kwargs: Any) -> tuple[str, WorkflowHandle[Any, str]]:
        """A placement approved a month ago on paper: its publicity is over, so it is active at once."""
        month_ago = (await self.today()) - timedelta(days=30)
        application_id, handle = await self.propose(post, person, applied_on=month_ago, **kwargs)
        await self.decide(await self.open_task(application_id, "hr_approval"), HR_A, approved_on=month_ago.isoformat())
        await self.reaches(application_id, "active")
        return application_id, handle

    async def flexible(self, person: Someone) -> tuple[str, WorkflowHandle[Any, str]]:
        today = await self.today()
        application_id, person_id = await self._row(FLEXIBLE_PROGRAM, APPLICANT.username, COUNTY, person)
        handle = await self.env.client.start_workflow(
            FLEXIBLE_INSURANCE_WORKFLOW,
            FlexibleInsuranceInput(
                application_id=application_id,
                program=FLEXIBLE_PROGRAM,
                submitted_by=APPLICANT.username,
                applied_on=today,
                county=COUNTY,
                person_id=person_id,
                start_date=today,
                policy=version_to_json(BAOTOU_2025),
            ),
            id=workflow_id_for(application_id),
            task_queue=self.task_queue,
            result_type=str,
        )
        return application_id, handle

    async def end_employment(self, handle: WorkflowHandle[Any, str]) -> str:
        return await self.event(handle, EventInput("employment_ended", EMPLOYER, date=await self.today()))

    async def ends(self, handle: WorkflowHandle[Any, str], status: str) -> None:
        """Wait for the workflow to close with `status`, without letting the test server skip time.

        `handle.result()` would unlock time skipping, and the County DPF's collection waits for the year's end:
        the clock would jump past the calendar's known years.
        """

        async def closed() -> bool:
            description = await handle.describe()
            return description.status is not None and description.status != WorkflowExecutionStatus.RUNNING

        await eventually(closed, 15)
        assert (await self.application(handle.id.removeprefix("application-"))).status == status

    async def application(self, application_id: str) -> Application:
        async with self.sessions() as session:
            found = await session.get(Application, uuid.UUID(application_id))
            assert found is not None
            return found

    async def reaches(self, application_id: str, status: str, within: float = 15) -> Application:
        async def probe() -> Application | None:
            application = await self.application(application_id)
            return application if application.status == status else None

        found: Application = await eventually(probe, within)
        return found

    async def placement(self, application_id: str) -> PublicWelfarePlacement:
        async with self.sessions() as session:
            found = await session.get(PublicWelfarePlacement, uuid.UUID(application_id))
            assert found is not None
            return found

    async def schedule(self, application_id: str) -> list[ScheduledPayment]:
        async with self.sessions() as session:
            rows = await session.scalars(
                select(ScheduledPayment)
                .where(ScheduledPayment.application_id == uuid.UUID(application_id))
                .order_by(ScheduledPayment.period_start)
            )
            return list(rows.all())

    async def ledger(self, application_id: str) -> list[LedgerEntry]:
        async with self.sessions() as session:
            rows = await session.scalars(
                select(LedgerEntry)
                .where(LedgerEntry.application_id == uuid.UUID(application_id))
                .order_by(LedgerEntry.period, LedgerEntry.item, LedgerEntry.funder)
            )
            return list(rows.all())

    async def count_tasks(self, application_id: str) -> int:
        async with self.sessions() as session:
            return int(
                await session.scalar(
                    select(func.count()).select_from(Task).where(Task.application_id == uuid.UUID(application_id))
                )
                or 0
            )


def refusal(error: WorkflowUpdateFailedError) -> ApplicationError:
    cause = error.cause
    assert isinstance(cause, ApplicationError)
    return cause


@pytest.fixture
async def pw(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[Harness]:
    """A fresh time-skipping server per test, as for the rent subsidy: each test starts today."""
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=DATA_CONVERTER, test_server_existing_path=installed_binary("temporal-test-server")
    )
    task_queue = f"test-{uuid.uuid4()}"
    try:
        async with build_worker(env.client, task_queue, sessions):
            yield Harness(env, sessions, task_queue)
    finally:
        await env.shutdown()


# ---- declaration to the end of a 36-month subsidy ----------------------------------------------------------


async def test_declaration_to_the_end_of_a_36_month_subsidy_with_exact_ledger_totals(pw: Harness) -> None:
    year = (await pw.today()).year
    # Two employers declare; the County DPF's one task for the county and year sees both together.
    first, first_handle = await pw.declare((2, 1))
    second, second_handle = await pw.declare((3,))
    collection = await pw.collection_task(year, showing=2)
    assert collection.role == "county_dpf" and collection.county == COUNTY
    assert "2 declarations, 3 posts, 6 places" in collection.summary
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await pw.decide(collection, HR_A)  # County HR cannot report for the DPF
    assert refusal(refused.value).type == FORBIDDEN
    assert await pw.decide(collection, DPF) == "approved"

    # County HR decides each declaration; post 2 of the first is rejected, which needs a reason.
    hr_task = await pw.open_task(first, "hr_approval")
    assert hr_task.role == "county_hr" and hr_task.county == COUNTY
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await pw.decide(hr_task, HR_A, rejected_posts="2")
    assert refusal(refused.value).type == INVALID
    assert await pw.decide(hr_task, HR_A, reason="岗位2不属于公益性岗位", rejected_posts="2") == "approved"
    await pw.ends(first_handle, "approved")
    await pw.decide(await pw.open_task(second, "hr_approval"), HR_A, "reject", reason="本年度岗位已满")
    await pw.ends(second_handle, "rejected")
    await record_history(first_handle)  # collected, approved with post 2 rejected
    await record_history(second_handle)  # collected, rejected by County HR
    # The collection stays open to the year's end: recorded idle, after its round reported both declarations.
    await record_history(pw.env.client.get_workflow_handle(collection_workflow_id(COUNTY, year)))
    async with pw.sessions() as session:
        posts = (
            await session.scalars(
                select(PublicWelfarePost).where(
                    PublicWelfarePost.application_id.in_([uuid.UUID(first), uuid.UUID(second)])
                )
            )
        ).all()
    assert sorted((str(p.application_id) == first, p.number, p.status) for p in posts) == [
        (False, 1, "rejected"),
        (True, 1, "approved"),
        (True, 2, "rejected"),
    ]

    # A person of 40 on the approved post: County HR approves, publicity, then 36 months to the end.
    person = await pw.someone(40)
    today = await pw.today()
    placement, handle = await pw.propose(first, person, start_date=today)
    checked = (await pw.reaches(placement, "under_review")).eligibility
    assert checked is not None and (checked["eligible"], checked["reasons"], checked["sequence"]) == (True, [], 1)
    assert await pw.decide(await pw.open_task(placement, "hr_approval"), HR_A) == "publicity"
    record = await pw.placement(placement)
    calendar = await database_calendar(pw.sessions)  # the test calendar (or packaged years) of the database
    assert (record.publicity_from, record.publicity_until) == (today, add_working_days(today, 5, calendar))
    assert record.sequence == 1

    assert await handle.result() == "completed"

    months = await pw.schedule(placement)
    assert len(months) == 36 and all(m.status == "due" for m in months)
    assert (months[0].period_start, months[-1].period_end) == (today, add_months(today, 36))
    rows = await pw.ledger(placement)
    assert len(rows) == 36 * 4
    post_rows = [r for r in rows if r.item == "post_subsidy"]
    insurance_rows = [r for r in rows if r.item == "social_insurance"]
    assert total(post_rows) == Decimal("71280.00")  # 1980.00 × 36
    assert total(insurance_rows) == Decimal("35512.20")  # 986.45 × 36
    assert total(rows, "city") == Decimal("53395.92")  # (990.00 + 493.22) × 36
    assert total(rows, "county") == Decimal("53396.28")  # (990.00 + 493.23) × 36: the odd fen is the county's
    assert total(rows) == Decimal("106792.20")
    assert {r.idempotency_key.split(":", 1)[1] for r in rows if r.period == months[0].period} == {
        f"{months[0].period}:city:post_subsidy",
        f"{months[0].period}:county:post_subsidy",
        f"{months[0].period}:city:social_insurance",
        f"{months[0].period}:county:social_insurance",
    }
    assert (await pw.application(placement)).status == "completed"
    latest = await pw.env.client.get_workflow_handle(handle.id).describe()
    assert latest.run_id != handle.first_execution_run_id  # continued as new after 12 payments
    assert await pw.count_tasks(placement) == 1  # a first placement is not filed with the region


async def test_a_second_declaration_of_the_same_employer_for_the_year_is_refused(pw: Harness) -> None:
    employer = new_credit_code()
    first, first_handle = await pw.declare(credit_code=employer)
    await pw.reaches(first, "under_review")
    second, second_handle = await pw.declare(credit_code=employer)
    await pw.ends(second_handle, "rejected")
    assert (await pw.application(second)).eligibility["reasons"] == ["already_declared_this_year"]  # type: ignore[index]
    await pw.event(first_handle, EventInput("withdrawn", EMPLOYER))
    await pw.ends(first_handle, "withdrawn")
    await record_history(second_handle)  # ineligible, no task
    await record_history(first_handle)  # withdrawn while waiting for the collection


async def test_a_refused_collection_rejects_its_declarations_a_later_one_opens_the_next_round_and_the_year_closes_it(
    pw: Harness,
) -> None:
    # Next year's collection: no other test's collection shares its rows, and its year end is this test's alone.
    year = (await pw.today()).year + 1
    refused, refused_handle = await pw.declare(year=year)
    first_round = await pw.collection_task(year)
    with pytest.raises(WorkflowUpdateFailedError) as refused_decision:
        await pw.decide(first_round, DPF, "reject")  # a refusal needs a reason
    assert refusal(refused_decision.value).type == INVALID
    with pytest.raises(WorkflowUpdateFailedError) as refused_decision:
        await pw.decide(first_round, DPF, "return", reason="补充材料")
    assert refusal(refused_decision.value).type == INVALID  # a collection is reported or refused
    assert await pw.decide(first_round, DPF, "reject", reason="申报材料不全") == "rejected"
    await pw.ends(refused_handle, "rejected")
    assert await pw.count_tasks(refused) == 0  # it never reached County HR
    async with pw.sessions() as session:
        kinds = (
            await session.scalars(select(AuditRecord.kind).where(AuditRecord.application_id == uuid.UUID(refused)))
        ).all()
        posts = (
            await session.scalars(
                select(PublicWelfarePost.status).where(PublicWelfarePost.application_id == uuid.UUID(refused))
            )
        ).all()
    assert "collection_refused" in kinds and list(posts) == ["rejected"]
    await record_history(refused_handle)

    # A declaration arriving after the refusal opens the collection's next round, which reports it.
    later, later_handle = await pw.declare(year=year)
    second_round = await pw.collection_task(year)
    assert second_round.round == first_round.round + 1 and second_round.id != first_round.id
    assert (await pw.application(str(collection_application_id(COUNTY, year)))).status == "under_review"
    assert await pw.decide(second_round, DPF) == "approved"
    await pw.decide(await pw.open_task(later, "hr_approval"), HR_A)
    await pw.ends(later_handle, "approved")
    await record_history(later_handle)

    # The collection stays open to the end of its year, then closes.
    collection = pw.env.client.get_workflow_handle(collection_workflow_id(COUNTY, year), result_type=str)
    await pw.env.sleep(datetime(year + 1, 1, 1, 0, 1, tzinfo=CHINA) - await pw.env.get_current_time())
    assert await collection.result() == "completed"
    assert (await pw.application(str(collection_application_id(COUNTY, year)))).status == "completed"


# ---- the subsidy period: retirement -------------------------------------------------------------------


async def test_a_person_of_58_is_subsidised_up_to_retirement_and_a_person_of_40_for_three_years(pw: Harness) -> None:
    post = await pw.approved_post(places=2)
    today = await pw.today()
    young, old = await pw.someone(40), await pw.someone(58, 6, days=10)
    young_placement, young_handle = await pw.placed(post, young, start_date=today)
    old_placement, old_handle = await pw.placed(post, old, start_date=today)

    young_months = await pw.schedule(young_placement)
    assert len(young_months) == 36 and young_months[-1].period_end == add_months(today, 36)
    assert not (await pw.placement(young_placement)).extended_to_retirement

    # Born 58 years and 6 months ago: under the reform he retires at 60 years and 11 months or so, less than five
    # years away, so the subsidy runs up to that day instead of three years, its last month paid by days.
    retirement = statutory_retirement_date("M", old.birth_date, None, PARAMS)
    expected = placement_schedule(subsidy_period(today, retirement, PARAMS), COUNTY, PARAMS)
    old_months = await pw.schedule(old_placement)
    assert len(old_months) == len(expected) < 36
    assert old_months[-1].period_end == retirement
    assert [m.amount for m in old_months] == [m.amount for m in expected]
    assert old_months[-1].amount < old_months[0].amount
    record = await pw.placement(old_placement)
    assert record.extended_to_retirement and record.retirement_on == retirement and record.period_end == retirement

    for handle in (young_handle, old_handle):
        assert await pw.end_employment(handle) == "terminated"
        await pw.ends(handle, "terminated")


# ---- re-placement, filing, the cap and the override ------------------------------------------------------


async def _two_placements(pw: Harness, post: str, person: Someone) -> None:
    """A first placement that ended, and a re-placement (filed with the region) that ended too."""
    first, first_handle = await pw.placed(post, person)
    assert (await pw.placement(first)).sequence == 1
    await pw.end_employment(first_handle)
    await pw.ends(first_handle, "terminated")
    second, second_handle = await pw.placed(post, person)
    assert (await pw.placement(second)).sequence == 2
    filing = await pw.open_task(second, "region_filing")
    assert filing.role == "region_hr" and filing.county is None
    await pw.end_employment(second_handle)
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await pw.decide(filing, REGION, "reject", reason="x")
    assert refusal(refused.value).type == INVALID  # a filing is acknowledged, not decided
    await pw.decide(filing, REGION)  # still on record after the placement ended
    await pw.ends(second_handle, "terminated")
    async with pw.sessions() as session:
        recorded = await session.scalar(select(Decision).where(Decision.task_id == filing.id))
        assert recorded is not None and recorded.decided_by == "region-a" and recorded.step == "region_filing"


async def test_a_re_placement_needs_hardship_and_the_earlier_one_to_have_ended(pw: Harness) -> None:
    post = await pw.approved_post(places=2)
    ordinary = await pw.someone(45)
    first, first_handle = await pw.placed(post, ordinary)
    running, running_handle = await pw.propose(post, ordinary)
    await pw.ends(running_handle, "rejected")
    assert (await pw.application(running)).eligibility["reasons"] == [  # type: ignore[index]
        "not_yet_expired",
        "re_placement_needs_hardship",
    ]
    assert await pw.count_tasks(running) == 0
    await pw.end_employment(first_handle)
    await pw.ends(first_handle, "terminated")


async def test_a_third_placement_is_refused_with_placement_cap_reached(pw: Harness) -> None:
    post = await pw.approved_post()
    person = await pw.someone(45, special_hardship=True)
    await _two_placements(pw, post, person)
    third, handle = await pw.propose(post, person)
    await pw.ends(handle, "rejected")
    application = await pw.application(third)
    assert application.eligibility and application.eligibility["reasons"] == ["placement_cap_reached"]
    assert await pw.count_tasks(third) == 0


async def test_the_override_of_the_cap_needs_two_different_city_officials(pw: Harness) -> None:
    post = await pw.approved_post()
    person = await pw.someone(45, special_hardship=True)
    await _two_placements(pw, post, person)
    third, handle = await pw.propose(post, person, override_reason="本人无其他就业渠道，家庭特殊困难")
    first = await pw.open_task(third, "city_override")
    assert first.role == "city_dpf" and first.county is None and "特殊困难" in first.summary
    assert (await pw.application(third)).status == "under_review"

    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await pw.decide(first, CITY_A)  # an override needs a written reason
    assert refusal(refused.value).type == INVALID
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await pw.decide(first, HR_A, reason="同意")
    assert refusal(refused.value).type == FORBIDDEN
    await pw.decide(first, CITY_A, reason="经核实确属特殊困难，同意第三次安置")

    second = await pw.open_task(third, "city_override_second")
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await pw.decide(second, CITY_A, reason="我再签一次")  # the same official twice
    assert refusal(refused.value).type == FORBIDDEN
    await pw.decide(second, CITY_B, reason="同意")

    # Then the ordinary path: County HR, publicity, placed; the override is on record and it is filed.
    month_ago = (await pw.today()) - timedelta(days=30)
    hr = await pw.open_task(third, "hr_approval")
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await pw.decide(hr, HR_A, approved_on=(month_ago - timedelta(days=400)).isoformat())
    assert refusal(refused.value).type == INVALID  # before the application was made
    assert await pw.decide(hr, HR_A) == "publicity"
    await pw.env.sleep(timedelta(days=10))
    await pw.reaches(third, "active")
    record = await pw.placement(third)
    assert record.sequence == 3 and record.overridden
    await pw.decide(await pw.open_task(third, "region_filing"), REGION)
    await pw.end_employment(handle)
    await pw.ends(handle, "terminated")
    async with pw.sessions() as session:
        signers = (
            await session.scalars(
                select(Decision.decided_by)
                .where(Decision.application_id == uuid.UUID(third), Decision.step.like("city_override%"))
                .order_by(Decision.decided_at, Decision.id)
            )
        ).all()
    assert list(signers) == ["city-a", "city-b"]


async def test_an_override_refused_by_the_second_official_rejects_the_placement(pw: Harness) -> None:
    post = await pw.approved_post()
    person = await pw.someone(45, severe_disability=True)
    await _two_placements(pw, post, person)
    third, handle = await pw.propose(post, person, override_reason="请求特批")
    await pw.decide(await pw.open_task(third, "city_override"), CITY_A, reason="同意")
    await pw.decide(await pw.open_task(third, "city_override_second"), CITY_B, "reject", reason="理由不充分")
    await pw.ends(handle, "rejected")
    assert await pw.count_tasks(third) == 2


# ---- publicity -------------------------------------------------------------------------------------------


async def test_publicity_across_the_spring_festival_2026_counts_official_working_days(pw: Harness) -> None:
    # Decided on paper on Friday 13 February 2026 and entered now. 15-23 February are holidays and Saturday
    # 14 February a working day, so the five days are 14, 24, 25, 26 and 27 February (Monday to Friday
    # counting would have ended on the 20th, in the middle of the holiday).
    post = await pw.approved_post()
    person = await pw.someone(40)
    placement, handle = await pw.propose(post, person, applied_on=date(2026, 2, 10), start_date=date(2026, 3, 2))
    hr = await pw.open_task(placement, "hr_approval")
    assert await pw.decide(hr, HR_A, approved_on="2026-02-13") == "publicity"
    record = await pw.placement(placement)
    assert (record.publicity_from, record.publicity_until) == (date(2026, 2, 13), date(2026, 2, 27))
    async with pw.sessions() as session:
        decision = await session.scalar(select(Decision).where(Decision.task_id == hr.id))
        assert decision is not None and decision.values["publicity_until"] == "2026-02-27"
    # That publicity is long over: placed at once, and the months already ended are paid in arrears.
    await pw.reaches(placement, "active")
    today = await pw.today()
    ended = [m for m in await pw.schedule(placement) if m.period_end <= today]
    paid = await eventually(lambda: _paid(pw, placement, len(ended)), 15)
    assert len(paid) == len(ended) > 0
    await pw.end_employment(handle)
    await pw.ends(handle, "terminated")
    months = await pw.schedule(placement)
    assert [m.status for m in months].count("due") == len(ended)
    assert [m.status for m in months].count("cancelled") == len(months) - len(ended)
    assert len(await pw.ledger(placement)) == 4 * len(ended)


async def _paid(pw: Harness, application_id: str, expected: int) -> list[ScheduledPayment] | None:
    paid = [m for m in await pw.schedule(application_id) if m.status == "due"]
    return paid if len(paid) >= expected else None


async def test_publicity_into_a_year_the_calendar_does_not_know_refuses_the_approval_clearly(pw: Harness) -> None:
    # The last of the years the database knows from this one on (the session loads this year's and the next's
    # test calendars): on its 28 December the fifth working day falls in the year after, which it does not know.
    today = await pw.today()
    calendar = await database_calendar(pw.sessions)
    last_known = today.year
    while calendar.knows(last_known + 1):
        last_known += 1
    unknown = last_known + 1
    post = await pw.approved_post()
    placement, handle = await pw.propose(post, await pw.someone(40))
    hr = await pw.open_task(placement, "hr_approval")
    await pw.env.sleep(date(last_known, 12, 28) - today)
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await pw.decide(hr, HR_A)
    error = refusal(refused.value)
    assert error.type == CONFLICT and "publicity_calendar_unknown" in error.message and str(unknown) in error.message
    assert (await pw.application(placement)).status == "under_review"  # nothing happened; the task stays open
    assert (await pw.placement(placement)).publicity_until is None
    try:
        # An administrator loads that year: the same approval, on the same day, now goes through on it.
        async with pw.sessions.begin() as session:
            await store_year(session, year_for_tests(unknown), "tests")
        assert await pw.decide(hr, HR_A) == "publicity"
        loaded = await database_calendar(pw.sessions)
        expected = add_working_days(date(last_known, 12, 28), 5, loaded)
        assert expected.year == unknown
        assert (await pw.placement(placement)).publicity_until == expected
    finally:
        async with pw.sessions.begin() as session:
            row = await session.get(CalendarYearRow, unknown)
            assert row is not None
            await session.delete(row)
    await pw.event(handle, EventInput("withdrawn", EMPLOYER))
    await pw.ends(handle, "withdrawn")


async def test_publicity_across_the_2027_spring_festival_counts_on_the_loaded_example_year(pw: Harness) -> None:
    async with example_year_for_a_test(pw.sessions, 2027):
        await _publicity_across_the_2027_spring_festival(pw)


async def _publicity_across_the_2027_spring_festival(pw: Harness) -> None:
    # The 2027 example file (calendars/2027-example.yaml: NOT the State Council's notice) loaded as an
    # administrator would; an approval on paper on Thursday 4 February 2027, the day before its Spring Festival
    # holiday (5-13 February), ends publicity after it, on Friday 19 February.
    example = parse_year_file(EXAMPLE_2027.read_text(encoding="utf-8"))
    async with pw.sessions.begin() as session:
        await store_year(session, example, "tests")
    today = await pw.today()
    if today < date(2027, 2, 5):
        await pw.env.sleep(date(2027, 2, 5) - today)
    post = await pw.approved_post()
    placement, handle = await pw.propose(post, await pw.someone(40), applied_on=date(2027, 2, 1))
    hr = await pw.open_task(placement, "hr_approval")
    assert await pw.decide(hr, HR_A, approved_on="2027-02-04") == "publicity"
    record = await pw.placement(placement)
    assert (record.publicity_from, record.publicity_until) == (date(2027, 2, 4), date(2027, 2, 19))
    async with pw.sessions() as session:
        decision = await session.scalar(select(Decision).where(Decision.task_id == hr.id))
        assert decision is not None and decision.values["publicity_until"] == "2027-02-19"
    if await pw.today() <= date(2027, 2, 19):
        await pw.event(handle, EventInput("withdrawn", EMPLOYER))
        await pw.ends(handle, "withdrawn")
    else:  # run after the publicity's end: placed at once
        await pw.reaches(placement, "active")
        await pw.end_employment(handle)
        await pw.ends(handle, "terminated")


async def test_an_objection_during_publicity_sends_the_placement_back_to_county_hr(pw: Harness) -> None:
    post = await pw.approved_post()
    placement, handle = await pw.propose(post, await pw.someone(40))
    first = await pw.open_task(placement, "hr_approval")
    assert await pw.decide(first, HR_A) == "publicity"

    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await pw.event(handle, EventInput("objection", EMPLOYER, note="x"))
    assert refusal(refused.value).type == FORBIDDEN
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await pw.event(handle, EventInput("objection", DPF))
    assert refusal(refused.value).type == INVALID  # what the objection says is required
    objection = EventInput("objection", DPF, date=await pw.today(), note="群众反映其已在其他单位就业")
    assert await pw.event(handle, objection) == "under_review"

    second = await pw.open_task(placement, "hr_approval")
    assert second.round == 2 and second.id != first.id
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await pw.decide(second, HR_A)  # another official looks at it again
    assert refusal(refused.value).type == FORBIDDEN
    assert await pw.decide(second, HR_B) == "publicity"
    await pw.env.sleep(timedelta(days=10))
    await pw.reaches(placement, "active")
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await pw.event(handle, objection)
    assert refusal(refused.value).type == CONFLICT  # publicity is over
    await pw.end_employment(handle)
    await pw.ends(handle, "terminated")


async def test_an_objection_upheld_by_county_hr_rejects_the_placement_and_frees_the_place(pw: Harness) -> None:
    post = await pw.approved_post()
    placement, handle = await pw.propose(post, await pw.someone(40))
    await pw.decide(await pw.open_task(placement, "hr_approval"), HR_A)
    # In publicity the placement holds the post's one place: nobody else can be placed on it.
    crowded, crowded_handle = await pw.propose(post, await pw.someone(35))
    await pw.ends(crowded_handle, "rejected")
    assert (await pw.application(crowded)).eligibility["reasons"] == ["post_has_no_free_place"]  # type: ignore[index]
    await pw.event(handle, EventInput("objection", HR_A, note="公示期间收到实名异议"))
    await pw.decide(await pw.open_task(placement, "hr_approval"), HR_A, "reject", reason="异议属实")
    await pw.ends(handle, "rejected")
    other, other_handle = await pw.placed(post, await pw.someone(30))  # the one place is free again
    await pw.end_employment(other_handle)
    await pw.ends(other_handle, "terminated")


# ---- exclusivity with the flexible-employment insurance subsidy --------------------------------------------


async def test_neither_subsidy_starts_while_the_other_is_active_in_either_order(pw: Harness) -> None:
    post = await pw.approved_post(places=2)
    placed_person, insured_person = await pw.someone(40), await pw.someone(41)

    placement, placement_handle = await pw.placed(post, placed_person)
    flexible, flexible_handle = await pw.flexible(placed_person)
    await pw.ends(flexible_handle, "rejected")
    assert (await pw.application(flexible)).eligibility["reasons"] == ["exclusive_with_public_welfare_post"]  # type: ignore[index]

    insured, insured_handle = await pw.flexible(insured_person)
    await pw.decide(await pw.open_task(insured, "hr_approval"), HR_A)
    await pw.reaches(insured, "active")
    refused, refused_handle = await pw.propose(post, insured_person)
    await pw.ends(refused_handle, "rejected")
    assert (await pw.application(refused)).eligibility["reasons"] == [  # type: ignore[index]
        "exclusive_with_flexible_employment_insurance"
    ]

    await pw.end_employment(placement_handle)
    await pw.ends(placement_handle, "terminated")
    await pw.event(insured_handle, EventInput("employment_ended", APPLICANT, date=await pw.today()))
    await pw.ends(insured_handle, "terminated")
    await record_history(flexible_handle)  # refused at the check: the person holds a public-welfare post
    await record_history(insured_handle)  # approved, active, terminated when the employment ended


async def test_county_hr_rejects_a_flexible_insurance_subsidy_with_a_reason_and_its_applicant_withdraws_another(
    pw: Harness,
) -> None:
    rejected, rejected_handle = await pw.flexible(await pw.someone(42))
    task = await pw.open_task(rejected, "hr_approval")
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await pw.decide(task, HR_A, "reject")  # a rejection needs a reason
    assert refusal(refused.value).type == INVALID
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await pw.decide(task, HR_A, "return", reason="补充材料")  # approved or rejected, never returned
    assert refusal(refused.value).type == INVALID
    assert await pw.decide(task, HR_A, "reject", reason="未办理灵活就业登记") == "rejected"
    await pw.ends(rejected_handle, "rejected")
    await record_history(rejected_handle)

    withdrawn, withdrawn_handle = await pw.flexible(await pw.someone(43))
    task = await pw.open_task(withdrawn, "hr_approval")
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await pw.event(withdrawn_handle, EventInput("withdrawn", EMPLOYER))  # only the applicant withdraws
    assert refusal(refused.value).type == FORBIDDEN
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await pw.event(withdrawn_handle, EventInput("employment_ended", APPLICANT, date=await pw.today()))
    assert refusal(refused.value).type == CONFLICT  # not active yet
    assert await pw.event(withdrawn_handle, EventInput("withdrawn", APPLICANT)) == "withdrawn"
    await pw.ends(withdrawn_handle, "withdrawn")
    async with pw.sessions() as session:
        cancelled = await session.get(Task, task.id)
    assert cancelled is not None and cancelled.status == "cancelled"
    await record_history(withdrawn_handle)


async def test_the_exclusivity_race_lets_exactly_one_of_two_simultaneous_approvals_start(pw: Harness) -> None:
    post = await pw.approved_post(places=3)
    for _ in range(3):
        person = await pw.someone(40)
        placement, placement_handle = await pw.propose(post, person)
        flexible, flexible_handle = await pw.flexible(person)
        placement_task = await pw.open_task(placement, "hr_approval")
        flexible_task = await pw.open_task(flexible, "hr_approval")

        outcomes = await asyncio.gather(
            pw.decide(placement_task, HR_A), pw.decide(flexible_task, HR_A), return_exceptions=True
        )

        started = [o for o in outcomes if isinstance(o, str)]
        refusals = [refusal(o) for o in outcomes if isinstance(o, WorkflowUpdateFailedError)]
        assert len(started) == 1 and len(refusals) == 1, outcomes
        assert refusals[0].type == CONFLICT
        placement_won = outcomes[0] == "publicity"
        expected = (
            "exclusive_with_public_welfare_post" if placement_won else "exclusive_with_flexible_employment_insurance"
        )
        assert expected in refusals[0].message
        statuses = {(await pw.application(a)).status for a in (placement, flexible)}
        assert statuses == ({"publicity", "under_review"} if placement_won else {"active", "under_review"})
        # The loser's task is still open: County HR rejects it with the reason.
        loser_handle = flexible_handle if placement_won else placement_handle
        loser_task = flexible_task if placement_won else placement_task
        await pw.decide(loser_task, HR_A, "reject", reason=expected)
        await pw.ends(loser_handle, "rejected")
        winner_handle = placement_handle if placement_won else flexible_handle
        await pw.event(winner_handle, EventInput("withdrawn", EMPLOYER if placement_won else APPLICANT))
        await pw.ends(winner_handle, "withdrawn")
        # Lost: its approval refused (409), then rejected by County HR; won: active, then withdrawn.
        await record_history(flexible_handle)
