"""Recording the histories the replay test keeps: `RECORD_HISTORIES=1 pytest tests/workflows`.

Every workflow a test awaits to its end is saved, all its runs in order, as the service exports them
(`{"workflow_id", "runs": [{"run_index", "history"}]}`), under a name made from the test's name.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from temporalio.client import WorkflowHandle

from subsidy.api.audit import fetch_runs, history_document

HISTORIES = Path(__file__).parent
_original_result = WorkflowHandle.result


async def _recording_result(self: WorkflowHandle[Any, Any], *args: Any, **kwargs: Any) -> Any:
    try:
        return await _original_result(self, *args, **kwargs)
    finally:
        await _save(self)


async def _save(handle: WorkflowHandle[Any, Any]) -> None:
    test = os.environ.get("PYTEST_CURRENT_TEST", "unknown").split(" ")[0]
    name = re.sub(r"[^A-Za-z0-9_]+", "_", test.split("::")[-1]).strip("_")
    runs = await fetch_runs(handle._client, handle.id)  # noqa: SLF001 - the handle's own client
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
