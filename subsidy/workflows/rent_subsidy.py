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

import asyncio
from dataclasses import replace
from datetime import date, datetime, timedelta

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from subsidy.activities.names import (
        CHANGE_STATUS,
        ESCALATE_OVERDUE_TASK,
        OPEN_TASK,
        POST_PAYMENT,
        RECORD_DECISION,
        RECORD_ELIGIBILITY,
    )
    from subsidy.policy.money import to_money
    from subsidy.policy.rent import RentFacts, rent_eligibility, rent_schedule
    from subsidy.policy.versions import PolicyVersion, version_from_json
    from subsidy.policy.workdays import CalendarYearUnknown, add_weekdays, add_working_days
    from subsidy.workflows.calendar_contracts import WorkingDaysAnswer  # here too: the sandbox must know it by name
    from subsidy.workflows.calendar_steps import count_working_days
    from subsidy.workflows.common import CHINA, check_decision, db_step, end_of_day, require_role
    from subsidy.workflows.contracts import (
        CONFLICT,
        FORBIDDEN,
        INVALID,
        RENT_SUBSIDY_WORKFLOW,
        VERIFIED_ABOVE_DECLARED,
        DecideInput,
        DecideResult,
        DecisionRecord,
        DecisionToRecord,
        EligibilityOutcome,
        EligibilityRecord,
        EventInput,
        EventResult,
        OpenTaskInput,
        OverdueInput,
        PaymentInput,
        PaymentResult,
        RentFactsMessage,
        RentSubsidyInput,
        RentSubsidyState,
        ScheduleMonth,
        StatusChange,
        WorkflowView,
    )

