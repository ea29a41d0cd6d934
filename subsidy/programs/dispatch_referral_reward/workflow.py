"""Dispatch referral reward (推荐残疾人就业补贴) — 包府办发〔2023〕43号 (三) 2.

`DispatchReferralWorkflow` runs one agency's claim for one person's employment:

1. the rules (`rules.referral_reasons`: the policy window, the county, a contract that has started and lasts a
   year) and, under the person's row lock, the claim on the employment that `admit` held at submission, tied to
   this application (activity `dispatch_referral.check`); refused → `rejected` with reason codes, the claim
   given back;
2. `active` while the year runs: a durable timer to midnight (China) of the day the contract's start plus
   `min_employment_months` is reached; a contract that began more than a year ago goes on at once.
   `employment_ended` (the agency, or a County DPF official of the county) before then → `terminated` with reason
   `employment_shorter_than_one_year`, nothing paid;
3. at one year, `under_review`: a County DPF `employment_check` task of the application's county; approve → the
   reward (`reward`, split by `city_share`) paid once for the month in which the year ends → `completed`, the
   registry's record granted; reject → `rejected`;
4. withdrawn by the agency before the check is decided. Every unpaid end gives the claim back, so another agency
   may claim the same employment.

Updates: `decide`, `event` (`employment_ended`, `withdrawn`). Query: `view`.
"""

from __future__ import annotations

from datetime import datetime, time

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from subsidy.policy.versions import PolicyVersion, version_from_json
    from subsidy.programs.dispatch_referral_reward.contracts import (
        CHECK_REFERRAL,
        DISPATCH_REFERRAL_WORKFLOW,
        EMPLOYMENT_CHECK_STEP,
        EMPLOYMENT_ENDED,
        WITHDRAWN,
        DispatchReferralInput,
        ReferralCheck,
        ReferralOutcome,
        ReferralView,
    )
    from subsidy.programs.dispatch_referral_reward.rules import (
        EMPLOYMENT_SHORTER_THAN_ONE_YEAR,
        referral_reasons,
        reward_period,
        reward_shares,
        year_ends_on,
    )
    from subsidy.workflows.common import CHINA
    from subsidy.workflows.contracts import (
        CONFLICT,
        INVALID,
        DecideInput,
        EventInput,
        EventResult,
        OpenTaskInput,
        ScheduleMonth,
        StatusChange,
    )
    from subsidy.workflows.procedure import DecisionEffects, EventRule, Procedure, StepRule, event_detail

UNPAID_ENDS = ("rejected", "withdrawn", "terminated")


