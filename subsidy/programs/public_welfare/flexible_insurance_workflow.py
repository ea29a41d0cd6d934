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

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from subsidy.policy.versions import PolicyVersion, version_from_json
    from subsidy.programs.public_welfare.activity_names import CHECK_FLEXIBLE_INSURANCE, CLAIM_FLEXIBLE_INSURANCE
    from subsidy.programs.public_welfare.contracts import (
        FLEXIBLE_INSURANCE_WORKFLOW,
        ClaimResult,
        EntitlementCheck,
        EntitlementClaim,
        EntitlementOutcome,
        FlexibleInsuranceInput,
        FlexibleInsuranceState,
    )
    from subsidy.programs.public_welfare.rules import flexible_insurance_reasons
    from subsidy.workflows.common import FLEXIBLE_INSURANCE_DB_STEPS, local_db_steps
    from subsidy.workflows.contracts import (
        CONFLICT,
        DecideInput,
        DecisionRecord,
        EventInput,
        EventResult,
        OpenTaskInput,
    )
    from subsidy.workflows.procedure import DecisionEffects, EventRule, Procedure, StepRule

HR_STEP = "hr_approval"
TERMINAL = {"rejected", "terminated", "withdrawn"}


@workflow.defn(name=FLEXIBLE_INSURANCE_WORKFLOW)
class FlexibleEmploymentInsuranceWorkflow(Procedure):
    DB_PATCH = FLEXIBLE_INSURANCE_DB_STEPS
    STEPS = {
        HR_STEP: StepRule(
            decisions=("approve", "reject"), refusal="this subsidy is approved or rejected: reject it with a reason"
        )
    }
    EVENTS = {
        "withdrawn": EventRule("_check_withdrawal", "_stop"),
        "employment_ended": EventRule("_check_employment_ended", "_stop"),
    }
    EVENT_SUBJECT = "this subsidy"

    @workflow.init
    def __init__(self, input: FlexibleInsuranceInput) -> None:
        # First thing in every run, before any step or message handler: see `local_db_steps`.
        local_db_steps(FLEXIBLE_INSURANCE_DB_STEPS)
        # From the input here, not in `run`: an update delivered with a run's first workflow task (a
        # withdrawal just after continue-as-new, or just after the start) is handled before `run` starts.
        self._begin(input)
        self._input: FlexibleInsuranceInput = input
        self._version: PolicyVersion | None = version_from_json(input.policy) if input.policy is not None else None
        self._state = FlexibleInsuranceState(status="submitted")

    @property
    def status(self) -> str:
        return self._state.status

    @status.setter
    def status(self, value: str) -> None:
        self._state.status = value

    @property
    def open_tasks(self) -> dict[str, OpenTaskInput]:
        return self._state.open_tasks

    @property
    def decisions(self) -> list[DecisionRecord]:
        return self._state.decisions

    @workflow.run
    async def run(self, input: FlexibleInsuranceInput) -> str:
        async with self._lock:
            outcome: EntitlementOutcome = await self.step(
                CHECK_FLEXIBLE_INSURANCE,
                EntitlementCheck(
                    application_id=input.application_id,
                    person_id=input.person_id,
                    reasons=flexible_insurance_reasons(self._version, input.applied_on, input.county),
                    policy_version=self._version.code if self._version else None,
                    clause=self._version.placement.clause if self._version else None,
                ),
                result_type=EntitlementOutcome,
            )
            self._state.status = "under_review" if outcome.eligible else "rejected"
        if not outcome.eligible:
            return await self.finish()
        summary = f"flexible-employment social insurance subsidy from {input.start_date.isoformat()}"
        await self.human_step(self.task(HR_STEP, "county_hr", input.county, summary))
        if self._state.status == "active":
            await workflow.wait_condition(lambda: self._stopped is not None)
        return await self.finish()

    async def decision_effects(self, task: OpenTaskInput, request: DecideInput) -> DecisionEffects:
        if request.decision == "approve":
            claim: ClaimResult = await self.step(
                CLAIM_FLEXIBLE_INSURANCE,
                EntitlementClaim(self._input.application_id, self._input.person_id),
                result_type=ClaimResult,
            )
            if claim.reasons:
                raise ApplicationError(
                    f"{', '.join(claim.reasons)}: the subsidy cannot start while the person holds a public-welfare "
                    "post; reject with a reason",
                    type=CONFLICT,
                    non_retryable=True,
                )
        return DecisionEffects("active" if request.decision == "approve" else "rejected")

    @workflow.update
    async def event(self, request: EventInput) -> EventResult:
        return await self.handle_event(request)

    @event.validator
    def _validate_event(self, request: EventInput) -> None:
        self.check_event(request)

    def _check_withdrawal(self, request: EventInput) -> None:
        self.require_submitter(request.actor, "only the applicant may withdraw")
        status = self._state.status
        self.require_open(status not in TERMINAL, f"an application that is {status} cannot be withdrawn")

    def _check_employment_ended(self, request: EventInput) -> None:
        self.require_submitter_or_official(request.actor, ("county_hr",), self._input.county)
        status = self._state.status
        self.require_open(status == "active", f"employment_ended applies to an active subsidy, not one {status}")
        self.require_date(request)

    async def _stop(self, request: EventInput) -> EventResult:
        return await self.stop(request, "withdrawn" if request.type == "withdrawn" else "terminated")
