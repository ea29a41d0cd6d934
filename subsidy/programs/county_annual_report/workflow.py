"""The yearly county implementation report as a procedure (包府办发〔2023〕43号 三 (六): each county reports to the
city by the end of November).

`AnnualReportRoundWorkflow`, started by the Temporal Schedule `county-annual-reports` on the opening day (default
1 November, China time): opens one report per county for the year of its scheduled time (activity
`open_county_reports`, idempotent: a county's report is opened once however often the round runs).

`CountyAnnualReportWorkflow`, one per county and year (id `county-report-<county>-<year>`): a County DPF task
"submit the annual report", due at the end of the plan's day (Baotou: 30 November). The official reads the live
figures of the county, writes the narrative the plan asks for (the decision's reason) and submits: the figures and
the narrative are frozen as of that moment (activity `freeze_county_report`, with the audit log) → `completed`.
Past the due day the task is marked overdue and a City DPF task opens beside it (the city's reminder, which it may
record; it closes when the county submits). Updates: `decide`. Query: `view`.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeKey

with workflow.unsafe.imports_passed_through():
    from subsidy.programs.county_annual_report.contracts import (
        COUNTY_REPORT_WORKFLOW,
        ESCALATION_STEP,
        FREEZE_COUNTY_REPORT,
        OPEN_COUNTY_REPORTS,
        REPORT_ROUND_WORKFLOW,
        SUBMIT_STEP,
        CountyReportInput,
        FreezeReport,
        FrozenReport,
        OpenedReports,
        OpenReports,
        ReportRoundInput,
    )
    from subsidy.workflows.common import CHINA
    from subsidy.workflows.contracts import DecideInput, OpenTaskInput, StatusChange
    from subsidy.workflows.procedure import DecisionEffects, Procedure, StepRule

SCHEDULED_START = SearchAttributeKey.for_datetime("TemporalScheduledStartTime")


@workflow.defn(name=REPORT_ROUND_WORKFLOW)
class AnnualReportRoundWorkflow:
    @workflow.run
    async def run(self, input: ReportRoundInput) -> OpenedReports:
        # A backfill runs now for a time in the past: the year is the scheduled time's, not today's.
        scheduled = workflow.info().typed_search_attributes.get(SCHEDULED_START)
        year = input.year or (scheduled or workflow.now()).astimezone(CHINA).year
        opened: OpenedReports = await workflow.execute_activity(
            OPEN_COUNTY_REPORTS,
            OpenReports(year=year, counties=input.counties, task_queue=workflow.info().task_queue),
            result_type=OpenedReports,
            start_to_close_timeout=timedelta(minutes=2),
            retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=1)),
        )
        return opened


@workflow.defn(name=COUNTY_REPORT_WORKFLOW)
class CountyAnnualReportWorkflow(Procedure):
    DB_PATCH = None
    STEPS = {
        SUBMIT_STEP: StepRule(
            decisions=("approve",),
            refusal="decision: the report is submitted (approve) with its narrative",
            reason_to_approve=True,
            reason_refusal="reason: write the narrative of the year's implementation",
        ),
        # The city's reminder of an overdue report: recorded, it leaves the county's task open.
        ESCALATION_STEP: StepRule(
            decisions=("approve",),
            refusal="decision: record the reminder (approve)",
            separation_of_duties=False,
            settles_the_run=False,
        ),
    }
    EVENT_SUBJECT = "the county annual report"

    @workflow.init
    def __init__(self, input: CountyReportInput) -> None:
        self._begin(input)
        self._input: CountyReportInput = input
        self._status = "under_review"
        self._frozen: FrozenReport | None = None

    @property
    def status(self) -> str:
        return self._status

    @status.setter
    def status(self, value: str) -> None:
        self._status = value

    @workflow.run
    async def run(self, input: CountyReportInput) -> str:
        due_on = (input.due_at - timedelta(seconds=1)).astimezone(CHINA).date().isoformat()
        summary = f"annual implementation report {input.year} of county {input.county}, due {due_on}"
        task = self.task(SUBMIT_STEP, "county_dpf", input.county, summary, due_at=input.due_at)

        def escalation() -> OpenTaskInput:
            return self.task(
                ESCALATION_STEP,
                "city_dpf",
                None,
                f"overdue: the annual report {input.year} of county {input.county} was due {due_on}",
            )

        await self.human_step(task, escalation=escalation)
        async with self._lock:
            if self.open_tasks:  # the city's reminder task, still open: the report it chased is in
                await self.change_status(
                    StatusChange(
                        input.application_id, "completed", "system", "report_submitted", cancel_open_tasks=True
                    )
                )
                self.open_tasks.clear()
        return await self.finish()

    async def decision_effects(self, task: OpenTaskInput, request: DecideInput) -> DecisionEffects:
        if task.step == ESCALATION_STEP:
            return DecisionEffects(self._status, values={"reminded": "yes"})
        frozen: FrozenReport = await self.step(
            FREEZE_COUNTY_REPORT,
            FreezeReport(
                application_id=self._input.application_id,
                county=self._input.county,
                year=self._input.year,
                narrative=(request.reason or "").strip(),
                submitted_by=request.actor.username,
            ),
            result_type=FrozenReport,
        )
        self._frozen = frozen
        return DecisionEffects(
            "completed",
            values={
                "figures_sha256": frozen.figures_sha256,
                "persons_served": str(frozen.persons_served),
                "new_employment": str(frozen.new_employment),
                "money_paid": frozen.money_paid,
            },
        )

    async def decision_recorded(self, task: OpenTaskInput, request: DecideInput, effects: DecisionEffects) -> None:
        if task.step == ESCALATION_STEP:
            self.open_tasks.pop(request.task_id, None)  # recorded: it cannot be decided twice
