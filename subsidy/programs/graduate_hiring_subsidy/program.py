"""Graduate hiring subsidy (安置残疾人应届高校毕业生补贴) — 包府办发〔2023〕43号 (三) 2; POLICY.md "Programs that go
beyond the mission card".

An employer that hires a fresh graduate with a disability, with a labour contract of at least a year and social
insurance, is paid 5 × the county's monthly minimum wage a year for at most 3 years, each year after a County DPF
check that the contract and the insurance still hold.
"""

from __future__ import annotations

from subsidy.activities.minimum_wage import MinimumWageActivities
from subsidy.activities.person_records import PersonRecordActivities
from subsidy.activities.procedure import ProcedureActivities
from subsidy.programs.graduate_hiring_subsidy.activities import GraduateHiringActivities
from subsidy.programs.graduate_hiring_subsidy.contracts import (
    GRADUATE_HIRING_PROGRAM,
    GRADUATE_HIRING_WORKFLOW,
    REVIEW_STEP,
    YEAR_CHECK_STEP,
)
from subsidy.programs.graduate_hiring_subsidy.form import GraduateHiringForm
from subsidy.programs.graduate_hiring_subsidy.start import admit_graduate, graduate_event, graduate_input
from subsidy.programs.graduate_hiring_subsidy.workflow import GraduateHiringSubsidyWorkflow
from subsidy.programs.model import N_, BoundParty, DocumentKind, NewEmployment, Program, Step, attribute

PROGRAM = Program(
    code=GRADUATE_HIRING_PROGRAM,
    title=N_("Graduate hiring subsidy"),
    form=GraduateHiringForm,
    applicant_roles=("employer",),
    workflow=GRADUATE_HIRING_WORKFLOW,
    person=lambda form: (form.person.id_number, form.person.name),
    county=lambda form: form.county,
    workflow_input=graduate_input,
    event_input=graduate_event,
    admit=admit_graduate,
    event_fields={},
    steps=(
        Step(
            REVIEW_STEP,
            "county_dpf",
            N_("County DPF review of the graduate hire"),
            acts=(("approve", N_("Approve the subsidy")), ("reject", N_("Reject"))),
        ),
        Step(
            YEAR_CHECK_STEP,
            "county_dpf",
            N_("County DPF check of a year of employment"),
            acts=(("approve", N_("Approve and pay the year")), ("reject", N_("Reject and end the subsidy"))),
        ),
    ),
    reasons={
        "not_a_fresh_graduate": N_(
            "The contract must start after graduation and within the years after it that count as a fresh graduate"
        ),
        "contract_shorter_than_one_year": N_("The labour contract must last at least one year"),
        "no_social_insurance": N_("The person must be insured from the start of the contract"),
        "exclusive_with_public_welfare_post": N_(
            "A person on a public-welfare post subsidy cannot also be subsidised as a graduate hire"
        ),
        "already_has_graduate_hiring_subsidy": N_("The person already has a graduate hiring subsidy"),
        "no_minimum_wage_for_date": N_("No monthly minimum wage standard is known for the county on that day"),
    },
    bound_party=BoundParty("employer", attribute("employer", "credit_code"), "not_bound_to_this_organisation"),
    # A graduate hire approved by the County DPF (the annual report's new employment).
    new_employment=NewEmployment((REVIEW_STEP,), ("active", "completed", "terminated")),
    documents=(
        DocumentKind("graduation_certificate", N_("Graduation certificate (diploma)")),
        DocumentKind("labour_contract", N_("Labour contract")),
        DocumentKind("social_insurance_record", N_("Social insurance payment record")),
        DocumentKind("disability_certificate", N_("Disability certificate")),
    ),
    workflow_classes=(GraduateHiringSubsidyWorkflow,),
    activities=(ProcedureActivities, GraduateHiringActivities, MinimumWageActivities, PersonRecordActivities),
    policy_section="graduate_hiring",
    pages="subsidy.programs.graduate_hiring_subsidy.pages",
    own_page="/employer/graduate-hires/{id}",
    task_words="subsidy.programs.graduate_hiring_subsidy.task_words",
)
