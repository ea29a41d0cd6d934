"""Flexible-employment social insurance subsidy (灵活就业人员社会保险补贴), minimal, for one rule of program P.

"A person on a public-welfare post subsidy may not at the same time receive the flexible-employment social
insurance subsidy" (包府办发〔2023〕43号 (一) 2). This procedure exists here only so that the service can refuse
the overlap in both directions; its amounts and payments belong to another plan and are not modelled.

`FlexibleEmploymentInsuranceWorkflow`: checks (policy window, county, and under the person's row lock
`exclusive_with_public_welfare_post`) → County HR task (update `decide`; approving starts the subsidy under the
lock again, a 409 naming the rule if a placement took the person meanwhile) → `active` until `employment_ended`
(`terminated`) or `withdrawn`. Updates: `decide`, `event`. Query: `view`.
"""

from __future__ import annotations

import asyncio

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from subsidy.activities.names import CHANGE_STATUS, OPEN_TASK, RECORD_DECISION
    from subsidy.activities.placement_names import CHECK_FLEXIBLE_INSURANCE, CLAIM_FLEXIBLE_INSURANCE
    from subsidy.policy.placement import flexible_insurance_reasons
    from subsidy.policy.versions import PolicyVersion, version_from_json
    from subsidy.workflows.common import (
        FLEXIBLE_INSURANCE_DB_STEPS,
        check_decision,
        db_step,
        local_db_steps,
        require_role,
    )
    from subsidy.workflows.contracts import (
        CONFLICT,
        FORBIDDEN,
        INVALID,
        DecideInput,
        DecideResult,
        DecisionRecord,
        DecisionToRecord,
        EventInput,
        EventResult,
        OpenTaskInput,
        StatusChange,
        WorkflowView,
    )
    from subsidy.workflows.placement_contracts import (
        FLEXIBLE_INSURANCE_WORKFLOW,
        ClaimResult,
        EntitlementCheck,
        EntitlementClaim,
        EntitlementOutcome,
        FlexibleInsuranceInput,
        FlexibleInsuranceState,
    )

HR_STEP = "hr_approval"
TERMINAL = {"rejected", "terminated", "withdrawn"}


