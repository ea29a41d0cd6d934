"""Vocational skills training subsidy (职业技能培训补贴), program T of POLICY.md — 包府办发〔2023〕43号 (十) 2, (六) 3.

`TrainingSubsidyWorkflow` runs one class plan of a training provider from submission to its single payment:

1. pins the policy version it was started with (its parameters travel in the input and stay in the history);
2. checks the plan itself with `policy.training.plan_eligibility` (at least 5 days and 40 class hours, course dates
   inside the version's window, a county of the jurisdiction);
3. decides every trainee against their other trainings, in one transaction that locks the trainees' `people`
   rows (activity `training.enrol_trainees`): a trainee over a limit (3 a calendar year; the same course and level
   within 12 months) is excluded with reasons, not the class; a class that fails as a whole, or with no trainee
   left, ends `rejected` with reason codes and no task;
4. opens a County DPF `plan_review` task for the class's county: approve → `approved`, reject → `rejected`;
5. waits for the provider's `completion_report` (attended hours per trainee, actual cost) until
   `completion_report_deadline_days` after the last day of class; none by then → `terminated`, unpaid, and the
   reason goes to the audit log;
6. opens a County DPF `completion_review` task, which the official who approved the plan may not approve
   (separation of duties, `common.check_decision`); approve → ONE payment of min(actual cost, 1500.00 × trainees
   with at least 40 hours) for the month the course ends, city half rounded down to the fen, county the rest →
   `completed`;
7. a class that ends unpaid (rejected, withdrawn, terminated) releases its trainees' places, so they do not count
   toward the yearly limits; so does a trainee reported below 40 hours (`not_qualified`).

Updates: `decide` (officials; the validator is the authority on who may decide), `event` (`completion_report` and
`withdrawn`, only from the submitting provider). Query: `view`. Trainees are lines of the plan, never names or IDs.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from subsidy.activities.names import POST_PAYMENT
    from subsidy.policy.money import to_money
    from subsidy.policy.versions import PolicyVersion, version_from_json
    from subsidy.programs.training_subsidy.contracts import (
        COMPLETION_REPORT,
        COMPLETION_REVIEW_STEP,
        ENROL_TRAINEES,
        PLAN_REVIEW_STEP,
        RECORD_COMPLETION,
        RELEASE_ENROLMENTS,
        TRAINING_SUBSIDY_WORKFLOW,
        WITHDRAWN,
        AttendanceLine,
        CompletionRecord,
        CourseMessage,
        EnrolmentOutcome,
        EnrolmentRequest,
        ReleaseRequest,
        TrainingEventInput,
        TrainingReport,
        TrainingSubsidyInput,
        TrainingView,
    )
    from subsidy.programs.training_subsidy.rules import (
        CoursePlan,
        plan_eligibility,
        qualifies,
        reimbursement,
        reimbursement_shares,
    )
    from subsidy.workflows.common import CHINA, TRAINING_DB_STEPS, end_of_day, local_db_steps
    from subsidy.workflows.contracts import (
        CONFLICT,
        INVALID,
        DecideInput,
        EventResult,
        OpenTaskInput,
        PaymentInput,
        PaymentResult,
        ScheduleMonth,
        StatusChange,
    )
    from subsidy.workflows.procedure import DecisionEffects, EventRule, Procedure, StepRule

REPORT_DEADLINE_PASSED = "completion_report_deadline_passed"
# Why a class's places are given back, by how it ended unpaid.
RELEASED_BECAUSE = {
    PLAN_REVIEW_STEP: "plan_rejected",
    COMPLETION_REVIEW_STEP: "completion_rejected",
    WITHDRAWN: "withdrawn",
    REPORT_DEADLINE_PASSED: REPORT_DEADLINE_PASSED,
}


def plan_from_message(course: CourseMessage) -> CoursePlan:
    return CoursePlan(
        code=course.code,
        level=course.level,
        kind=course.kind,
        start_date=course.start_date,
        end_date=course.end_date,
        class_days=course.class_days,
        class_hours=course.class_hours,
    )


@workflow.defn(name=TRAINING_SUBSIDY_WORKFLOW)
class TrainingSubsidyWorkflow(Procedure):
    DB_PATCH = TRAINING_DB_STEPS
    # A returned plan would need its trainees decided again; the provider withdraws and files a new one.
    STEPS = {
        step: StepRule(
            decisions=("approve", "reject"),
            refusal="decision: a class plan or completion report is approved or rejected, not returned",
        )
        for step in (PLAN_REVIEW_STEP, COMPLETION_REVIEW_STEP)
    }
    EVENTS = {
        COMPLETION_REPORT: EventRule("_check_report", "_record_report"),
        WITHDRAWN: EventRule("_check_withdrawal", "_withdraw"),
    }
    EVENT_SUBJECT = "the training subsidy"

    @workflow.init
    def __init__(self, input: TrainingSubsidyInput) -> None:
        # First thing in every run, before any step or message handler: see `local_db_steps`.
        local_db_steps(TRAINING_DB_STEPS)
        # From the input here, not in `run`: an update delivered with a run's first workflow task (a
        # withdrawal just after continue-as-new, or just after the start) is handled before `run` starts.
        self._begin(input)
        self._input: TrainingSubsidyInput = input
        self._version: PolicyVersion | None = version_from_json(input.policy) if input.policy is not None else None
        self._status = "submitted"
        self._released_because: str | None = None
        self._enrolled: list[int] = []
        self._excluded: list[int] = []
        self._report_deadline: datetime | None = None
        self._report: TrainingReport | None = None

    @property
    def status(self) -> str:
        return self._status

    @status.setter
    def status(self, value: str) -> None:
        self._status = value

    # ---- run ------------------------------------------------------------------------------------

    @workflow.run
    async def run(self, input: TrainingSubsidyInput) -> str:
        if self._version is not None:
            days = self._version.training.completion_report_deadline_days
            self._report_deadline = end_of_day(input.course.end_date + timedelta(days=days))
        async with self._lock:
            enrolled = await self._enrol()
        if (
            enrolled
            and await self._review(PLAN_REVIEW_STEP)
            and await self._await_report()
            and await self._review(COMPLETION_REVIEW_STEP)
        ):
            async with self._lock:
                await self._pay()
        await workflow.wait_condition(workflow.all_handlers_finished)
        if self._released_because is not None and self._enrolled:
            async with self._lock:
                await self.step(
                    RELEASE_ENROLMENTS,
                    ReleaseRequest(self._input.application_id, self._released_because, "system"),
                    result_type=int,
                )
        return self._status

    async def _enrol(self) -> bool:
        version = self._version
        reasons = plan_eligibility(
            plan_from_message(self._input.course), self._input.county, version, self._input.applied_on
        )
        training = version.training if version else None
        outcome: EnrolmentOutcome = await self.step(
            ENROL_TRAINEES,
            EnrolmentRequest(
                application_id=self._input.application_id,
                county=self._input.county,
                course=self._input.course,
                planned_cost=self._input.planned_cost,
                plan_reasons=reasons,
                policy_version=version.code if version else None,
                clause=training.clause if training else None,
                max_trainings_per_year=training.max_trainings_per_year if training else 0,
                same_course_level_window_months=training.same_course_level_window_months if training else 0,
            ),
            result_type=EnrolmentOutcome,
        )
        self._enrolled = [t.line for t in outcome.trainees if t.enrolled]
        self._excluded = [t.line for t in outcome.trainees if not t.enrolled]
        self._status = "under_review" if outcome.eligible else "rejected"
        return outcome.eligible

    async def _review(self, step: str) -> bool:
        """One County DPF task; True when it was approved."""
        # TrainingParams has no review period (the rent's is a rent parameter): the task has no due date.
        task = self.task(step, "county_dpf", self._input.county, self._summary(step))
        return await self.human_step(task) == "approve"

    async def _await_report(self) -> bool:
        """The provider's completion report, or `terminated` unpaid once the deadline has passed."""
        assert self._report_deadline is not None
        remaining = self._report_deadline - workflow.now()
        if remaining > timedelta(0):
            try:
                await workflow.wait_condition(
                    lambda: self._report is not None or self._stopped is not None, timeout=remaining
                )
            except TimeoutError:
                pass
        async with self._lock:
            # A report that took the lock first, just before the deadline, still counts.
            if self._report is None and self._stopped is None:
                await self.change_status(
                    StatusChange(
                        self._input.application_id,
                        "terminated",
                        "system",
                        REPORT_DEADLINE_PASSED,
                        detail={"reason": REPORT_DEADLINE_PASSED, "deadline": self._report_deadline.isoformat()},
                        cancel_open_tasks=True,
                    )
                )
                self._stopped = REPORT_DEADLINE_PASSED
                self._released_because = RELEASED_BECAUSE[REPORT_DEADLINE_PASSED]
        return self._report is not None and self._stopped is None

    async def _pay(self) -> None:
        """The class's one payment, due at once: its month (the last day of class) is over when it is approved."""
        assert self._report is not None
        report = self._report
        if report.reimbursement > 0:
            month = self._payment_month(report)
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
        await self.change_status(
            StatusChange(
                self._input.application_id,
                "completed",
                "system",
                "completed",
                detail={"reimbursement": str(report.reimbursement)},
            )
        )

    def _payment_month(self, report: TrainingReport) -> ScheduleMonth:
        """The one "month" of a class: paid for the month its last day of class falls in."""
        course = self._input.course
        return ScheduleMonth(
            period=f"{course.end_date.year:04d}-{course.end_date.month:02d}",
            start=course.start_date,
            end=course.end_date + timedelta(days=1),  # exclusive, as every schedule row's end
            amount=report.reimbursement,
            city_share=report.city_share,
            county_share=report.county_share,
        )

    def _summary(self, step: str) -> str:
        """What the official sees in the inbox: the course and the numbers, no trainee's name or ID."""
        course = self._input.course
        text = (
            f"{course.code} {course.title} ({course.level}, {course.kind}), "
            f"{course.start_date.isoformat()} to {course.end_date.isoformat()}, "
            f"{course.class_days} days / {course.class_hours} class hours; "
            f"{len(self._enrolled)} of {self._input.trainee_count} trainees enrolled"
        )
        if step == PLAN_REVIEW_STEP or self._report is None:
            return f"{text}, planned cost {self._input.planned_cost}"
        report = self._report
        return (
            f"{text}; actual cost {report.actual_cost}, {len(report.qualified_lines)} qualified; "
            f"reimbursement {report.reimbursement} (city {report.city_share}, county {report.county_share})"
        )

    # ---- decide ---------------------------------------------------------------------------------

    async def decision_effects(self, task: OpenTaskInput, request: DecideInput) -> DecisionEffects:
        approve = request.decision == "approve"
        schedule: list[ScheduleMonth] = []
        if approve and task.step == COMPLETION_REVIEW_STEP:
            assert self._report is not None
            if self._report.reimbursement > 0:
                schedule = [self._payment_month(self._report)]
        # Approving the completion leaves the class `approved` until its payment is posted, then `completed`.
        return DecisionEffects("approved" if approve else "rejected", schedule=schedule)

    async def decision_recorded(self, task: OpenTaskInput, request: DecideInput, effects: DecisionEffects) -> None:
        if request.decision != "approve":
            self._released_because = RELEASED_BECAUSE[task.step]

    # ---- events ---------------------------------------------------------------------------------

    @workflow.update
    async def event(self, request: TrainingEventInput) -> EventResult:
        return await self.handle_event(request)

    @event.validator
    def _validate_event(self, request: TrainingEventInput) -> None:
        self.check_event(request)

    def _check_withdrawal(self, request: TrainingEventInput) -> None:
        self.require_submitter(request.actor, "only the provider who filed the class plan may do this")
        status = self._status
        self.require_open(
            status in ("under_review", "approved") and self._report is None,
            f"a class that is {status} cannot be withdrawn",
        )

    async def _withdraw(self, request: TrainingEventInput) -> EventResult:
        result = await self.stop(request, "withdrawn")
        self._released_because = RELEASED_BECAUSE[WITHDRAWN]
        return result

    def _check_report(self, request: TrainingEventInput) -> None:
        self.require_submitter(request.actor, "only the provider who filed the class plan may do this")
        status = self._status
        self.require_open(
            status == "approved" and self._report is None,
            f"a completion report follows an approved class plan, once; this class is {status}",
        )
        now = workflow.now()
        course = self._input.course
        if now.astimezone(CHINA).date() < course.end_date:
            raise ApplicationError(
                f"the class ends on {course.end_date.isoformat()}: report its completion after that", type=CONFLICT
            )
        if self._report_deadline is not None and now >= self._report_deadline:
            raise ApplicationError("the deadline for the completion report has passed", type=CONFLICT)
        self._validate_report(request)

    async def _record_report(self, request: TrainingEventInput) -> EventResult:
        report = self._report_of(request)
        await self.step(RECORD_COMPLETION, CompletionRecord(self._input.application_id, report))
        self._report = report
        self._status = "under_review"
        return EventResult(request.type, self._status)

    def _report_of(self, request: TrainingEventInput) -> TrainingReport:
        """What the rules make of a report: who qualified, and the reimbursement split between the funders."""
        assert self._version is not None and request.actual_cost is not None
        params = self._version.training
        hours = {entry.line: entry.hours for entry in request.attendance}
        # Only enrolled trainees count; hours reported for an excluded person are not this class's subsidy.
        attendance = [AttendanceLine(line, hours.get(line, 0)) for line in self._enrolled]
        qualified = [entry.line for entry in attendance if qualifies(entry.hours, params)]
        amount = reimbursement(request.actual_cost, len(qualified), params)
        city, county = reimbursement_shares(amount, params)
        return TrainingReport(
            reported_by=request.actor.username,
            at=workflow.now(),
            actual_cost=to_money(request.actual_cost),
            attendance=attendance,
            qualified_lines=qualified,
            reimbursement=amount,
            city_share=city,
            county_share=county,
        )

    def _validate_report(self, request: TrainingEventInput) -> None:
        try:
            cost = to_money(request.actual_cost if request.actual_cost is not None else "")
        except (ValueError, ArithmeticError):
            raise ApplicationError(
                "actual_cost: the documented actual cost is required, e.g. 6000.00", type=INVALID
            ) from None
        if cost < 0:
            raise ApplicationError("actual_cost: the actual cost cannot be negative", type=INVALID)
        if not request.attendance:
            raise ApplicationError("attendance: list the attended class hours of each trainee", type=INVALID)
        lines = [entry.line for entry in request.attendance]
        if any(not 0 <= line < self._input.trainee_count for line in lines):
            raise ApplicationError("attendance: a trainee who is not in this class plan", type=INVALID)
        if len(set(lines)) != len(lines):
            raise ApplicationError("attendance: a trainee is listed twice", type=INVALID)
        hours = self._input.course.class_hours
        if any(not 0 <= entry.hours <= hours for entry in request.attendance):
            raise ApplicationError(f"attendance: hours are between 0 and the class's {hours} class hours", type=INVALID)

    @workflow.query
    def view(self) -> TrainingView:
        return TrainingView(
            status=self._status,
            open_task_id=next(iter(self.open_tasks), None),
            policy_version=self.policy_version(),
            enrolled_lines=list(self._enrolled),
            excluded_lines=list(self._excluded),
            report_deadline=self._report_deadline,
            report=self._report,
        )
