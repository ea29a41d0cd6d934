"""Recording the histories the replay test keeps: `RECORD_HISTORIES=1 pytest tests/workflows`.

Every workflow a test awaits to its end is saved, all its runs in order, as the service exports them
(`{"workflow_id", "runs": [{"run_index", "history"}]}`), under a name made from the test's name.

Tests that cannot await a result (it would let the time-skipping server jump ahead, or the workflow runs on for a
year) call `await record(handle)` where the workflow has reached the point worth keeping: closed, or still open
but idle (its last workflow task completed), which `Replayer` replays as far as it goes. Without RECORD_HISTORIES=1
`record` does nothing.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from pathlib import Path
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle

from subsidy.api.audit import Run, fetch_runs, history_document

HISTORIES = Path(__file__).parent
_original_result = WorkflowHandle.result


async def _recording_result(self: WorkflowHandle[Any, Any], *args: Any, **kwargs: Any) -> Any:
    try:
        return await _original_result(self, *args, **kwargs)
    finally:
        await _save(self)


_WORKFLOW_TASK_EVENTS = {
    EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
    EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED,
    EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
    EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED,
    EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT,
}
_CLOSED_EVENTS = {
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
}


async def record(handle: WorkflowHandle[Any, Any], within: float = 15) -> None:
    """Save the workflow's history now, closed or open, when recording (RECORD_HISTORIES=1); else nothing."""
    if os.environ.get("RECORD_HISTORIES") == "1":
        await _save(handle, within)


def _idle(runs: list[Run]) -> bool:
    """Closed, or its last workflow task completed: nothing the worker still owes the history."""
    events = runs[-1].history.events
    if events[-1].event_type in _CLOSED_EVENTS:
        return True
    tasks = [event.event_type for event in events if event.event_type in _WORKFLOW_TASK_EVENTS]
    return bool(tasks) and tasks[-1] == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED


async def _save(handle: WorkflowHandle[Any, Any], within: float = 15) -> None:
    test = os.environ.get("PYTEST_CURRENT_TEST", "unknown").split(" ")[0]
    name = re.sub(r"[^A-Za-z0-9_]+", "_", test.split("::")[-1]).strip("_")
    deadline = asyncio.get_running_loop().time() + within
    while True:
        runs = await fetch_runs(handle._client, handle.id)  # noqa: SLF001 - the handle's own client
        if _idle(runs):
            break
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{handle.id}: still in a workflow task after {within}s, not recorded")
        await asyncio.sleep(0.1)
    workflow_type = runs[0].history.events[0].workflow_execution_started_event_attributes.workflow_type.name
    document = history_document([run.history for run in runs])
    path = HISTORIES / f"{workflow_type}.{name}.json"
    suffix = 1
    while path.exists() and json.loads(path.read_text())["workflow_id"] != document["workflow_id"]:
        suffix += 1
        path = HISTORIES / f"{workflow_type}.{name}.{suffix}.json"
    path.write_text(json.dumps(document, separators=(",", ":")))


def install() -> None:
    WorkflowHandle.result = _recording_result  # type: ignore[method-assign]
