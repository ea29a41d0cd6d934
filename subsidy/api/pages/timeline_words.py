"""The auditor's timeline in words: each business step in the page's language, its actor as an office and a person,
and the workflow engine's own events set apart as technical detail.

The audit log's `kind` names the step (`submitted`, `decision`, a status change's kind such as `withdrawn`...); its
`detail` holds the facts (the step, the decision, the reason codes, the amounts). Here they become a sentence and
a list of labelled facts, with every code in words (statuses, steps, decisions, reason codes, roles, counties); the
record itself stays available, unchanged, under "technical detail".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from subsidy.api.audit import TimelineEntry
from subsidy.api.pages.words import DECISION, N_, PROGRAM, REASON, ROLE, STATUS, STEP
from subsidy.policy.counties import BAOTOU_COUNTIES, BAOTOU_COUNTIES_EN

# What each record of the audit log says happened.
BUSINESS_STEP = {
    "submitted": N_("Application submitted"),
    "eligibility": N_("Eligibility checked against the rules"),
    "task_created": N_("Task opened for an official"),
    "task_overdue": N_("Task overdue: escalated"),
    "decision": N_("Decision recorded"),
    "payment": N_("Month due: posted to the ledger"),
    "payment_batched": N_("Payment put in a batch by a finance officer"),
    "payment_batch_approved": N_("Payment batch approved by a second finance officer"),
    "payment_sent": N_("Payment sent to the bank"),
    "payment_paid": N_("Paid: confirmed by the bank"),
    "payment_failed": N_("Payment failed at the bank"),
    "bank_account_corrected": N_("Bank account corrected by the payee"),
    "bank_account_given": N_("Bank account given by the payee"),
    "payment_cancelled": N_("Failed payment cancelled"),
    "recovery_created": N_("Recovery of months paid after the reported date"),
    "recovery_repaid": N_("Recovery repaid"),
    "recovery_offset": N_("Recovery offset against later payments"),
    "recovery_write_off_proposed": N_("Write-off of a recovery proposed"),
    "recovery_written_off": N_("Recovery written off by a second official"),
    "withdrawn": N_("Withdrawn by the applicant"),
    "business_closed": N_("Business closure reported"),
    "lease_ended": N_("End of the lease reported"),
    "corrected": N_("Corrected and submitted again"),
    "completed": N_("Completed: every payment made"),
    "terminated": N_("Stopped"),
    "objection": N_("Objection received during publicity"),
    "employment_ended": N_("End of the employment reported"),
    "collection_refused": N_("Refused with the yearly collection"),
    "collection_closed": N_("Yearly collection closed"),
    "collection_reopened": N_("Yearly collection opened for new declarations"),
    "registration_received": N_("Registration received"),
    "account_bound": N_("Registration verified: the account acts for this person or organisation"),
    "registration_rejected": N_("Registration rejected"),
    "completion_report": N_("Completion report received"),
    "completion_report_deadline_passed": N_("Deadline for the completion report passed"),
    "enrolments_released": N_("Trainees' places released"),
    "entitlement_started": N_("Subsidy started"),
    "place_taken": N_("Place on the post taken"),
    "placed": N_("Person placed on the post"),
    "person_renamed": N_("Name recorded for the ID number changed"),
    "document_attached": N_("Document attached"),
}

# The workflow engine's events: what an auditor may open, not what they read first.
TECHNICAL_STEP = {
    "workflow_started": N_("Workflow started"),
    "update_accepted": N_("Message accepted by the workflow"),
    "signal": N_("Signal received by the workflow"),
    "timer_fired": N_("Timer fired"),
    "continued_as_new": N_("Workflow continued in a new run (its history kept short)"),
    "workflow_completed": N_("Workflow ended"),
    "workflow_failed": N_("Workflow failed"),
    "workflow_terminated": N_("Workflow terminated"),
}

FACT_LABEL = {
    "applicant": N_("Applicant"),
    "step": N_("Step"),
    "decision": N_("Decision"),
    "reason": N_("Reason"),
    "reasons": N_("Reason codes"),
    "status": N_("Status"),
    "new_status": N_("New status"),
    "period": N_("Month"),
    "amount": N_("Amount (yuan)"),
    "city_share": N_("City share (yuan)"),
    "county_share": N_("County share (yuan)"),
    "funder": N_("Funder"),
    "eligible": N_("Eligible"),
    "clause": N_("Policy clause"),
    "policy_version": N_("Policy version"),
    "date": N_("Date"),
    "note": N_("Note"),
    "role": N_("Role"),
    "county": N_("County"),
    "due_at": N_("Due"),
    "values": N_("Values given"),
    "program": N_("Programme"),
    "reimbursement": N_("Reimbursement (yuan)"),
    "reference": N_("Payment reference"),
    "references": N_("Payment references"),
    "batch_id": N_("Payment batch"),
    "account": N_("Bank account"),
    "event": N_("Event"),
    "event_date": N_("Date of the event"),
    "periods": N_("Months"),
    "outstanding": N_("Still owed (yuan)"),
    "sha256": N_("SHA-256 of the bank file"),
}
# Roles of accounts that are not officials (ROLE names the offices).
PARTY_ROLE = {
    "employer": N_("Employer"),
    "provider": N_("Training provider"),
    "agency": N_("Labour dispatch agency"),
    "admin": N_("Administrator"),
}
# Where a kind of record uses a key in another sense: a payment's `city` and `county` are the two shares.
KIND_FACT_LABEL = {
    "payment": {"city": N_("City share (yuan)"), "county": N_("County share (yuan)")},
}
SYSTEM_ACTORS = {
    "system": N_("The service (automatic)"),
    "temporal": N_("The workflow engine"),
    "bank": N_("The bank (its result file)"),
}
YES_NO = {True: N_("Yes"), False: N_("No")}


@dataclass(frozen=True)
class Actor:
    username: str
    display_name: str | None
    roles: tuple[str, ...]
    county: str | None


@dataclass
class TimelineLine:
    at: datetime
    what: str
    office: str
    person: str
    facts: list[tuple[str, str]] = field(default_factory=list)
    technical: bool = False
    kind: str = ""
    raw: dict[str, Any] = field(default_factory=dict)


def county_words(code: str | None, language: str) -> str:
    if not code:
        return ""
    names = BAOTOU_COUNTIES if language.startswith("zh") else BAOTOU_COUNTIES_EN
    return names.get(code, code)


def office_of(actor: Actor | None, username: str, _: Callable[[str], str], language: str) -> tuple[str, str]:
    """(office, person): e.g. ("County Disabled Persons' Federation, Kundulun District", "昆都仑区残联 审核员甲")."""
    if username in SYSTEM_ACTORS:
        return _(SYSTEM_ACTORS[username]), ""
    if actor is None:
        return "", username
    offices = [_(ROLE.get(role) or PARTY_ROLE.get(role) or role) for role in actor.roles]
    office = " / ".join(offices)
    if actor.county:
        office = f"{office}, {county_words(actor.county, language)}" if office else county_words(actor.county, language)
    return office, actor.display_name or username


def _fact_value(key: str, value: Any, _: Callable[[str], str], language: str) -> str:
    if isinstance(value, bool):
        return _(YES_NO[value])
    if key == "step":
        return _(STEP.get(str(value), str(value)))
    if key == "decision":
        return _(DECISION.get(str(value), str(value)))
    if key in ("status", "new_status"):
        return _(STATUS.get(str(value), str(value)))
    if key == "program":
        return _(PROGRAM.get(str(value), str(value)))
    if key == "role":
        return _(ROLE.get(str(value)) or PARTY_ROLE.get(str(value)) or str(value))
    if key == "county":
        return county_words(str(value), language)
    if key == "reasons" and isinstance(value, Iterable) and not isinstance(value, str):
        return "; ".join(_(REASON.get(str(code), str(code))) for code in value) or "–"
    if key == "applicant" and isinstance(value, Mapping):
        # The submission's record names the person: the name and the ID number as masked when it was read.
        return " ".join(str(value[part]) for part in ("name", "id_number") if value.get(part))
    if key == "values" and isinstance(value, Mapping):
        return ", ".join(f"{name} = {text}" for name, text in value.items()) or "–"
    return "–" if value in (None, "") else str(value)


def facts_of(kind: str, detail: Mapping[str, Any], _: Callable[[str], str], language: str) -> list[tuple[str, str]]:
    """The labelled facts of a record that an auditor reads; the rest stays in the technical detail."""
    own = KIND_FACT_LABEL.get(kind, {})
    labels = {**FACT_LABEL, **own}
    return [
        (_(label), str(detail[key]) if key in own else _fact_value(key, detail[key], _, language))
        for key, label in labels.items()
        if key in detail
    ]


def in_words(
    entries: Iterable[TimelineEntry], actors: Mapping[str, Actor], _: Callable[[str], str], language: str
) -> list[TimelineLine]:
    lines: list[TimelineLine] = []
    for entry in entries:
        technical = entry.actor == "temporal" and entry.kind in TECHNICAL_STEP
        words = TECHNICAL_STEP.get(entry.kind) if technical else BUSINESS_STEP.get(entry.kind)
        office, person = office_of(actors.get(entry.actor), entry.actor, _, language)
        lines.append(
            TimelineLine(
                at=entry.at,
                what=_(words) if words else entry.kind,
                office=office,
                person=person,
                facts=[] if technical else facts_of(entry.kind, entry.detail, _, language),
                technical=technical,
                kind=entry.kind,
                raw=dict(entry.detail),
            )
        )
    return lines
