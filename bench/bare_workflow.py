"""The bare Temporal workflow the service is compared with: the shape of a rent subsidy and nothing else.

An activity (the task is opened), an update from the client (the decision: validator, then a handler that waits for
the task to be open), an activity (the payment). The activities do no I/O: what is measured is the engine.
Kept apart from the driver so that the workflow sandbox imports nothing but this.
"""

from __future__ import annotations

from temporalio import activity, workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from subsidy.workflows.common import DB_ACTIVITY

BARE_WORKFLOW = "BenchBareWorkflow"


@activity.defn(name="bench_open_task")
async def open_task(case: str) -> str:
    return f"task-{case}"


@activity.defn(name="bench_post_payment")
async def post_payment(decision: str) -> int:
    return 2 if decision == "approve" else 0


@workflow.defn(name=BARE_WORKFLOW)
class BareWorkflow:
    def __init__(self) -> None:
        self._task: str | None = None
        self._decision: str | None = None

    @workflow.run
    async def run(self, case: str) -> int:
        # The same activity options as the service's database activities (timeout, retry policy).
        self._task = await workflow.execute_activity(open_task, case, **DB_ACTIVITY)
        await workflow.wait_condition(lambda: self._decision is not None)
        assert self._decision is not None
        rows: int = await workflow.execute_activity(post_payment, self._decision, **DB_ACTIVITY)
        return rows

    @workflow.update
    async def decide(self, decision: str) -> str:
        # Like an official, the update acts on an open task: it waits until the first activity has opened it.
        await workflow.wait_condition(lambda: self._task is not None)
        self._decision = decision
        return decision

    @decide.validator
    def _validate(self, decision: str) -> None:
        if self._decision is not None or decision not in ("approve", "reject"):
            raise ApplicationError("the task is not open", type="Conflict")
