"""Over-quota employment reward (超比例安排残疾人就业奖励), 包府办发〔2023〕43号 (三) 2.

Its parameters are `version.over_quota`; its rules are in `rules.py`, its procedure in `workflow.py`.
"""

from __future__ import annotations

from subsidy.activities.minimum_wage import MinimumWageActivities
from subsidy.activities.procedure import ProcedureActivities
from subsidy.programs.model import APPROVE_OR_REJECT, N_, BoundParty, DocumentKind, Program, Step, attribute
from subsidy.programs.over_quota_reward.activities import OverQuotaActivities
from subsidy.programs.over_quota_reward.contracts import OVER_QUOTA_PROGRAM, OVER_QUOTA_WORKFLOW, REVIEW_STEP
from subsidy.programs.over_quota_reward.form import OverQuotaRewardForm
from subsidy.programs.over_quota_reward.start import admit_over_quota, over_quota_event, over_quota_input
from subsidy.programs.over_quota_reward.workflow import OverQuotaRewardWorkflow

PROGRAM = Program(
    code=OVER_QUOTA_PROGRAM,
    title=N_("Over-quota employment reward"),
    form=OverQuotaRewardForm,
    applicant_roles=("employer",),
    workflow=OVER_QUOTA_WORKFLOW,
    person=lambda form: None,  # many employees: the workflow's first activity records and counts them
    county=lambda form: form.county,
    workflow_input=over_quota_input,
    event_input=over_quota_event,
    admit=admit_over_quota,
    event_fields={"withdrawn": ()},
    terminal_statuses=("rejected", "completed", "withdrawn"),
    steps=(Step(REVIEW_STEP, "county_dpf", N_("County DPF review of the over-quota reward"), acts=APPROVE_OR_REJECT),),
    reasons={
        "year_not_ended": N_("The year claimed is not over yet: claim a past year"),
        "state_funded_unit_excluded": N_("Units funded by the state budget are not rewarded"),
        "concentrated_placement_excluded": N_("Concentrated-placement institutions are not rewarded"),
        "no_excess": N_("The employees with disabilities counted do not exceed the quota of the total staff"),
        "no_minimum_wage_for_date": N_("No monthly minimum wage standard is known for the county on that day"),
        "counted_by_another_employer": N_("Already counted for another employer's approved claim for this year"),
        "already_claimed_this_year": N_("The employer already has a pending or approved claim for this year"),
    },
    bound_party=BoundParty("employer", attribute("employer", "credit_code"), "not_bound_to_this_organisation"),
    documents=(
        DocumentKind("staff_register", N_("Staff register of the year"), N_("The total staff and the employees")),
        DocumentKind("disability_certificates", N_("Disability certificates of the employees")),
        DocumentKind("labour_contracts", N_("Labour contracts of the employees with disabilities")),
        DocumentKind("social_insurance_records", N_("Social insurance records of the year")),
    ),
    workflow_classes=(OverQuotaRewardWorkflow,),
    activities=(ProcedureActivities, MinimumWageActivities, OverQuotaActivities),
    policy_section="over_quota",
    pages="subsidy.programs.over_quota_reward.pages",
    own_page="/employer/over-quota/{id}",
    task_words="subsidy.programs.over_quota_reward.task_words",
)
