"""From obligation to payment: a month whose ledger rows are written is one `due` payment per funder, and its
schedule row shows where its payments stand."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import select, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from subsidy.db.models import LedgerEntry, ScheduledPayment
from subsidy.db.payment_models import Payment

FUNDER_CODES = {"city": "SJ", "county": "XJ"}  # 市级 / 县级 in the bank's reference


def payment_reference(application_id: uuid.UUID, period: str, funder: str, attempt: int) -> str:
    """Stable for one attempt at one payment, different for every attempt: `<16 hex>-<YYYYMM>-<SJ|XJ>-<attempt>`."""
    return f"{application_id.hex[:16].upper()}-{period.replace('-', '')}-{FUNDER_CODES[funder]}-{attempt}"


async def record_due(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """The payments of one posted month, from its ledger rows (several items of a funder are one payment); a
    retried posting adds nothing. A share of 0.00 pays nothing and is no payment."""
    totals: dict[tuple[uuid.UUID, str, str], dict[str, Any]] = {}
    for row in rows:
        key = (row["application_id"], row["period"], row["funder"])
        entry = totals.setdefault(key, {"program": row["program"], "county": row["county"], "amount": Decimal("0")})
        entry["amount"] += Decimal(row["amount"])
    payments = [
        {
            "id": uuid.uuid4(),
            "reference": payment_reference(application_id, period, funder, 1),
            "attempt": 1,
            "application_id": application_id,
            "program": entry["program"],
            "county": entry["county"],
            "period": period,
            "funder": funder,
            "amount": entry["amount"],
            "status": "due",
        }
        for (application_id, period, funder), entry in totals.items()
        if entry["amount"] > 0
    ]
    if payments:
        await session.execute(_RECORD_DUE, payments)


_RECORD_DUE = insert(Payment.__table__).on_conflict_do_nothing(constraint="one_payment_per_funder_period")

# The month shows its least advanced payment: one share failed is a failed month until it is paid.
_MONTH_ORDER = ("failed", "corrected", "due", "batched", "sent", "paid")


def month_status(statuses: Iterable[str]) -> str:
    live = [status for status in statuses if status != "cancelled"]
    if not live:
        return "cancelled"
    return min(live, key=_MONTH_ORDER.index)


async def refresh_months(session: AsyncSession, months: Iterable[tuple[uuid.UUID, str]]) -> None:
    """Set each (application, period)'s schedule status from its payments, after they moved."""
    wanted = sorted(set(months))
    if not wanted:
        return
    found: dict[tuple[uuid.UUID, str], list[str]] = {}
    for application_id, period, status in await session.execute(
        select(Payment.application_id, Payment.period, Payment.status).where(
            tuple_(Payment.application_id, Payment.period).in_(wanted)
        )
    ):
        found.setdefault((application_id, period), []).append(status)
    for (application_id, period), statuses in found.items():
        await session.execute(
            update(ScheduledPayment)
            .where(ScheduledPayment.application_id == application_id, ScheduledPayment.period == period)
            .values(status=month_status(statuses))
        )


async def post_negative(session: AsyncSession, payment: Payment, item: str) -> None:
    """A negative ledger row for a payment that will not be (`reversal`) or should not have been (`recovery`) paid;
    one per payment and item, so a repeat adds nothing."""
    await session.execute(
        insert(LedgerEntry.__table__)
        .values(
            idempotency_key=f"{payment.application_id}:{payment.period}:{payment.funder}:{item}",
            application_id=payment.application_id,
            period=payment.period,
            funder=payment.funder,
            item=item,
            county=payment.county,
            program=payment.program,
            amount=-payment.amount,
        )
        .on_conflict_do_nothing()
    )
