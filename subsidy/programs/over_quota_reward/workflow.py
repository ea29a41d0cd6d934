"""Over-quota employment reward (超比例安排残疾人就业奖励), 包府办发〔2023〕43号 (三) 2.

`OverQuotaRewardWorkflow` runs one employer's claim for a past year to its single payment:

1. pins the policy version it was started with; refuses the claim as a whole (`rules.claim_reasons`) for a year that
   is not over, a state-funded unit or a concentrated-placement institution;
2. reads the county's monthly minimum wage in force on 31 December of the year claimed (none:
   `no_minimum_wage_for_date`);
3. counts every employee under their `people` row locks (activity `over_quota.count_employees`): one held `counted`
   by another employer's approved claim of the year is not counted (`counted_by_another_employer`); the figures
   (counted, required, excess, reward, shares) are the application's eligibility; no excess → `rejected` (`no_excess`);
4. opens a County DPF review for the application's county: approve → under the same locks the counted lines are held
   `granted` in the person registry, the figures recomputed (an employee taken by another approval meanwhile is not
   counted); no excess left → the approval is refused with a 409 and the task stays open for a rejection; the
   decision records what was used; reject → `rejected`;
5. pays once (period "<year>-12"), then `completed`. Withdrawn by the employer while under review.

Updates: `decide`, `event` (`withdrawn`). Query: `view`. Employees are lines of the claim, never names or IDs.
"""

from __future__ import annotations

from datetime import date

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from subsidy.policy.versions import OverQuotaParams, PolicyVersion, version_from_json
    from subsidy.programs.over_quota_reward import rules
    from subsidy.programs.over_quota_reward.contracts import (
        COUNT_EMPLOYEES,
        HOLD_COUNTED,
        OVER_QUOTA_WORKFLOW,
        REVIEW_STEP,
        WITHDRAWN,
        CountingRule,
        CountOutcome,
        CountRequest,
        EmployeeLine,
        Figures,
        HoldOutcome,
        HoldRequest,
        OverQuotaEventInput,
        OverQuotaInput,
        OverQuotaView,
        WageUsed,
    )
    from subsidy.workflows.contracts import (
        CONFLICT,
        DecideInput,
        EventResult,
        OpenTaskInput,
        ScheduleMonth,
        StatusChange,
    )
    from subsidy.workflows.procedure import DecisionEffects, EventRule, Procedure, StepRule

    # Imported here too, not only by `procedure`: the sandbox resolves a result's type in the modules this workflow
    # imported itself (`Procedure.minimum_wage` returns one of these).
    from subsidy.workflows.shared_data_contracts import MinimumWageUsed

# The statuses the procedure ends in (the declaration's `terminal_statuses`).
TERMINAL = {"rejected", "completed", "withdrawn"}


def counting_rule(params: OverQuotaParams) -> CountingRule:
    return CountingRule(
        quota_ratio=params.quota_ratio,
        severe_grades=list(params.severe_grades),
        severe_counts_as=params.severe_counts_as,
        fraction_rule=params.fraction_rule,
        reward_minimum_wage_months=params.reward_minimum_wage_months,
        city_share=params.city_share,
    )


def audit_values(figures: Figures | None, wage: WageUsed | None, params: OverQuotaParams) -> dict[str, str]:
    """What every decision's audit detail records: the figures and the minimum wage they used."""
    values: dict[str, str] = {"quota_ratio": str(params.quota_ratio), "fraction_rule": params.fraction_rule}
    if figures is not None:
        values.update(
            counted=str(figures.counted),
            required=rules.required_text(figures.required),
            excess=rules.persons_text(figures.excess),
            amount=str(figures.amount),
            city_share=str(figures.city_share),
            county_share=str(figures.county_share),
        )
    if wage is not None:
        values.update(
            minimum_wage_monthly=str(wage.monthly),
            minimum_wage_tier=str(wage.tier),
            minimum_wage_standard=wage.standard,
            minimum_wage_day=wage.day.isoformat(),
        )
    return values