@workflow.defn(name=FLEXIBLE_INSURANCE_WORKFLOW)
class FlexibleEmploymentInsuranceWorkflow:
    @workflow.init
    def __init__(self, input: FlexibleInsuranceInput) -> None:
        # First thing in every run, before any step or message handler: see `local_db_steps`.
        local_db_steps(FLEXIBLE_INSURANCE_DB_STEPS)
        self._input: FlexibleInsuranceInput | None = None
        self._version: PolicyVersion | None = None
        self._state = FlexibleInsuranceState(status="submitted")
        self._lock = asyncio.Lock()
        self._decided = False
        self._stopped: str | None = None
        # From the input here, not in `run`: an update delivered with a run's first workflow task (a
        # withdrawal just after continue-as-new, or just after the start) is handled before `run` starts.
        self._input = input
        self._version = version_from_json(input.policy) if input.policy is not None else None

    @workflow.run
    async def run(self, input: FlexibleInsuranceInput) -> str:
        async with self._lock:
            outcome: EntitlementOutcome = await db_step(
                CHECK_FLEXIBLE_INSURANCE,
                EntitlementCheck(
                    application_id=input.application_id,
                    person_id=input.person_id,
                    reasons=flexible_insurance_reasons(self._version, input.applied_on, input.county),
                    policy_version=self._version.code if self._version else None,
                    clause=self._version.placement.clause if self._version else None,
                ),
                result_type=EntitlementOutcome,
                patch=FLEXIBLE_INSURANCE_DB_STEPS,
            )
            self._state.status = "under_review" if outcome.eligible else "rejected"
        if not outcome.eligible:
            return await self._finish()
        async with self._lock:
            if self._stopped is None:
                task = OpenTaskInput(
                    application_id=input.application_id,
                    workflow_id=workflow.info().workflow_id,
                    program=input.program,
                    step=HR_STEP,
                    round=1,
                    role="county_hr",
                    county=input.county,
                    due_at=None,
                    summary=f"flexible-employment social insurance subsidy from {input.start_date.isoformat()}",
                )
                task_id: str = await db_step(OPEN_TASK, task, result_type=str, patch=FLEXIBLE_INSURANCE_DB_STEPS)
                self._state.open_tasks[task_id] = task
        await workflow.wait_condition(lambda: self._decided or self._stopped is not None)
        if self._state.status == "active":
            await workflow.wait_condition(lambda: self._stopped is not None)
        return await self._finish()

    async def _finish(self) -> str:
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._state.status

    @workflow.update
    async def decide(self, request: DecideInput) -> DecideResult:
        assert self._input is not None
        async with self._lock:
            self._validate_decision(request)
            task = self._state.open_tasks[request.task_id]
            if request.decision == "approve":
                claim: ClaimResult = await db_step(
                    CLAIM_FLEXIBLE_INSURANCE,
                    EntitlementClaim(self._input.application_id, self._input.person_id),
                    result_type=ClaimResult,
                    patch=FLEXIBLE_INSURANCE_DB_STEPS,
                )
                if claim.reasons:
                    raise ApplicationError(
                        f"{', '.join(claim.reasons)}: the subsidy cannot start while the person holds a public-welfare "
                        "post; reject with a reason",
                        type=CONFLICT,
                        non_retryable=True,
                    )
            new_status = "active" if request.decision == "approve" else "rejected"
            now = workflow.now()
            await db_step(
                RECORD_DECISION,
                DecisionToRecord(
                    application_id=self._input.application_id,
                    task_id=request.task_id,
                    step=task.step,
                    decision=request.decision,
                    actor=request.actor,
                    at=now,
                    reason=request.reason,
                    values=request.values,
                    new_status=new_status,
                ),
                patch=FLEXIBLE_INSURANCE_DB_STEPS,
            )
            self._state.decisions.append(
                DecisionRecord(
                    request.task_id, task.step, request.decision, request.actor.username, now, request.reason
                )
            )
            self._state.open_tasks.clear()
            self._state.status = new_status
            self._decided = True
            return DecideResult(request.task_id, request.decision, new_status)

    @decide.validator
    def _validate_decision(self, request: DecideInput) -> None:
        assert self._input is not None
        task = self._state.open_tasks.get(request.task_id)
        if task is None or self._decided or self._stopped is not None:
            raise ApplicationError("the task is not open", type=CONFLICT)
        check_decision(
            request,
            role=task.role,
            county=task.county,
            submitted_by=self._input.submitted_by,
            decided_by=[d.by for d in self._state.decisions],
        )
        if request.decision == "return":
            raise ApplicationError("this subsidy is approved or rejected: reject it with a reason", type=INVALID)

    @workflow.update
    async def event(self, request: EventInput) -> EventResult:
        assert self._input is not None
        async with self._lock:
            self._validate_event(request)
            status = "withdrawn" if request.type == "withdrawn" else "terminated"
            await db_step(
                CHANGE_STATUS,
                StatusChange(
                    self._input.application_id,
                    status,
                    request.actor.username,
                    request.type,
                    detail={"date": request.date.isoformat() if request.date else None, "note": request.note},
                    cancel_open_tasks=True,
                ),
                patch=FLEXIBLE_INSURANCE_DB_STEPS,
            )
            self._state.status = status
            self._state.open_tasks.clear()
            self._stopped = request.type
            return EventResult(request.type, status)

    @event.validator
    def _validate_event(self, request: EventInput) -> None:
        assert self._input is not None
        status = self._state.status
        is_applicant = request.actor.username == self._input.submitted_by
        if request.type == "withdrawn":
            if not is_applicant:
                raise ApplicationError("only the applicant may withdraw", type=FORBIDDEN)
            if status in TERMINAL or self._stopped is not None:
                raise ApplicationError(f"an application that is {status} cannot be withdrawn", type=CONFLICT)
        elif request.type == "employment_ended":
            if not is_applicant:
                require_role(request.actor, "county_hr", self._input.county)
            if status != "active" or self._stopped is not None:
                raise ApplicationError(
                    f"employment_ended applies to an active subsidy, not one {status}", type=CONFLICT
                )
            if request.date is None:
                raise ApplicationError("date: the date of the event is required", type=INVALID)
        else:
            raise ApplicationError(f"type: {request.type} is not an event of this subsidy", type=INVALID)

    @workflow.query
    def view(self) -> WorkflowView:
        return WorkflowView(
            status=self._state.status,
            open_task_id=next(iter(self._state.open_tasks), None),
            policy_version=self._version.code if self._version else None,
            schedule=[],
        )
