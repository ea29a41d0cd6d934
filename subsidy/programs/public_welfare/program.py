"""Public-welfare posts (公益性岗位), program P of POLICY.md — 包府办发〔2023〕43号 (一) 2: four procedures of one
program, on the same posts, rules, tables and activities.

- `public_welfare_post`: an employer declares the year's posts; County HR approves them (some may be rejected);
- `public_welfare_post_collection`: the County DPF's yearly collection of the declarations, which they open;
- `public_welfare_placement`: an employer proposes a person for an approved post; County HR, publicity, the months;
- `flexible_employment_insurance_subsidy`: only so that the service refuses holding both (the exclusivity rule).
"""

from __future__ import annotations

from subsidy.activities.calendar import CalendarActivities
from subsidy.activities.procedure import ProcedureActivities
from subsidy.programs.model import (
    APPROVE_OR_REJECT,
    N_,
    BoundParty,
    DecisionValue,
    DocumentKind,
    NewEmployment,
    Program,
    Step,
    attribute,
)
from subsidy.programs.public_welfare import models as placement_models
from subsidy.programs.public_welfare import start
from subsidy.programs.public_welfare.activities import PlacementActivities
from subsidy.programs.public_welfare.contracts import (
    FLEXIBLE_INSURANCE_WORKFLOW,
    POST_COLLECTION_WORKFLOW,
    PUBLIC_WELFARE_PLACEMENT_WORKFLOW,
    PUBLIC_WELFARE_POST_WORKFLOW,
)
from subsidy.programs.public_welfare.flexible_insurance_workflow import FlexibleEmploymentInsuranceWorkflow
from subsidy.programs.public_welfare.form import (
    FlexibleInsuranceForm,
    PostCollectionForm,
    PublicWelfarePlacementForm,
    PublicWelfarePostForm,
)
from subsidy.programs.public_welfare.placement_workflow import (
    FILING_STEP,
    HR_STEP,
    OVERRIDE_STEPS,
    PublicWelfarePlacementWorkflow,
)
from subsidy.programs.public_welfare.post_workflow import (
    COLLECTION_STEP,
    PostCollectionWorkflow,
    PublicWelfarePostWorkflow,
)

HR_APPROVAL = N_("County HR approval")
RUNS_ON = dict(
    workflow_classes=(
        PublicWelfarePostWorkflow,
        PostCollectionWorkflow,
        PublicWelfarePlacementWorkflow,
        FlexibleEmploymentInsuranceWorkflow,
    ),
    activities=(ProcedureActivities, PlacementActivities, CalendarActivities),
    models=(placement_models,),
    policy_section="placement",
)
EXCLUSIVITY = N_(
    "A person on a public-welfare post subsidy cannot also receive the flexible-employment insurance subsidy"
)
EMPLOYER = BoundParty("employer", attribute("employer", "credit_code"), "not_bound_to_this_organisation")

POST = Program(
    code="public_welfare_post",
    title=N_("Public-welfare post declaration"),
    form=PublicWelfarePostForm,
    applicant_roles=("employer",),
    workflow=PUBLIC_WELFARE_POST_WORKFLOW,
    person=lambda form: None,  # an employer's posts: no person's entitlement
    county=lambda form: form.county,
    workflow_input=start.post_input,
    event_input=start.post_event,
    terminal_statuses=("approved", "rejected", "withdrawn"),  # an approved declaration's posts live on as places
    steps=(
        Step(
            HR_STEP,
            "county_hr",
            HR_APPROVAL,
            values=(DecisionValue("rejected_posts", N_("Posts rejected (numbers, e.g. 2,3)"), "post_numbers"),),
            acts=APPROVE_OR_REJECT,
        ),
    ),
    reasons={
        "already_declared_this_year": N_("The employer has already declared posts for this year"),
        "declaration_year_not_open": N_("Declarations for this year are not open"),
    },
    documents=(DocumentKind("post_descriptions", N_("Description of the posts")),),
    bound_party=EMPLOYER,
    pages="subsidy.programs.public_welfare.pages",
    own_page="/employer/declarations/{id}",
    **RUNS_ON,
)

# The County DPF's yearly collection: a row and a workflow that declarations open; nobody submits it.
POST_COLLECTION = Program(
    code="public_welfare_post_collection",
    title=N_("Yearly collection of public-welfare post declarations"),
    form=PostCollectionForm,
    applicant_roles=(),
    workflow=POST_COLLECTION_WORKFLOW,
    person=lambda form: None,
    county=lambda form: form.county,
    workflow_input=start.collection_input,
    event_input=start.collection_event,
    terminal_statuses=("completed",),
    steps=(
        Step(
            COLLECTION_STEP,
            "county_dpf",
            N_("County DPF collection of post declarations"),
            acts=(("approve", N_("Report to the County HR bureau")), ("reject", N_("Refuse"))),
        ),
    ),
    **RUNS_ON,
)

