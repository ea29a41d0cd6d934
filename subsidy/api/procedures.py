"""Starting procedures and talking to running ones: the API side of every workflow.

The API validates the form, writes the application row, and starts the workflow under an id derived from
the application id (never from personal data). Decisions and events go to the workflow as updates whose
validators are the authority; their refusals come back here and are mapped to HTTP once.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from subsidy.api import policy_versions
from subsidy.api.bindings import WINDOW_PROGRAMS, admit_filer
from subsidy.api.errors import Conflict, Forbidden, Invalid, ServiceError, Unavailable
from subsidy.api.programs import PROGRAMS, StartContext
from subsidy.api.security import Identity
from subsidy.api.submission_checks import body_digest, person_row, record_body, record_rename, refuse_another_body
from subsidy.db.audit_chain import append_audit
from subsidy.db.models import Application, PolicyVersionRow
from subsidy.policy.versions import version_by_code, version_to_json
from subsidy.policy.workdays import CHINA, china_today
from subsidy.workflows.contracts import (
    CONFLICT,
    FORBIDDEN,
    INVALID,
    Actor,
    DecideInput,
    DecideResult,
    EventResult,
    workflow_id_for,
)

# Application ids made from (user, Idempotency-Key) are the same on every retry, on every API instance.
IDEMPOTENCY_NAMESPACE = uuid.UUID("6b0d3c52-8f0e-4d55-9a57-2f1f7c1e5a10")
ENGINE_UNAVAILABLE = "the workflow engine cannot be reached"


def actor_of(identity: Identity) -> Actor:
    return Actor(username=identity.username, roles=list(identity.roles), county=identity.county)


async def policy_in_force(session: AsyncSession, day: date) -> dict[str, Any] | None:
    """The approved version whose window holds `day`, as the workflow pins it (subsidy.api.policy_versions)."""
    row = await policy_versions.version_in_force(session, None, day)
    return pinned_parameters(row) if row is not None else None


def pinned_parameters(row: PolicyVersionRow) -> dict[str, Any]:
    """The version exactly as approved: every workflow pinned to it gets the same data (a later version's approval
    closes only the row's `valid_to`, which chooses the version, never what a workflow receives)."""
    return dict(row.parameters)


async def submit_application(
    session: AsyncSession,
    temporal: Client,
    task_queue: str,
    identity: Identity,
    form: BaseModel,
    idempotency_key: str | None,
    today: date | None = None,
) -> tuple[Application, bool]:
    """Returns the application and whether it was created now (False: the same key was seen before).

    `today` is the application day (the settings' clock, `Settings.today()`; default the machine's)."""
    program = PROGRAMS[form.program]  # type: ignore[attr-defined]
    window = program.code in WINDOW_PROGRAMS and identity.has("county_dpf")
    if not identity.has(*program.applicant_roles) and not window:
        raise Forbidden(f"{program.code} is applied for by: {', '.join(program.applicant_roles)}")
    # Whom the account acts for, before anything is read about the person or organisation the form names.
    window = await admit_filer(session, identity, program.code, form)
    digest = body_digest(form)
    if idempotency_key is not None:
        existing = await find_submission(session, identity, idempotency_key)
        if existing is not None:
            await refuse_another_body(session, existing, digest)
            await session.commit()
            await _start_if_missing(temporal, task_queue, existing, session=session)
            return existing, False
    application_id = (
        uuid.uuid5(IDEMPOTENCY_NAMESPACE, f"{identity.username}\x00{idempotency_key}")
        if idempotency_key is not None
        else uuid.uuid4()
    )
    person_id = previous_name = None
    person = program.person(form)
    if person is not None:
        person_id, previous_name = await person_row(session, *person)
    applied_on = today or china_today()
    policy = await policy_in_force(session, applied_on)
    county = program.county(form)
    if program.admit is not None:
        county = await program.admit(session, form, person_id, identity.username) or county
    inserted = await session.scalar(
        insert(Application)
        .values(
            id=application_id,
            program=program.code,
            status="submitted",
            county=county,
            policy_version=policy["code"] if policy else None,
            submitted_by=identity.username,
            filed_by=identity.username if window else None,
            filed_at_window=window,
            idempotency_key=idempotency_key,
            person_id=person_id,
            workflow_id=workflow_id_for(str(application_id)),
            form=form.model_dump(mode="json"),
        )
        .on_conflict_do_nothing()
        .returning(Application.id)
    )
    if inserted is None:  # the same key raced in from a parallel request
        await session.rollback()
        return await submit_application(session, temporal, task_queue, identity, form, idempotency_key, today)
    if idempotency_key is not None:
        await record_body(session, application_id, digest)
    if person is not None and person_id is not None and previous_name is not None:
        await record_rename(
            session,
            actor=identity.username,
            application_id=application_id,
            person_id=person_id,
            previous=previous_name,
            name=person[1],
        )
    await append_audit(
        session,
        kind="submitted",
        actor=identity.username,
        at=datetime.now(UTC),
        application_id=application_id,
        detail={
            "program": program.code,
            "county": county,
            "policy_version": policy["code"] if policy else None,
            **({"filed_at_window": True, "filed_by": identity.username} if window else {}),
        },
    )
    await session.commit()
    application = await session.get(Application, application_id)
    assert application is not None
    await _start_if_missing(temporal, task_queue, application, applied_on=applied_on, policy=policy)
    return application, True


async def find_submission(session: AsyncSession, identity: Identity, idempotency_key: str) -> Application | None:
    """The caller's application sent with this Idempotency-Key, if any."""
    found: Application | None = await session.scalar(
        select(Application).where(
            Application.submitted_by == identity.username, Application.idempotency_key == idempotency_key
        )
    )
    return found


async def _start_if_missing(
    temporal: Client,
    task_queue: str,
    application: Application,
    *,
    applied_on: date | None = None,
    policy: dict[str, Any] | None = None,
    session: AsyncSession | None = None,
) -> None:
    """Start the workflow, or find it already started (a retry after a crash between the row and the start)."""
    try:
        await start_workflow_of(
            temporal, task_queue, application, applied_on=applied_on, policy=policy, session=session
        )
    except RPCError:
        # The row is committed: the worker's starter (subsidy.service.starter) starts it once the engine is back,
        # and the same Idempotency-Key finds it at once.
        raise Unavailable(ENGINE_UNAVAILABLE + ": " + SAVED_NOT_STARTED) from None


async def start_saved(temporal: Client, task_queue: str, application: Application) -> None:
    """Start a committed application's workflow now (503 if the engine is down: the worker's starter does it later)."""
    await _start_if_missing(temporal, task_queue, application)


SAVED_NOT_STARTED = (
    "the application is saved and starts by itself when the engine is back (it is in your list of applications); "
    "or send it again with the same Idempotency-Key"
)


async def start_workflow_of(
    temporal: Client,
    task_queue: str,
    application: Application,
    *,
    applied_on: date | None = None,
    policy: dict[str, Any] | None = None,
    session: AsyncSession | None = None,
) -> bool:
    """Start the application's workflow unless it has one (running or closed: its id is never reused).

    True if it was started now. RPCError when the engine cannot be reached.
    """
    program = PROGRAMS[application.program]
    form = program.form.model_validate(application.form)
    if applied_on is None:
        applied_on = application.submitted_at.astimezone(CHINA).date()
    if policy is None and application.policy_version is not None:
        if session is not None and (pinned := await session.get(PolicyVersionRow, application.policy_version)):
            policy = pinned_parameters(pinned)
        else:  # no database at hand: the shipped versions
            policy = version_to_json(version_by_code(application.policy_version))
    context = StartContext(
        application_id=str(application.id),
        submitted_by=application.submitted_by,
        applied_on=applied_on,
        county=application.county,
        person_id=str(application.person_id) if application.person_id else None,
        policy=policy,
    )
    try:
        await temporal.start_workflow(
            program.workflow,
            program.workflow_input(context, form),
            id=application.workflow_id,
            task_queue=task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
        )
    except WorkflowAlreadyStartedError:
        return False
    return True


async def send_decision(temporal: Client, workflow_id: str, request: DecideInput) -> DecideResult:
    handle = temporal.get_workflow_handle(workflow_id)
    try:
        result: DecideResult = await handle.execute_update("decide", request, result_type=DecideResult)
    except (WorkflowUpdateFailedError, RPCError) as error:
        raise refusal(error) from None
    return result


async def send_event(temporal: Client, workflow_id: str, request: Any) -> EventResult:
    handle = temporal.get_workflow_handle(workflow_id)
    try:
        result: EventResult = await handle.execute_update("event", request, result_type=EventResult)
    except (WorkflowUpdateFailedError, RPCError) as error:
        raise refusal(error) from None
    return result


def refusal(error: Exception) -> ServiceError:
    """The workflow's refusal in HTTP terms: role/county/duties → 403, state → 409, input → 422."""
    if isinstance(error, RPCError):
        if error.status == RPCStatusCode.NOT_FOUND:
            return Conflict("this procedure has ended; nothing more can be decided")
        if error.status in (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED):
            return Unavailable(ENGINE_UNAVAILABLE + ": try again in a moment")
        raise error
    cause = error.cause
    while cause is not None and not isinstance(cause, ApplicationError):
        cause = cause.cause
    if not isinstance(cause, ApplicationError):
        raise error
    if cause.type == FORBIDDEN:
        return Forbidden(cause.message)
    if cause.type == INVALID:
        field, _, message = cause.message.partition(": ")
        # A refusal may carry its reason code as its first detail (verified_above_declared).
        code = cause.details[0] if cause.details and isinstance(cause.details[0], str) else "value_error"
        return Invalid(field, message, code) if message and " " not in field else Invalid("", cause.message, code)
    if cause.type == CONFLICT:
        return Conflict(cause.message)
    raise error
