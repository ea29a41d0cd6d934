"""The money rows every program writes the same way: a planned schedule, and one month's ledger postings.

Both insert their rows as a parameter list, not `.values([...])`: a multi-VALUES statement has no cache key, so
SQLAlchemy would compile it anew for every decision and every month paid (bench/ profile of the worker).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any, Protocol

from sqlalchemy import bindparam, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from subsidy.db.models import LedgerEntry, ScheduledPayment
from subsidy.payments.obligations import record_due


class PlannedMonth(Protocol):
    @property
    def period(self) -> str: ...
    @property
    def start(self) -> Any: ...
    @property
    def end(self) -> Any: ...
    @property
    def amount(self) -> Decimal: ...
    @property
    def city_share(self) -> Decimal: ...
    @property
    def county_share(self) -> Decimal: ...


async def plan_schedule(session: AsyncSession, application_id: uuid.UUID, months: Iterable[PlannedMonth]) -> None:
    """The months to pay, `planned`; a retried activity adds nothing (one row per application and period)."""
    rows = [
        {
            "application_id": application_id,
            "period": m.period,
            "period_start": m.start,
            "period_end": m.end,
            "amount": m.amount,
            "city_share": m.city_share,
            "county_share": m.county_share,
            "status": "planned",
        }
        for m in months
    ]
    if rows:
        await session.execute(_PLAN, rows)


async def post_month(
    session: AsyncSession, application_id: uuid.UUID, period: str, rows: Sequence[dict[str, Any]]
) -> int:
    """The month's ledger rows (each with its idempotency key), its payments and the month marked due (the bank has
    not paid it yet: subsidy/payments/); returns how many rows were posted now: 0 when a retry finds them all."""
    result = await session.execute(_POST, rows)
    posted = len(result.all())
    await record_due(session, rows)
    await session.execute(_MARK_DUE, {"due_application": application_id, "due_period": period})
    return posted


# On the tables, not the mapped classes: the ORM's bulk insert and update paths cost more than the statements for rows
# nobody reads back (7 % of the worker's samples with 14 months paid at approval; bench/, py-spy).
_SCHEDULE = ScheduledPayment.__table__
_LEDGER = LedgerEntry.__table__
_PLAN = insert(_SCHEDULE).on_conflict_do_nothing()
_POST = insert(_LEDGER).on_conflict_do_nothing().returning(_LEDGER.c.id)
_MARK_DUE = (
    update(_SCHEDULE)
    .where(
        _SCHEDULE.c.application_id == bindparam("due_application"),
        _SCHEDULE.c.period == bindparam("due_period"),
        _SCHEDULE.c.status == "planned",
    )
    .values(status="due")
)
