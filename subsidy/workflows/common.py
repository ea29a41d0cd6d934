"""What every procedure's workflow shares: activity options, the Chinese calendar day, and who may decide.

`db_step` runs one short database step of a procedure; since its workflow type's patch (`DB_STEPS_AS_LOCAL_ACTIVITIES`
for the rent subsidy, `TRAINING_DB_STEPS` etc. for each other type) as a local activity (one marker in the history
instead of three activity events and a workflow task), which halved the Temporal work per rent subsidy in `bench/`.
Histories recorded before the patch replay on the old path.

`check_decision` is the one rule for an official's decision on a task (DESIGN.md "How a procedure runs" 3):
the task's role and county, never the submitter, never approving what the same official already decided
on in this application (separation of duties), and a reason for every refusal or return.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

from subsidy.policy.workdays import CHINA
from subsidy.workflows.contracts import FORBIDDEN, INVALID, Actor, DecideInput

__all__ = [
    "ACCOUNT_REGISTRATION_DB_STEPS",
    "CHINA",
    "DB_ACTIVITY",
    "DB_STEPS_AS_LOCAL_ACTIVITIES",
    "DECISIONS",
    "FLEXIBLE_INSURANCE_DB_STEPS",
    "PLACEMENT_DB_STEPS",
    "POST_COLLECTION_DB_STEPS",
    "POST_DECLARATION_DB_STEPS",
    "TRAINING_DB_STEPS",
    "check_decision",
    "db_step",
    "end_of_day",
    "local_db_steps",
    "require_role",
]

DECISIONS = ("approve", "reject", "return")

DB_ACTIVITY: dict[str, Any] = {
    "start_to_close_timeout": timedelta(seconds=30),
    "retry_policy": RetryPolicy(
        initial_interval=timedelta(seconds=1),
        maximum_interval=timedelta(seconds=30),
        non_retryable_error_types=["BusinessRefusal"],
    ),
}

# workflow.patched id: a workflow that passed this point with it runs its database steps as local activities.
DB_STEPS_AS_LOCAL_ACTIVITIES = "db-steps-as-local-activities"

# The same change for the other workflow types, each behind a patch of its own (a type's histories know only
# its own marker). Each of these workflows takes its marker first thing in every run (`local_db_steps` in its
# `__init__`), so the choice is made at the same point of every history, before any step or message handler.
TRAINING_DB_STEPS = "training-db-steps-as-local-activities"
POST_DECLARATION_DB_STEPS = "post-declaration-db-steps-as-local-activities"
POST_COLLECTION_DB_STEPS = "post-collection-db-steps-as-local-activities"
PLACEMENT_DB_STEPS = "placement-db-steps-as-local-activities"
FLEXIBLE_INSURANCE_DB_STEPS = "flexible-insurance-db-steps-as-local-activities"
ACCOUNT_REGISTRATION_DB_STEPS = "account-registration-db-steps-as-local-activities"


def local_db_steps(patch: str) -> bool:
    """Decide, once per run and before anything else, whether this run's database steps are local activities.

    `workflow.patched` records its marker the first time it is called in a run and answers the same after: a run
    that began before the patch (its history has no marker) keeps regular activities to its end, a new run records
    the marker in its first workflow task. A run continued as new from an old one starts anew, so it takes the new
    path (and records its own marker).
    """
    return workflow.patched(patch)


async def db_step(
    activity: str, arg: Any, *, result_type: type | None = None, patch: str | None = DB_STEPS_AS_LOCAL_ACTIVITIES
) -> Any:
    """One database step of the running workflow (recording a result, opening a task, posting a payment...).

    Each step is a short transaction in our own PostgreSQL, idempotent by the run id and activity id, so it needs
    none of what a regular activity adds (another task queue poll, three history events, a workflow task to
    resume): a local activity retries the same way (same retry policy, and past a minute of retries by timer).
    `patch` is the workflow type's own patch id; the activity's name, input and result are the same on both paths.
    None for a type that never ran its steps as regular activities: always local, no marker.
    """
    if patch is None or workflow.patched(patch):
        return await workflow.execute_local_activity(activity, arg, result_type=result_type, **DB_ACTIVITY)
    return await workflow.execute_activity(activity, arg, result_type=result_type, **DB_ACTIVITY)


def end_of_day(day: date) -> datetime:
    """The instant a Chinese calendar day is over."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=CHINA)


def require_role(actor: Actor, role: str, county: str | None) -> None:
    if role not in actor.roles:
        raise ApplicationError(f"this step needs the role {role}", type=FORBIDDEN)
    if county is not None and actor.county != county:
        raise ApplicationError("this task belongs to another county", type=FORBIDDEN)


def check_decision(
    request: DecideInput, *, role: str, county: str | None, submitted_by: str, decided_by: Iterable[str]
) -> None:
    """Refuse a decision the actor may not make.

    `decided_by` are the officials of this application's earlier decisions, whatever the step: whoever approved
    a class plan may not also approve its completion.
    """
    require_role(request.actor, role, county)
    if request.actor.username == submitted_by:
        raise ApplicationError("an official may not decide an application they submitted", type=FORBIDDEN)
    if request.decision == "approve" and request.actor.username in set(decided_by):
        raise ApplicationError(
            "separation of duties: another official must approve what you already reviewed",
            type=FORBIDDEN,
        )
    if request.decision not in DECISIONS:
        raise ApplicationError("decision must be approve, reject or return", type=INVALID)
    if request.decision in ("reject", "return") and not (request.reason or "").strip():
        raise ApplicationError(f"a reason is required to {request.decision}", type=INVALID)
