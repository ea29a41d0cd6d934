"""The county annual report (包府办发〔2023〕43号 三 (六)): each county reports its implementation to the city every
year; the service opens the report on a Schedule and freezes what the county submits."""

from __future__ import annotations

from subsidy.activities.procedure import ProcedureActivities
from subsidy.programs.county_annual_report import models, start
from subsidy.programs.county_annual_report.activities import CountyReportActivities
from subsidy.programs.county_annual_report.contracts import COUNTY_REPORT_WORKFLOW, ESCALATION_STEP, SUBMIT_STEP
from subsidy.programs.county_annual_report.form import CountyReportForm
from subsidy.programs.county_annual_report.workflow import AnnualReportRoundWorkflow, CountyAnnualReportWorkflow
from subsidy.programs.model import N_, Program, Step

PROGRAM = Program(
    code="county_annual_report",
    title=N_("County annual implementation report"),
    form=CountyReportForm,
    applicant_roles=(),  # opened by the yearly round
    workflow=COUNTY_REPORT_WORKFLOW,
    person=lambda form: None,
    county=lambda form: form.county,
    workflow_input=start.report_input,
    event_input=start.report_event,
    terminal_statuses=("completed",),
    steps=(
        Step(
            SUBMIT_STEP,
            "county_dpf",
            N_("Submit the annual report"),
            acts=(("approve", N_("Submit the report")),),
            reason_to_approve=True,
            reason_label=N_("Narrative of the year's implementation"),
            reason_hint=N_(
                "What the county did for each action of the plan, what worked, what is behind and why. It is frozen "
                "with the figures and read by the City DPF."
            ),
        ),
        Step(
            ESCALATION_STEP,
            "city_dpf",
            N_("Overdue county annual report"),
            county_of_application=False,
            acts=(("approve", N_("Record that the county was reminded")),),
            reason_label=N_("Note on the reminder"),
        ),
    ),
    workflow_classes=(CountyAnnualReportWorkflow, AnnualReportRoundWorkflow),
    activities=(ProcedureActivities, CountyReportActivities),
    models=(models,),
    task_words="subsidy.programs.county_annual_report.task_words",
)
