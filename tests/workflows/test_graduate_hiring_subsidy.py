"""GraduateHiringSubsidyWorkflow on the time-skipping test server, with the real activities on real PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer

from subsidy.db.minimum_wages import MinimumWageStandardRow, store_standard
from subsidy.db.models import Application, AuditRecord, Decision, LedgerEntry, Person, ScheduledPayment, Task
from subsidy.db.person_records import PersonProgramRecord
from subsidy.policy.minimum_wage import MinimumWageStandard
from subsidy.policy.versions import BAOTOU_2025, version_in_force, version_to_json
from subsidy.policy.workdays import CHINA
from subsidy.programs.graduate_hiring_subsidy.contracts import (
    GRADUATE_HIRING_WORKFLOW,
    GraduateHiringInput,
    GraduateHiringView,
)
from subsidy.programs.graduate_hiring_subsidy.form import GraduateHiringForm
from subsidy.programs.graduate_hiring_subsidy.rules import (
    add_months,
    add_years,
    hiring_reasons,
    subsidy_years,
    year_amount,
    year_shares,
)
from subsidy.programs.graduate_hiring_subsidy.workflow import GraduateHiringSubsidyWorkflow
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
    workflow_id_for,
)
from tests.helpers import new_credit_code, new_resident_id
from tests.histories.recorder import record as record_history
from tests.workflows.conftest import eventually

COUNTY = "150203"
EMPLOYER = Actor("employer-a", ["employer"])
OTHER_EMPLOYER = Actor("employer-b", ["employer"])
DPF_A = Actor("dpf-150203-a", ["county_dpf"], COUNTY)
DPF_B = Actor("dpf-150203-b", ["county_dpf"], COUNTY)
DPF_OTHER_COUNTY = Actor("dpf-150204-a", ["county_dpf"], "150204")
PARAMS = BAOTOU_2025.graduate_hiring

Handle = WorkflowHandle[Any, str]


def graduate_form(
    *,
    graduated_on: date,
    start: date,
    end: date | None = None,
    insured_from: date | None = None,
    id_number: str | None = None,
    credit_code: str | None = None,
) -> dict[str, Any]:
    number = id_number or new_resident_id(born=date(2003, 5, 4))
    return {
        "program": "graduate_hiring_subsidy",
        "employer": {"name": "包头稀土科技有限公司", "credit_code": credit_code or new_credit_code()},
        "county": COUNTY,
        "person": {"name": "王小明", "id_number": number, "disability_cert_number": number + "22"},
        "graduated_on": graduated_on.isoformat(),
        "contract": {"start_date": start.isoformat(), "end_date": (end or add_years(start, 3)).isoformat()},
        "social_insurance_from": (insured_from or start).isoformat(),
    }


@dataclass
class Harness:
    env: WorkflowEnvironment
    sessions: async_sessionmaker[AsyncSession]
    task_queue: str

    async def today(self) -> date:
        return (await self.env.get_current_time()).astimezone(CHINA).date()

    async def submit(self, fields: dict[str, Any], by: Actor = EMPLOYER) -> tuple[str, Handle]:
        form = GraduateHiringForm.model_validate(fields)
        applied_on = await self.today()
        version = version_in_force(applied_on)
        application_id = uuid.uuid4()
        async with self.sessions.begin() as session:
            person_id = await session.scalar(
                insert(Person)
                .values(id=uuid.uuid4(), id_number=form.person.id_number, name=form.person.name)
                .on_conflict_do_update(index_elements=[Person.id_number], set_={"name": form.person.name})
                .returning(Person.id)
            )
            session.add(
                Application(
                    id=application_id,
                    program="graduate_hiring_subsidy",
                    status="submitted",
                    county=form.county,
                    submitted_by=by.username,
                    person_id=person_id,
                    workflow_id=workflow_id_for(str(application_id)),
                    form=form.model_dump(mode="json"),
                )
            )
        handle: Handle = await self.env.client.start_workflow(
            GRADUATE_HIRING_WORKFLOW,
            GraduateHiringInput(
                application_id=str(application_id),
                program="graduate_hiring_subsidy",
                submitted_by=by.username,
                applied_on=applied_on,
                county=form.county,
                person_id=str(person_id),
                employer_credit_code=form.employer.credit_code,
                graduated_on=form.graduated_on,
                contract_start=form.contract.start_date,
                contract_end=form.contract.end_date,
                social_insurance_from=form.social_insurance_from,
                policy=version_to_json(version) if version else None,
            ),
            id=workflow_id_for(str(application_id)),
            task_queue=self.task_queue,
            result_type=str,
        )
        return str(application_id), handle

    async def fresh_hire(self, *, days_ago: int = 10, **fields: Any) -> tuple[str, Handle, date]:
        """A graduate of a month ago hired `days_ago` days ago."""
        today = await self.today()
        start = today - timedelta(days=days_ago)
        application_id, handle = await self.submit(
            graduate_form(graduated_on=start - timedelta(days=30), start=start, **fields)
        )
        return application_id, handle, start

    async def view(self, handle: Handle) -> GraduateHiringView:
        view: GraduateHiringView = await handle.query("view", result_type=GraduateHiringView)
        return view

    async def status(self, handle: Handle, wanted: str) -> GraduateHiringView:
        async def reached() -> GraduateHiringView | None:
            view = await self.view(handle)
            return view if view.status == wanted else None

        result: GraduateHiringView = await eventually(reached, 15)
        return result

    async def open_task(self, handle: Handle, step: str, round: int = 1) -> str:
        async def held() -> str | None:
            task_id = (await self.view(handle)).open_task_id
            if task_id is None:
                return None
            async with self.sessions() as session:
                task = await session.get(Task, uuid.UUID(task_id))
            return task_id if task is not None and (task.step, task.round) == (step, round) else None

        task_id: str = await eventually(held, 15)
        return task_id

    async def decide(self, handle: Handle, task_id: str, actor: Actor, decision: str = "approve") -> DecideResult:
        reason = None if decision == "approve" else "合同已解除"
        request = DecideInput(task_id=task_id, decision=decision, actor=actor, reason=reason)
        result: DecideResult = await handle.execute_update("decide", request, result_type=DecideResult)
        return result

    async def event(self, handle: Handle, type: str, actor: Actor = EMPLOYER, on: date | None = None) -> EventResult:
        request = EventInput(type=type, actor=actor, date=on or await self.today(), note="合同和社保仍在")
        result: EventResult = await handle.execute_update("event", request, result_type=EventResult)
        return result

    async def approved(self, handle: Handle) -> None:
        await self.decide(handle, await self.open_task(handle, "review"), DPF_A)

    async def awaiting(self, handle: Handle, year: int) -> None:
        async def reached() -> bool:
            return (await self.view(handle)).awaiting_confirmation == year

        await eventually(reached, 15)

    async def skip_to_end_of_year(self, handle: Handle, start: date, year: int) -> None:
        """Let the test server skip to just after year `year` ended, then wait for the confirmation it asks."""
        end = add_years(start, year)
        gap = end - await self.today()
        if gap > timedelta(0):
            await self.env.sleep(gap + timedelta(hours=1))
        await self.awaiting(handle, year)

    async def pay_year(self, handle: Handle, start: date, year: int, checker: Actor = DPF_B) -> DecideResult:
        await self.skip_to_end_of_year(handle, start, year)
        await self.event(handle, "employment_confirmed")
        return await self.decide(handle, await self.open_task(handle, "year_check", year), checker)

    async def ledger(self, application_id: str) -> list[tuple[str, str, Decimal]]:
        async with self.sessions() as session:
            rows = await session.scalars(
                select(LedgerEntry)
                .where(LedgerEntry.application_id == uuid.UUID(application_id))
                .order_by(LedgerEntry.period, LedgerEntry.funder)
            )
            return [(row.period, row.funder, row.amount) for row in rows.all()]

    async def records(self, application_id: str) -> list[str]:
        async with self.sessions() as session:
            rows = await session.scalars(
                select(PersonProgramRecord.status).where(
                    PersonProgramRecord.application_id == uuid.UUID(application_id)
                )
            )
            return list(rows.all())

    async def application(self, application_id: str) -> Application:
        async with self.sessions() as session:
            found = await session.get(Application, uuid.UUID(application_id))
            assert found is not None
            return found


@pytest.fixture
async def grad(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[Harness]:
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=DATA_CONVERTER, test_server_existing_path=installed_binary("temporal-test-server")
    )
    task_queue = f"test-{uuid.uuid4()}"
    try:
        async with build_worker(env.client, task_queue, sessions):
            yield Harness(env, sessions, task_queue)
    finally:
        await env.shutdown()


def refusal(error: WorkflowUpdateFailedError) -> tuple[str | None, str]:
    cause = error.cause
    assert isinstance(cause, ApplicationError)
    return cause.type, cause.message


async def replay(handle: Handle) -> None:
    history = await handle.fetch_history()
    await Replayer(workflows=[GraduateHiringSubsidyWorkflow], data_converter=DATA_CONVERTER).replay_workflow(history)


# --- the pure rules -----------------------------------------------------------------------------------------------


def test_the_policy_numbers_5_x_1980_is_9900_a_year_split_4950_and_4950() -> None:
    amount = year_amount(Decimal("1980.00"), PARAMS)
    assert amount == Decimal("9900.00")
    assert year_shares(amount, PARAMS) == (Decimal("4950.00"), Decimal("4950.00"))
    # An odd fen falls to the county.
    assert year_shares(Decimal("9900.01"), PARAMS) == (Decimal("4950.00"), Decimal("4950.01"))


def test_the_years_and_their_periods() -> None:
    years = subsidy_years(date(2025, 3, 10), PARAMS)
    assert [(y.number, y.start, y.last_day, y.period) for y in years] == [
        (1, date(2025, 3, 10), date(2026, 3, 9), "2026-03"),
        (2, date(2026, 3, 10), date(2027, 3, 9), "2027-03"),
        (3, date(2027, 3, 10), date(2028, 3, 9), "2028-03"),
    ]


def reasons(graduated_on: date, start: date, end: date, insured_from: date | None = None) -> list[str]:
    return hiring_reasons(
        PARAMS,
        graduated_on=graduated_on,
        contract_start=start,
        contract_end=end,
        social_insurance_from=insured_from or start,
    )


def test_a_fresh_graduate_is_hired_within_two_years_of_graduation_and_not_before() -> None:
    graduated = date(2024, 6, 30)
    last = date(2026, 6, 30)
    assert reasons(graduated, last, add_years(last, 1)) == []
    assert reasons(graduated, last + timedelta(days=1), add_years(last, 1)) == ["not_a_fresh_graduate"]
    assert reasons(graduated, graduated, add_years(graduated, 1)) == []
    assert reasons(graduated, graduated - timedelta(days=1), add_years(graduated, 1)) == ["not_a_fresh_graduate"]


def test_a_contract_of_12_months_counts_and_one_of_11_months_or_a_day_short_does_not() -> None:
    graduated, start = date(2025, 6, 30), date(2025, 9, 1)
    assert reasons(graduated, start, date(2026, 8, 31)) == []  # 12 months
    assert reasons(graduated, start, date(2026, 8, 30)) == ["contract_shorter_than_one_year"]
    assert reasons(graduated, start, add_months(start, 11) - timedelta(days=1)) == ["contract_shorter_than_one_year"]


def test_social_insurance_from_the_contract_start_up_to_31_days_later() -> None:
    graduated, start = date(2025, 6, 30), date(2025, 9, 1)
    end = date(2026, 8, 31)
    assert reasons(graduated, start, end, start + timedelta(days=31)) == []
    assert reasons(graduated, start, end, start + timedelta(days=32)) == ["no_social_insurance"]


# --- the workflow ---------------------------------------------------------------------------------------------------


async def test_three_years_run_to_their_end_and_each_pays_9900(grad: Harness) -> None:
    application_id, handle, start = await grad.fresh_hire()
    await grad.status(handle, "under_review")
    review = await grad.open_task(handle, "review")
    async with grad.sessions() as session:
        task = await session.get(Task, uuid.UUID(review))
        assert task is not None and (task.role, task.county) == ("county_dpf", COUNTY)
        assert "王小明" not in task.summary
    assert await grad.records(application_id) == ["claimed"]
    with pytest.raises(WorkflowUpdateFailedError) as wrong_county:
        await grad.decide(handle, review, DPF_OTHER_COUNTY)
    assert refusal(wrong_county.value)[0] == FORBIDDEN
    assert (await grad.decide(handle, review, DPF_A)).status == "active"
    assert await grad.records(application_id) == ["granted"]

    # A confirmation sent before the year ends is refused.
    with pytest.raises(WorkflowUpdateFailedError) as early:
        await grad.event(handle, "employment_confirmed")
    kind, message = refusal(early.value)
    assert kind == CONFLICT and f"year 1 ends on {(add_years(start, 1) - timedelta(days=1)).isoformat()}" in message

    years = subsidy_years(start, PARAMS)
    for year in years:
        await grad.skip_to_end_of_year(handle, start, year.number)
        # Only the employer who applied confirms; not with a date before the year's end.
        with pytest.raises(WorkflowUpdateFailedError) as stranger:
            await grad.event(handle, "employment_confirmed", OTHER_EMPLOYER)
        assert refusal(stranger.value)[0] == FORBIDDEN
        with pytest.raises(WorkflowUpdateFailedError) as too_soon:
            await grad.event(handle, "employment_confirmed", on=year.last_day - timedelta(days=1))
        assert refusal(too_soon.value)[0] == INVALID
        await grad.event(handle, "employment_confirmed")
        check = await grad.open_task(handle, "year_check", year.number)
        # The official who decided the review does not check its years (separation of duties).
        with pytest.raises(WorkflowUpdateFailedError) as same:
            await grad.decide(handle, check, DPF_A)
        assert refusal(same.value)[0] == FORBIDDEN
        assert (await grad.decide(handle, check, DPF_B)).status == "active"
    assert await handle.result() == "completed"

    assert await grad.ledger(application_id) == [
        (period, funder, Decimal("4950.00")) for period in [y.period for y in years] for funder in ("city", "county")
    ]
    view = await grad.view(handle)
    assert [(y.number, y.status, y.amount) for y in view.years] == [(k, "paid", Decimal("9900.00")) for k in (1, 2, 3)]
    assert {y.minimum_wage_standard for y in view.years} == {"nmg-2021"}
    async with grad.sessions() as session:
        decisions = (
            await session.scalars(
                select(Decision).where(
                    Decision.application_id == uuid.UUID(application_id), Decision.step == "year_check"
                )
            )
        ).all()
        assert len(decisions) == 3
        first = decisions[0].values
        assert (first["minimum_wage"], first["minimum_wage_standard"], first["minimum_wage_tier"], first["amount"]) == (
            "1980.00",
            "nmg-2021",
            "1",
            "9900.00",
        )
        months = (
            await session.scalars(
                select(ScheduledPayment).where(ScheduledPayment.application_id == uuid.UUID(application_id))
            )
        ).all()
        assert sorted((m.period, m.amount, m.status) for m in months) == [
            (y.period, Decimal("9900.00"), "due") for y in years
        ]
    assert (await grad.application(application_id)).status == "completed"
    assert await grad.records(application_id) == ["granted"]
    await record_history(handle)
    await replay(handle)


async def test_employment_ended_at_month_18_pays_year_1_and_cancels_years_2_and_3(grad: Harness) -> None:
    application_id, handle, start = await grad.fresh_hire()
    await grad.approved(handle)
    await grad.pay_year(handle, start, 1)
    await grad.env.sleep(add_months(start, 18) - await grad.today())
    ended_on = await grad.today()
    # Not an event of someone else's county.
    with pytest.raises(WorkflowUpdateFailedError) as wrong_county:
        await grad.event(handle, "employment_ended", DPF_OTHER_COUNTY, on=ended_on)
    assert refusal(wrong_county.value)[0] == FORBIDDEN
    assert (await grad.event(handle, "employment_ended", on=ended_on)).status == "terminated"
    assert await handle.result() == "terminated"
    view = await grad.view(handle)
    assert [y.status for y in view.years] == ["paid", "cancelled", "cancelled"]
    assert await grad.ledger(application_id) == [
        (subsidy_years(start, PARAMS)[0].period, "city", Decimal("4950.00")),
        (subsidy_years(start, PARAMS)[0].period, "county", Decimal("4950.00")),
    ]
    assert await grad.records(application_id) == ["granted"]  # a year was paid: the employment stays recorded
    await record_history(handle)
    await replay(handle)


async def test_employment_ended_after_a_year_ended_unconfirmed_still_lets_that_year_be_paid(grad: Harness) -> None:
    application_id, handle, start = await grad.fresh_hire()
    await grad.approved(handle)
    await grad.skip_to_end_of_year(handle, start, 1)
    await grad.env.sleep(timedelta(days=40))
    assert (await grad.event(handle, "employment_ended", DPF_B)).status == "active"
    assert [y.status for y in (await grad.view(handle)).years] == ["planned", "cancelled", "cancelled"]
    await grad.event(handle, "employment_confirmed", on=await grad.today())
    await grad.decide(handle, await grad.open_task(handle, "year_check", 1), DPF_B)
    assert await handle.result() == "terminated"
    assert total_of(await grad.ledger(application_id)) == Decimal("9900.00")
    await replay(handle)


def total_of(rows: list[tuple[str, str, Decimal]]) -> Decimal:
    return sum((amount for _, _, amount in rows), Decimal("0.00"))


async def test_a_rejected_check_terminates_unpaid_and_releases_the_employment(grad: Harness) -> None:
    application_id, handle, start = await grad.fresh_hire()
    await grad.approved(handle)
    await grad.skip_to_end_of_year(handle, start, 1)
    await grad.event(handle, "employment_confirmed")
    check = await grad.open_task(handle, "year_check", 1)
    assert (await grad.decide(handle, check, DPF_B, "reject")).status == "terminated"
    assert await handle.result() == "terminated"
    assert [y.status for y in (await grad.view(handle)).years] == ["cancelled"] * 3
    assert await grad.ledger(application_id) == []
    assert await grad.records(application_id) == ["released"]
    await record_history(handle)
    await replay(handle)


async def test_a_contract_that_began_more_than_a_year_ago_opens_the_first_check_at_once(grad: Harness) -> None:
    today = await grad.today()
    start = add_months(today, -14)
    application_id, handle = await grad.submit(graduate_form(graduated_on=start - timedelta(days=60), start=start))
    await grad.approved(handle)
    await grad.awaiting(handle, 1)
    await grad.event(handle, "employment_confirmed")
    await grad.decide(handle, await grad.open_task(handle, "year_check", 1), DPF_B)
    assert [y.status for y in (await grad.view(handle)).years] == ["paid", "planned", "planned"]
    # Year 2 has not ended yet: its confirmation is refused.
    with pytest.raises(WorkflowUpdateFailedError) as early:
        await grad.event(handle, "employment_confirmed")
    assert refusal(early.value)[0] == CONFLICT
    assert total_of(await grad.ledger(application_id)) == Decimal("9900.00")


async def test_a_later_minimum_wage_changes_year_2_but_not_year_1(grad: Harness) -> None:
    application_id, handle, start = await grad.fresh_hire()
    years = subsidy_years(start, PARAMS)
    code = f"test-{uuid.uuid4().hex[:8]}"
    async with grad.sessions.begin() as session:
        await store_standard(
            session,
            MinimumWageStandard(
                code=code,
                region="150000",
                document="测试用最低工资标准",
                valid_from=years[1].start + timedelta(days=100),
                description="a standard for this test only",
                monthly_by_tier={1: Decimal("2100.00"), 2: Decimal("2000.00")},
                county_tiers={COUNTY: 1},
            ),
            loaded_by="test",
        )
    try:
        await grad.approved(handle)
        await grad.pay_year(handle, start, 1)
        await grad.pay_year(handle, start, 2)
        view = await grad.view(handle)
        assert [(y.amount, y.minimum_wage_standard) for y in view.years[:2]] == [
            (Decimal("9900.00"), "nmg-2021"),
            (Decimal("10500.00"), code),
        ]
        assert await grad.ledger(application_id) == [
            (years[0].period, "city", Decimal("4950.00")),
            (years[0].period, "county", Decimal("4950.00")),
            (years[1].period, "city", Decimal("5250.00")),
            (years[1].period, "county", Decimal("5250.00")),
        ]
    finally:
        async with grad.sessions.begin() as session:
            await session.execute(delete(MinimumWageStandardRow).where(MinimumWageStandardRow.code == code))


async def test_graduated_too_long_ago_is_rejected_with_the_reason_and_no_task(grad: Harness) -> None:
    today = await grad.today()
    start = today - timedelta(days=5)
    application_id, handle = await grad.submit(
        graduate_form(graduated_on=add_years(start, -2) - timedelta(days=1), start=start)
    )
    assert await handle.result() == "rejected"
    application = await grad.application(application_id)
    assert application.eligibility is not None and application.eligibility["reasons"] == ["not_a_fresh_graduate"]
    assert await grad.records(application_id) == []
    # On the edge: exactly two years after graduation counts.
    _, edge = await grad.submit(graduate_form(graduated_on=add_years(start, -2), start=start))
    assert (await grad.status(edge, "under_review")).status == "under_review"
    await record_history(handle)


async def test_an_eleven_month_contract_is_rejected(grad: Harness) -> None:
    today = await grad.today()
    start = today - timedelta(days=5)
    application_id, handle = await grad.submit(
        graduate_form(graduated_on=start - timedelta(days=20), start=start, end=add_months(start, 11))
    )
    assert await handle.result() == "rejected"
    eligibility = (await grad.application(application_id)).eligibility
    assert eligibility is not None and eligibility["reasons"] == ["contract_shorter_than_one_year"]


async def test_a_person_on_a_public_welfare_post_is_refused(grad: Harness) -> None:
    id_number = new_resident_id(born=date(2002, 2, 2))
    today = await grad.today()
    async with grad.sessions.begin() as session:
        person_id = await session.scalar(
            insert(Person).values(id=uuid.uuid4(), id_number=id_number, name="王小明").returning(Person.id)
        )
        session.add(
            Application(
                id=uuid.uuid4(),
                program="public_welfare_placement",
                status="active",
                county=COUNTY,
                submitted_by="employer-b",
                person_id=person_id,
                workflow_id=f"placement-{uuid.uuid4()}",
                form={},
            )
        )
    start = today - timedelta(days=5)
    application_id, handle = await grad.submit(
        graduate_form(graduated_on=start - timedelta(days=20), start=start, id_number=id_number)
    )
    assert await handle.result() == "rejected"
    eligibility = (await grad.application(application_id)).eligibility
    assert eligibility is not None and eligibility["reasons"] == ["exclusive_with_public_welfare_post"]


async def test_a_placement_that_took_a_post_during_the_review_refuses_the_approval(grad: Harness) -> None:
    id_number = new_resident_id(born=date(2002, 2, 3))
    application_id, handle, _ = await grad.fresh_hire(id_number=id_number)
    review = await grad.open_task(handle, "review")
    async with grad.sessions.begin() as session:
        person_id = await session.scalar(select(Person.id).where(Person.id_number == id_number))
        session.add(
            Application(
                id=uuid.uuid4(),
                program="public_welfare_placement",
                status="publicity",
                county=COUNTY,
                submitted_by="employer-b",
                person_id=person_id,
                workflow_id=f"placement-{uuid.uuid4()}",
                form={},
            )
        )
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await grad.decide(handle, review, DPF_A)
    kind, message = refusal(refused.value)
    assert kind == CONFLICT and message.startswith("exclusive_with_public_welfare_post")
    assert await grad.records(application_id) == ["claimed"]
    assert (await grad.decide(handle, review, DPF_A, "reject")).status == "rejected"
    assert await handle.result() == "rejected"
    assert await grad.records(application_id) == ["released"]
    await record_history(handle)


async def test_a_second_subsidy_while_one_is_pending_is_rejected(grad: Harness) -> None:
    id_number = new_resident_id(born=date(2002, 2, 4))
    first_id, first, start = await grad.fresh_hire(id_number=id_number)
    await grad.status(first, "under_review")
    second_id, second = await grad.submit(
        graduate_form(graduated_on=start - timedelta(days=30), start=start, id_number=id_number), by=OTHER_EMPLOYER
    )
    assert await second.result() == "rejected"
    eligibility = (await grad.application(second_id)).eligibility
    assert eligibility is not None and eligibility["reasons"] == ["already_has_graduate_hiring_subsidy"]
    assert await grad.records(first_id) == ["claimed"] and await grad.records(second_id) == []


async def test_withdrawn_during_the_review_releases_the_employment(grad: Harness) -> None:
    application_id, handle, _ = await grad.fresh_hire()
    await grad.open_task(handle, "review")
    with pytest.raises(WorkflowUpdateFailedError) as stranger:
        await grad.event(handle, "withdrawn", OTHER_EMPLOYER)
    assert refusal(stranger.value)[0] == FORBIDDEN
    assert (await grad.event(handle, "withdrawn")).status == "withdrawn"
    assert await handle.result() == "withdrawn"
    assert await grad.records(application_id) == ["released"]
    async with grad.sessions() as session:
        tasks = (
            await session.scalars(select(Task.status).where(Task.application_id == uuid.UUID(application_id)))
        ).all()
        assert list(tasks) == ["cancelled"]
    await record_history(handle)


async def test_an_active_subsidy_cannot_be_withdrawn(grad: Harness) -> None:
    _, handle, _ = await grad.fresh_hire()
    await grad.approved(handle)
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await grad.event(handle, "withdrawn")
    assert refusal(refused.value)[0] == CONFLICT


async def test_a_retried_payment_pays_once(grad: Harness) -> None:
    """Posting is idempotent per application and period: the same year posted twice writes its two rows once."""
    application_id, handle, start = await grad.fresh_hire()
    await grad.approved(handle)
    await grad.pay_year(handle, start, 1)
    from subsidy.activities.procedure import ProcedureActivities
    from subsidy.workflows.contracts import PaymentInput

    year = subsidy_years(start, PARAMS)[0]
    activities = ProcedureActivities(grad.sessions)
    payment = PaymentInput(
        application_id,
        "graduate_hiring_subsidy",
        COUNTY,
        year.period,
        Decimal("9900.00"),
        Decimal("4950.00"),
        Decimal("4950.00"),
    )
    from temporalio.testing import ActivityEnvironment

    await ActivityEnvironment().run(activities.post_payment, payment)
    assert total_of(await grad.ledger(application_id)) == Decimal("9900.00")
    async with grad.sessions() as session:
        audit = (
            await session.scalars(
                select(AuditRecord.kind).where(AuditRecord.application_id == uuid.UUID(application_id))
            )
        ).all()
    assert list(audit).count("employment_confirmed") == 1
