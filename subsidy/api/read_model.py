"""Reads of the read model, scoped to the caller: the one place that decides who sees what."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, false, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from subsidy.api.errors import NotFound
from subsidy.api.schemas import (
    ApplicationOut,
    ApplicationSummary,
    DecisionOut,
    Eligibility,
    ScheduleRow,
    TaskOut,
    Totals,
)
from subsidy.api.security import Identity
from subsidy.db.models import Application, Decision, LedgerEntry, Person, ScheduledPayment, Task
from subsidy.db.payment_models import Payment

CITY_WIDE_ROLES = ("city_dpf", "region_hr", "auditor", "admin")
COUNTY_ROLES = ("county_dpf", "county_hr")
ZERO = Decimal("0.00")


def mask_id_number(id_number: str) -> str:
    """Region and the last four characters only: enough to tell two people apart on a screen, not to misuse."""
    return f"{id_number[:6]}********{id_number[-4:]}" if len(id_number) == 18 else "******"


def mask_name(name: str) -> str:
    return name[0] + "*" * (len(name) - 1) if name else ""


def application_scope(identity: Identity) -> ColumnElement[bool]:
    if identity.has(*CITY_WIDE_ROLES):
        return true()
    own = Application.submitted_by == identity.username
    if identity.has(*COUNTY_ROLES, "finance") and identity.county:
        return or_(own, Application.county == identity.county)
    if identity.has("finance"):
        return true()  # the city's finance officer pays the city's share of every county
    return own


def task_scope_parts(identity: Identity) -> list[ColumnElement[bool]]:
    """`task_scope` as disjoint parts, city-wide tasks and the caller's county: each part is one range of the inbox
    index (role, county, ...), which the inbox reads part by part (an OR of the two cannot be read in order)."""
    if not identity.roles:
        return []
    role = Task.role.in_(identity.roles)
    # A county's finance officer handles the county's shares; the city's (finance, no county) the city's.
    city_roles = [r for r in identity.roles if not (r == "finance" and identity.county is not None)]
    parts = [Task.role.in_(city_roles) & Task.county.is_(None)] if city_roles else []
    if identity.county is not None:
        parts.append(role & (Task.county == identity.county))
    return parts


def task_scope(identity: Identity) -> ColumnElement[bool]:
    """Tasks the caller's roles may act on: their role, and their county unless the task is city-wide."""
    parts = task_scope_parts(identity)
    return or_(*parts) if parts else false()


def task_out(task: Task) -> TaskOut:
    return TaskOut(
        id=str(task.id),
        application_id=str(task.application_id),
        program=task.program,
        step=task.step,
        role=task.role,
        county=task.county,
        status=task.status,
        overdue=task.overdue,
        claimed_by=task.claimed_by,
        created_at=task.created_at,
        due_at=task.due_at,
        due_is_estimate=task.due_is_estimate,
        summary=task.summary,
    )


def _person_view(person: Person | None, *, full: bool) -> dict[str, str]:
    if person is None:
        return {}
    if full:
        return {"name": person.name, "id_number": mask_id_number(person.id_number)}
    return {"name": mask_name(person.name), "id_number": mask_id_number(person.id_number)}


def summary_out(application: Application, person: Person | None) -> ApplicationSummary:
    return ApplicationSummary(
        id=str(application.id),
        program=application.program,
        status=application.status,
        county=application.county,
        policy_version=application.policy_version,
        submitted_at=application.submitted_at,
        submitted_by=application.submitted_by,
        applicant=_person_view(person, full=False),
    )


async def get_visible_application(session: AsyncSession, application_id: str, identity: Identity) -> Application:
    try:
        key = uuid.UUID(application_id)
    except ValueError:
        raise NotFound("no such application") from None
    found = await session.scalar(select(Application).where(Application.id == key, application_scope(identity)))
    if found is None:
        # 404 also when it exists but is not the caller's: existence itself must not leak.
        raise NotFound("no such application")
    return found


async def application_out(session: AsyncSession, application: Application) -> ApplicationOut:
    person = await session.get(Person, application.person_id) if application.person_id else None
    decisions = (
        await session.scalars(
            select(Decision).where(Decision.application_id == application.id).order_by(Decision.decided_at, Decision.id)
        )
    ).all()
    months = (
        await session.scalars(
            select(ScheduledPayment)
            .where(ScheduledPayment.application_id == application.id)
            .order_by(ScheduledPayment.period_start)
        )
    ).all()
    ledger = (await session.scalars(select(LedgerEntry).where(LedgerEntry.application_id == application.id))).all()
    payments = (await session.scalars(select(Payment).where(Payment.application_id == application.id))).all()
    city = sum((row.amount for row in ledger if row.funder == "city"), ZERO)
    county = sum((row.amount for row in ledger if row.funder == "county"), ZERO)
    eligibility: dict[str, Any] | None = application.eligibility
    return ApplicationOut(
        id=str(application.id),
        program=application.program,
        status=application.status,
        county=application.county,
        policy_version=application.policy_version,
        submitted_at=application.submitted_at,
        submitted_by=application.submitted_by,
        applicant=_person_view(person, full=True),
        eligibility=Eligibility(eligible=eligibility["eligible"], reasons=eligibility["reasons"])
        if eligibility
        else None,
        decisions=[
            DecisionOut(step=d.step, decision=d.decision, by=d.decided_by, at=d.decided_at, reason=d.reason)
            for d in decisions
        ],
        schedule=[
            ScheduleRow(
                period=m.period,
                start=m.period_start,
                end=m.period_end,
                amount=m.amount,
                city_share=m.city_share,
                county_share=m.county_share,
                status=m.status,
            )
            for m in months
        ],
        totals=Totals(
            paid=sum((p.amount for p in payments if p.status == "paid"), ZERO),
            due=city + county,
            city=city,
            county=county,
            planned=sum((m.amount for m in months if m.status == "planned"), ZERO),
            cancelled=sum((m.amount for m in months if m.status == "cancelled"), ZERO),
        ),
    )
