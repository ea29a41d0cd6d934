"""Dispatch referral reward (推荐残疾人就业补贴) — 包府办发〔2023〕43号 (三) 2.

500.00 to the labour dispatch agency that referred a person with a disability into an employment that lasted a
year, once per person and employment.
"""

from __future__ import annotations

from subsidy.activities.person_records import PersonRecordActivities
from subsidy.activities.procedure import ProcedureActivities
from subsidy.programs.dispatch_referral_reward import start
from subsidy.programs.dispatch_referral_reward.activities import DispatchReferralActivities
from subsidy.programs.dispatch_referral_reward.contracts import (
    DISPATCH_REFERRAL_WORKFLOW,
    EMPLOYMENT_CHECK_STEP,
)
from subsidy.programs.dispatch_referral_reward.contracts import (
    PROGRAM as CODE,
)
from subsidy.programs.dispatch_referral_reward.form import DispatchReferralForm
from subsidy.programs.dispatch_referral_reward.rules import (
    CONTRACT_NOT_STARTED,
    CONTRACT_SHORTER_THAN_ONE_YEAR,
    EMPLOYMENT_SHORTER_THAN_ONE_YEAR,
    REFERRAL_ALREADY_CLAIMED,
)
from subsidy.programs.dispatch_referral_reward.workflow import DispatchReferralWorkflow
from subsidy.programs.model import N_, BoundParty, DocumentKind, NewEmployment, Program, Step, attribute

PROGRAM = Program(
    code=CODE,
    title=N_("Dispatch referral reward"),
    form=DispatchReferralForm,
    applicant_roles=("agency",),
    workflow=DISPATCH_REFERRAL_WORKFLOW,
    person=lambda form: (form.person.id_number, form.person.name),
    county=lambda form: form.county,
    workflow_input=start.referral_input,
    event_input=start.referral_event,
    admit=start.admit_referral,
    event_fields={"employment_ended": (), "withdrawn": ()},
    steps=(
        Step(
            EMPLOYMENT_CHECK_STEP,
            "county_dpf",
            N_("County DPF check of the year of employment"),
            acts=(("approve", N_("Approve the reward")), ("reject", N_("Reject"))),
        ),
    ),
    reasons={
        REFERRAL_ALREADY_CLAIMED: N_("The reward for this person's employment has already been claimed"),
        EMPLOYMENT_SHORTER_THAN_ONE_YEAR: N_("The employment ended before it had lasted one year"),
        CONTRACT_SHORTER_THAN_ONE_YEAR: N_("The labour contract lasts less than one year"),
        CONTRACT_NOT_STARTED: N_("The labour contract has not started yet"),
    },
    bound_party=BoundParty("agency", attribute("agency", "credit_code"), "not_bound_to_this_organisation"),
    # A referral that reached one year of employment, checked and paid (the annual report's new employment).
    new_employment=NewEmployment((EMPLOYMENT_CHECK_STEP,), ("completed",)),
    documents=(
        DocumentKind("labour_contract", N_("Labour contract")),
        DocumentKind("dispatch_agreement", N_("Referral or dispatch agreement with the employer")),
        DocumentKind("disability_certificate", N_("Disability certificate")),
        DocumentKind("social_insurance_record", N_("Social insurance record"), N_("Showing the year of employment")),
    ),
    workflow_classes=(DispatchReferralWorkflow,),
    activities=(ProcedureActivities, PersonRecordActivities, DispatchReferralActivities),
    policy_section="dispatch_referral",
    task_words="subsidy.programs.dispatch_referral_reward.task_words",
    pages="subsidy.programs.dispatch_referral_reward.pages",
    own_page="/agency/referrals/{id}",
)