PLACEMENT = Program(
    code="public_welfare_placement",
    title=N_("Public-welfare post placement"),
    form=PublicWelfarePlacementForm,
    applicant_roles=("employer",),
    workflow=PUBLIC_WELFARE_PLACEMENT_WORKFLOW,
    person=lambda form: (form.person.id_number, form.person.name),
    county=lambda form: "",  # the post's county, which `admit` finds
    workflow_input=start.placement_input,
    event_input=start.placement_event,
    admit=start.admit_placement,
    steps=(
        Step(
            OVERRIDE_STEPS[0],
            "city_dpf",
            N_("City DPF special approval (first official)"),
            county_of_application=False,
            acts=APPROVE_OR_REJECT,
            reason_to_approve=True,
        ),
        Step(
            OVERRIDE_STEPS[1],
            "city_dpf",
            N_("City DPF special approval (second official)"),
            county_of_application=False,
            acts=APPROVE_OR_REJECT,
            reason_to_approve=True,
        ),
        Step(
            HR_STEP,
            "county_hr",
            HR_APPROVAL,
            values=(DecisionValue("approved_on", N_("Approved on (the date on paper)"), "date"),),
            acts=APPROVE_OR_REJECT,
        ),
        Step(
            FILING_STEP,
            "region_hr",
            N_("Region HR filing of a re-placement"),
            county_of_application=False,
            acts=(("approve", N_("Record the filing")),),
        ),
    ),
    reasons={
        "placement_cap_reached": N_("In principle a person is placed on public-welfare posts at most twice"),
        "not_yet_expired": N_("The earlier public-welfare post subsidy has not ended yet"),
        "exclusive_with_flexible_employment_insurance": EXCLUSIVITY,
        "exclusive_with_graduate_hiring_subsidy": N_(
            "A person subsidised as a graduate hire cannot also receive a public-welfare post subsidy"
        ),
        "post_not_approved": N_("The post has not been approved"),
        "post_has_no_free_place": N_("The post has no free place"),
        "re_placement_needs_hardship": N_("A re-placement is for severely disabled or special-hardship persons"),
        "reached_retirement_age": N_("The person has reached the statutory retirement age"),
        "no_subsidy_amount_for_county": N_("No subsidy amount is set for this county"),
        "publicity_calendar_unknown": N_("The official working-day calendar for the publicity period is not yet known"),
    },
    documents=(
        DocumentKind("labour_contract", N_("Labour contract")),
        DocumentKind("disability_certificate", N_("Disability certificate")),
    ),
    # A placement that took up its post after County HR approved it.
    new_employment=NewEmployment((HR_STEP,), ("active", "completed", "terminated")),
    # The employer is the one who declared the post (`admit_placement`): the form names no organisation.
    bound_party=BoundParty("employer", None, "not_bound_to_this_organisation"),
    pages="subsidy.programs.public_welfare.pages",
    own_page="/employer/placements/{id}",
    **RUNS_ON,
)

FLEXIBLE_EMPLOYMENT_INSURANCE = Program(
    code="flexible_employment_insurance_subsidy",
    title=N_("Flexible-employment social insurance subsidy"),
    form=FlexibleInsuranceForm,
    applicant_roles=("applicant",),
    workflow=FLEXIBLE_INSURANCE_WORKFLOW,
    person=lambda form: (form.person.id_number, form.person.name),
    county=lambda form: form.applied_to_county,
    workflow_input=start.flexible_input,
    event_input=start.flexible_event,
    admit=start.admit_flexible,
    own_page="/my/flexible-insurance/{id}",
    pages="subsidy.programs.public_welfare.flexible_pages",
    terminal_statuses=("rejected", "terminated", "withdrawn"),  # the subsidy runs until the employment ends
    steps=(Step(HR_STEP, "county_hr", HR_APPROVAL, acts=APPROVE_OR_REJECT),),
    documents=(
        DocumentKind("insurance_payment_proof", N_("Proof of the social insurance paid")),
        DocumentKind("disability_certificate", N_("Disability certificate")),
    ),
    reasons={
        "exclusive_with_public_welfare_post": EXCLUSIVITY,
        "already_has_flexible_employment_insurance": N_(
            "The person already receives the flexible-employment insurance subsidy"
        ),
    },
    bound_party=BoundParty(
        "person",
        attribute("person", "id_number"),
        "not_bound_to_this_person",
        window_county=lambda form: str(form.applied_to_county),
    ),
    **RUNS_ON,
)