@workflow.defn(name=DISPATCH_REFERRAL_WORKFLOW)
class DispatchReferralWorkflow(Procedure):
    DB_PATCH = None
    STEPS = {
        EMPLOYMENT_CHECK_STEP: StepRule(
            decisions=("approve", "reject"),
            refusal="decision: the employment check is approved or rejected: reject it with a reason",
        )
    }
    EVENTS = {
        EMPLOYMENT_ENDED: EventRule("_check_employment_ended", "_end_employment"),
        WITHDRAWN: EventRule("_check_withdrawal", "_withdraw"),
    }
    EVENT_SUBJECT = "the dispatch referral reward"

    @workflow.init
    def __init__(self, input: DispatchReferralInput) -> None:
        # From the input here, not in `run`: an update delivered with the first workflow task is handled first.
        self._begin(input)
        self._input: DispatchReferralInput = input
        self._version: PolicyVersion | None = version_from_json(input.policy) if input.policy is not None else None
        self._status = "submitted"
        self._year_ends_on = (
            year_ends_on(input.contract_start, self._version.dispatch_referral) if self._version else None
        )
        self._payment: ScheduleMonth | None = None
        self._ended_because: str | None = None
        self._check_opened_at: datetime | None = None

    @property
    def status(self) -> str:
        return self._status

    @status.setter
    def status(self, value: str) -> None:
        self._status = value

    # ---- run ------------------------------------------------------------------------------------

    @workflow.run
    async def run(self, input: DispatchReferralInput) -> str:
        version = self._version
        async with self._lock:
            outcome: ReferralOutcome = await self.step(
                CHECK_REFERRAL,
                ReferralCheck(
                    application_id=input.application_id,
                    person_id=input.person_id,
                    employer_credit_code=input.employer_credit_code,
                    contract_start=input.contract_start,
                    reasons=referral_reasons(
                        version, input.applied_on, input.county, input.contract_start, input.contract_end
                    ),
                    policy_version=version.code if version else None,
                    clause=version.dispatch_referral.clause if version else None,
                    year_ends_on=self._year_ends_on,
                ),
                result_type=ReferralOutcome,
            )
            if self._stopped is None:
                self._status = "active" if outcome.eligible else "rejected"
        if outcome.eligible and self._year_ends_on is not None:
            await self._year_then_check()
        await workflow.wait_condition(workflow.all_handlers_finished)
        if self._status in UNPAID_ENDS:
            async with self._lock:
                await self.release_person_records(self._ended_because or self._status)
        return await self.finish()

    async def _year_then_check(self) -> None:
        assert self._year_ends_on is not None
        if not await self.wait_until(datetime.combine(self._year_ends_on, time(0), tzinfo=CHINA)):
            return
        async with self._lock:
            if self._stopped is not None:
                return
            self._check_opened_at = workflow.now()
            await self.change_status(
                StatusChange(
                    self._input.application_id,
                    "under_review",
                    "system",
                    "employment_year_completed",
                    detail={"year_ends_on": self._year_ends_on.isoformat()},
                )
            )
        task = self.task(EMPLOYMENT_CHECK_STEP, "county_dpf", self._input.county, self._summary())
        if await self.human_step(task) != "approve":
            return
        async with self._lock:
            assert self._payment is not None
            await self.pay_once(self._payment)
            await self.change_status(
                StatusChange(
                    self._input.application_id,
                    "completed",
                    "system",
                    "completed",
                    detail={"period": self._payment.period, "amount": str(self._payment.amount)},
                )
            )
            await self.grant_person_records("paid")

    def _summary(self) -> str:
        """The inbox's line: the employment and the reward, no name or ID number."""
        input = self._input
        assert self._year_ends_on is not None
        reward = self._version.dispatch_referral.reward if self._version else None
        return (
            f"referral into the employment with {input.employer_credit_code} from {input.contract_start.isoformat()}; "
            f"one year of employment on {self._year_ends_on.isoformat()}; reward {reward}"
        )

    def _payment_of(self) -> ScheduleMonth:
        assert self._version is not None and self._year_ends_on is not None
        params = self._version.dispatch_referral
        amount, city, county = reward_shares(params)
        return ScheduleMonth(
            period=reward_period(self._input.contract_start, params),
            start=self._input.contract_start,
            end=self._year_ends_on,
            amount=amount,
            city_share=city,
            county_share=county,
        )

    # ---- decide ---------------------------------------------------------------------------------

    async def decision_effects(self, task: OpenTaskInput, request: DecideInput) -> DecisionEffects:
        if request.decision != "approve":
            return DecisionEffects("rejected")
        payment = self._payment_of()
        assert self._version is not None
        values = {
            **request.values,
            "reward": str(payment.amount),
            "city_share": str(payment.city_share),
            "county_share": str(payment.county_share),
            "period": payment.period,
            "year_ends_on": payment.end.isoformat(),
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

    def _check_employment_ended(self, request: EventInput) -> None:
        self.require_submitter_or_official(request.actor, ("county_dpf",), self._input.county)
        status = self._status
        self.require_open(
            status == "active",
            f"employment_ended applies while the year of employment runs; this referral is {status}",
        )
        self.require_date(request)
        assert request.date is not None and self._year_ends_on is not None
        if request.date < self._input.contract_start:
            raise ApplicationError("date: the employment cannot end before the contract's start", type=INVALID)
        if request.date >= self._year_ends_on:
            raise ApplicationError(
                f"the year of employment was complete on {self._year_ends_on.isoformat()}: the County DPF's check "
                "decides the reward",
                type=CONFLICT,
            )

    async def _end_employment(self, request: EventInput) -> EventResult:
        self._ended_because = EMPLOYMENT_SHORTER_THAN_ONE_YEAR
        return await self.stop(
            request, "terminated", detail={**event_detail(request), "reason": EMPLOYMENT_SHORTER_THAN_ONE_YEAR}
        )

    def _check_withdrawal(self, request: EventInput) -> None:
        self.require_submitter(request.actor, "only the agency that filed the referral may withdraw it")
        status = self._status
        self.require_open(status in ("active", "under_review"), f"a referral that is {status} cannot be withdrawn")

    async def _withdraw(self, request: EventInput) -> EventResult:
        return await self.stop(request, "withdrawn")

    @workflow.query
    def view(self) -> ReferralView:
        return ReferralView(
            status=self._status,
            open_task_id=next(iter(self.open_tasks), None),
            policy_version=self.policy_version(),
            year_ends_on=self._year_ends_on,
            ended_because=self._ended_because,
            payment=self._payment,
            check_opened_at=self._check_opened_at,
            reward=self._version.dispatch_referral.reward if self._version else None,
        )

    def schedule_view(self) -> list[ScheduleMonth]:
        return [self._payment] if self._payment is not None else []
