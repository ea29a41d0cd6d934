"""Public-welfare post placement (公益性岗位安置), program P of POLICY.md — 包府办发〔2023〕43号 (一) 2.

`PublicWelfarePlacementWorkflow` runs one proposal of a person for an approved post, from the checks to the
subsidy's last month:

1. pins the policy version; the pure checks (policy window, county, amounts, retirement age) and, under the
   person's row lock, the post's free place, `exclusive_with_flexible_employment_insurance`, `not_yet_expired`,
   `placement_cap_reached` and a re-placement's hardship; ineligible → `rejected` with reason codes, no task;
2. a placement beyond `max_placements` whose submitter asked for it in writing goes first to a City override:
   two `city_dpf` tasks, each approved with a written reason, by two DIFFERENT officials ("in principle");
3. a County HR task (update `decide`); approving takes the place again under the locks (a rule that no longer
   holds is a 409 naming it) and starts publicity (公示) of `publicity_working_days` working days on the official
   calendar, counted from the approval day (`values.approved_on`, default today); a year the calendar does not
   know refuses the approval with a clear error rather than guessing;
4. an `objection` during publicity sends the placement back to County HR (a new round: another official);
5. no objection → `active`: the subsidy months (3 years from the start date, or up to retirement when that is
   less than 5 years away) are planned, each paid when it ends as post subsidy and social-insurance subsidy, each
   split between City and County; months already over are paid at once; `continue_as_new` after 12 payments;
6. a re-placement (the person's second or later) opens a `region_hr` filing (备案) task whose completion is
   recorded; the workflow ends only when it is filed;
7. `employment_ended` stops the months not yet paid (`terminated`); `completed` after the last.

Updates: `decide`, `event` (objection, employment_ended, withdrawn). Query: `view`.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from subsidy.policy.versions import PolicyVersion, version_from_json
    from subsidy.programs.public_welfare.activity_names import (
        ACTIVATE_PLACEMENT,
        CHECK_PLACEMENT,
        CLAIM_PLACEMENT,
        POST_PLACEMENT_MONTH,
    )
    from subsidy.programs.public_welfare.contracts import (
        PUBLIC_WELFARE_PLACEMENT_WORKFLOW,
        ClaimResult,
        PlacementActivation,
        PlacementCheck,
        PlacementCheckOutcome,
        PlacementClaim,
        PlacementInput,
        PlacementMonthMessage,
        PlacementPayment,
        PlacementState,
    )
    from subsidy.programs.public_welfare.rules import (
        PlacementFacts,
        placement_reasons,
        placement_schedule,
        publicity_last_day,
        statutory_retirement_date,
        subsidy_period,
    )
    from subsidy.workflows.calendar_contracts import WorkingDaysAnswer  # here too: the sandbox must know it by name
    from subsidy.workflows.calendar_steps import count_working_days
    from subsidy.workflows.common import PLACEMENT_DB_STEPS, end_of_day, local_db_steps
    from subsidy.workflows.contracts import (
        CONFLICT,
        INVALID,
        DecideInput,
        DecisionRecord,
        EventInput,
        EventResult,
        OpenTaskInput,
        ScheduleMonth,
        StatusChange,
    )
    from subsidy.workflows.procedure import (
        DecisionEffects,
        EventRule,
        Procedure,
        StepRule,
        event_detail,
        require_official,
    )

OVERRIDE_STEPS = ("city_override", "city_override_second")
HR_STEP = "hr_approval"
FILING_STEP = "region_filing"
NOT_RETURNED = "a placement is approved or rejected: reject it with a reason"
TERMINAL = {"rejected", "completed", "terminated", "withdrawn"}
# Who may record an objection received during publicity, or the end of the employment, for the county.
COUNTY_OFFICIALS = ("county_hr", "county_dpf")


def parse_day(text: str, field: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ApplicationError(f"values.{field}: a date as YYYY-MM-DD is required", type=INVALID) from None


@workflow.defn(name=PUBLIC_WELFARE_PLACEMENT_WORKFLOW)
class PublicWelfarePlacementWorkflow(Procedure):
    DB_PATCH = PLACEMENT_DB_STEPS
    STEPS = {
        **{
            step: StepRule(
                decisions=("approve", "reject"),
                refusal=NOT_RETURNED,
                reason_to_approve=True,
                reason_refusal="reason: a City override needs a written reason",
            )
            for step in OVERRIDE_STEPS
        },
        HR_STEP: StepRule(decisions=("approve", "reject"), refusal=NOT_RETURNED),
        FILING_STEP: StepRule(
            decisions=("approve",),
            refusal="a filing (备案) is acknowledged: approve records it",
            settles_the_run=False,
        ),
    }
    EVENTS = {
        "objection": EventRule("_check_objection", "_object"),
        "employment_ended": EventRule("_check_employment_ended", "_stop"),
        "withdrawn": EventRule("_check_withdrawal", "_stop"),
    }
    EVENT_SUBJECT = "a placement"

    @workflow.init
    def __init__(self, input: PlacementInput) -> None:
        # First thing in every run, before any step or message handler: see `local_db_steps`.
        local_db_steps(PLACEMENT_DB_STEPS)
        # From the input here, not in `run`: an update delivered with a run's first workflow task (a
        # withdrawal just after continue-as-new, or just after the start) is handled before `run` starts.
        self._begin(input)
        self._input: PlacementInput = input
        self._version: PolicyVersion | None = version_from_json(input.policy) if input.policy is not None else None
        self._state = input.state if input.state is not None else PlacementState(status="submitted")
        self._objection = False

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

    @property
    def schedule(self) -> list[PlacementMonthMessage]:
        return self._state.schedule

    def schedule_view(self) -> list[ScheduleMonth]:
        return [
            ScheduleMonth(m.period, m.start, m.end, m.amount, m.city_share, m.county_share, m.status)
            for m in self._state.schedule
        ]

    # ---- run ----------------------------------------------------------------------------------------

    @workflow.run
    async def run(self, input: PlacementInput) -> str:
        if input.state is None:
            async with self._lock:
                outcome = await self._check()
            if self._state.status == "rejected":
                return await self.finish()
            if outcome.needs_override and not await self._override():
                return await self.finish()
            if not await self._review_publicity_and_place():
                return await self.finish()
        if self._state.status == "active" and self._stopped is None:
            await self.pay_schedule(self._post_month, lambda: replace(self._input, state=self._state))
        # A re-placement is filed with the region whatever became of it: the filing is its record.
        await workflow.wait_condition(lambda: self._state.filing_task_id is None or self._state.filed)
        return await self.finish()

    def _facts(self) -> PlacementFacts:
        return PlacementFacts(
            county=self._input.county,
            start_date=self._input.start_date,
            sex=self._input.sex,
            birth_date=self._input.birth_date,
            female_category=self._input.female_category,
            severe_disability=self._input.severe_disability,
            special_hardship=self._input.special_hardship,
        )

    async def _check(self) -> PlacementCheckOutcome:
        params = self._version.placement if self._version else None
        outcome: PlacementCheckOutcome = await self.step(
            CHECK_PLACEMENT,
            PlacementCheck(
                application_id=self._input.application_id,
                person_id=self._input.person_id,
                post_application_id=self._input.post_application_id,
                post_number=self._input.post_number,
                start_date=self._input.start_date,
                reasons=placement_reasons(self._facts(), self._version, self._input.applied_on),
                severe_disability=self._input.severe_disability,
                special_hardship=self._input.special_hardship,
                max_placements=params.max_placements if params else 0,
                override_requested=bool((self._input.override_reason or "").strip()),
                policy_version=self._version.code if self._version else None,
                clause=params.clause if params else None,
            ),
            result_type=PlacementCheckOutcome,
        )
        self._state.post_id = outcome.post_id
        self._state.sequence = outcome.sequence
        self._state.status = "under_review" if outcome.eligible or outcome.needs_override else "rejected"
        return outcome

    def _task(self, step: str, role: str, county: str | None, summary: str) -> OpenTaskInput:
        return self.task(step, role, county, summary, round=self._state.review_round)

    async def _override(self) -> bool:
        """Two City officials, one after the other, each with a written reason, lift the cap for this placement."""
        assert self._version is not None
        request = (self._input.override_reason or "").strip()[:300]
        for number, step in enumerate(OVERRIDE_STEPS, start=1):
            summary = (
                f"placement {self._state.sequence} of a person (cap {self._version.placement.max_placements}): "
                f"City override, signature {number} of 2. Requested: {request}"
            )
            if await self.human_step(self._task(step, "city_dpf", None, summary)) != "approve":
                return False
        return True

    async def _review_publicity_and_place(self) -> bool:
        """County HR, then publicity; an objection starts the round again. True once the person holds the post."""
        while True:
            summary = (
                f"placement {self._state.sequence} on post {self._input.post_number} of declaration "
                f"{self._input.post_application_id}, start {self._input.start_date.isoformat()}"
            )
            if await self.human_step(self._task(HR_STEP, "county_hr", self._input.county, summary)) != "approve":
                return False
            assert self._state.publicity_until is not None
            publicity_over = end_of_day(self._state.publicity_until)
            while workflow.now() < publicity_over and self._stopped is None and not self._objection:
                try:
                    await workflow.wait_condition(
                        lambda: self._stopped is not None or self._objection,
                        timeout=publicity_over - workflow.now(),
                    )
                except TimeoutError:
                    pass
            async with self._lock:
                if self._stopped is not None:
                    return False
                if self._objection:
                    self._objection = False
                    self._state.review_round += 1
                    continue
                await self._place()
                return True

    async def _place(self) -> None:
        assert self._version is not None
        params = self._version.placement
        retirement = statutory_retirement_date(
            self._input.sex, self._input.birth_date, self._input.female_category, params
        )
        period = subsidy_period(self._input.start_date, retirement, params)
        self._state.schedule = [
            PlacementMonthMessage(
                period=m.period,
                start=m.start,
                end=m.end,
                post_subsidy=m.post_subsidy,
                social_insurance=m.social_insurance,
                post_city=m.post_city,
                post_county=m.post_county,
                insurance_city=m.insurance_city,
                insurance_county=m.insurance_county,
            )
            for m in placement_schedule(period, self._input.county, params)
        ]
        await self.step(
            ACTIVATE_PLACEMENT,
            PlacementActivation(
                application_id=self._input.application_id,
                schedule=self._state.schedule,
                period_end=period.end,
                retirement_on=retirement,
                extended_to_retirement=period.extended_to_retirement,
            ),
        )
        self._state.status = "active"
        if self._state.sequence >= 2:
            filing = self.task(
                FILING_STEP,
                "region_hr",
                None,
                f"re-placement filing (备案): placement {self._state.sequence} of a person in county "
                f"{self._input.county}, {len(self._state.schedule)} months from {self._input.start_date.isoformat()}",
            )
            self._state.filing_task_id = await self.open_task(filing)

    async def _post_month(self, month: PlacementMonthMessage) -> None:
        await self.step(
            POST_PLACEMENT_MONTH,
            PlacementPayment(self._input.application_id, self._input.program, self._input.county, month),
            result_type=int,
        )

    # ---- decide -------------------------------------------------------------------------------------

    async def decision_effects(self, task: OpenTaskInput, request: DecideInput) -> DecisionEffects:
        values = dict(request.values)
        if task.step == FILING_STEP:
            new_status = self._state.status
        elif request.decision != "approve":
            new_status = "rejected"
        elif task.step in OVERRIDE_STEPS:
            new_status = "under_review"
        else:
            approved_on = self._approved_on(request)
            last_day = await self._publicity_last_day(approved_on)
            await self._claim_place(approved_on, last_day)
            values.update(approved_on=approved_on.isoformat(), publicity_until=last_day.isoformat())
            new_status = "publicity"
        return DecisionEffects(new_status, values=values)

    async def decision_recorded(self, task: OpenTaskInput, request: DecideInput, effects: DecisionEffects) -> None:
        if task.step == FILING_STEP:
            self._state.open_tasks.pop(request.task_id, None)
            self._state.filed = True
        elif task.step in OVERRIDE_STEPS and request.decision == "approve":
            self._state.override_signers.append(request.actor.username)

    async def _publicity_last_day(self, approved_on: date) -> date:
        """Publicity's last day on the official calendar; a year it does not know refuses the approval (409)."""
        assert self._version is not None
        days = self._version.placement.publicity_working_days
        answer: WorkingDaysAnswer | None = await count_working_days(
            approved_on, days, local=True, patch=PLACEMENT_DB_STEPS
        )
        if answer is None:
            # Before the patch: the installed chinesecalendar package, inside the workflow (replay only).
            return publicity_last_day(approved_on, self._version.placement)
        if answer.estimate:
            # Nothing was written: the task stays open, and once the year is loaded the approval goes through.
            raise ApplicationError(
                f"publicity_calendar_unknown: China's official holiday calendar for {answer.unknown_year} is not "
                f"known yet, so the {days} working days of publicity cannot be counted; an administrator loads "
                "that year's calendar (the State Council's notice), then approve again",
                type=CONFLICT,
                non_retryable=True,
            )
        return answer.day

    async def _claim_place(self, approved_on: date, last_day: date) -> None:
        assert self._version is not None and self._state.post_id is not None
        claim: ClaimResult = await self.step(
            CLAIM_PLACEMENT,
            PlacementClaim(
                application_id=self._input.application_id,
                person_id=self._input.person_id,
                post_id=self._state.post_id,
                severe_disability=self._input.severe_disability,
                special_hardship=self._input.special_hardship,
                max_placements=self._version.placement.max_placements,
                override_granted=len(set(self._state.override_signers)) >= 2,
                publicity_from=approved_on,
                publicity_until=last_day,
            ),
            result_type=ClaimResult,
        )
        if claim.reasons:
            # Nothing was written: the task stays open, and County HR may reject with these reasons.
            raise ApplicationError(
                f"{', '.join(claim.reasons)}: the place cannot be taken now", type=CONFLICT, non_retryable=True
            )
        self._state.publicity_from = approved_on
        self._state.publicity_until = last_day

    def _approved_on(self, request: DecideInput) -> date:
        text = request.values.get("approved_on")
        return self.today() if not text else parse_day(text, "approved_on")

    def check_values(self, task: OpenTaskInput, request: DecideInput) -> None:
        if task.step == HR_STEP and request.decision == "approve":
            approved_on = self._approved_on(request)
            if not self._input.applied_on <= approved_on <= self.today():
                raise ApplicationError(
                    f"values.approved_on: must be between the application day "
                    f"{self._input.applied_on.isoformat()} and today",
                    type=INVALID,
                )
            # Whether the calendar knows the publicity's days is for the handler to ask (an activity reads the
            # calendar in PostgreSQL; a validator may not run one). Validators do not run on replay.

    # ---- events -------------------------------------------------------------------------------------

    @workflow.update
    async def event(self, request: EventInput) -> EventResult:
        return await self.handle_event(request)

    @event.validator
    def _validate_event(self, request: EventInput) -> None:
        self.check_event(request)

    def _check_objection(self, request: EventInput) -> None:
        require_official(
            request.actor,
            COUNTY_OFFICIALS,
            self._input.county,
            "an objection is recorded by the County HR bureau or DPF",
        )
        status = self._state.status
        if status != "publicity" or self._objection or self._stopped is not None:
            raise ApplicationError(f"an objection applies during publicity, not to a placement {status}", type=CONFLICT)
        assert self._state.publicity_until is not None
        if workflow.now() >= end_of_day(self._state.publicity_until):
            raise ApplicationError("publicity is over: the objection came too late", type=CONFLICT)
        if not (request.note or "").strip():
            raise ApplicationError("note: the objection's content is required", type=INVALID)

    def _check_employment_ended(self, request: EventInput) -> None:
        self.require_submitter_or_official(
            request.actor, COUNTY_OFFICIALS, self._input.county, "the employer or a county official records the end"
        )
        status = self._state.status
        self.require_open(status == "active", f"employment_ended applies to an active placement, not one {status}")
        self.require_date(request)

    def _check_withdrawal(self, request: EventInput) -> None:
        self.require_submitter(request.actor, "only the employer who proposed the placement may withdraw it")
        status = self._state.status
        self.require_open(
            status not in TERMINAL and status != "active", f"a placement that is {status} cannot be withdrawn"
        )

    async def _object(self, request: EventInput) -> EventResult:
        await self.change_status(
            StatusChange(
                self._input.application_id, "under_review", request.actor.username, "objection", event_detail(request)
            )
        )
        self._objection = True
        return EventResult(request.type, self._state.status)

    async def _stop(self, request: EventInput) -> EventResult:
        withdrawn = request.type == "withdrawn"
        # The filing task of a re-placement stays: it records that the placement happened.
        return await self.stop(
            request,
            "withdrawn" if withdrawn else "terminated",
            cancel_open_tasks=withdrawn,
            cancel_planned_months=True,
        )
