"""Social insurance subsidy for blind massage practitioners (盲人按摩从业人员社会保险补贴)

包府办发〔2023〕43号 (八) 2.

`BlindMassageInsuranceWorkflow` runs one practitioner's claim for one year:

1. the rules (`rules.massage_reasons`: the policy window, the county, a visual disability certificate, the
   previous year) and, under the person's row lock, the year's claim that `admit` held tied to this application and
   the years already subsidised (granted, the register's included) against `max_years_per_person` (activity
   `blind_massage.check`); refused → `rejected` with reason codes, the year given back;
2. a County DPF `review` task of the household registration's county, whose approval gives the insurance actually
   paid as verified (not above the declared amount); approve → `insurance_paid_share` of it, paid once by the city
   for "<year>-12" → `completed`, the year granted; reject → `rejected`, the year given back;
3. withdrawn by the practitioner before the review is decided (the year given back).

Updates: `decide`, `event` (`withdrawn`). Query: `view`.
"""

from __future__ import annotations

from datetime import date

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from subsidy.policy.money import to_money
    from subsidy.policy.versions import PolicyVersion, version_from_json
    from subsidy.programs.blind_massage_insurance_subsidy.contracts import (
        BLIND_MASSAGE_WORKFLOW,
        CHECK_MASSAGE_CLAIM,
        REVIEW_STEP,
        VERIFIED_VALUE,
        WITHDRAWN,
        BlindMassageInput,
        MassageCheck,
        MassageOutcome,
        MassageView,
    )
    from subsidy.programs.blind_massage_insurance_subsidy.rules import (
        VERIFIED_ABOVE_DECLARED,
        massage_reasons,
        subsidy_period,
        subsidy_shares,
    )
    from subsidy.workflows.contracts import (
        INVALID,
        DecideInput,
        EventInput,
        EventResult,
        OpenTaskInput,
        ScheduleMonth,
        StatusChange,
    )
    from subsidy.workflows.procedure import DecisionEffects, EventRule, Procedure, StepRule

UNPAID_ENDS = ("rejected", "withdrawn", "terminated")


