"""Start-up premises rent subsidy (自主创业场地租金补贴), program R of POLICY.md — 包府办发〔2023〕43号 (九) 2."""

from __future__ import annotations

from subsidy.activities.calendar import CalendarActivities
from subsidy.activities.procedure import ProcedureActivities
from subsidy.programs.model import (
    N_,
    BoundParty,
    DecisionValue,
    DocumentKind,
    NewEmployment,
    Program,
    Step,
    attribute,
)
from subsidy.programs.rent_subsidy.form import RentSubsidyForm
from subsidy.programs.rent_subsidy.start import rent_event, rent_input
from subsidy.programs.rent_subsidy.workflow import ESCALATION_STEP, REVIEW_STEP, RentSubsidyWorkflow
from subsidy.workflows.contracts import RENT_SUBSIDY_WORKFLOW

VERIFIED_MONTHLY_RENT = DecisionValue(
    "monthly_rent",
    N_("Verified monthly rent (yuan)"),
    "money",
    required_to_approve=True,
    hint=N_("The rent you checked in the lease contract. Needed to approve; the subsidy is at most 1000.00 a month."),
)

PROGRAM = Program(
    code="rent_subsidy",
    title=N_("Start-up premises rent subsidy"),
    form=RentSubsidyForm,
    applicant_roles=("applicant",),
    workflow=RENT_SUBSIDY_WORKFLOW,
    person=lambda form: (form.applicant.id_number, form.applicant.name),
    county=lambda form: form.applied_to_county,
    workflow_input=rent_input,
    event_input=rent_event,
    event_fields={"corrected": ("corrected",)},
    steps=(
        Step(REVIEW_STEP, "county_dpf", N_("County DPF review"), values=(VERIFIED_MONTHLY_RENT,)),
        Step(
            ESCALATION_STEP,
            "city_dpf",
            N_("City DPF escalation (overdue review)"),
            values=(VERIFIED_MONTHLY_RENT,),
            county_of_application=False,
        ),
    ),
    reasons={
        "operated_less_than_one_year": N_("The business has not operated for one full year since its licence date"),
        "more_than_three_years_since_start": N_("More than three years have passed since the business was started"),
        "blind_massage_excluded": N_("Blind massage shops are not covered by the rent subsidy"),
        "already_has_active_rent_subsidy": N_("You already receive (or have applied for) the rent subsidy"),
        "lease_outside_subsidy_period": N_(
            "The lease does not cover any month of the first three years of the business"
        ),
        "rent_months_exhausted": N_("All 36 months of the rent subsidy have already been used"),
        "county_change_not_allowed": N_(
            "A correction cannot move the application to another county: withdraw it and apply to the County DPF "
            "of your new household registration"
        ),
    },
    # A start-up whose rent subsidy is approved (POLICY.md: the annual report's new employment).
    new_employment=NewEmployment((REVIEW_STEP, ESCALATION_STEP), ("approved", "active", "completed", "terminated")),
    bound_party=BoundParty(
        "person",
        attribute("applicant", "id_number"),
        "not_bound_to_this_person",
        window_county=lambda form: str(form.applicant.hukou_county),
    ),
    documents=(
        DocumentKind("lease_contract", N_("Lease contract of the premises"), N_("Every page, signed by both parties")),
        DocumentKind("business_licence", N_("Business licence")),
        DocumentKind("disability_certificate", N_("Disability certificate")),
        DocumentKind("rent_receipts", N_("Rent payment receipts")),
    ),
    workflow_classes=(RentSubsidyWorkflow,),
    # The rent form itself is still in subsidy/api/pages/applicant_pages.py, the first program's pages.
    pages="subsidy.programs.rent_subsidy.pages",
    activities=(ProcedureActivities, CalendarActivities),
    policy_section="rent",
)
