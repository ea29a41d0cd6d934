"""Part 1, *bare*: N workflows of the rent-subsidy shape at concurrency C, straight through the Temporal client,
with the worker in this process (the baseline of DESIGN.md)."""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, field

from temporalio.client import Client
from temporalio.worker import Worker

from bench.bare_workflow import BareWorkflow, open_task, post_payment
from bench.stats import Latencies

WARM_UP = 5  # not counted: the first workflows also pay for the worker's pollers and caches starting


@dataclass
class BareResult:
    n: int
    concurrency: int
    seconds: float
    start: Latencies = field(default_factory=Latencies)
    update: Latencies = field(default_factory=Latencies)
    total: Latencies = field(default_factory=Latencies)

    @property
    def throughput(self) -> float:
        return self.n / self.seconds


async def run_bare(client: Client, n: int, concurrency: int) -> BareResult:
    task_queue = f"bench-bare-{uuid.uuid4()}"
    run_id = uuid.uuid4().hex[:8]
    # The service's worker settings (subsidy.service.temporal.build_worker): one queue, 50 concurrent activities.
    worker = Worker(
        client,
        task_queue=task_queue,
        workflows=[BareWorkflow],
        activities=[open_task, post_payment],
        max_concurrent_activities=50,
    )
    async with worker:

        async def one(index: int, result: BareResult | None) -> None:
            began = time.perf_counter()
            handle = await client.start_workflow(
                BareWorkflow.run, f"case-{index}", id=f"bench-bare-{run_id}-{index}", task_queue=task_queue
            )
            started = time.perf_counter()
            await handle.execute_update(BareWorkflow.decide, "approve")
            updated = time.perf_counter()
            rows = await handle.result()
            assert rows == 2
            if result is not None:
                result.start.add(started - began)
                result.update.add(updated - started)
                result.total.add(time.perf_counter() - began)

        await asyncio.gather(*(one(-i - 1, None) for i in range(WARM_UP)))
        result = BareResult(n, concurrency, 0.0)
        slots = asyncio.Semaphore(concurrency)

        async def limited(index: int) -> None:
            async with slots:
                await one(index, result)

        began = time.perf_counter()
        await asyncio.gather(*(limited(i) for i in range(n)))
        result.seconds = time.perf_counter() - began
    return result
