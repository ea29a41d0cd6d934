"""The workflows read the official calendar through an activity since `calendar-from-database`: histories recorded
before it replay on the old path (chinesecalendar inside the workflow), fail to replay without the guard, and new
workflows take the new path, whose answer is in the history (a later change of the calendar does not change it)."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHistory

from subsidy.activities.calendar_names import COUNT_WORKING_DAYS
from subsidy.api.audit import fetch_runs, replay
from subsidy.db.models import Task
from subsidy.policy.workdays import CHINA, add_weekdays, add_working_days
from subsidy.workflows import calendar_steps
from subsidy.workflows.calendar_contracts import CALENDAR_FROM_DATABASE, WorkingDaysAnswer, WorkingDaysQuery
from subsidy.workflows.common import DB_ACTIVITY, DB_STEPS_AS_LOCAL_ACTIVITIES, db_step, end_of_day
from subsidy.workflows.contracts import EventInput
from tests.calendars import database_calendar
from tests.workflows.conftest import APPLICANT, RentHarness

HISTORIES = Path(__file__).parents[1] / "histories"
# Recorded before the patch: a rent subsidy's review (due date counted inside the workflow) and a placement's
# publicity (counted inside the workflow when County HR approved).
BEFORE = [
    HISTORIES / "RentSubsidyWorkflow.before-calendar-from-database.test_approval_14_months_after_licence_pays_the_ended"
    "_months_at_once.json",
    HISTORIES / "PublicWelfarePlacementWorkflow.before-calendar-from-database.test_declaration_to_the_end_of_a_36"
    "_month_subsidy_with_exact_ledger_totals.json",
]


def runs_of(path: Path) -> list[WorkflowHistory]:
    document = json.loads(path.read_text())
    return [WorkflowHistory.from_json(document["workflow_id"], run["history"]) for run in document["runs"]]


def patch_ids(runs: list[WorkflowHistory]) -> list[str]:
    found = []
    for run in runs:
        for event in run.events:
            if event.event_type != EventType.EVENT_TYPE_MARKER_RECORDED:
                continue
            attributes = event.marker_recorded_event_attributes
            if attributes.marker_name == "core_patch":
                data = b"".join(p.data for ps in attributes.details.values() for p in ps.payloads)
                found.append(CALENDAR_FROM_DATABASE if CALENDAR_FROM_DATABASE.encode() in data else "other")
    return found


@pytest.mark.parametrize("path", BEFORE, ids=lambda p: p.name.split(".")[0])
async def test_a_history_from_before_the_patch_replays_on_the_package(path: Path) -> None:
    assert path.exists(), path
    runs = runs_of(path)
    assert CALENDAR_FROM_DATABASE not in patch_ids(runs)
    report = await replay(runs)
    assert report.deterministic, report.error


async def unguarded(
    start: date, count: int, *, local: bool, patch: str = DB_STEPS_AS_LOCAL_ACTIVITIES
) -> WorkingDaysAnswer | None:
    """The change made without `workflow.patched`: what the guard protects running workflows from."""
    query = WorkingDaysQuery(start, count)
    if local:
        answer: WorkingDaysAnswer = await db_step(COUNT_WORKING_DAYS, query, result_type=WorkingDaysAnswer, patch=patch)
        return answer
    return await workflow.execute_activity(COUNT_WORKING_DAYS, query, result_type=WorkingDaysAnswer, **DB_ACTIVITY)


@pytest.mark.parametrize("path", BEFORE, ids=lambda p: p.name.split(".")[0])
async def test_without_the_guard_the_old_history_no_longer_replays(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(calendar_steps, "count_working_days", unguarded)
    report = await replay(runs_of(path))
    assert not report.deterministic
    assert report.error is not None
    if path.name.startswith("RentSubsidyWorkflow"):
        # A local activity's result comes from the next marker: the review task's id is no calendar answer.
        assert "activation completion failed" in report.error and "ValidationError" in report.error, report.error
    else:
        assert "nondetermin" in report.error.lower(), report.error


def test_the_histories_recorded_since_the_patch_pass_it() -> None:
    for name in (
        "RentSubsidyWorkflow.test_approval_14_months_after_licence_pays_the_ended_months_at_once.json",
        "PublicWelfarePlacementWorkflow.test_declaration_to_the_end_of_a_36_month_subsidy_with_exact_ledger_totals.json",
    ):
        assert CALENDAR_FROM_DATABASE in patch_ids(runs_of(HISTORIES / name)), name


async def test_a_new_review_counts_on_the_database_calendar_and_its_answer_is_in_the_history(rent: RentHarness) -> None:
    application_id, handle = await rent.submit()
    task = await rent.open_task(application_id)
    today = (await rent.env.get_current_time()).astimezone(CHINA).date()
    calendar = await database_calendar(rent.sessions)
    assert task.due_at == end_of_day(add_working_days(today, 10, calendar)) and not task.due_is_estimate
    await rent.event(handle, EventInput("withdrawn", APPLICANT))
    assert await handle.result() == "withdrawn"
    runs = [run.history for run in await fetch_runs(rent.env.client, handle.id)]
    assert patch_ids(runs).count(CALENDAR_FROM_DATABASE) == 1
    # The replayer reads no database: the due date's answer is in the history (a later load changes nothing).
    report = await replay(runs)
    assert report.deterministic, report.error


async def test_a_due_date_past_the_known_years_is_a_monday_to_friday_estimate(rent: RentHarness) -> None:
    # 28 December of the last year the database knows: the 10 working days run into a year it does not know.
    today = (await rent.env.get_current_time()).astimezone(CHINA).date()
    calendar = await database_calendar(rent.sessions)
    last_known = today.year
    while calendar.knows(last_known + 1):
        last_known += 1
    day = date(last_known, 12, 28)
    await rent.env.sleep(day - today)
    application_id, handle = await rent.submit(applied_on=day, license_date=day - timedelta(days=400))
    task = await rent.open_task(application_id)
    assert task.due_at == end_of_day(add_weekdays(day, 10)) and task.due_is_estimate
    await rent.event(handle, EventInput("withdrawn", APPLICANT))
    assert await handle.result() == "withdrawn"
    async with rent.sessions() as session:
        stored = await session.get(Task, task.id)
        assert stored is not None and stored.due_is_estimate
