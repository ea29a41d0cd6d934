"""Start-up premises rent subsidy (自主创业场地租金补贴), program R of POLICY.md — 包府办发〔2023〕43号 (九) 2.

`RentSubsidyWorkflow` runs one application from submission to its last monthly payment:

1. pins the policy version it was started with (its parameters travel in the input and stay in the history);
2. checks eligibility with the pure rules of `policy.rent` plus the cross-application rules an activity decides
   under the person's row lock; ineligible → `rejected` with reason codes and no task;
3. opens a County DPF review task at the applicant's household-registration county, due in
   `review_due_working_days` working days; when it is overdue the task is marked and a City DPF escalation
   task appears;
4. waits for a decision (update `decide`): `return` → `returned` until the applicant's `corrected` event;
   `reject` → `rejected`; `approve` with the verified `monthly_rent` → `active` with the schedule;
5. pays each subsidy month when it ends (months already ended at approval are paid at once), each as two
   ledger rows (city, county) under idempotency keys; `continue_as_new` after every 12 payments;
6. `business_closed`, `lease_ended` and `withdrawn` cancel the months not yet paid; `completed` after the last.

Updates: `decide` (officials' decision, validator = who may decide), `event` (withdrawn, business_closed,
lease_ended, corrected). Query: `view`.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from subsidy.activities.names import POST_PAYMENT, RECORD_ELIGIBILITY
    from subsidy.policy.money import to_money
    from subsidy.policy.versions import PolicyVersion, version_from_json
    from subsidy.policy.workdays import CalendarYearUnknown, add_weekdays, add_working_days
    from subsidy.programs.rent_subsidy.rules import RentFacts, rent_eligibility, rent_schedule
    from subsidy.workflows.calendar_contracts import WorkingDaysAnswer  # here too: the sandbox must know it by name
    from subsidy.workflows.calendar_steps import count_working_days
    from subsidy.workflows.common import DB_STEPS_AS_LOCAL_ACTIVITIES, end_of_day
    from subsidy.workflows.contracts import (
        CONFLICT,
        INVALID,
        RENT_SUBSIDY_WORKFLOW,
        VERIFIED_ABOVE_DECLARED,
        DecideInput,
        DecisionRecord,
        EligibilityOutcome,
        EligibilityRecord,
        EventInput,
        EventResult,
        OpenTaskInput,
        PaymentInput,
        PaymentResult,
        RentFactsMessage,
        RentSubsidyInput,
        RentSubsidyState,
        ScheduleMonth,
        StatusChange,
    )
    from subsidy.workflows.procedure import DecisionEffects, EventRule, Procedure, StepRule

REVIEW_STEP = "county_review"
ESCALATION_STEP = "city_escalation"
STOP_EVENTS = {"withdrawn": "withdrawn", "business_closed": "terminated", "lease_ended": "terminated"}
TERMINAL = {"rejected", "completed", "terminated", "withdrawn"}


def facts_from_message(message: RentFactsMessage) -> RentFacts:
    return RentFacts(
        hukou_county=message.hukou_county,
        applied_to_county=message.applied_to_county,
        business_type=message.business_type,
        license_date=message.license_date,
        started_on=message.started_on,
        lease_start=message.lease_start,
        lease_end=message.lease_end,
        monthly_rent=message.monthly_rent,
    )


def due_date(start: date, working_days: int) -> date:
    try:
        return add_working_days(start, working_days)
    except CalendarYearUnknown:
        # The official calendar is published a year ahead; beyond it, weekdays are the honest estimate.
        return add_weekdays(start, working_days)


@workflow.defn(name=RENT_SUBSIDY_WORKFLOW)
class RentSubsidyWorkflow(Procedure):
    # Rent was the first type moved to local activities; its marker is taken at its first database step.
    DB_PATCH = DB_STEPS_AS_LOCAL_ACTIVITIES
    STEPS = {REVIEW_STEP: StepRule(), ESCALATION_STEP: StepRule()}
    EVENTS = {
        "withdrawn": EventRule("_check_withdrawal", "_withdraw_or_stop"),
        "business_closed": EventRule("_check_stop", "_withdraw_or_stop"),
        "lease_ended": EventRule("_check_stop", "_withdraw_or_stop"),
        "corrected": EventRule("_check_correction", "_correct"),
    }
    EVENT_SUBJECT = "the rent subsidy"

    @workflow.init
    def __init__(self, input: RentSubsidyInput) -> None:
        # From the input here, not in `run`: an update delivered with a run's first workflow task (a
        # withdrawal just after continue-as-new, or just after the start) is handled before `run` starts.
        self._begin(input)
        self._input: RentSubsidyInput = input
        self._version: PolicyVersion | None = version_from_json(input.policy) if input.policy is not None else None
        self._state = input.state if input.state is not None else RentSubsidyState(status="submitted")
        self._corrected: RentFactsMessage | None = None

    @property
    def status(self) -> str:
        return self._state.status

    @status.setter
    def status(self, value: str) -> None:
        self._state.status = value

    @property
    def decisions(self) -> list[DecisionRecord]:
        return self._state.decisions

    @property
    def schedule(self) -> list[ScheduleMonth]:
        return self._state.schedule

    def schedule_view(self) -> list[ScheduleMonth]:
        return self._state.schedule

    # ---- run ------------------------------------------------------------------------------------

    @workflow.run
    async def run(self, input: RentSubsidyInput) -> str:
        if input.state is None:
            async with self._lock:
                eligible = await self._check_eligibility(input.facts)
            if not eligible:
                return await self.finish()
            await self._review()
        if self._state.status == "active" and self._stopped is None:
            await self.pay_schedule(self._post_payment, lambda: replace(self._input, state=self._state))
        return await self.finish()

    async def _check_eligibility(self, facts: RentFactsMessage) -> bool:
        reasons = rent_eligibility(facts_from_message(facts), self._version, self._input.applied_on)
        rent = self._version.rent if self._version else None
        outcome: EligibilityOutcome = await self.step(
            RECORD_ELIGIBILITY,
            EligibilityRecord(
                application_id=self._input.application_id,
                person_id=self._input.person_id,
                program=self._input.program,
                reasons=reasons,
                policy_version=self._version.code if self._version else None,
                clause=rent.clause if rent else None,
                max_months=rent.max_months if rent else 0,
            ),
            result_type=EligibilityOutcome,
        )
        self._state.months_already_used = outcome.months_already_used
        self._state.status = "under_review" if outcome.eligible else "rejected"
        return outcome.eligible

    async def _review(self) -> None:
        """Review rounds until a decision that ends them: approve, reject, or a stop event."""
        assert self._version is not None
        while True:
            due_at, estimate = await self._review_due(self.today())
            review = self._task(REVIEW_STEP, "county_dpf", self._input.county, due_at, estimate)
            decision = await self.human_step(
                review, escalation=lambda: self._task(ESCALATION_STEP, "city_dpf", None, None)
            )
            if decision != "return":
                return
            await workflow.wait_condition(lambda: self._corrected is not None or self._stopped is not None)
            if self._stopped is not None:
                return
            corrected, self._corrected = self._corrected, None
            assert corrected is not None
            self._input.facts = corrected
            self._state.review_round += 1
            async with self._lock:
                if self._stopped is not None:
                    return
                eligible = await self._check_eligibility(corrected)
            if not eligible:
                return

    async def _review_due(self, today: date) -> tuple[datetime, bool]:
        """The review's due date and whether it is a Monday-to-Friday estimate (past the years the calendar knows)."""
        assert self._version is not None
        working_days = self._version.rent.review_due_working_days
        answer: WorkingDaysAnswer | None = await count_working_days(today, working_days, local=True)
        if answer is not None:
            return end_of_day(answer.day), answer.estimate
        # Before the patch: the installed chinesecalendar package, inside the workflow (replay only).
        return end_of_day(due_date(today, working_days)), False

    def _task(
        self, step: str, role: str, county: str | None, due_at: datetime | None, due_is_estimate: bool = False
    ) -> OpenTaskInput:
        facts = self._input.facts
        return self.task(
            step,
            role,
            county,
            f"rent {facts.monthly_rent} / month, licence {facts.license_date.isoformat()}, "
            f"lease {facts.lease_start.isoformat()} to {facts.lease_end.isoformat()}",
            round=self._state.review_round,
            due_at=due_at,
            due_is_estimate=due_is_estimate,
        )

    async def _post_payment(self, month: ScheduleMonth) -> None:
        await self.step(
            POST_PAYMENT,
            PaymentInput(
                application_id=self._input.application_id,
                program=self._input.program,
                county=self._input.county,
                period=month.period,
                amount=month.amount,
                city_share=month.city_share,
                county_share=month.county_share,
            ),
            result_type=PaymentResult,
        )

    # ---- decide ---------------------------------------------------------------------------------

    async def decision_effects(self, task: OpenTaskInput, request: DecideInput) -> DecisionEffects:
        assert self._version is not None
        schedule: list[ScheduleMonth] = []
        if request.decision == "approve":
            verified = replace(self._input.facts, monthly_rent=to_money(request.values["monthly_rent"]))
            self._input.facts = verified
            months = rent_schedule(facts_from_message(verified), self._version.rent, self._state.months_already_used)
            schedule = [ScheduleMonth(m.period, m.start, m.end, m.amount, m.city_share, m.county_share) for m in months]
        new_status = {"approve": "active", "reject": "rejected", "return": "returned"}[request.decision]
        return DecisionEffects(new_status, schedule=schedule)

    async def decision_recorded(self, task: OpenTaskInput, request: DecideInput, effects: DecisionEffects) -> None:
        self._state.schedule = list(effects.schedule) or self._state.schedule

    def check_values(self, task: OpenTaskInput, request: DecideInput) -> None:
        if request.decision != "approve":
            return
        try:
            rent = to_money(request.values.get("monthly_rent", ""))
        except (ValueError, ArithmeticError):
            raise ApplicationError(
                "values.monthly_rent: the verified monthly rent is required, e.g. 1200.00", type=INVALID
            ) from None
        if rent <= 0:
            raise ApplicationError("values.monthly_rent must be more than 0.00", type=INVALID)
        # An official verifies what was declared (or corrected), never more: the subsidy is paid on the verified
        # rent. A validator only, so no history changes (validators do not run on replay).
        declared = to_money(self._input.facts.monthly_rent)
        if rent > declared:
            raise ApplicationError(
                f"values.monthly_rent: the verified monthly rent may not be more than the declared rent {declared}",
                VERIFIED_ABOVE_DECLARED,
                type=INVALID,
            )

    # ---- events ---------------------------------------------------------------------------------

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

    def _check_stop(self, request: EventInput) -> None:
        self.require_submitter_or_official(request.actor, ("county_dpf",), self._input.county)
        status = self._state.status
        self.require_open(status == "active", f"{request.type} applies to an active subsidy, not one that is {status}")
        self.require_date(request)

    def _check_correction(self, request: EventInput) -> None:
        self.require_submitter(request.actor, "only the applicant may correct the application")
        if self._state.status != "returned" or self._corrected is not None:
            raise ApplicationError("only a returned application can be corrected", type=CONFLICT)
        if request.corrected is None:
            raise ApplicationError("the corrected fields are required", type=INVALID)

    async def _withdraw_or_stop(self, request: EventInput) -> EventResult:
        return await self.stop(request, STOP_EVENTS[request.type], cancel_planned_months=True)

    async def _correct(self, request: EventInput) -> EventResult:
        await self.change_status(
            StatusChange(
                self._input.application_id,
                "submitted",
                request.actor.username,
                "corrected",
                corrected_facts=request.corrected,
            )
        )
        self._corrected = request.corrected
        return EventResult(request.type, self._state.status)
