"""The words the pages use for codes (GLOSSARY.md): marked for the catalogue, translated when shown."""

from __future__ import annotations

from collections.abc import Callable

from subsidy.programs.registry import DECLARED


def N_(message: str) -> str:
    """Mark a message for extraction; it is translated where it is shown."""
    return message


STATUS = {
    "submitted": N_("Submitted"),
    "under_review": N_("Under review"),
    "returned": N_("Returned for correction"),
    "rejected": N_("Rejected"),
    "publicity": N_("In publicity"),
    "approved": N_("Approved"),
    "active": N_("Active (paid monthly)"),
    "completed": N_("Completed"),
    "terminated": N_("Terminated"),
    "withdrawn": N_("Withdrawn"),
}

NEXT_STEP = {
    "submitted": N_("We are checking your application against the rules."),
    "under_review": N_("The County Disabled Persons' Federation is reviewing your application."),
    "returned": N_("Your application was returned: correct it and submit it again."),
    "rejected": N_("Nothing more to do. You may apply again if your situation changes."),
    "publicity": N_("The placement is being made public; objections may be raised."),
    "approved": N_("Approved: payments will be scheduled."),
    "active": N_("The subsidy is paid at the end of each month of the schedule."),
    "completed": N_("All months have been paid."),
    "terminated": N_("The subsidy was stopped; months not yet paid are cancelled."),
    "withdrawn": N_("You withdrew this application."),
}

# Each program's name, steps and reason codes are in its declaration (subsidy/programs/<code>/__init__.py).
PROGRAM = {program.code: program.title for program in DECLARED}

TASK_STATUS = {
    "open": N_("Open"),
    "claimed": N_("Claimed"),
    "done": N_("Done"),
    "cancelled": N_("Cancelled"),
}

# The finance officers' tasks (subsidy/payments/tasks.py PAYMENT_STEPS) are no program's steps.
PAYMENT_STEP = {
    "payment_failed": N_("Payment failed: correct or cancel"),
    "reconciliation_difference": N_("Reconciliation difference"),
}
STEP = {**{step.code: step.title for program in DECLARED for step in program.steps}, **PAYMENT_STEP}

DECISION = {"approve": N_("Approve"), "reject": N_("Reject"), "return": N_("Return for correction")}

# A month's (or a payment's) status: `paid` only once the bank has confirmed it (subsidy/payments/).
SCHEDULE_STATUS = {
    "planned": N_("Planned"),
    "due": N_("Due, not yet sent to the bank"),
    "batched": N_("In a payment batch"),
    "sent": N_("Sent to the bank"),
    "paid": N_("Paid (confirmed by the bank)"),
    "failed": N_("Payment failed"),
    "corrected": N_("Account corrected, to be paid again"),
    "cancelled": N_("Cancelled"),
}

ROLE = {
    "applicant": N_("Applicant"),
    "county_dpf": N_("County Disabled Persons' Federation"),
    "county_hr": N_("County HR and Social Security Bureau"),
    "city_dpf": N_("City Disabled Persons' Federation"),
    "region_hr": N_("Region HR and Social Security Department"),
    "auditor": N_("Auditor"),
    "finance": N_("Finance officer"),
}

# Reason codes the rules of several programs give; each program's own are in its declaration.
SHARED_REASON = {
    "wrong_county": N_("Apply to the County DPF of your household registration"),
    "outside_policy_window": N_("The application date is outside the period of the policy"),
}
# A program's words for its reason codes: two programs may give one code their own words (a claim of the year
# already made is the employer's in one program, the practitioner's in another).
REASON_OF: dict[str, dict[str, str]] = {program.code: {**SHARED_REASON, **program.reasons} for program in DECLARED}
# Every code with some program's words, for pages that show reasons of any program (the first declaration's).
REASON = {**{code: words for program in reversed(DECLARED) for code, words in program.reasons.items()}, **SHARED_REASON}


def reasons_of(program: str) -> dict[str, str]:
    return REASON_OF.get(program, REASON)


