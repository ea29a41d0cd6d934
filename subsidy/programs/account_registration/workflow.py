"""Account registration (program `account_registration`): the County DPF verifies whom a new account acts for.

`AccountRegistrationWorkflow`: `under_review` → a County DPF task of the registration's county (update `decide`):
approving binds the account to the person or organisation (it gets its role) unless a verified account already
holds that ID or credit code (409, nothing written); rejecting leaves it unbound with the reason, which the account
is shown. No return for correction: a new registration is the correction. Query: `view`.
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from subsidy.programs.account_registration.contracts import (
        ACCOUNT_REGISTRATION_WORKFLOW,
        REGISTRATION_STEP,
        SETTLE_REGISTRATION,
        RegistrationInput,
        RegistrationOutcome,
        RegistrationSettlement,
        RegistrationState,
    )
    from subsidy.workflows.common import ACCOUNT_REGISTRATION_DB_STEPS, local_db_steps
    from subsidy.workflows.contracts import CONFLICT, DecideInput, DecisionRecord, OpenTaskInput, StatusChange
    from subsidy.workflows.procedure import DecisionEffects, Procedure, StepRule

KIND_WORDS = {"person": "a person", "employer": "an employer", "provider": "a training provider", "agency": "an agency"}


@workflow.defn(name=ACCOUNT_REGISTRATION_WORKFLOW)
class AccountRegistrationWorkflow(Procedure):
    DB_PATCH = ACCOUNT_REGISTRATION_DB_STEPS
    # No return for correction: a new registration is the correction.
    STEPS = {
        REGISTRATION_STEP: StepRule(
            decisions=("approve", "reject"),
            refusal="a registration is verified or rejected: reject it with a reason",
        )
    }

    def __init__(self) -> None:
        # First thing in every run, before any step or message handler: see `local_db_steps`.
        local_db_steps(ACCOUNT_REGISTRATION_DB_STEPS)
        self._begin(None)
        self._input: RegistrationInput | None = None
        self._state = RegistrationState(status="submitted")

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
    async def run(self, input: RegistrationInput) -> str:
        self._input = input
        async with self._lock:
            await self.change_status(
                StatusChange(input.application_id, "under_review", "system", "registration_received")
            )
            summary = f"verify the account registration of {KIND_WORDS.get(input.kind, input.kind)}"
            await self.open_task(self.task(REGISTRATION_STEP, "county_dpf", input.county, summary))
        await workflow.wait_condition(self.settled)
        return await self.finish()

    async def decision_effects(self, task: OpenTaskInput, request: DecideInput) -> DecisionEffects:
        assert self._input is not None
        outcome: RegistrationOutcome = await self.step(
            SETTLE_REGISTRATION,
            RegistrationSettlement(
                self._input.application_id, request.decision, request.actor.username, request.reason
            ),
            result_type=RegistrationOutcome,
        )
        if outcome.reasons:
            raise ApplicationError(
                f"{', '.join(outcome.reasons)}: another verified account already acts for this ID number or "
                "credit code; reject with a reason",
                type=CONFLICT,
                non_retryable=True,
            )
        return DecisionEffects("approved" if request.decision == "approve" else "rejected")

    async def decision_recorded(self, task: OpenTaskInput, request: DecideInput, effects: DecisionEffects) -> None:
        self.open_tasks.clear()
