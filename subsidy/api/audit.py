"""What auditors ask: who decided what under which rule (timeline), the raw history, and its replay.

Temporal keeps every event but not who sent an update, and purges closed histories after the namespace retention;
the audit log (hash-chained, in PostgreSQL) records the people, and closed histories are archived in PostgreSQL.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHistory
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import Replayer

from subsidy.api.read_model import mask_id_number
from subsidy.db.models import Application, ArchivedHistory, AuditRecord, Person
from subsidy.db.payment_models import Payment, PaymentBatch, PaymentLine
from subsidy.programs.registry import PROGRAMS, WORKFLOW_CLASSES
from subsidy.temporal_client.client import DATA_CONVERTER

# History events worth a line in a timeline; the rest (tasks, markers) are machinery.
TIMELINE_EVENTS = {
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED: "workflow_started",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED: "update_accepted",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED: "signal",
    EventType.EVENT_TYPE_TIMER_FIRED: "timer_fired",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW: "continued_as_new",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED: "workflow_completed",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED: "workflow_failed",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED: "workflow_terminated",
}


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str
    actor: str
    detail: dict[str, Any]


@dataclass(frozen=True)
class ReplayReport:
    deterministic: bool
    runs: int
    events: int
    error: str | None


@dataclass(frozen=True)
class Run:
    run_id: str
    history: WorkflowHistory


async def fetch_runs(temporal: Client, workflow_id: str) -> list[Run]:
    """Every run of a workflow, oldest first, following `continue_as_new` back from the latest run."""
    runs: list[Run] = []
    run_id: str | None = (await temporal.get_workflow_handle(workflow_id).describe()).run_id
    while run_id:
        history = await temporal.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
        runs.append(Run(run_id, history))
        run_id = history.events[0].workflow_execution_started_event_attributes.continued_execution_run_id or None
    return list(reversed(runs))


async def _is_closed(temporal: Client, workflow_id: str) -> bool:
    description = await temporal.get_workflow_handle(workflow_id).describe()
    return description.status != WorkflowExecutionStatus.RUNNING


async def histories(session: AsyncSession, temporal: Client, application: Application) -> list[WorkflowHistory]:
    """From the archive when there; else from Temporal, archiving them if the workflow has closed.

    Runs of a workflow still running are read from Temporal each time (the latest run is still growing).
    """
    archived = (
        await session.scalars(
            select(ArchivedHistory)
            .where(ArchivedHistory.workflow_id == application.workflow_id)
            .order_by(ArchivedHistory.run_index)
        )
    ).all()
    if archived:
        return [WorkflowHistory.from_json(row.workflow_id, row.history) for row in archived]
    closed = await _is_closed(temporal, application.workflow_id)
    runs = await fetch_runs(temporal, application.workflow_id)
    if closed:
        await store(session, application, runs)
    return [run.history for run in runs]


async def store(session: AsyncSession, application: Application, runs: list[Run]) -> None:
    for index, run in enumerate(runs):
        history = run.history
        started = history.events[0]
        await session.execute(
            insert(ArchivedHistory)
            .values(
                workflow_id=application.workflow_id,
                run_index=index,
                run_id=run.run_id,
                application_id=application.id,
                workflow_type=started.workflow_execution_started_event_attributes.workflow_type.name,
                events=len(history.events),
                history=history.to_json(),
            )
            .on_conflict_do_nothing()
        )


def ended_applications() -> ColumnElement[bool]:
    """Applications in a terminal status of their own program (an approved declaration has ended, an approved class
    plan has not)."""
    return or_(
        *(
            and_(Application.program == program.code, Application.status.in_(program.terminal_statuses))
            for program in PROGRAMS.values()
        )
    )


async def archive_closed(sessions: async_sessionmaker[AsyncSession], temporal: Client, limit: int = 200) -> int:
    """Archive the histories of applications that have ended and are not archived yet; returns how many."""
    async with sessions() as session:
        pending = (
            await session.scalars(
                select(Application)
                .where(ended_applications())
                .where(
                    ~select(ArchivedHistory.workflow_id)
                    .where(ArchivedHistory.workflow_id == Application.workflow_id)
                    .exists()
                )
                .limit(limit)
            )
        ).all()
    archived = 0
    for application in pending:
        try:
            if not await _is_closed(temporal, application.workflow_id):
                continue
            runs = await fetch_runs(temporal, application.workflow_id)
        except RPCError as error:
            if error.status == RPCStatusCode.NOT_FOUND:
                continue  # purged before it could be archived: nothing left to copy
            raise
        async with sessions.begin() as session:
            await store(session, application, runs)
        archived += 1
    return archived


async def replay(runs: list[WorkflowHistory]) -> ReplayReport:
    """Today's workflow code over the recorded history, with the worker's own data converter."""
    replayer = Replayer(workflows=WORKFLOW_CLASSES, data_converter=DATA_CONVERTER)

    async def each_run() -> AsyncIterator[WorkflowHistory]:
        for run in runs:
            yield run

    results = await replayer.replay_workflows(each_run(), raise_on_replay_failure=False)
    failures = results.replay_failures
    error = None
    if failures:
        run, failure = next(iter(failures.items()))
        error = f"run {run}: {failure}"
    return ReplayReport(not failures, len(runs), sum(len(h.events) for h in runs), error)


async def timeline(session: AsyncSession, application: Application, runs: list[WorkflowHistory]) -> list[TimelineEntry]:
    """The audit log (who, under which rule) and the history's milestones (what the engine did), in time order."""
    entries: list[TimelineEntry] = []
    records = (
        await session.scalars(
            select(AuditRecord).where(AuditRecord.application_id == application.id).order_by(AuditRecord.id)
        )
    ).all()
    person = await session.get(Person, application.person_id) if application.person_id else None
    for record in records:
        detail = dict(record.detail)
        if record.kind == "submitted" and person is not None:
            detail["applicant"] = {"name": person.name, "id_number": mask_id_number(person.id_number)}
        entries.append(TimelineEntry(record.at.astimezone(UTC), record.kind, record.actor, detail))
    entries.extend(await _payment_steps(session, application))
    for run_index, history in enumerate(runs):
        for event in history.events:
            kind = TIMELINE_EVENTS.get(event.event_type)
            if kind is None:
                continue
            detail: dict[str, Any] = {"run": run_index, "event_id": event.event_id}
            if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
                detail["update"] = event.workflow_execution_update_accepted_event_attributes.accepted_request.input.name
            if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
                detail["workflow_type"] = event.workflow_execution_started_event_attributes.workflow_type.name
            entries.append(TimelineEntry(event.event_time.ToDatetime(tzinfo=UTC), kind, "temporal", detail))
    entries.sort(key=lambda entry: entry.at)
    return entries


