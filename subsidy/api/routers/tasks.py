from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from sqlalchemy import func, select, update

from subsidy.api import procedures
from subsidy.api.deps import CurrentUser, PageDep, ResourcesDep, SessionDep
from subsidy.api.errors import Conflict, Forbidden, NotFound
from subsidy.api.read_model import application_out, task_out, task_scope
from subsidy.api.schemas import DecisionIn, DecisionOutcome, TaskOut
from subsidy.api.security import Identity
from subsidy.db.models import Application, Task
from subsidy.workflows.contracts import DecideInput

router = APIRouter(prefix="/api/v1/tasks", tags=["tasks"])


async def _task(db: SessionDep, task_id: str, identity: Identity, *, lock: bool = False) -> Task:
    """The task, if the caller's roles and county may act on it: 404 if there is none, 403 if it is not theirs."""
    try:
        key = uuid.UUID(task_id)
    except ValueError:
        raise NotFound("no such task") from None
    query = select(Task, task_scope(identity)).where(Task.id == key)
    found = (await db.execute(query.with_for_update(of=Task) if lock else query)).first()
    if found is None:
        raise NotFound("no such task")
    task, allowed = found
    if not allowed:
        raise Forbidden("this task belongs to another role or county")
    return task


@router.get("", response_model=list[TaskOut])
async def list_tasks(
    identity: CurrentUser,
    db: SessionDep,
    response: Response,
    paging: PageDep,
    status: Literal["open", "claimed", "done"] | None = None,
    program: Annotated[str | None, Query(max_length=48)] = None,
    application_id: uuid.UUID | None = None,
) -> list[TaskOut]:
    """The caller's inbox: tasks of their roles and county, oldest due first (open and claimed by default)."""
    query = select(Task).where(task_scope(identity))
    query = query.where(Task.status == status) if status else query.where(Task.status.in_(("open", "claimed")))
    if program:
        query = query.where(Task.program == program)
    if application_id:
        query = query.where(Task.application_id == application_id)
    total = await db.scalar(select(func.count()).select_from(query.subquery()))
    response.headers["X-Total-Count"] = str(total or 0)
    tasks = (
        await db.scalars(
            query.order_by(Task.due_at.asc().nulls_last(), Task.created_at, Task.id)
            .limit(paging.limit)
            .offset(paging.offset)
        )
    ).all()
    return [task_out(task) for task in tasks]


@router.post("/{task_id}/claim", response_model=TaskOut)
async def claim(task_id: str, identity: CurrentUser, db: SessionDep) -> TaskOut:
    task = await _task(db, task_id, identity, lock=True)
    if task.status == "claimed" and task.claimed_by == identity.username:
        return task_out(task)
    if task.status != "open":
        raise Conflict(f"the task is {task.status}" + (f" by {task.claimed_by}" if task.claimed_by else ""))
    await db.execute(update(Task).where(Task.id == task.id).values(status="claimed", claimed_by=identity.username))
    await db.refresh(task)
    return task_out(task)


@router.post("/{task_id}/release", response_model=TaskOut)
async def release(task_id: str, identity: CurrentUser, db: SessionDep) -> TaskOut:
    task = await _task(db, task_id, identity, lock=True)
    if task.status != "claimed" or task.claimed_by != identity.username:
        raise Conflict("only a task you have claimed can be released")
    await db.execute(update(Task).where(Task.id == task.id).values(status="open", claimed_by=None))
    await db.refresh(task)
    return task_out(task)


@router.post("/{task_id}/decision", response_model=DecisionOutcome)
async def decide(
    task_id: str, body: DecisionIn, identity: CurrentUser, db: SessionDep, res: ResourcesDep
) -> DecisionOutcome:
    task = await _task(db, task_id, identity)
    if task.status in ("done", "cancelled"):
        raise Conflict(f"the task is already {task.status}")
    if task.status == "claimed" and task.claimed_by != identity.username:
        raise Conflict(f"the task is claimed by {task.claimed_by}")
    await db.commit()
    await procedures.send_decision(
        res.temporal,
        task.workflow_id,
        DecideInput(
            task_id=str(task.id),
            decision=body.decision,
            actor=procedures.actor_of(identity),
            reason=body.reason,
            values=body.values,
        ),
    )
    await db.refresh(task)
    application = await db.get(Application, task.application_id)
    assert application is not None
    await db.refresh(application)
    return DecisionOutcome(task=task_out(task), application=await application_out(db, application))
