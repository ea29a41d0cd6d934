"""The county annual report on the time-skipping server with the real activities: the yearly round opens one report
per county (once however often it runs) due on the plan's day; a county submits with a narrative and its figures are
frozen as they were at that moment; past the due day the task is overdue and the City DPF gets a task beside it."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from subsidy.db.audit_chain import verify_chain
from subsidy.db.models import Application, AuditRecord, LedgerEntry, Task
from subsidy.programs.county_annual_report.contracts import (
    COUNTY_REPORT_WORKFLOW,
    ESCALATION_STEP,
    REPORT_ROUND_WORKFLOW,
    SUBMIT_STEP,
    CountyReportInput,
    OpenedReports,
    ReportRoundInput,
    report_application_id,
    report_workflow_id,
)
from subsidy.programs.county_annual_report.models import CountyReport
from subsidy.reports.figures import county_figures
from subsidy.workflows.common import CHINA, end_of_day
from subsidy.workflows.contracts import FORBIDDEN, INVALID, Actor, DecideInput, DecideResult
from tests.workflows.conftest import CITY_A, RentHarness

SHIGUAI = "150205"
DPF_SHIGUAI = Actor("dpf-150205-a", ["county_dpf"], SHIGUAI)
DPF_SHIGUAI_B = Actor("dpf-150205-b", ["county_dpf"], SHIGUAI)
DPF_KUNDULUN = Actor("dpf-150203-a", ["county_dpf"], "150203")
NARRATIVE = "本区组织专场招聘会2场，新增安置残疾人就业2人；盲人按摩推广工作滞后，原因是缺少场地。"


async def test_the_round_opens_each_countys_report_once_due_on_the_plans_day(rent: RentHarness) -> None:
    # Next year on the test server's clock: its 30 November is ahead, whatever today is.
    year = (await rent.env.get_current_time()).astimezone(CHINA).year + 1
    counties = ["150205", "150206"]
    round_input = ReportRoundInput(year=year, counties=counties)
    first: OpenedReports = await rent.env.client.execute_workflow(
        REPORT_ROUND_WORKFLOW,
        round_input,
        id=f"round-{uuid.uuid4()}",
        task_queue=rent.task_queue,
        result_type=OpenedReports,
    )
    assert (first.year, sorted(first.opened), first.due_on) == (year, counties, f"{year}-11-30")
    again: OpenedReports = await rent.env.client.execute_workflow(
        REPORT_ROUND_WORKFLOW,
        round_input,
        id=f"round-{uuid.uuid4()}",
        task_queue=rent.task_queue,
        result_type=OpenedReports,
    )
    assert again.opened == []  # nothing opened twice
    for county in counties:
        application_id = str(report_application_id(county, year))
        task = await rent.open_task(application_id, SUBMIT_STEP)
        assert (task.role, task.county, task.program) == ("county_dpf", county, "county_annual_report")
        assert task.due_at == end_of_day(date(year, 11, 30))  # 30 November, the whole day, China time
    for county in counties:
        await rent.env.client.get_workflow_handle(report_workflow_id(county, year)).terminate("test over")
    # Time skipped to their due day meanwhile: the tasks they opened (the city's reminders too) are put away, so
    # that no other test's inbox finds them.
    async with rent.sessions.begin() as session:
        await session.execute(
            update(Task)
            .where(Task.application_id.in_([report_application_id(c, year) for c in counties]))
            .values(status="cancelled")
        )


async def _open_report(rent: RentHarness, county: str, year: int, due_in: timedelta) -> tuple[str, datetime]:
    application_id = report_application_id(county, year)
    now = await rent.env.get_current_time()
    due_at = now + due_in
    async with rent.sessions.begin() as session:
        await session.execute(delete(CountyReport).where(CountyReport.application_id == application_id))
        await session.execute(
            insert(Application)
            .values(
                id=application_id,
                program="county_annual_report",
                status="under_review",
                county=county,
                submitted_by="system",
                workflow_id=f"{report_workflow_id(county, year)}-{uuid.uuid4().hex[:6]}",
                form={"program": "county_annual_report", "county": county, "year": year},
            )
            .on_conflict_do_nothing()
        )
    await rent.env.client.start_workflow(
        COUNTY_REPORT_WORKFLOW,
        CountyReportInput(
            application_id=str(application_id), county=county, year=year, due_at=due_at, plan="baotou-2023-43"
        ),
        id=f"application-{application_id}",
        task_queue=rent.task_queue,
    )
    return str(application_id), due_at


async def _decide(rent: RentHarness, application_id: str, request: DecideInput) -> DecideResult:
    handle = rent.env.client.get_workflow_handle(f"application-{application_id}")
    result: DecideResult = await handle.execute_update("decide", request, result_type=DecideResult)
    return result


async def _refusal(rent: RentHarness, application_id: str, request: DecideInput) -> str:
    try:
        await _decide(rent, application_id, request)
    except WorkflowUpdateFailedError as failed:
        assert isinstance(failed.cause, ApplicationError)
        return str(failed.cause.type)
    raise AssertionError("the decision was accepted")


async def test_a_submitted_report_freezes_the_figures_of_that_moment_with_its_narrative(rent: RentHarness) -> None:
    year = 2094
    application_id, _ = await _open_report(rent, SHIGUAI, year, timedelta(days=20))
    task = await rent.open_task(application_id, SUBMIT_STEP)
    # A payment of the county's year, posted before the submission: in the frozen figures.
    other = uuid.uuid4()
    async with rent.sessions.begin() as session:
        session.add(
            Application(
                id=other,
                program="rent_subsidy",
                status="active",
                county=SHIGUAI,
                submitted_by="t",
                workflow_id=f"application-{other}",
                form={},
            )
        )
        await session.flush()
        await session.execute(
            insert(LedgerEntry).values(
                idempotency_key=f"{other}:{year}-03:city",
                application_id=other,
                period=f"{year}-03",
                funder="city",
                county=SHIGUAI,
                program="rent_subsidy",
                amount=Decimal("500.00"),
            )
        )
    task_id = str(task.id)
    assert await _refusal(rent, application_id, DecideInput(task_id, "approve", DPF_SHIGUAI)) == INVALID  # no text
    assert await _refusal(rent, application_id, DecideInput(task_id, "reject", DPF_SHIGUAI, "no")) == INVALID
    assert await _refusal(rent, application_id, DecideInput(task_id, "approve", DPF_KUNDULUN, NARRATIVE)) == FORBIDDEN
    async with rent.sessions() as session:
        live = (await county_figures(session, year, SHIGUAI)).as_json()
    assert live["money_paid"] == "500.00"
    done = await _decide(rent, application_id, DecideInput(task_id, "approve", DPF_SHIGUAI, NARRATIVE))
    assert done.status == "completed"
    # Later records do not change what was submitted.
    async with rent.sessions.begin() as session:
        await session.execute(
            insert(LedgerEntry).values(
                idempotency_key=f"{other}:{year}-04:city",
                application_id=other,
                period=f"{year}-04",
                funder="city",
                county=SHIGUAI,
                program="rent_subsidy",
                amount=Decimal("500.00"),
            )
        )
    handle = rent.env.client.get_workflow_handle(f"application-{application_id}")
    assert await handle.result() == "completed"
    async with rent.sessions() as session:
        frozen = await session.get(CountyReport, uuid.UUID(application_id))
        assert frozen is not None
        assert frozen.figures == live and frozen.narrative == NARRATIVE and frozen.submitted_by == DPF_SHIGUAI.username
        assert (await county_figures(session, year, SHIGUAI)).money_paid == Decimal("1000.00")
        record = await session.scalar(
            select(AuditRecord).where(
                AuditRecord.application_id == uuid.UUID(application_id), AuditRecord.kind == "county_report_submitted"
            )
        )
        assert record is not None and record.detail["figures"] == live and record.detail["narrative"] == NARRATIVE
        assert record.detail["figures_sha256"] == frozen.figures_sha256
        assert (await verify_chain(session)).ok
        escalations = await session.scalars(
            select(Task).where(Task.application_id == uuid.UUID(application_id), Task.step == ESCALATION_STEP)
        )
        assert list(escalations) == []  # submitted in time: the city was never asked


async def test_an_overdue_report_escalates_to_the_city_until_the_county_submits(rent: RentHarness) -> None:
    year = 2095
    application_id, due_at = await _open_report(rent, SHIGUAI, year, timedelta(days=10))
    task = await rent.open_task(application_id, SUBMIT_STEP)
    assert task.overdue is False
    await rent.env.sleep(timedelta(days=11))
    city_task = await rent.open_task(application_id, ESCALATION_STEP, within=20)
    assert (city_task.role, city_task.county) == ("city_dpf", None)
    async with rent.sessions() as session:
        county_task = await session.get(Task, task.id)
        assert county_task is not None and county_task.overdue is True
    assert await rent.env.get_current_time() > due_at
    # The county official may not act on the city's task; the city records its reminder, the county's stays open.
    assert await _refusal(rent, application_id, DecideInput(str(city_task.id), "approve", DPF_SHIGUAI)) == FORBIDDEN
    reminded = await _decide(
        rent, application_id, DecideInput(str(city_task.id), "approve", CITY_A, "电话督促，承诺本周报送")
    )
    assert reminded.status == "under_review"
    assert (await rent.open_task(application_id, SUBMIT_STEP)).id == task.id
    await _decide(rent, application_id, DecideInput(str(task.id), "approve", DPF_SHIGUAI_B, NARRATIVE))
    handle = rent.env.client.get_workflow_handle(f"application-{application_id}")
    assert await handle.result() == "completed"
    async with rent.sessions() as session:
        statuses = dict(
            (
                await session.execute(
                    select(Task.step, Task.status).where(Task.application_id == uuid.UUID(application_id))
                )
            ).all()
        )
        assert statuses == {SUBMIT_STEP: "done", ESCALATION_STEP: "done"}
        assert await session.get(CountyReport, uuid.UUID(application_id)) is not None


async def test_an_overdue_reminder_left_open_closes_when_the_county_submits(rent: RentHarness) -> None:
    year = 2096
    application_id, _ = await _open_report(rent, SHIGUAI, year, timedelta(days=3))
    task = await rent.open_task(application_id, SUBMIT_STEP)
    await rent.env.sleep(timedelta(days=4))
    city_task = await rent.open_task(application_id, ESCALATION_STEP, within=20)
    await _decide(rent, application_id, DecideInput(str(task.id), "approve", DPF_SHIGUAI, NARRATIVE))
    handle = rent.env.client.get_workflow_handle(f"application-{application_id}")
    assert await handle.result() == "completed"
    async with rent.sessions() as session:
        closed = await session.get(Task, city_task.id)
        assert closed is not None and closed.status == "cancelled"