@workflow.defn(name=BLIND_MASSAGE_WORKFLOW)
class BlindMassageInsuranceWorkflow(Procedure):
    DB_PATCH = None
    STEPS = {
        REVIEW_STEP: StepRule(
            decisions=("approve", "reject"),
            refusal="decision: the claim is approved or rejected: reject it with a reason",
        )
    }
    EVENTS = {WITHDRAWN: EventRule("_check_withdrawal", "_withdraw")}
    EVENT_SUBJECT = "the blind massage insurance subsidy"

    @workflow.init
    def __init__(self, input: BlindMassageInput) -> None:
        self._begin(input)
        self._input: BlindMassageInput = input
        self._version: PolicyVersion | None = version_from_json(input.policy) if input.policy is not None else None
        self._status = "submitted"
        self._years_before: int | None = None
        self._payment: ScheduleMonth | None = None

    @property
    def status(self) -> str:
        return self._status

    @status.setter
    def status(self, value: str) -> None:
        self._status = value

    @workflow.run
    async def run(self, input: BlindMassageInput) -> str:
        version = self._version
        async with self._lock:
            outcome: MassageOutcome = await self.step(
                CHECK_MASSAGE_CLAIM,
                MassageCheck(
                    application_id=input.application_id,
                    person_id=input.person_id,
                    year=input.year,
                    reasons=massage_reasons(
                        version, input.applied_on, input.county, input.year, input.disability_category
                    ),
                    max_years_per_person=version.blind_massage.max_years_per_person if version else 0,
                    policy_version=version.code if version else None,
                    clause=version.blind_massage.clause if version else None,
                ),
                result_type=MassageOutcome,
            )
            self._years_before = outcome.years_before
            if self._stopped is None:
                self._status = "under_review" if outcome.eligible else "rejected"
        if outcome.eligible:
            task = self.task(REVIEW_STEP, "county_dpf", input.county, self._summary())
            if await self.human_step(task) == "approve":
                async with self._lock:
                    assert self._payment is not None
                    await self.pay_once(self._payment)
                    await self.change_status(
                        StatusChange(
                            input.application_id,
                            "completed",
                            "system",
                            "completed",
                            detail={"period": self._payment.period, "amount": str(self._payment.amount)},
                        )
                    )
                    await self.grant_person_records("paid")
        await workflow.wait_condition(workflow.all_handlers_finished)
        if self._status in UNPAID_ENDS:
            async with self._lock:
                await self.release_person_records(self._status)
        return await self.finish()

    def _summary(self) -> str:
        """The inbox's line: the year and the amounts, no name or ID number."""
        return (
            f"social insurance paid for {self._input.year}: {self._input.insurance_paid}; "
            f"{self._years_before} years subsidised before"
        )

    def _payment_of(self, verified: object) -> ScheduleMonth:
        assert self._version is not None
        amount, city, county = subsidy_shares(to_money(str(verified)), self._version.blind_massage)
        year = self._input.year
        return ScheduleMonth(
            period=subsidy_period(year),
            start=date(year, 1, 1),
            end=date(year + 1, 1, 1),
            amount=amount,
            city_share=city,
            county_share=county,
        )

    # ---- decide ---------------------------------------------------------------------------------

    def check_values(self, task: OpenTaskInput, request: DecideInput) -> None:
        if request.decision != "approve":
            return
        try:
            verified = to_money(request.values.get(VERIFIED_VALUE, ""))
        except (ValueError, ArithmeticError):
            raise ApplicationError(
                f"values.{VERIFIED_VALUE}: the insurance actually paid, as verified, is required, e.g. 8000.00",
                type=INVALID,
            ) from None
        if verified <= 0:
            raise ApplicationError(f"values.{VERIFIED_VALUE} must be more than 0.00", type=INVALID)
        declared = to_money(self._input.insurance_paid)
        if verified > declared:
            raise ApplicationError(
                f"values.{VERIFIED_VALUE}: the verified insurance may not be more than the declared {declared}",
                VERIFIED_ABOVE_DECLARED,
                type=INVALID,
            )

    async def decision_effects(self, task: OpenTaskInput, request: DecideInput) -> DecisionEffects:
        if request.decision != "approve":
            return DecisionEffects("rejected")
        assert self._version is not None
        params = self._version.blind_massage
        verified = to_money(request.values[VERIFIED_VALUE])
        payment = self._payment_of(verified)
        values = {
            VERIFIED_VALUE: str(verified),
            "declared": str(self._input.insurance_paid),
            "share": str(params.insurance_paid_share),
            "amount": str(payment.amount),
            "city_share": str(payment.city_share),
            "county_share": str(payment.county_share),
            "period": payment.period,
            "years_before": str(self._years_before),
            "max_years_per_person": str(params.max_years_per_person),
            "policy_version": self._version.code,
        }
        return DecisionEffects("approved", values=values, schedule=[payment])

    async def decision_recorded(self, task: OpenTaskInput, request: DecideInput, effects: DecisionEffects) -> None:
        if request.decision == "approve":
            self._payment = effects.schedule[0]  # type: ignore[assignment]

    # ---- events ---------------------------------------------------------------------------------

    @workflow.update
    async def event(self, request: EventInput) -> EventResult:
        return await self.handle_event(request)

    @event.validator
    def _validate_event(self, request: EventInput) -> None:
        self.check_event(request)

    def _check_withdrawal(self, request: EventInput) -> None:
        self.require_submitter(request.actor, "only the applicant may withdraw")
        status = self._status
        self.require_open(status == "under_review", f"a claim that is {status} cannot be withdrawn")

    async def _withdraw(self, request: EventInput) -> EventResult:
        return await self.stop(request, "withdrawn")

    @workflow.query
    def view(self) -> MassageView:
        return MassageView(
            status=self._status,
            open_task_id=next(iter(self.open_tasks), None),
            policy_version=self.policy_version(),
            years_before=self._years_before,
            payment=self._payment,
        )

    def schedule_view(self) -> list[ScheduleMonth]:
        return [self._payment] if self._payment is not None else []
