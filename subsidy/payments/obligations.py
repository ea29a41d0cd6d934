"""From obligation to payment: a month whose ledger rows are written is one `due` payment per funder, and its
schedule row shows where its payments stand."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from subsidy.db.models import LedgerEntry
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
    """Set each (application, period)'s schedule status from its payments, after they moved: one statement for a
    whole batch (a county's batch has thousands of lines)."""
    wanted = sorted(set(months))
    if not wanted:
        return
    await session.execute(
        _REFRESH_MONTHS,
        {"applications": [application_id for application_id, _ in wanted], "periods": [p for _, p in wanted]},
    )


# `month_status` in SQL: cancelled only when every payment is; else the least advanced of the others.
_REFRESH_MONTHS = text(
    f"""
    UPDATE schedule AS s SET status = m.status
    FROM (
        SELECT p.application_id, p.period,
               coalesce(
                   (array_agg(p.status ORDER BY array_position(ARRAY{list(_MONTH_ORDER)!r}::text[], p.status::text))
                       FILTER (WHERE p.status <> 'cancelled'))[1],
                   'cancelled'
               ) AS status
        FROM payments AS p
        JOIN unnest(CAST(:applications AS uuid[]), CAST(:periods AS text[])) AS w(application_id, period)
          ON w.application_id = p.application_id AND w.period = p.period
        GROUP BY p.application_id, p.period
    ) AS m
    WHERE s.application_id = m.application_id AND s.period = m.period AND s.status <> m.status
    """
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
