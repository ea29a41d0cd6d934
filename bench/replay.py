"""Part 4: replay throughput — today's workflow code over the recorded histories of the service run, as an auditor's
`subsidy replay --all` does (`subsidy.api.audit.replay`, i.e. `temporalio.worker.Replayer`)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from temporalio.client import Client, WorkflowHistory

from subsidy.api.audit import replay


@dataclass
class ReplayResult:
    histories: int
    events: int
    json_bytes: int
    fetch_seconds: float
    replay_seconds: float
    deterministic: bool
    error: str | None

    @property
    def histories_per_second(self) -> float:
        return self.histories / self.replay_seconds

    @property
    def events_per_second(self) -> float:
        return self.events / self.replay_seconds


async def run_replay(client: Client, workflow_ids: list[str]) -> ReplayResult:
    slots = asyncio.Semaphore(20)

    async def fetch(workflow_id: str) -> WorkflowHistory:
        async with slots:
            return await client.get_workflow_handle(workflow_id).fetch_history()

    began = time.perf_counter()
    histories = await asyncio.gather(*(fetch(w) for w in workflow_ids))
    fetched = time.perf_counter()
    report = await replay(list(histories))
    replayed = time.perf_counter()
    return ReplayResult(
        histories=report.runs,
        events=report.events,
        json_bytes=sum(len(history.to_json()) for history in histories),
        fetch_seconds=fetched - began,
        replay_seconds=replayed - fetched,
        deterministic=report.deterministic,
        error=report.error,
    )
