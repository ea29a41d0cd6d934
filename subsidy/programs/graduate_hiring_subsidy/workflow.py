"""Graduate hiring subsidy (安置残疾人应届高校毕业生补贴) — 包府办发〔2023〕43号 (三) 2.

`GraduateHiringSubsidyWorkflow` runs one employer's claim for one hired graduate:

1. checks the hire (`rules.application_reasons`: a fresh graduate, a contract of at least a year, social insurance
   from its start) and, under the person's row lock (activity `graduate_hiring.check`), that no placement holds a
   public-welfare post for the person and that no other graduate hiring subsidy is pending or running; the
   employment is claimed in the person registry; a refusal ends `rejected` with reason codes and no task;
2. a County DPF `review` task: approve → `active` (the registry record granted, again under the lock: a placement
   that took a post meanwhile refuses the approval with 409), reject → `rejected`; `withdrawn` by the employer while
   it is under review;
3. for year k = 1..`subsidy_years`: a durable timer to the end of year k (contract start + k years, midnight China
   time; a year already over opens at once), then the employer's `employment_confirmed` event (the contract and the
   insurance still hold), then a County DPF `year_check` task (round k), which the official who decided the review
   may not decide; approve → one payment of `yearly_minimum_wage_months` × the minimum wage in force on the year's
   last day, split by `city_share`, for the month in which the year ends; reject → `terminated`, the years not yet
   paid cancelled;
4. `employment_ended` (the employer or a County DPF official, with its date) while active cancels the years that end
   after that date; a year that ended on or before it may still be confirmed and checked; with none left the
   subsidy is `terminated` at once;
5. after the last year: `completed`. A claim that ends with nothing paid gives the employment back in the registry.

Updates: `decide`, `event`. Query: `view`. No name or ID number in the history: the person is their row's id.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from subsidy.policy.versions import GraduateHiringParams, PolicyVersion, version_from_json
    from subsidy.programs.graduate_hiring_subsidy.contracts import (
        CHECK_GRADUATE_HIRING,
        EMPLOYMENT_CONFIRMED,
        EMPLOYMENT_ENDED,
        GRADUATE_HIRING_WORKFLOW,
        GRANT_GRADUATE_HIRING,
        REVIEW_STEP,
        WITHDRAWN,
        YEAR_CHECK_STEP,
        GraduateHiringCheck,
        GraduateHiringGrant,
        GraduateHiringInput,
        GraduateHiringOutcome,
        GraduateHiringView,
        GrantResult,
        SubsidyYear,
    )
    from subsidy.programs.graduate_hiring_subsidy.rules import (
        NO_MINIMUM_WAGE_FOR_DATE,
        YearSpan,
        application_reasons,
        confirmable,
        subsidy_years,
        year_amount,
        year_shares,
    )
    from subsidy.workflows.common import CHINA
    from subsidy.workflows.contracts import (
        CONFLICT,
        FORBIDDEN,
        INVALID,
        DecideInput,
        EventInput,
        EventResult,
        OpenTaskInput,
        ScheduleMonth,
        StatusChange,
    )
    from subsidy.workflows.procedure import DecisionEffects, EventRule, Procedure, StepRule
    from subsidy.workflows.shared_data_contracts import MinimumWageUsed

TERMINAL = ("rejected", "completed", "terminated", "withdrawn")
NOT_RETURNED = "this step is approved or rejected: reject it with a reason"


def year_of(span: YearSpan) -> SubsidyYear:
    return SubsidyYear(number=span.number, start=span.start, end=span.end, period=span.period)


def span_of(year: SubsidyYear) -> YearSpan:
    return YearSpan(year.number, year.start, year.end)


@workflow.defn(name=GRADUATE_HIRING_WORKFLOW)
class GraduateHiringSubsidyWorkflow(Procedure):
    DB_PATCH = None
    STEPS = {
        REVIEW_STEP: StepRule(decisions=("approve", "reject"), refusal=NOT_RETURNED),
        # The yearly checks are the desk's routine: the same official may check several years; the official who
        # decided the review may not (`check_values`).
        YEAR_CHECK_STEP: StepRule(decisions=("approve", "reject"), refusal=NOT_RETURNED, separation_of_duties=False),
    }
    EVENTS = {
        EMPLOYMENT_CONFIRMED: EventRule("_check_confirmation", "_confirm"),
        EMPLOYMENT_ENDED: EventRule("_check_employment_ended", "_employment_ended"),
        WITHDRAWN: EventRule("_check_withdrawal", "_withdraw"),
    }
    EVENT_SUBJECT = "the graduate hiring subsidy"

    @workflow.init
    def __init__(self, input: GraduateHiringInput) -> None:
        self._begin(input)
        self._input: GraduateHiringInput = input
        self._version: PolicyVersion | None = version_from_json(input.policy) if input.policy is not None else None
        self._status = "submitted"
        params = self._version.graduate_hiring if self._version is not None else GraduateHiringParams()
        self._params = params
        self._years: list[SubsidyYear] = [year_of(span) for span in subsidy_years(input.contract_start, params)]
        self._awaiting: int | None = None  # the year whose confirmation is awaited
        self._confirmed: int | None = None  # the year confirmed, whose check is to open or open
        self._ended_on: date | None = None
        self._reviewed_by: str | None = None
        self._wages: dict[int, MinimumWageUsed] = {}

    @property
    def status(self) -> str:
        return self._status

    @status.setter
    def status(self, value: str) -> None:
        self._status = value

    @property
    def schedule(self) -> Sequence[SubsidyYear]:
        return self._years

    # ---- run ------------------------------------------------------------------------------------

    @workflow.run
    async def run(self, input: GraduateHiringInput) -> str:
        async with self._lock:
            eligible = await self._check()
        if not eligible:
            return await self.finish()
        if await self.human_step(self.task(REVIEW_STEP, "county_dpf", input.county, self._summary())) != "approve":
            await self._release_if_unpaid("rejected" if self._stopped is None else str(self._stopped))
            return await self.finish()
        for year in self._years:
            if not await self._run_year(year):
                break
        async with self._lock:
            if self._stopped is None:
                if self._ended_on is not None:
                    await self._terminate(
                        "system", EMPLOYMENT_ENDED, {"employment_ended_on": self._ended_on.isoformat()}
                    )
                else:
                    await self.change_status(StatusChange(self.application_id, "completed", "system", "completed"))
        await self._release_if_unpaid(str(self._stopped or self._status))
        return await self.finish()

    async def _check(self) -> bool:
        version = self._version
        params = self._params
        outcome: GraduateHiringOutcome = await self.step(
            CHECK_GRADUATE_HIRING,
            GraduateHiringCheck(
                application_id=self.application_id,
                person_id=self._input.person_id,
                county=self._input.county,
                employer_credit_code=self._input.employer_credit_code,
                contract_start=self._input.contract_start,
                reasons=application_reasons(
                    version,
                    self._input.applied_on,
                    self._input.county,
                    graduated_on=self._input.graduated_on,
                    contract_start=self._input.contract_start,
                    contract_end=self._input.contract_end,
                    social_insurance_from=self._input.social_insurance_from,
                ),
                policy_version=version.code if version is not None else None,
                clause=params.clause,
                submitted_by=self.submitted_by,
            ),
            result_type=GraduateHiringOutcome,
        )
        self._status = "under_review" if outcome.eligible else "rejected"
        return outcome.eligible

    async def _run_year(self, year: SubsidyYear) -> bool:
        """One year: its end, the employer's confirmation, the check; True when it was paid and the next may follow."""
        if self._stopped is not None or not confirmable(span_of(year), self._ended_on):
            return False
        if not await self.wait_until(datetime.combine(year.end, time(0), tzinfo=CHINA)):
            return False
        self._awaiting = year.number
        await workflow.wait_condition(lambda: self._confirmed == year.number or self._stopped is not None)
        self._awaiting = None
        if self._stopped is not None:
            return False
        async with self._lock:
            # The standard in force on the year's last day, read when the check opens (the official decides on it;
            # an approval reads it again only if none was known then).
            self._wages[year.number] = await self.minimum_wage(self._input.county, span_of(year).last_day)
        task = self.task(YEAR_CHECK_STEP, "county_dpf", self._input.county, self._summary(year), round=year.number)
        decision = await self.human_step(task)
        self._confirmed = None
        return decision == "approve" and year.status == "paid"

    def _summary(self, year: SubsidyYear | None = None) -> str:
        """The inbox's line: the employment and the numbers, no name or ID number."""
        text = (
            f"graduate hire by {self._input.employer_credit_code}, contract "
            f"{self._input.contract_start.isoformat()} to {self._input.contract_end.isoformat()}"
        )
        if year is None:
            return f"{text}; {len(self._years)} subsidised years"
        return (
            f"{text}; year {year.number} of {len(self._years)} "
            f"({year.start.isoformat()} to {span_of(year).last_day.isoformat()}), "
            f"{self._params.yearly_minimum_wage_months} × the monthly minimum wage"
        )

    # ---- decide ---------------------------------------------------------------------------------

    def check_values(self, task: OpenTaskInput, request: DecideInput) -> None:
        if task.step == YEAR_CHECK_STEP and request.actor.username == self._reviewed_by:
            raise ApplicationError(
                "separation of duties: the official who decided the review does not check its years", type=FORBIDDEN
            )

    async def decision_effects(self, task: OpenTaskInput, request: DecideInput) -> DecisionEffects:
        approve = request.decision == "approve"
        if task.step == REVIEW_STEP:
            if approve:
                grant: GrantResult = await self.step(
                    GRANT_GRADUATE_HIRING,
                    GraduateHiringGrant(self.application_id, self._input.person_id),
                    result_type=GrantResult,
                )
                if grant.reasons:
                    raise ApplicationError(
                        f"{', '.join(grant.reasons)}: the subsidy cannot start while the person holds a "
                        "public-welfare post; reject with a reason",
                        type=CONFLICT,
                        non_retryable=True,
                    )
            return DecisionEffects("active" if approve else "rejected")
        year = self._years[task.round - 1]
        if not approve:
            return DecisionEffects("terminated")
        last_day = span_of(year).last_day
        used = self._wages.get(year.number)
        if used is None or not used.found:
            used = await self.minimum_wage(self._input.county, last_day)
            self._wages[year.number] = used
        if not used.found:
            raise ApplicationError(
                f"{NO_MINIMUM_WAGE_FOR_DATE}: {used.words()}; reject with a reason, or approve once it is loaded",
                type=CONFLICT,
                non_retryable=True,
            )
        amount = year_amount(used.monthly, self._params)
        city, county = year_shares(amount, self._params)
        year.amount, year.city_share, year.county_share = amount, city, county
        year.minimum_wage, year.minimum_wage_standard, year.minimum_wage_on = used.monthly, used.standard, last_day
        values = {
            **request.values,
            "year": str(year.number),
            "amount": str(amount),
            "city_share": str(city),
            "county_share": str(county),
            "minimum_wage": str(used.monthly),
            "minimum_wage_tier": str(used.tier),
            "minimum_wage_standard": used.standard,
            "minimum_wage_document": used.document,
            "minimum_wage_on": last_day.isoformat(),
            "months": str(self._params.yearly_minimum_wage_months),
            "city_share_ratio": str(self._params.city_share),
        }
        return DecisionEffects("active", values=values, schedule=[self._payment(year)])

    async def decision_recorded(self, task: OpenTaskInput, request: DecideInput, effects: DecisionEffects) -> None:
        if task.step == REVIEW_STEP:
            self._reviewed_by = request.actor.username
            return
        year = self._years[task.round - 1]
        if request.decision == "approve":
            # Paid here, under the decision's lock: an `employment_ended` cannot come between approval and payment.
            await self.pay_once(self._payment(year))
            year.status = "paid"
            return
        # A rejected check ends the subsidy: the years not yet paid are cancelled.
        self._stopped = YEAR_CHECK_STEP
        for other in self._years:
            if other.status == "planned":
                other.status = "cancelled"
        self.open_tasks.clear()

    def _payment(self, year: SubsidyYear) -> ScheduleMonth:
        assert year.amount is not None and year.city_share is not None and year.county_share is not None
        return ScheduleMonth(
            period=year.period,
            start=year.start,
            end=year.end,
            amount=year.amount,
            city_share=year.city_share,
            county_share=year.county_share,
        )

    # ---- events ---------------------------------------------------------------------------------

    @workflow.update
    async def event(self, request: EventInput) -> EventResult:
        return await self.handle_event(request)

    @event.validator
    def _validate_event(self, request: EventInput) -> None:
        self.check_event(request)

    def _check_withdrawal(self, request: EventInput) -> None:
        self.require_submitter(request.actor, "only the employer who applied may withdraw")
        status = self._status
        self.require_open(status in ("submitted", "under_review"), f"a subsidy that is {status} cannot be withdrawn")

    async def _withdraw(self, request: EventInput) -> EventResult:
        return await self.stop(request, "withdrawn")

    def _check_confirmation(self, request: EventInput) -> None:
        self.require_submitter(request.actor, "only the employer who applied confirms the employment")
        self.require_date(request)
        status = self._status
        self.require_open(status == "active", f"employment_confirmed applies to an active subsidy, not one {status}")
        today = self.today()
        if self._awaiting is None:
            waiting = next((year for year in self._years if year.status == "planned"), None)
            if self._confirmed is not None:
                refusal = f"year {self._confirmed} is confirmed already: its check is with the County DPF"
            elif waiting is not None and today < waiting.end:
                refusal = (
                    f"year {waiting.number} ends on {span_of(waiting).last_day.isoformat()}: "
                    "confirm the employment after that"
                )
            else:
                refusal = "no year of the subsidy waits for a confirmation now"
            raise ApplicationError(refusal, type=CONFLICT)
        year = self._years[self._awaiting - 1]
        assert request.date is not None
        if request.date > today:
            raise ApplicationError("date: the date of the confirmation cannot be in the future", type=INVALID)
        if request.date < span_of(year).last_day:
            raise ApplicationError(
                f"date: the confirmation is for year {year.number}, which ends on "
                f"{span_of(year).last_day.isoformat()}: date it on or after that day",
                type=INVALID,
            )

    async def _confirm(self, request: EventInput) -> EventResult:
        assert self._awaiting is not None and request.date is not None
        year = self._years[self._awaiting - 1]
        await self.change_status(
            StatusChange(
                self.application_id,
                self._status,
                request.actor.username,
                EMPLOYMENT_CONFIRMED,
                detail={"year": year.number, "date": request.date.isoformat(), "note": request.note},
            )
        )
        year.confirmed_on, year.confirmation_note = request.date, request.note
        self._confirmed = year.number
        self._awaiting = None
        return EventResult(request.type, self._status)

    def _check_employment_ended(self, request: EventInput) -> None:
        self.require_submitter_or_official(request.actor, ("county_dpf",), self._input.county)
        self.require_date(request)
        status = self._status
        self.require_open(
            status == "active" and self._ended_on is None,
            f"employment_ended applies to an active subsidy, once; this one is {status}",
        )
        assert request.date is not None
        if request.date > self.today():
            raise ApplicationError("date: the end of the employment cannot be in the future", type=INVALID)
        if request.date < self._input.contract_start:
            raise ApplicationError("date: the employment cannot end before the contract started", type=INVALID)

    async def _employment_ended(self, request: EventInput) -> EventResult:
        assert request.date is not None
        ended_on = request.date
        for year in self._years:
            if year.status == "planned" and not confirmable(span_of(year), ended_on):
                year.status = "cancelled"
        detail = {"date": ended_on.isoformat(), "note": request.note, "years_cancelled": self._cancelled()}
        if any(year.status == "planned" for year in self._years):
            # A year that ended on or before that day may still be confirmed and checked: the subsidy stays active
            # until it is decided, then ends `terminated`.
            self._ended_on = ended_on
            await self.change_status(
                StatusChange(self.application_id, self._status, request.actor.username, EMPLOYMENT_ENDED, detail=detail)
            )
            return EventResult(request.type, self._status)
        self._ended_on = ended_on
        return await self.stop(request, "terminated", detail=detail)

    def _cancelled(self) -> list[int]:
        return [year.number for year in self._years if year.status == "cancelled"]

    async def _terminate(self, actor: str, kind: str, detail: dict[str, object]) -> None:
        await self.change_status(
            StatusChange(
                self.application_id, "terminated", actor, kind, detail={**detail, "years_cancelled": self._cancelled()}
            )
        )

    async def _release_if_unpaid(self, reason: str) -> None:
        """An application that ends with nothing paid gives the employment back (another claim may hold it)."""
        await workflow.wait_condition(workflow.all_handlers_finished)
        if self._status in TERMINAL and not any(year.status == "paid" for year in self._years):
            async with self._lock:
                await self.release_person_records(reason)

    # ---- query ----------------------------------------------------------------------------------

    @workflow.query
    def view(self) -> GraduateHiringView:
        return GraduateHiringView(
            status=self._status,
            open_task_id=next(iter(self.open_tasks), None),
            policy_version=self.policy_version(),
            years=list(self._years),
            awaiting_confirmation=self._awaiting,
            employment_ended_on=self._ended_on,
        )

    def schedule_view(self) -> list[ScheduleMonth]:
        return [self._payment(year) for year in self._years if year.status == "paid"]