REVIEW_STEP = "county_review"
ESCALATION_STEP = "city_escalation"
PAYMENTS_PER_RUN = 12
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
class RentSubsidyWorkflow:
    @workflow.init
    def __init__(self, input: RentSubsidyInput) -> None:
        self._input: RentSubsidyInput | None = None
        self._version: PolicyVersion | None = None
        self._state = RentSubsidyState(status="submitted")
        self._open_tasks: dict[str, OpenTaskInput] = {}
        # One step at a time: a message handler never interleaves with a step of the run (or another handler),
        # so a withdrawal cannot slip between the eligibility record and the task it opens.
        self._lock = asyncio.Lock()
        self._decided: DecideInput | None = None
        self._stopped: str | None = None
        self._corrected: RentFactsMessage | None = None
        # From the input here, not in `run`: an update delivered with a run's first workflow task (a
        # withdrawal just after continue-as-new, or just after the start) is handled before `run` starts.
        self._input = input
        self._version = version_from_json(input.policy) if input.policy is not None else None
        if input.state is not None:
            self._state = input.state

    # ---- run ------------------------------------------------------------------------------------

    @workflow.run
    async def run(self, input: RentSubsidyInput) -> str:
        if input.state is not None:
            self._state = input.state
        else:
            async with self._lock:
                eligible = await self._check_eligibility(input.facts)
            if not eligible:
                return await self._finish()
            await self._review()
        if self._state.status == "active" and self._stopped is None:
            await self._pay_months()
        return await self._finish()

    async def _finish(self) -> str:
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._state.status

    async def _check_eligibility(self, facts: RentFactsMessage) -> bool:
        assert self._input is not None
        reasons = rent_eligibility(facts_from_message(facts), self._version, self._input.applied_on)
        rent = self._version.rent if self._version else None
        outcome: EligibilityOutcome = await db_step(
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
        assert self._input is not None and self._version is not None
        while True:
            today = workflow.now().astimezone(CHINA).date()
            due_at, estimate = await self._review_due(today)
            review = self._task_input(REVIEW_STEP, "county_dpf", self._input.county, due_at, estimate)
            async with self._lock:
                if self._stopped is not None:
                    return
                review_id = await self._open_task(review)
            remaining = due_at - workflow.now()
            try:
                await workflow.wait_condition(self._review_settled, timeout=max(remaining, timedelta(0)))
            except TimeoutError:
                async with self._lock:
                    if not self._review_settled():
                        escalation = self._task_input(ESCALATION_STEP, "city_dpf", None, None)
                        escalation_id: str = await db_step(
                            ESCALATE_OVERDUE_TASK,
                            OverdueInput(self._input.application_id, review_id, escalation),
                            result_type=str,
                        )
                        self._open_tasks[escalation_id] = escalation
                await workflow.wait_condition(self._review_settled)
            self._open_tasks.clear()
            if self._stopped is not None or self._decided is None:
                return
            decision, self._decided = self._decided.decision, None
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

    def _review_settled(self) -> bool:
        return self._decided is not None or self._stopped is not None

    def _task_input(
        self, step: str, role: str, county: str | None, due_at: datetime | None, due_is_estimate: bool = False
    ) -> OpenTaskInput:
        assert self._input is not None
        facts = self._input.facts
        return OpenTaskInput(
            application_id=self._input.application_id,
            workflow_id=workflow.info().workflow_id,
            program=self._input.program,
            step=step,
            round=self._state.review_round,
            role=role,
            county=county,
            due_at=due_at,
            due_is_estimate=due_is_estimate,
            summary=f"rent {facts.monthly_rent} / month, licence {facts.license_date.isoformat()}, "
            f"lease {facts.lease_start.isoformat()} to {facts.lease_end.isoformat()}",
        )

    async def _open_task(self, task: OpenTaskInput) -> str:
        task_id: str = await db_step(OPEN_TASK, task, result_type=str)
        self._open_tasks[task_id] = task
        return task_id

    async def _pay_months(self) -> None:
        assert self._input is not None
        paid_this_run = 0
        for month in self._state.schedule:
            if month.status != "planned":
                continue
            if paid_this_run >= PAYMENTS_PER_RUN:
                # Keep each run's history short: years of monthly timers would otherwise pile up.
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(replace(self._input, state=self._state))
            month_over = end_of_day(month.end - timedelta(days=1))
            while workflow.now() < month_over and self._stopped is None:
                try:
                    await workflow.wait_condition(
                        lambda: self._stopped is not None, timeout=month_over - workflow.now()
                    )
                except TimeoutError:
                    pass
            async with self._lock:
                if self._stopped is not None:
                    return
                await self._post_payment(month)
            paid_this_run += 1
        if self._stopped is None:
            async with self._lock:
                if self._stopped is None:
                    await self._change_status(
                        StatusChange(self._input.application_id, "completed", "system", "completed")
                    )

    async def _post_payment(self, month: ScheduleMonth) -> None:
        assert self._input is not None
        await db_step(
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
        month.status = "paid"

    async def _change_status(self, change: StatusChange) -> None:
        await db_step(CHANGE_STATUS, change)
        self._state.status = change.status

    # ---- decide ---------------------------------------------------------------------------------

    @workflow.update
    async def decide(self, request: DecideInput) -> DecideResult:
        assert self._input is not None and self._version is not None
        async with self._lock:
            # The validator ran before the lock: another decision or a withdrawal may have come first.
            task = self._open_tasks.get(request.task_id)
            if task is None or self._decided is not None or self._stopped is not None:
                raise ApplicationError("the task was settled a moment ago", type=CONFLICT, non_retryable=True)
            now = workflow.now()
            schedule: list[ScheduleMonth] = []
            if request.decision == "approve":
                verified = replace(self._input.facts, monthly_rent=to_money(request.values["monthly_rent"]))
                self._input.facts = verified
                months = rent_schedule(
                    facts_from_message(verified), self._version.rent, self._state.months_already_used
                )
                schedule = [
                    ScheduleMonth(m.period, m.start, m.end, m.amount, m.city_share, m.county_share) for m in months
                ]
            new_status = {"approve": "active", "reject": "rejected", "return": "returned"}[request.decision]
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
                    schedule=schedule,
                ),
            )
            self._state.decisions.append(
                DecisionRecord(
                    request.task_id, task.step, request.decision, request.actor.username, now, request.reason
                )
            )
            self._state.schedule = schedule or self._state.schedule
            self._state.status = new_status
            self._decided = request
            return DecideResult(request.task_id, request.decision, new_status)

    @decide.validator
    def _validate_decision(self, request: DecideInput) -> None:
        assert self._input is not None
        task = self._open_tasks.get(request.task_id)
        if task is None or self._decided is not None or self._stopped is not None:
            raise ApplicationError("the task is not open", type=CONFLICT)
        check_decision(
            request,
            role=task.role,
            county=task.county,
            submitted_by=self._input.submitted_by,
            decided_by=(d.by for d in self._state.decisions),
        )
        if request.decision == "approve":
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
        assert self._input is not None
        async with self._lock:
            # Re-check under the lock: the step that ran meanwhile may have changed what applies.
            self._validate_event(request)
            if request.type == "corrected":
                await self._change_status(
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
            status = STOP_EVENTS[request.type]
            detail = {"date": request.date.isoformat() if request.date else None, "note": request.note}
            await self._change_status(
                StatusChange(
                    self._input.application_id,
                    status,
                    request.actor.username,
                    request.type,
                    detail=detail,
                    cancel_open_tasks=True,
                    cancel_planned_months=True,
                )
            )
            self._stopped = request.type
            for month in self._state.schedule:
                if month.status == "planned":
                    month.status = "cancelled"
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
        elif request.type in ("business_closed", "lease_ended"):
            if not is_applicant:
                require_role(request.actor, "county_dpf", self._input.county)
            if status != "active" or self._stopped is not None:
                raise ApplicationError(
                    f"{request.type} applies to an active subsidy, not one that is {status}", type=CONFLICT
                )
            if request.date is None:
                raise ApplicationError("date: the date of the event is required", type=INVALID)
        elif request.type == "corrected":
            if not is_applicant:
                raise ApplicationError("only the applicant may correct the application", type=FORBIDDEN)
            if status != "returned" or self._corrected is not None:
                raise ApplicationError("only a returned application can be corrected", type=CONFLICT)
            if request.corrected is None:
                raise ApplicationError("the corrected fields are required", type=INVALID)
        else:
            raise ApplicationError(f"type: {request.type} is not an event of the rent subsidy", type=INVALID)

    @workflow.query
    def view(self) -> WorkflowView:
        return WorkflowView(
            status=self._state.status,
            open_task_id=next(iter(self._open_tasks), None),
            policy_version=self._version.code if self._version else None,
            schedule=self._state.schedule,
        )
