from __future__ import annotations

import uuid
from typing import Literal

from fastapi import APIRouter, Response

from subsidy.api import inbox
from subsidy.api.deps import CodeQuery, CurrentUser, PageDep, ResourcesDep, SessionDep, TaskIdPath
from subsidy.api.errors import documented
from subsidy.api.read_model import application_out, task_out
from subsidy.api.schemas import DecisionIn, DecisionOutcome, TaskOut
from subsidy.db.models import Application

router = APIRouter(prefix="/api/v1/tasks", tags=["tasks"], responses=documented(400, 401, 403, 404, 409, 413, 503))


@router.get("", response_model=list[TaskOut])
async def list_tasks(
    identity: CurrentUser,
    db: SessionDep,
    response: Response,
    paging: PageDep,
    status: Literal["open", "claimed", "done"] | None = None,
    program: CodeQuery = None,
    application_id: uuid.UUID | None = None,
) -> list[TaskOut]:
    """The caller's inbox: tasks of their roles and county, oldest due first (open and claimed by default)."""
    tasks, total = await inbox.list_inbox(
        db, identity, inbox.InboxFilter(status, program, application_id), paging.limit, paging.offset
    )
    response.headers["X-Total-Count"] = str(total)
    return [task_out(task) for task in tasks]


@router.post("/{task_id}/claim", response_model=TaskOut)
async def claim(task_id: TaskIdPath, identity: CurrentUser, db: SessionDep) -> TaskOut:
    return task_out(await inbox.claim(db, task_id, identity))


@router.post("/{task_id}/release", response_model=TaskOut)
async def release(task_id: TaskIdPath, identity: CurrentUser, db: SessionDep) -> TaskOut:
    return task_out(await inbox.release(db, task_id, identity))


@router.post("/{task_id}/decision", response_model=DecisionOutcome)
async def decide(
    task_id: TaskIdPath, body: DecisionIn, identity: CurrentUser, db: SessionDep, res: ResourcesDep
) -> DecisionOutcome:
    values = body.values.model_dump(exclude_none=True)
    task = await inbox.decide(db, res.temporal, task_id, identity, body.decision, body.reason, values)
    application = await db.get(Application, task.application_id)
    assert application is not None
    await db.refresh(application)
    return DecisionOutcome(task=task_out(task), application=await application_out(db, application))
