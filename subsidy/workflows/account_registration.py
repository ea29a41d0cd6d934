"""Account registration (program `account_registration`): the County DPF verifies whom a new account acts for.

`AccountRegistrationWorkflow`: `under_review` → a County DPF task of the registration's county (update `decide`):
approving binds the account to the person or organisation (it gets its role) unless a verified account already
holds that ID or credit code (409, nothing written); rejecting leaves it unbound with the reason, which the account
is shown. No return for correction: a new registration is the correction. Query: `view`.
"""

from __future__ import annotations

import asyncio

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from subsidy.activities.names import CHANGE_STATUS, OPEN_TASK, RECORD_DECISION
    from subsidy.workflows.common import DB_ACTIVITY, check_decision
    from subsidy.workflows.contracts import (
        CONFLICT,
        INVALID,
        DecideInput,
        DecideResult,
        DecisionRecord,
        DecisionToRecord,
        OpenTaskInput,
        StatusChange,
        WorkflowView,
    )
    from subsidy.workflows.registration_contracts import (
        ACCOUNT_REGISTRATION_WORKFLOW,
        REGISTRATION_STEP,
        SETTLE_REGISTRATION,
        RegistrationInput,
        RegistrationOutcome,
        RegistrationSettlement,
        RegistrationState,
    )

KIND_WORDS = {"person": "a person", "employer": "an employer", "provider": "a training provider", "agency": "an agency"}


@workflow.defn(name=ACCOUNT_REGISTRATION_WORKFLOW)
class AccountRegistrationWorkflow:
    def __init__(self) -> None:
        self._input: RegistrationInput | None = None
        self._state = RegistrationState(status="submitted")
        self._lock = asyncio.Lock()
        self._decided = False

    @workflow.run
    async def run(self, input: RegistrationInput) -> str:
        self._input = input
        async with self._lock:
            await workflow.execute_activity(
                CHANGE_STATUS,
                StatusChange(input.application_id, "under_review", "system", "registration_received"),
                **DB_ACTIVITY,
            )
            task = OpenTaskInput(
                application_id=input.application_id,
                workflow_id=workflow.info().workflow_id,
                program=input.program,
                step=REGISTRATION_STEP,
                round=1,
                role="county_dpf",
                county=input.county,
                due_at=None,
                summary=f"verify the account registration of {KIND_WORDS.get(input.kind, input.kind)}",
            )
            task_id: str = await workflow.execute_activity(OPEN_TASK, task, result_type=str, **DB_ACTIVITY)
            self._state.open_tasks[task_id] = REGISTRATION_STEP
            self._state.status = "under_review"
        await workflow.wait_condition(lambda: self._decided)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._state.status

    @workflow.update
    async def decide(self, request: DecideInput) -> DecideResult:
        assert self._input is not None
        async with self._lock:
            self._validate_decision(request)
            step = self._state.open_tasks[request.task_id]
            outcome: RegistrationOutcome = await workflow.execute_activity(
                SETTLE_REGISTRATION,
                RegistrationSettlement(
                    self._input.application_id, request.decision, request.actor.username, request.reason
                ),
                result_type=RegistrationOutcome,
                **DB_ACTIVITY,
            )
            if outcome.reasons:
                raise ApplicationError(
                    f"{', '.join(outcome.reasons)}: another verified account already acts for this ID number or "
                    "credit code; reject with a reason",
                    type=CONFLICT,
                    non_retryable=True,
                )
            new_status = "approved" if request.decision == "approve" else "rejected"
            now = workflow.now()
            await workflow.execute_activity(
                RECORD_DECISION,
                DecisionToRecord(
                    application_id=self._input.application_id,
                    task_id=request.task_id,
                    step=step,
                    decision=request.decision,
                    actor=request.actor,
                    at=now,
                    reason=request.reason,
                    values=request.values,
                    new_status=new_status,
                ),
                **DB_ACTIVITY,
            )
            self._state.decisions.append(
                DecisionRecord(request.task_id, step, request.decision, request.actor.username, now, request.reason)
            )
            self._state.open_tasks.clear()
            self._state.status = new_status
            self._decided = True
            return DecideResult(request.task_id, request.decision, new_status)

    @decide.validator
    def _validate_decision(self, request: DecideInput) -> None:
        assert self._input is not None
        if request.task_id not in self._state.open_tasks or self._decided:
            raise ApplicationError("the task is not open", type=CONFLICT)
        check_decision(
            request,
            role="county_dpf",
            county=self._input.county,
            submitted_by=self._input.submitted_by,
            decided_by=[d.by for d in self._state.decisions],
        )
        if request.decision == "return":
            raise ApplicationError("a registration is verified or rejected: reject it with a reason", type=INVALID)

    @workflow.query
    def view(self) -> WorkflowView:
        return WorkflowView(
            status=self._state.status,
            open_task_id=next(iter(self._state.open_tasks), None),
            policy_version=None,
            schedule=[],
        )
