"""Reconciliation: for a period, county and funder, due = batched = sent = paid + failed once the bank has answered,
and the records agree with each other. `difference` is the money on which they do not: the ledger's obligations
against the payments, each batch's total against its lines, and each bank answer against its payment. It is 0.00
whatever is still in progress; anything else is a blocking task for the finance officer."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from subsidy.db.models import Application, LedgerEntry, Task
from subsidy.db.payment_models import Payment, PaymentBatch, PaymentLine
from subsidy.payments.tasks import RECONCILIATION_DIFFERENCE, close_payment_tasks, open_payment_task

ZERO = Decimal("0.00")
IN_BATCH = ("batched", "sent", "paid", "failed")
SENT = ("sent", "paid", "failed")


@dataclass
class Reconciliation:
    due: Decimal = ZERO
    batched: Decimal = ZERO
    sent: Decimal = ZERO
    paid: Decimal = ZERO
    failed: Decimal = ZERO
    not_batched: Decimal = ZERO
    awaiting_bank: Decimal = ZERO
    difference: Decimal = ZERO
    # Where the records disagree: {"kind", "application_id", "reference"?, "amount"}.
    differences: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        money = ("due", "batched", "sent", "paid", "failed", "not_batched", "awaiting_bank", "difference")
        return {**{name: f"{getattr(self, name):.2f}" for name in money}, "differences": self.differences}


def _scope(columns: Any, period: str | None, county: str | None, funder: str | None) -> ColumnElement[bool]:
    parts = [true()]
    if period is not None:
        parts.append(columns.period == period)
    if county is not None:
        parts.append(columns.county == county)
    if funder is not None:
        parts.append(columns.funder == funder)
    return and_(*parts)


async def reconcile(
    session: AsyncSession, *, period: str | None = None, county: str | None = None, funder: str | None = None
) -> Reconciliation:
    out = Reconciliation()
    totals = await session.execute(
        select(Payment.status, func.sum(Payment.amount))
        .where(_scope(Payment, period, county, funder))
        .group_by(Payment.status)
    )
    by_status = {status: amount for status, amount in totals}
    live = {status: amount for status, amount in by_status.items() if status != "cancelled"}
    out.due = sum(live.values(), ZERO)
    out.batched = sum((live.get(s, ZERO) for s in IN_BATCH), ZERO)
    out.sent = sum((live.get(s, ZERO) for s in SENT), ZERO)
    out.paid = live.get("paid", ZERO)
    out.failed = live.get("failed", ZERO)
    out.not_batched = out.due - out.batched
    out.awaiting_bank = out.sent - out.paid - out.failed

    # The ledger's obligations (recoveries aside) against the payments they became, application by application.
    ledger = dict(
        (
            (application_id, p, f),
            amount,
        )
        for application_id, p, f, amount in await session.execute(
            select(LedgerEntry.application_id, LedgerEntry.period, LedgerEntry.funder, func.sum(LedgerEntry.amount))
            .where(_scope(LedgerEntry, period, county, funder), LedgerEntry.item.not_in(("recovery", "reversal")))
            .group_by(LedgerEntry.application_id, LedgerEntry.period, LedgerEntry.funder)
            .having(func.sum(LedgerEntry.amount) > 0)
        )
    )
    payments = {
        (application_id, p, f): (amount, reference)
        for application_id, p, f, amount, reference in await session.execute(
            select(Payment.application_id, Payment.period, Payment.funder, Payment.amount, Payment.reference).where(
                _scope(Payment, period, county, funder)
            )
        )
    }
    for key in sorted(set(ledger) | set(payments), key=str):
        owed = ledger.get(key, ZERO)
        amount, reference = payments.get(key, (ZERO, None))
        if owed != amount:
            out.differences.append(
                {
                    "kind": "ledger_payment",
                    "application_id": str(key[0]),
                    "period": key[1],
                    "funder": key[2],
                    "reference": reference,
                    "amount": f"{owed - amount:.2f}",
                }
            )

    # Each bank answer against its payment, and each line against the payment it was built from.
    lines = await session.execute(
        select(PaymentLine, Payment)
        .join(Payment, Payment.id == PaymentLine.payment_id)
        .where(_scope(Payment, period, county, funder))
    )
    for line, payment in lines:
        wrong = line.amount != payment.amount or (
            line.result == "paid" and (payment.status != "paid" or payment.reference != line.reference)
        )
        if wrong:
            out.differences.append(
                {
                    "kind": "bank_line_payment",
                    "application_id": str(line.application_id),
                    "period": line.period,
                    "funder": payment.funder,
                    "reference": line.reference,
                    "amount": f"{line.amount - (payment.amount if payment.status == 'paid' else ZERO):.2f}",
                }
            )

    # Each batch's total against its lines.
    batches = await session.execute(
        select(PaymentBatch.id, PaymentBatch.total, func.coalesce(func.sum(PaymentLine.amount), 0))
        .join(PaymentLine, PaymentLine.batch_id == PaymentBatch.id, isouter=True)
        .where(
            True if county is None else PaymentBatch.county == county,
            True if funder is None else PaymentBatch.funder == funder,
        )
        .group_by(PaymentBatch.id, PaymentBatch.total)
    )
    if period is None:
        for batch_id, total, lines_total in batches:
            if total != lines_total:
                out.differences.append(
                    {"kind": "batch_total", "batch_id": str(batch_id), "amount": f"{total - lines_total:.2f}"}
                )
    out.difference = sum((abs(Decimal(d["amount"])) for d in out.differences), ZERO)
    return out


def applications_with_differences(result: Reconciliation) -> list[uuid.UUID]:
    return sorted({uuid.UUID(d["application_id"]) for d in result.differences if "application_id" in d})


async def check_scope(session: AsyncSession, funder: str, county: str) -> Reconciliation:
    """Reconcile one funder and county; each application where the records disagree gets a blocking task for the
    finance officer, and one whose records agree again has its task closed."""
    result = await reconcile(session, county=county, funder=funder)
    differing = set(applications_with_differences(result))
    for application_id in differing:
        await open_payment_task(
            session,
            application_id,
            RECONCILIATION_DIFFERENCE,
            funder,
            county,
            {"differences": [d for d in result.differences if d.get("application_id") == str(application_id)]},
        )
    open_tasks = await session.scalars(
        select(Task.application_id)
        .join(Application, Application.id == Task.application_id)
        .where(
            Application.county == county,
            Task.step == RECONCILIATION_DIFFERENCE,
            Task.status.in_(("open", "claimed")),
            Task.county.is_(None) if funder == "city" else Task.county == county,
        )
    )
    for application_id in set(open_tasks.all()) - differing:
        await close_payment_tasks(
            session, application_id, RECONCILIATION_DIFFERENCE, funder, county, "system", "approve"
        )
    return result