@workflow.defn(name=OVER_QUOTA_WORKFLOW)
class OverQuotaRewardWorkflow(Procedure):
    DB_PATCH = None  # born with local activities
    STEPS = {
        REVIEW_STEP: StepRule(
            decisions=("approve", "reject"), refusal="the reward is approved or rejected: reject it with a reason"
        )
    }
    EVENTS = {WITHDRAWN: EventRule("_check_withdrawal", "_withdraw")}
    EVENT_SUBJECT = "the over-quota employment reward"

    @workflow.init
    def __init__(self, input: OverQuotaInput) -> None:
        self._begin(input)
        self._input: OverQuotaInput = input
        self._version: PolicyVersion | None = version_from_json(input.policy) if input.policy is not None else None
        self._params = self._version.over_quota if self._version is not None else OverQuotaParams()
        self._status = "submitted"
        self._reasons: list[str] = []
        self._lines: list[EmployeeLine] = []
        self._figures: Figures | None = None
        self._wage: WageUsed | None = None
        self._payment: ScheduleMonth | None = None

    @property
    def status(self) -> str:
        return self._status

    @status.setter
    def status(self, value: str) -> None:
        self._status = value

    @workflow.run
    async def run(self, input: OverQuotaInput) -> str:
        async with self._lock:
            eligible = await self._count()
        if not eligible:
            return await self.finish()
        if await self.human_step(self.task(REVIEW_STEP, "county_dpf", input.county, self._summary())) == "approve":
            async with self._lock:
                if self._stopped is None and self._payment is not None:
                    await self.pay_once(self._payment)
                    await self.change_status(
                        StatusChange(
                            input.application_id,
                            "completed",
                            "system",
                            "completed",
                            detail={"amount": str(self._payment.amount), "period": self._payment.period},
                        )
                    )
        return await self.finish()

    async def _count(self) -> bool:
        input = self._input
        reasons = rules.claim_reasons(self._version, input.applied_on, input.county, input.year, input.unit_kind)
        if not reasons:
            used: MinimumWageUsed = await self.minimum_wage(input.county, rules.wage_day(input.year))
            if used.found:
                self._wage = WageUsed(used.monthly, used.tier, used.standard, used.on, used.document)
            else:
                reasons = [rules.NO_MINIMUM_WAGE_FOR_DATE]
        outcome: CountOutcome = await self.step(
            COUNT_EMPLOYEES,
            CountRequest(
                application_id=input.application_id,
                year=input.year,
                organisation=input.employer_credit_code,
                staff_total=input.staff_total,
                rule=counting_rule(self._params),
                wage=self._wage,
                plan_reasons=reasons,
                policy_version=self._version.code if self._version else None,
                clause=self._params.clause if self._version else None,
            ),
            result_type=CountOutcome,
        )
        self._reasons = outcome.reasons
        self._lines = outcome.lines
        self._figures = outcome.figures
        self._status = "under_review" if outcome.eligible else "rejected"
        return outcome.eligible

    def _summary(self) -> str:
        """What the official sees in the inbox: the numbers, no employee's name or ID."""
        figures = self._figures
        assert figures is not None
        return (
            f"over-quota reward {self._input.year}: {len(self._lines)} employees with disabilities, counted "
            f"{figures.counted}, required {rules.required_text(figures.required)} of {self._input.staff_total} staff, "
            f"excess {rules.persons_text(figures.excess)}; reward {figures.amount} "
            f"(city {figures.city_share}, county {figures.county_share})"
        )

    # ---- decide ---------------------------------------------------------------------------------

    async def decision_effects(self, task: OpenTaskInput, request: DecideInput) -> DecisionEffects:
        if request.decision != "approve":
            return DecisionEffects("rejected", values=audit_values(self._figures, self._wage, self._params))
        assert self._wage is not None
        held: HoldOutcome = await self.step(
            HOLD_COUNTED,
            HoldRequest(
                application_id=self._input.application_id,
                year=self._input.year,
                organisation=self._input.employer_credit_code,
                county=self._input.county,
                staff_total=self._input.staff_total,
                rule=counting_rule(self._params),
                wage=self._wage,
                actor=request.actor.username,
            ),
            result_type=HoldOutcome,
        )
        self._lines = held.lines
        self._figures = held.figures
        if not held.held:
            raise ApplicationError(
                f"{rules.NO_EXCESS}: employees of this claim have been counted for another employer's approved claim "
                f"of {self._input.year} meanwhile; counted {held.figures.counted}, required "
                f"{rules.required_text(held.figures.required)}: no excess remains, reject the claim with a reason",
                type=CONFLICT,
                non_retryable=True,
            )
        figures = held.figures
        year = self._input.year
        self._payment = ScheduleMonth(
            period=rules.period_of(year),
            start=date(year, 1, 1),
            end=date(year + 1, 1, 1),
            amount=figures.amount,
            city_share=figures.city_share,
            county_share=figures.county_share,
        )
        return DecisionEffects(
            "approved", values=audit_values(figures, self._wage, self._params), schedule=[self._payment]
        )

    # ---- events ---------------------------------------------------------------------------------

    @workflow.update
    async def event(self, request: OverQuotaEventInput) -> EventResult:
        return await self.handle_event(request)

    @event.validator
    def _validate_event(self, request: OverQuotaEventInput) -> None:
        self.check_event(request)

    def _check_withdrawal(self, request: OverQuotaEventInput) -> None:
        self.require_submitter(request.actor, "only the employer who filed the claim may withdraw it")
        status = self._status
        self.require_open(status == "under_review", f"a claim that is {status} cannot be withdrawn")

    async def _withdraw(self, request: OverQuotaEventInput) -> EventResult:
        return await self.stop(request, "withdrawn")

    @workflow.query
    def view(self) -> OverQuotaView:
        return OverQuotaView(
            status=self._status,
            open_task_id=next(iter(self.open_tasks), None),
            policy_version=self.policy_version(),
            reasons=list(self._reasons),
            lines=list(self._lines),
            figures=self._figures,
            wage=self._wage,
        )

    def schedule_view(self) -> list[ScheduleMonth]:
        return [self._payment] if self._payment is not None else []