async def _payment_steps(session: AsyncSession, application: Application) -> list[TimelineEntry]:
    """Each line the bank was sent for this application: batched (by whom), approved (by whom), sent, and the
    bank's answer. The batch's own records in the audit log name no application (one batch, many applications)."""
    entries: list[TimelineEntry] = []
    rows = await session.execute(
        select(PaymentLine, PaymentBatch, Payment.funder)
        .join(PaymentBatch, PaymentBatch.id == PaymentLine.batch_id)
        .join(Payment, Payment.id == PaymentLine.payment_id)
        .where(PaymentLine.application_id == application.id)
        .order_by(PaymentBatch.built_at, PaymentLine.reference)
    )
    for line, batch, funder in rows:
        facts = {
            "reference": line.reference,
            "period": line.period,
            "funder": funder,
            "amount": f"{line.amount:.2f}",
            "batch_id": str(batch.id),
        }
        entries.append(TimelineEntry(batch.built_at.astimezone(UTC), "payment_batched", batch.built_by, facts))
        if batch.approved_at is not None and batch.approved_by is not None:
            entries.append(
                TimelineEntry(batch.approved_at.astimezone(UTC), "payment_batch_approved", batch.approved_by, facts)
            )
        if batch.sent_at is not None and batch.sent_by is not None:
            entries.append(
                TimelineEntry(
                    batch.sent_at.astimezone(UTC), "payment_sent", batch.sent_by, {**facts, "sha256": batch.file_sha256}
                )
            )
        if line.result is not None and line.result_at is not None:
            entries.append(
                TimelineEntry(
                    line.result_at.astimezone(UTC),
                    f"payment_{line.result}",
                    "bank",
                    {**facts, **({"reason": line.reason} if line.reason else {})},
                )
            )
    return entries


def history_document(runs: list[WorkflowHistory]) -> dict[str, Any]:
    """All runs in order; each `history` is exactly what `temporal workflow show -o json` writes."""
    return {
        "workflow_id": runs[0].workflow_id if runs else None,
        "runs": [{"run_index": index, "history": json.loads(run.to_json())} for index, run in enumerate(runs)],
    }


def application_key(application_id: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(application_id)
    except ValueError:
        return None
