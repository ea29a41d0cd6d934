"""How a change to workflow code ships: behind `workflow.patched`, old histories replay on the old path and new
workflows take the new one. The example is `DB_STEPS_AS_LOCAL_ACTIVITIES` (the rent subsidy's database steps as
local activities, see `subsidy.workflows.common.db_step`).
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from temporalio import workflow
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import WorkflowHistory

from subsidy.api.audit import fetch_runs, replay
from subsidy.workflows import common, procedure
from subsidy.workflows.common import DB_ACTIVITY, DB_STEPS_AS_LOCAL_ACTIVITIES
from subsidy.workflows.contracts import EventInput
from tests.workflows.conftest import APPLICANT, DPF_B, RentHarness, total

# Recorded before the patch: eligibility, review task, decision, 14 months paid at once, withdrawal.
BEFORE_THE_PATCH = (
    Path(__file__).parents[1]
    / "histories"
    / "RentSubsidyWorkflow.before-local-db-steps.test_approval_14_months_after_licence_pays_the_ended_months_at_once.json"  # noqa: E501
)
DATABASE_STEPS = 1 + 1 + 1 + 14 + 1  # record_eligibility, open_task, record_decision, 14 x post_payment, change_status
PATCH_MARKER = "core_patch"
LOCAL_ACTIVITY_MARKER = "core_local_activity"


def recorded_runs() -> list[WorkflowHistory]:
    document = json.loads(BEFORE_THE_PATCH.read_text())
    return [WorkflowHistory.from_json(document["workflow_id"], run["history"]) for run in document["runs"]]


def events(runs: list[WorkflowHistory]) -> list[HistoryEvent]:
    return [event for run in runs for event in run.events]


def count(runs: list[WorkflowHistory], event_type: int) -> int:
    return sum(1 for event in events(runs) if event.event_type == event_type)


def markers(runs: list[WorkflowHistory], name: str) -> int:
    return sum(
        1
        for event in events(runs)
        if event.event_type == EventType.EVENT_TYPE_MARKER_RECORDED
        and event.marker_recorded_event_attributes.marker_name == name
    )


async def test_a_history_from_before_the_patch_replays_on_the_old_path() -> None:
    runs = recorded_runs()
    assert markers(runs, PATCH_MARKER) == 0
    assert count(runs, EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) == DATABASE_STEPS
    report = await replay(runs)
    assert report.deterministic, report.error


async def unguarded_db_step(
    activity: str, arg: Any, *, result_type: type | None = None, patch: str = DB_STEPS_AS_LOCAL_ACTIVITIES
) -> Any:
    """The change made without `workflow.patched`: what the guard protects running workflows from."""
    return await workflow.execute_local_activity(activity, arg, result_type=result_type, **DB_ACTIVITY)


async def test_without_the_patch_the_old_history_no_longer_replays(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(common, "db_step", unguarded_db_step)
    monkeypatch.setattr(procedure, "db_step", unguarded_db_step)  # the shared mechanics' database steps
    report = await replay(recorded_runs())
    assert not report.deterministic
    assert report.error is not None and "nondetermin" in report.error.lower(), report.error


async def test_a_new_application_takes_the_new_path_and_pays_the_same(rent: RentHarness) -> None:
    application_id, handle = await rent.submit(license_date=await rent.months_ago(14, days=1))
    task = await rent.open_task(application_id)
    await rent.decide(handle, task.id, DPF_B)
    paid = await rent.paid_months(application_id, 14)
    assert len(paid) == 14
    rows = await rent.ledger(application_id)
    assert len(rows) == 28 and total(rows) == Decimal("14000.00")  # 1000.00 a month: the cap on a 1200.00 rent
    await rent.event(handle, EventInput("withdrawn", APPLICANT))
    assert await handle.result() == "withdrawn"

    runs = [run.history for run in await fetch_runs(rent.env.client, handle.id)]
    assert len(runs) == 2  # continued as new after 12 payments: each run passes the patch
    # Each run passes this patch; the first also passes `calendar-from-database` (the review's due date).
    assert markers(runs, PATCH_MARKER) == 2 + 1
    assert DB_STEPS_AS_LOCAL_ACTIVITIES.encode() in b"".join(
        payload.data
        for event in events(runs)
        if event.marker_recorded_event_attributes.marker_name == PATCH_MARKER
        for payloads in event.marker_recorded_event_attributes.details.values()
        for payload in payloads.payloads
    )
    assert markers(runs, LOCAL_ACTIVITY_MARKER) == DATABASE_STEPS + 1  # and count_working_days, for the due date
    assert count(runs, EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) == 0
    old = recorded_runs()
    assert len(events(runs)) < len(events(old)) / 2  # the point of the change: a shorter history per procedure
    report = await replay(runs)
    assert report.deterministic, report.error
