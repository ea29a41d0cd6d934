"""The Schedule that opens the counties' annual reports, on the dev server with a worker: its spec (1 November,
08:00, China time, or the configured day), a backfill for a past year's opening that opens that year's reports
(the year of the scheduled time, not of today), and a changed setting taking effect."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import ScheduleBackfill, ScheduleOverlapPolicy
from temporalio.testing import WorkflowEnvironment

from subsidy.db.models import Application, Task
from subsidy.programs.county_annual_report.contracts import SUBMIT_STEP, report_application_id, report_workflow_id
from subsidy.programs.county_annual_report.schedule import ensure_report_schedule, open_this_years_reports
from subsidy.service.temporal import build_worker
from subsidy.workflows.common import CHINA
from tests.workflows.conftest import eventually

COUNTY = "150206"  # 白云鄂博矿区
YEAR = 2090


@pytest.mark.timeout(120)
async def test_the_schedule_opens_the_years_reports_on_its_day_in_china_time(
    dev_server_env: WorkflowEnvironment, sessions: async_sessionmaker[AsyncSession]
) -> None:
    client = dev_server_env.client
    task_queue = f"schedule-{uuid.uuid4()}"
    schedule_id = f"test-county-reports-{uuid.uuid4().hex[:8]}"
    await ensure_report_schedule(client, task_queue, "11-01", schedule_id=schedule_id, counties=[COUNTY])
    handle = client.get_schedule_handle(schedule_id)
    try:
        spec = (await handle.describe()).schedule.spec
        assert spec.time_zone_name == "Asia/Shanghai"
        (calendar,) = spec.calendars
        assert [(r.start, r.end) for r in calendar.month] == [(11, 11)]
        assert [(r.start, r.end) for r in calendar.day_of_month] == [(1, 1)]
        assert [(r.start, r.end) for r in calendar.hour] == [(8, 8)]

        async with build_worker(client, task_queue, sessions):
            # The opening of YEAR: 1 November, 08:00 in China is 00:00 UTC.
            opening = datetime(YEAR, 11, 1, 8, tzinfo=CHINA).astimezone(UTC)
            await handle.backfill(
                ScheduleBackfill(
                    start_at=opening - timedelta(minutes=1),
                    end_at=opening + timedelta(minutes=1),
                    overlap=ScheduleOverlapPolicy.ALLOW_ALL,
                )
            )
            application_id = report_application_id(COUNTY, YEAR)

            async def task_opened() -> Task | None:
                async with sessions() as session:
                    found: Task | None = await session.scalar(
                        select(Task).where(Task.application_id == application_id, Task.step == SUBMIT_STEP)
                    )
                    return found

            task = await eventually(task_opened, 60)
            assert (task.role, task.county) == ("county_dpf", COUNTY)
            assert task.due_at is not None and task.due_at.astimezone(CHINA).date().isoformat() == f"{YEAR}-12-01"
            async with sessions() as session:
                application = await session.get(Application, application_id)
                assert application is not None and application.form["year"] == YEAR
            await client.get_workflow_handle(report_workflow_id(COUNTY, YEAR)).terminate("test over")
            await put_away(sessions, application_id)

        # A changed setting takes effect on the existing schedule.
        await ensure_report_schedule(client, task_queue, "10-15", schedule_id=schedule_id, counties=[COUNTY])
        (calendar,) = (await handle.describe()).schedule.spec.calendars
        assert [(r.start, r.end) for r in calendar.month] == [(10, 10)]
        assert [(r.start, r.end) for r in calendar.day_of_month] == [(15, 15)]
    finally:
        await handle.delete()


@pytest.mark.timeout(120)
async def test_a_service_started_after_the_opening_day_opens_this_years_reports_once(
    dev_server_env: WorkflowEnvironment, sessions: async_sessionmaker[AsyncSession]
) -> None:
    client = dev_server_env.client
    task_queue = f"catch-up-{uuid.uuid4()}"
    year = 2089
    application_id = report_application_id(COUNTY, year)
    async with build_worker(client, task_queue, sessions):
        # The day before the opening day: the schedule will open them, nothing now.
        assert not await open_this_years_reports(client, task_queue, "11-01", date(year, 10, 31), counties=[COUNTY])
        async with sessions() as session:
            assert await session.get(Application, application_id) is None
        assert await open_this_years_reports(client, task_queue, "11-01", date(year, 11, 15), counties=[COUNTY])
        # Started again (a restart): the same round, nothing opened twice.
        assert await open_this_years_reports(client, task_queue, "11-01", date(year, 11, 16), counties=[COUNTY])

        async def task_opened() -> Task | None:
            async with sessions() as session:
                found: Task | None = await session.scalar(
                    select(Task).where(Task.application_id == application_id, Task.step == SUBMIT_STEP)
                )
                return found

        task = await eventually(task_opened, 60)
        assert task.county == COUNTY
        async with sessions() as session:
            count = await session.scalar(
                select(func.count()).select_from(Task).where(Task.application_id == application_id)
            )
        assert count == 1
        await client.get_workflow_handle(report_workflow_id(COUNTY, year)).terminate("test over")
        await put_away(sessions, application_id)


async def put_away(sessions: async_sessionmaker[AsyncSession], application_id: uuid.UUID) -> None:
    """The test's report tasks closed, so that no other test's inbox finds them."""
    async with sessions.begin() as session:
        await session.execute(update(Task).where(Task.application_id == application_id).values(status="cancelled"))
