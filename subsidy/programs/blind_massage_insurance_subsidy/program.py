"""Social insurance subsidy for blind massage practitioners (盲人按摩从业人员社会保险补贴)

包府办发〔2023〕43号 (八) 2.

Half of the social insurance a practitioner with a visual disability paid for the previous year, paid by the city,
for at most 15 years per person (the years in the federation's paper register count too).
"""

from __future__ import annotations

from subsidy.activities.person_records import PersonRecordActivities
from subsidy.activities.procedure import ProcedureActivities
from subsidy.programs.blind_massage_insurance_subsidy import start
from subsidy.programs.blind_massage_insurance_subsidy.activities import BlindMassageActivities
from subsidy.programs.blind_massage_insurance_subsidy.contracts import (
    BLIND_MASSAGE_WORKFLOW,
    REVIEW_STEP,
    VERIFIED_VALUE,
)
from subsidy.programs.blind_massage_insurance_subsidy.contracts import PROGRAM as CODE
from subsidy.programs.blind_massage_insurance_subsidy.form import BlindMassageForm
from subsidy.programs.blind_massage_insurance_subsidy.rules import (
    ALREADY_CLAIMED_THIS_YEAR,
    NOT_THE_PREVIOUS_YEAR,
    NOT_VISUAL_DISABILITY,
    SUBSIDY_YEARS_EXHAUSTED,
    VERIFIED_ABOVE_DECLARED,
)
from subsidy.programs.blind_massage_insurance_subsidy.workflow import BlindMassageInsuranceWorkflow
from subsidy.programs.model import N_, BoundParty, DecisionValue, DocumentKind, Program, Step, attribute

PROGRAM = Program(
    code=CODE,
    title=N_("Social insurance subsidy for blind massage practitioners"),
    form=BlindMassageForm,
    applicant_roles=("applicant",),
    workflow=BLIND_MASSAGE_WORKFLOW,
    person=lambda form: (form.applicant.id_number, form.applicant.name),
    county=lambda form: form.applied_to_county,
    workflow_input=start.massage_input,
    event_input=start.massage_event,
    admit=start.admit_massage,
    event_fields={"withdrawn": ()},
    steps=(
        Step(
            REVIEW_STEP,
            "county_dpf",
            N_("County DPF review of the insurance paid"),
            values=(
                DecisionValue(
                    VERIFIED_VALUE,
                    N_("Social insurance actually paid, as verified (yuan)"),
                    "money",
                    required_to_approve=True,
                    hint=N_("Not more than the declared amount"),
                ),
            ),
            acts=(("approve", N_("Approve the subsidy")), ("reject", N_("Reject"))),
        ),
    ),
    reasons={
        NOT_VISUAL_DISABILITY: N_("The subsidy is for practitioners with a visual disability certificate"),
        NOT_THE_PREVIOUS_YEAR: N_("The subsidy is claimed for the previous calendar year"),
        ALREADY_CLAIMED_THIS_YEAR: N_("The subsidy for this year has already been claimed"),
        SUBSIDY_YEARS_EXHAUSTED: N_("The subsidy has already been paid for the most years a person may receive it"),
        VERIFIED_ABOVE_DECLARED: N_("The verified amount may not be more than the declared amount"),
    },
    bound_party=BoundParty(
        "person",
        attribute("applicant", "id_number"),
        "not_bound_to_this_person",
        window_county=lambda form: str(form.applicant.hukou_county),
    ),
    documents=(
        DocumentKind("insurance_payment_proof", N_("Proof of the social insurance paid"), N_("For the whole year")),
        DocumentKind("disability_certificate", N_("Disability certificate")),
        DocumentKind("workplace_certificate", N_("Certificate of the massage workplace")),
    ),
    workflow_classes=(BlindMassageInsuranceWorkflow,),
    activities=(ProcedureActivities, PersonRecordActivities, BlindMassageActivities),
    policy_section="blind_massage",
    task_words="subsidy.programs.blind_massage_insurance_subsidy.task_words",
    pages="subsidy.programs.blind_massage_insurance_subsidy.pages",
    own_page="/my/blind-massage-insurance/{id}",
)