# Messages for form errors, by the error code the validators give (pydantic error type).
FIELD_ERROR = {
    "missing": N_("Enter this information"),
    "string_too_short": N_("Enter this information"),
    "id_length": N_("The ID number must have 18 characters"),
    "id_format": N_("The ID number has 17 digits followed by a digit or X"),
    "id_birth_date": N_("The date of birth in the ID number is not a real date"),
    "id_checksum": N_("The ID number is not valid: check each character (the last one is a check character)"),
    "cert_length": N_("The certificate number must have 20 characters"),
    "cert_format": N_("The certificate number is the 18-character ID number followed by two digits"),
    "cert_category": N_("The 19th character (the category of disability) must be 1 to 7"),
    "cert_grade": N_("The 20th character (the grade of disability) must be 1 to 4"),
    "cert_id_mismatch": N_("The certificate number must begin with your ID number"),
    "credit_code_length": N_("The unified social credit code must have 18 characters"),
    "credit_code_format": N_("The unified social credit code uses digits and capital letters (no I, O, S, V or Z)"),
    "credit_code_checksum": N_("The unified social credit code is not valid: check each character"),
    "date_format": N_("Enter a date as year-month-day, for example 2025-03-15"),
    "date_range": N_("Enter a date between 1990 and 2100"),
    "money_format": N_("Enter an amount in yuan with at most two decimals, for example 1200.00"),
    "money_range": N_("Enter an amount above 0.00"),
    "verified_above_declared": N_("The verified monthly rent cannot be more than the rent the applicant declared"),
    "id_region": N_("The first six digits of the ID number are not a region code"),
    "id_birth_date_future": N_("The date of birth in the ID number is in the future"),
    "cert_id_region": N_("The first six digits of the certificate number are not a region code"),
    "cert_id_birth_date_future": N_("The date of birth in the certificate number is in the future"),
    "date_in_future": N_("This date cannot be in the future"),
    "name_letters": N_("Enter a name with at least one visible letter"),
    "age_below_minimum": N_("The business owner must be at least 16 years old on the licence date"),
    "lease_order": N_("The lease must end on or after the day it starts"),
    "phone_format": N_("Enter a phone number of 7 to 20 digits"),
    "bank_account_format": N_("Enter the bank account number: 8 to 30 digits"),
    "county_format": N_("Choose the county of your household registration"),
    "choice": N_("Choose one of the options"),
    "reason_required": N_("Give the reason for this decision"),
    "decision_required": N_("Choose a decision"),
    "text_characters": N_(
        "Remove control characters and invisible formatting characters (such as text-direction overrides or "
        "zero-width characters)"
    ),
}


def field_error(_: Callable[[str], str], code: str) -> str:
    return _(FIELD_ERROR.get(code, FIELD_ERROR["choice"]))


# The workflows' and the inbox's refusals, shown on the task page in the page's language.
REFUSALS = (
    N_("the task is not open"),
    N_("the task was settled a moment ago"),
    N_("this task belongs to another county"),
    N_("this task belongs to another role or county"),
    N_("an official may not decide an application they submitted"),
    N_("separation of duties: another official must approve what you already reviewed"),
    N_("only a task you have claimed can be released"),
    N_("this procedure has ended; nothing more can be decided"),
    N_("the task is already done"),
    N_("the task is already cancelled"),
    N_("only the applicant may withdraw"),
    N_("only the applicant may correct the application"),
    N_("only a returned application can be corrected"),
    N_("only the provider who filed the class plan may do this"),
    N_("only the employer who proposed the placement may withdraw it"),
    N_("only the employer who declared may withdraw"),
    N_("the deadline for the completion report has passed"),
    N_("publicity is over: the objection came too late"),
    N_("documents are attached by the account that filed the application"),
)

REGISTRATION_KIND = {
    "person": N_("A person (applicant)"),
    "employer": N_("An employer"),
    "provider": N_("A training provider"),
    "agency": N_("A labour dispatch agency"),
}
