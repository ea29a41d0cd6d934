"""Finance officers' tasks about money: a failed payment (correct the account or cancel it), a reconciliation
difference. They are rows of the shared inbox, settled on the payment pages rather than by a workflow's decision."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from subsidy.db.audit_chain import append_audit
from subsidy.db.models import Application, Task

PAYMENT_FAILED = "payment_failed"
RECONCILIATION_DIFFERENCE = "reconciliation_difference"
PAYMENT_STEPS = (PAYMENT_FAILED, RECONCILIATION_DIFFERENCE)
FINANCE_ROLE = "finance"


def task_county(funder: str, county: str) -> str | None:
    """A county's shares are its finance officers' tasks; the city's shares the city's (no county)."""
    return county if funder == "county" else None


async def open_payment_task(
    session: AsyncSession, application_id: uuid.UUID, step: str, funder: str, county: str, detail: dict[str, Any]
) -> uuid.UUID:
    """One open task per application, step and funder scope: a second failure joins the open one."""
    county = task_county(funder, county)
    open_one = await session.scalar(
        select(Task.id).where(
            Task.application_id == application_id,
            Task.step == step,
            Task.role == FINANCE_ROLE,
            Task.county.is_(None) if county is None else Task.county == county,
            Task.status.in_(("open", "claimed")),
        )
    )
    if open_one is not None:
        return open_one
    application = await session.get(Application, application_id)
    assert application is not None
    rounds = await session.scalar(
        select(func.coalesce(func.max(Task.round), 0)).where(Task.application_id == application_id, Task.step == step)
    )
    task = Task(
        id=uuid.uuid4(),
        application_id=application_id,
        workflow_id=application.workflow_id,
        program=application.program,
        step=step,
        round=int(rounds or 0) + 1,
        role=FINANCE_ROLE,
        county=county,
        status="open",
        summary="",
    )
    session.add(task)
    await session.flush()
    await append_audit(
        session,
        kind="task_created",
        actor="system",
        at=datetime.now(UTC),
        application_id=application_id,
        detail={"task_id": str(task.id), "step": step, "role": FINANCE_ROLE, "county": county, **detail},
    )
    return task.id


async def close_payment_tasks(
    session: AsyncSession, application_id: uuid.UUID, step: str, funder: str, county: str, actor: str, outcome: str
) -> None:
    scope = task_county(funder, county)
    await session.execute(
        update(Task)
        .where(
            Task.application_id == application_id,
            Task.step == step,
            Task.role == FINANCE_ROLE,
            Task.county.is_(None) if scope is None else Task.county == scope,
            Task.status.in_(("open", "claimed")),
        )
        .values(status="done", decided_by=actor, decision=outcome, closed_at=datetime.now(UTC))
    )
