"""The messages of the account registration procedure (program `account_registration`). Standard library only.

No personal data travels here: the workflow knows the registration's id, the account's user name and the county;
the name, resident ID or credit code stay in PostgreSQL (`account_bindings`, and the registration's form row).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from subsidy.workflows.contracts import DecisionRecord, OpenTaskInput

ACCOUNT_REGISTRATION_WORKFLOW = "AccountRegistrationWorkflow"
REGISTRATION_PROGRAM = "account_registration"
REGISTRATION_STEP = "registration_check"
SETTLE_REGISTRATION = "settle_registration"


@dataclass
class RegistrationInput:
    application_id: str
    program: str
    submitted_by: str  # the registering account's user name
    county: str
    kind: str  # person | employer | provider | agency


@dataclass
class RegistrationState:
    status: str
    open_tasks: dict[str, OpenTaskInput] = field(default_factory=dict)
    decisions: list[DecisionRecord] = field(default_factory=list)


@dataclass
class RegistrationSettlement:
    """Bind the account (approve) or leave it unbound with the reason (reject)."""

    application_id: str
    decision: str
    by: str
    reason: str | None = None


@dataclass
class RegistrationOutcome:
    # Codes refusing an approval (e.g. `identifier_already_bound`): nothing was written.
    reasons: list[str] = field(default_factory=list)
