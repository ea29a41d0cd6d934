"""Every database step of every workflow type as a local activity, each type behind its own `workflow.patched` id
(`subsidy.workflows.common`, taken first in every run by `local_db_steps`), as the rent subsidy did first
(`test_patches.py`): the histories recorded before (`*.before-local-db-steps.*`) replay on regular activities and
fail to replay without the guard; those recorded since run the very same steps, in the same order, as local
activities, and every run (continued-as-new runs too) takes its type's marker once.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from temporalio import workflow
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import WorkflowHistory

from subsidy.api.audit import replay
from subsidy.workflows import ALL_WORKFLOWS, common
from subsidy.workflows.common import (
    DB_ACTIVITY,
    FLEXIBLE_INSURANCE_DB_STEPS,
    PLACEMENT_DB_STEPS,
    POST_COLLECTION_DB_STEPS,
    POST_DECLARATION_DB_STEPS,
    TRAINING_DB_STEPS,
)

HISTORIES = Path(__file__).parents[1] / "histories"
BEFORE = ".before-local-db-steps."
PATCHES = {
    "TrainingSubsidyWorkflow": TRAINING_DB_STEPS,
    "PublicWelfarePostWorkflow": POST_DECLARATION_DB_STEPS,
    "PostCollectionWorkflow": POST_COLLECTION_DB_STEPS,
    "PublicWelfarePlacementWorkflow": PLACEMENT_DB_STEPS,
    "FlexibleEmploymentInsuranceWorkflow": FLEXIBLE_INSURANCE_DB_STEPS,
}
OLD = sorted(path for path in HISTORIES.glob(f"*{BEFORE}*") if path.name.split(".")[0] in PATCHES)


def runs_of(path: Path) -> list[WorkflowHistory]:
    document = json.loads(path.read_text())
    return [WorkflowHistory.from_json(document["workflow_id"], run["history"]) for run in document["runs"]]


def events(runs: list[WorkflowHistory]) -> Iterator[HistoryEvent]:
    return (event for run in runs for event in run.events)


def scheduled(runs: list[WorkflowHistory]) -> list[str]:
    """The regular activities, in order."""
    return [
        e.activity_task_scheduled_event_attributes.activity_type.name
        for e in events(runs)
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
    ]


def local(runs: list[WorkflowHistory]) -> list[str]:
    """The local activities, in order (each one marker, whose data names the activity)."""
    names = []
    for e in events(runs):
        attributes = e.marker_recorded_event_attributes
        if e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED and attributes.marker_name == "core_local_activity":
            names.append(json.loads(attributes.details["data"].payloads[0].data)["activity_type"])
    return names


def patch_markers(runs: list[WorkflowHistory], patch: str) -> list[int]:
    """For each run, how many markers of `patch` it has."""
    found = []
    for run in runs:
        found.append(
            sum(
                1
                for e in run.events
                if e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED
                and e.marker_recorded_event_attributes.marker_name == "core_patch"
                and patch.encode()
                in b"".join(p.data for ps in e.marker_recorded_event_attributes.details.values() for p in ps.payloads)
            )
        )
    return found


# One old history of each type with every kind of step it has (decisions, payments, continue-as-new...).
RICHEST = {
    workflow_type: max(
        (p for p in OLD if p.name.startswith(workflow_type + ".")), key=lambda p: len(scheduled(runs_of(p)))
    )
    for workflow_type in PATCHES
}


def test_each_workflow_type_but_the_rent_subsidy_has_its_own_patch_and_histories_from_before_it() -> None:
    names = [workflow._Definition.must_from_class(w).name for w in ALL_WORKFLOWS]
    assert set(PATCHES) <= set(names) and "RentSubsidyWorkflow" in names
    assert len(set(PATCHES.values())) == 5 and common.DB_STEPS_AS_LOCAL_ACTIVITIES not in PATCHES.values()
    assert {p.name.split(".")[0] for p in OLD} == set(PATCHES)
    assert len(OLD) == 27
    for path in OLD:
        assert (HISTORIES / path.name.replace(BEFORE, ".")).exists(), path.name  # recorded again since the patch


@pytest.mark.parametrize("path", OLD, ids=lambda p: p.name.removesuffix(".json"))
def test_an_old_history_has_regular_activities_and_the_new_one_the_same_steps_as_local_activities(path: Path) -> None:
    workflow_type = path.name.split(".")[0]
    patch = PATCHES[workflow_type]
    old, new = runs_of(path), runs_of(HISTORIES / path.name.replace(BEFORE, "."))
    assert patch_markers(old, patch) == [0] * len(old)
    assert scheduled(old) and not local(old)
    # Every run of the new history takes the marker once, continued-as-new runs included.
    assert patch_markers(new, patch) == [1] * len(new)
    assert scheduled(new) == [] and local(new)
    if "exclusivity_race" not in path.name:  # which of the two approvals wins differs from one recording to the next
        assert local(new) == scheduled(old)  # same activities, same order: only how they run has changed
        assert len(new) == len(old)
        assert sum(len(r.events) for r in new) < sum(len(r.events) for r in old)


@pytest.mark.parametrize("path", RICHEST.values(), ids=list(RICHEST))
async def test_an_old_history_replays_with_the_guard(path: Path) -> None:
    report = await replay(runs_of(path))
    assert report.deterministic, report.error


async def unguarded_db_step(
    activity: str, arg: Any, *, result_type: type | None = None, patch: str = common.DB_STEPS_AS_LOCAL_ACTIVITIES
) -> Any:
    """The change made without `workflow.patched`: what the guard protects running workflows from."""
    return await workflow.execute_local_activity(activity, arg, result_type=result_type, **DB_ACTIVITY)


@pytest.mark.parametrize("path", RICHEST.values(), ids=list(RICHEST))
async def test_without_the_guard_an_old_history_no_longer_replays(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(common, "db_step", unguarded_db_step)
    report = await replay(runs_of(path))
    assert not report.deterministic
    assert report.error is not None and "nondetermin" in report.error.lower(), report.error
