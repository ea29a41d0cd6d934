"""The approvers' inbox: listing, claiming, releasing and deciding tasks. Used by the JSON API and the pages."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import Select, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from subsidy.api import procedures
from subsidy.api.errors import Conflict, Forbidden, NotFound
from subsidy.api.read_model import task_scope
from subsidy.api.security import Identity
from subsidy.db.models import Task
from subsidy.workflows.contracts import DecideInput, DecideResult

OPEN_STATUSES = ("open", "claimed")


@dataclass(frozen=True)
class InboxFilter:
    status: str | None = None  # None: open and claimed
    program: str | None = None
    application_id: uuid.UUID | None = None


def inbox_query(identity: Identity, wanted: InboxFilter) -> Select[tuple[Task]]:
    query = select(Task).where(task_scope(identity))
    query = query.where(Task.status == wanted.status) if wanted.status else query.where(Task.status.in_(OPEN_STATUSES))
    if wanted.program:
        query = query.where(Task.program == wanted.program)
    if wanted.application_id:
        query = query.where(Task.application_id == wanted.application_id)
    return query


async def list_inbox(
    session: AsyncSession, identity: Identity, wanted: InboxFilter, limit: int, offset: int
) -> tuple[list[Task], int]:
    """Tasks the caller may act on, oldest due first, and how many there are in all."""
    query = inbox_query(identity, wanted)
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    tasks = await session.scalars(
        query.order_by(Task.due_at.asc().nulls_last(), Task.created_at, Task.id).limit(limit).offset(offset)
    )
    return list(tasks.all()), int(total)


async def inbox_counts(session: AsyncSession, identity: Identity) -> dict[str, int]:
    """Open, claimed-by-me and overdue counts for the inbox heading."""
    base = select(Task).where(task_scope(identity), Task.status.in_(OPEN_STATUSES)).subquery()
    row = (
        await session.execute(
            select(
                func.count(),
                func.count().filter(base.c.claimed_by == identity.username),
                func.count().filter(base.c.overdue.is_(True)),
            ).select_from(base)
        )
    ).one()
    return {"open": int(row[0]), "mine": int(row[1]), "overdue": int(row[2])}


async def get_task(session: AsyncSession, task_id: str, identity: Identity, *, lock: bool = False) -> Task:
    """The task, if the caller's roles and county may act on it: 404 if there is none, 403 if it is not theirs."""
    try:
        key = uuid.UUID(task_id)
    except ValueError:
        raise NotFound("no such task") from None
    query = select(Task, task_scope(identity)).where(Task.id == key)
    found = (await session.execute(query.with_for_update(of=Task) if lock else query)).first()
    if found is None:
        raise NotFound("no such task")
    task, allowed = found
    if not allowed:
        raise Forbidden("this task belongs to another role or county")
    return task


async def claim(session: AsyncSession, task_id: str, identity: Identity) -> Task:
    task = await get_task(session, task_id, identity, lock=True)
    if task.status == "claimed" and task.claimed_by == identity.username:
        return task
    if task.status != "open":
        raise Conflict(f"the task is {task.status}" + (f" by {task.claimed_by}" if task.claimed_by else ""))
    await session.execute(update(Task).where(Task.id == task.id).values(status="claimed", claimed_by=identity.username))
    await session.refresh(task)
    return task


async def release(session: AsyncSession, task_id: str, identity: Identity) -> Task:
    task = await get_task(session, task_id, identity, lock=True)
    if task.status != "claimed" or task.claimed_by != identity.username:
        raise Conflict("only a task you have claimed can be released")
    await session.execute(update(Task).where(Task.id == task.id).values(status="open", claimed_by=None))
    await session.refresh(task)
    return task


async def decide(
    session: AsyncSession,
    temporal: Client,
    task_id: str,
    identity: Identity,
    decision: str,
    reason: str | None,
    values: dict[str, str],
) -> Task:
    """Send the decision to the workflow, whose validator is the authority; return the task as it is now."""
    task = await get_task(session, task_id, identity)
    if task.status in ("done", "cancelled"):
        raise Conflict(f"the task is already {task.status}")
    if task.status == "claimed" and task.claimed_by != identity.username:
        raise Conflict(f"the task is claimed by {task.claimed_by}")
    await session.commit()
    result: DecideResult = await procedures.send_decision(
        temporal,
        task.workflow_id,
        DecideInput(
            task_id=str(task.id),
            decision=decision,
            actor=procedures.actor_of(identity),
            reason=reason,
            values=values,
        ),
    )
    await session.refresh(task)
    assert result.task_id == str(task.id)
    return task
