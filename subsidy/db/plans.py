"""The plans (`subsidy.policy.plans`) stored, and the status of each of their actions as officials track it."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import CheckConstraint, Date, DateTime, ForeignKey, Integer, String, Text, func, select
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from subsidy.db.audit_chain import append_audit
from subsidy.db.models import Base
from subsidy.policy.plans import ACTION_STATUSES, Plan, plan_from_data, shipped_plans


class PlanRow(Base):
    __tablename__ = "plans"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    jurisdiction: Mapped[str] = mapped_column(String(6))
    period_from: Mapped[date] = mapped_column(Date)
    period_to: Mapped[date] = mapped_column(Date)
    # The plan as its file states it (targets, actions, source...), read back with `plan_from_data`.
    data: Mapped[dict[str, Any]] = mapped_column(JSONB)
    loaded_by: Mapped[str] = mapped_column(String(64))
    loaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class PlanActionStatus(Base):
    """Where an action of a plan stands, as a City DPF official last set it (each change is in the audit log)."""

    __tablename__ = "plan_action_statuses"

    plan_code: Mapped[str] = mapped_column(ForeignKey("plans.code"), primary_key=True)
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    updated_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (CheckConstraint("status IN ('not_started', 'in_progress', 'done')", name="known_status"),)


def _plan_data(plan: Plan) -> dict[str, Any]:
    data = asdict(plan)
    data["period_from"] = plan.period_from.isoformat()
    data["period_to"] = plan.period_to.isoformat()
    return data


async def store_plan(session: AsyncSession, plan: Plan, *, loaded_by: str) -> bool:
    inserted = await session.scalar(
        insert(PlanRow)
        .values(
            code=plan.code,
            jurisdiction=plan.jurisdiction,
            period_from=plan.period_from,
            period_to=plan.period_to,
            data=_plan_data(plan),
            loaded_by=loaded_by,
        )
        .on_conflict_do_nothing()
        .returning(PlanRow.code)
    )
    if inserted is None:
        return False
    await append_audit(
        session,
        kind="plan_loaded",
        actor=loaded_by,
        at=datetime.now(UTC),
        detail={"code": plan.code, "jurisdiction": plan.jurisdiction, "source": plan.source},
    )
    return True


async def seed_plans(session: AsyncSession) -> None:
    for plan in shipped_plans():
        await store_plan(session, plan, loaded_by="system")


async def stored_plans(session: AsyncSession) -> list[Plan]:
    rows = await session.scalars(select(PlanRow).order_by(PlanRow.period_from, PlanRow.code))
    return [plan_from_data(row.data) for row in rows]


async def action_statuses(session: AsyncSession, plan_code: str) -> dict[int, PlanActionStatus]:
    rows = await session.scalars(select(PlanActionStatus).where(PlanActionStatus.plan_code == plan_code))
    return {row.number: row for row in rows}


async def set_action_status(
    session: AsyncSession, plan_code: str, number: int, status: str, note: str, *, actor: str
) -> PlanActionStatus:
    if status not in ACTION_STATUSES:
        raise ValueError(f"status: one of {', '.join(ACTION_STATUSES)}")
    now = datetime.now(UTC)
    row = (
        await session.execute(
            insert(PlanActionStatus)
            .values(plan_code=plan_code, number=number, status=status, note=note, updated_by=actor, updated_at=now)
            .on_conflict_do_update(
                index_elements=[PlanActionStatus.plan_code, PlanActionStatus.number],
                set_={"status": status, "note": note, "updated_by": actor, "updated_at": now},
            )
            .returning(PlanActionStatus)
        )
    ).scalar_one()
    await append_audit(
        session,
        kind="plan_action_updated",
        actor=actor,
        at=now,
        detail={"plan": plan_code, "action": number, "status": status, "note": note},
    )
    return row
