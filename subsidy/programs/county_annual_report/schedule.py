"""The Temporal Schedule that opens the counties' annual reports each year, in China time."""

from __future__ import annotations

from datetime import date

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleCalendarSpec,
    ScheduleRange,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
)
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from subsidy.programs.county_annual_report.contracts import REPORT_ROUND_WORKFLOW, SCHEDULE_ID, ReportRoundInput

TIME_ZONE = "Asia/Shanghai"


def report_schedule(task_queue: str, opens_on: str, counties: list[str] | None = None) -> Schedule:
    """Each year on `opens_on` (MM-DD) at 08:00 in China: the round of the year's county reports."""
    month, day = (int(part) for part in opens_on.split("-"))
    return Schedule(
        action=ScheduleActionStartWorkflow(
            REPORT_ROUND_WORKFLOW,
            ReportRoundInput(year=None, counties=counties),
            id=f"{SCHEDULE_ID}-round",
            task_queue=task_queue,
        ),
        spec=ScheduleSpec(
            calendars=[
                ScheduleCalendarSpec(
                    month=[ScheduleRange(month)], day_of_month=[ScheduleRange(day)], hour=[ScheduleRange(8)]
                )
            ],
            time_zone_name=TIME_ZONE,
        ),
    )


async def ensure_report_schedule(
    client: Client,
    task_queue: str,
    opens_on: str,
    *,
    schedule_id: str = SCHEDULE_ID,
    counties: list[str] | None = None,
) -> None:
    """Create the schedule, or bring an existing one to the configured day (a changed setting takes effect)."""
    wanted = report_schedule(task_queue, opens_on, counties)
    try:
        await client.create_schedule(schedule_id, wanted)
    except ScheduleAlreadyRunningError:

        async def update(_: ScheduleUpdateInput) -> ScheduleUpdate:
            return ScheduleUpdate(schedule=wanted)

        await client.get_schedule_handle(schedule_id).update(update)


async def open_this_years_reports(
    client: Client, task_queue: str, opens_on: str, today: date, *, counties: list[str] | None = None
) -> bool:
    """A service started (or the schedule created) after this year's opening day still opens this year's reports:
    the round of this year, started now, once (its workflow id is the year's; opening a report is idempotent).
    False when this year's opening day is still ahead (the schedule will do it)."""
    month, day = (int(part) for part in opens_on.split("-"))
    if today < date(today.year, month, day):
        return False
    try:
        await client.start_workflow(
            REPORT_ROUND_WORKFLOW,
            ReportRoundInput(year=today.year, counties=counties),
            id=f"{SCHEDULE_ID}-catch-up-{today.year}",
            task_queue=task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        )
    except WorkflowAlreadyStartedError:
        pass
    return True
