"""What the finance pages read: the money of a caller's scope (what is due by period, the batches, a payment and its
attempts, the finance tasks, the recoveries). Reading only: every change goes through batches, failures,
reconciliation and recoveries.

The scope is the one the actions check (`scope.py`): a county's finance officer the county's shares of that county,
the city's finance officer the city's shares of every county; an auditor reads every one and acts on none.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import ColumnElement, and_, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from subsidy.api.errors import Forbidden, NotFound
from subsidy.api.security import Identity
from subsidy.db.models import Task
from subsidy.db.payment_models import Payment, PaymentBatch, PaymentLine, Recovery
from subsidy.payments.batches import BATCHABLE
from subsidy.payments.recoveries import SETTLERS
from subsidy.payments.scope import FINANCE, is_city_finance, require_scope
from subsidy.payments.tasks import PAYMENT_FAILED, PAYMENT_STEPS

READERS = ("auditor",)


@dataclass(frozen=True)
class FinanceScope:
    """Whose money: `funder` and `county` (None: every one); `acts` when the caller may build, approve, cancel."""

    funder: str | None
    county: str | None
    acts: bool

    def payments(self) -> ColumnElement[bool]:
        parts = [true()]
        if self.funder is not None:
            parts.append(Payment.funder == self.funder)
        if self.county is not None:
            parts.append(Payment.county == self.county)
        return and_(*parts)

    def batches(self) -> ColumnElement[bool]:
        parts = [true()]
        if self.funder is not None:
            parts.append(PaymentBatch.funder == self.funder)
        if self.county is not None:
            parts.append(PaymentBatch.county == self.county)
        return and_(*parts)

    def tasks(self) -> ColumnElement[bool]:
        """Finance tasks: a county's shares are its county's tasks, the city's shares are tasks without a county."""
        if self.funder is None:
            return Task.role == FINANCE
        if self.funder == "city":
            return and_(Task.role == FINANCE, Task.county.is_(None))
        return and_(Task.role == FINANCE, Task.county == self.county)


def finance_scope(identity: Identity) -> FinanceScope:
    """403 unless a finance officer (their scope) or an auditor (everything, reading only)."""
    if identity.has(FINANCE):
        if is_city_finance(identity):
            return FinanceScope("city", None, True)
        return FinanceScope("county", identity.county, True)
    if identity.has(*READERS):
        return FinanceScope(None, None, False)
    raise Forbidden("the finance pages are for finance officers and auditors")


@dataclass(frozen=True)
class DuePeriod:
    period: str
    payments: int
    total: Decimal


async def due_by_period(session: AsyncSession, scope: FinanceScope, county: str | None = None) -> list[DuePeriod]:
    """Payments of the scope that a batch would take (due, or corrected after a failure), by period."""
    query = (
        select(Payment.period, func.count(), func.sum(Payment.amount))
        .where(scope.payments(), Payment.status.in_(BATCHABLE))
        .group_by(Payment.period)
        .order_by(Payment.period)
    )
    if county is not None:
        query = query.where(Payment.county == county)
    return [DuePeriod(period, count, total) for period, count, total in await session.execute(query)]


async def scope_batches(session: AsyncSession, scope: FinanceScope, limit: int = 100) -> list[PaymentBatch]:
    rows = await session.scalars(
        select(PaymentBatch).where(scope.batches()).order_by(PaymentBatch.built_at.desc()).limit(limit)
    )
    return list(rows.all())


async def readable_batch(session: AsyncSession, identity: Identity, batch_id: str) -> PaymentBatch:
    """The batch, for a finance officer of its scope or an auditor; 404 when there is none."""
    scope = finance_scope(identity)
    try:
        key = uuid.UUID(batch_id)
    except ValueError:
        raise NotFound("no such payment batch") from None
    batch = await session.get(PaymentBatch, key)
    if batch is None:
        raise NotFound("no such payment batch")
    if scope.acts:
        require_scope(identity, batch.funder, batch.county)
    return batch


@dataclass(frozen=True)
class PaymentView:
    payment: Payment
    attempts: list[PaymentLine]


async def payment_by_reference(session: AsyncSession, identity: Identity, reference: str) -> PaymentView:
    """A payment by its current reference or by the reference of an earlier attempt, with every line it was sent
    under (oldest first)."""
    scope = finance_scope(identity)
    payment = await session.scalar(select(Payment).where(Payment.reference == reference))
    if payment is None:
        payment_id = await session.scalar(select(PaymentLine.payment_id).where(PaymentLine.reference == reference))
        payment = await session.get(Payment, payment_id) if payment_id is not None else None
    if payment is None:
        raise NotFound("no such payment")
    if scope.acts:
        require_scope(identity, payment.funder, payment.county)
    attempts = await session.scalars(
        select(PaymentLine)
        .join(PaymentBatch, PaymentBatch.id == PaymentLine.batch_id)
        .where(PaymentLine.payment_id == payment.id)
        .order_by(PaymentBatch.built_at, PaymentLine.reference)
    )
    return PaymentView(payment, list(attempts.all()))


async def application_payments(session: AsyncSession, scope: FinanceScope, application_id: uuid.UUID) -> list[Payment]:
    rows = await session.scalars(
        select(Payment)
        .where(scope.payments(), Payment.application_id == application_id)
        .order_by(Payment.period, Payment.funder)
    )
    return list(rows.all())


async def open_finance_tasks(session: AsyncSession, scope: FinanceScope, limit: int = 200) -> list[Task]:
    rows = await session.scalars(
        select(Task)
        .where(scope.tasks(), Task.step.in_(PAYMENT_STEPS), Task.status.in_(("open", "claimed")))
        .order_by(Task.created_at, Task.id)
        .limit(limit)
    )
    return list(rows.all())


async def failed_reference(session: AsyncSession, task: Task) -> str | None:
    """The failed payment a `payment_failed` task is about (its funder by the task's scope), if one still is."""
    if task.step != PAYMENT_FAILED:
        return None
    funder = "city" if task.county is None else "county"
    reference: str | None = await session.scalar(
        select(Payment.reference)
        .where(Payment.application_id == task.application_id, Payment.funder == funder, Payment.status == "failed")
        .order_by(Payment.period)
        .limit(1)
    )
    return reference


def recovery_county(identity: Identity) -> str | None:
    """The county whose recoveries the caller reads (None: every county); 403 for anyone else."""
    if identity.has(*SETTLERS):
        return identity.county
    if identity.has(*READERS):
        return None
    raise Forbidden("recoveries are for finance officers, the Disabled Persons' Federation and auditors")


async def scope_recoveries(session: AsyncSession, identity: Identity, status: str | None = "open") -> list[Recovery]:
    county = recovery_county(identity)
    query = select(Recovery)
    if county is not None:
        query = query.where(Recovery.county == county)
    if status is not None:
        query = query.where(Recovery.status == status)
    return list((await session.scalars(query.order_by(Recovery.created_at).limit(500))).all())


async def readable_recovery(session: AsyncSession, identity: Identity, recovery_id: str) -> Recovery:
    county = recovery_county(identity)
    try:
        key = uuid.UUID(recovery_id)
    except ValueError:
        raise NotFound("no such recovery") from None
    recovery = await session.get(Recovery, key)
    if recovery is None or (county is not None and recovery.county != county):
        raise NotFound("no such recovery")
    return recovery
