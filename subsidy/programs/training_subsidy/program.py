"""Vocational skills training subsidy (职业技能培训补贴), program T of POLICY.md.

包府办发〔2023〕43号 (十) 2, (六) 3.
"""

from __future__ import annotations

from subsidy.activities.procedure import ProcedureActivities
from subsidy.programs.model import APPROVE_OR_REJECT, N_, BoundParty, DocumentKind, Program, Step, attribute
from subsidy.programs.training_subsidy import models as training_models
from subsidy.programs.training_subsidy.activities import TrainingActivities
from subsidy.programs.training_subsidy.contracts import (
    COMPLETION_REVIEW_STEP,
    PLAN_REVIEW_STEP,
    TRAINING_SUBSIDY_WORKFLOW,
)
from subsidy.programs.training_subsidy.form import TrainingSubsidyForm
from subsidy.programs.training_subsidy.start import training_event, training_input
from subsidy.programs.training_subsidy.workflow import TrainingSubsidyWorkflow

PROGRAM = Program(
    code="training_subsidy",
    title=N_("Vocational skills training subsidy"),
    form=TrainingSubsidyForm,
    applicant_roles=("provider",),
    workflow=TRAINING_SUBSIDY_WORKFLOW,
    person=lambda form: None,  # a class has many trainees: the workflow's first activity records them
    county=lambda form: form.county,
    workflow_input=training_input,
    event_input=training_event,
    event_fields={"completion_report": ("attendance", "actual_cost")},
    steps=(
        Step(PLAN_REVIEW_STEP, "county_dpf", N_("County DPF review of the class plan"), acts=APPROVE_OR_REJECT),
        Step(
            COMPLETION_REVIEW_STEP,
            "county_dpf",
            N_("County DPF review of the completion report"),
            acts=(("approve", N_("Approve the reimbursement")), ("reject", N_("Reject"))),
        ),
    ),
    reasons={
        "too_short": N_("Training must last at least 5 days (40 class hours)"),
        "annual_training_limit": N_("At most 3 subsidised trainings per person per year"),
        "same_course_level_within_a_year": N_(
            "The same course at the same level cannot be subsidised twice within a year"
        ),
    },
    bound_party=BoundParty(
        "provider", attribute("provider", "credit_code"), "not_bound_to_this_organisation", unnamed_is_own=True
    ),
    documents=(
        DocumentKind("class_plan", N_("Class plan and timetable")),
        DocumentKind(
            "attendance_sheets", N_("Attendance sheets"), N_("Signed by each trainee, for every day of class")
        ),
        DocumentKind("cost_invoices", N_("Invoices of the training cost")),
    ),
    workflow_classes=(TrainingSubsidyWorkflow,),
    activities=(ProcedureActivities, TrainingActivities),
    models=(training_models,),
    policy_section="training",
    pages="subsidy.programs.training_subsidy.pages",
    own_page="/training/classes/{id}",
)
