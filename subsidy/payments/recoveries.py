"""Recovery: an event reported late (a business closed, a lease or an employment ended, dated in the past) means the
periods that had not ended by its date should not have been paid. Those not yet sent are cancelled (a `reversal` row);
those in a batch, sent or paid are owed back (a `recovery` row each, negative), shown to the person. A recovery
ends repaid (the finance officer records it), offset against later payments due to the same person, or written off
by two officials with their reasons."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from subsidy.api.errors import Conflict, Forbidden, Invalid, NotFound
from subsidy.api.security import Identity
from subsidy.db.audit_chain import append_audit
from subsidy.db.models import Application, ScheduledPayment
from subsidy.db.payment_models import Payment, Recovery
from subsidy.payments.obligations import post_negative, refresh_months

ZERO = Decimal("0.00")
NOT_SENT = ("due", "corrected", "failed")
MONEY_OUT = ("batched", "sent", "paid")
# Who settles a recovery: the finance officers, and the County DPF that decided the application.
SETTLERS = ("finance", "county_dpf", "city_dpf")


def _now() -> datetime:
    return datetime.now(UTC)


async def recover_after(
    session: AsyncSession, application_id: uuid.UUID, event: str, event_date: date, actor: str
) -> Recovery | None:
    """Cancel or recover the application's payments of periods that had not ended by `event_date`: a period is owed
    only when the business, lease or employment lasted to its end, as a stop reported on time cancels the period in
    progress. Idempotent (one recovery per application)."""
    existing = await session.scalar(select(Recovery).where(Recovery.application_id == application_id))
    if existing is not None:
        return existing
    rows = (
        (
            await session.execute(
                select(Payment)
                .join(
                    ScheduledPayment,
                    (ScheduledPayment.application_id == Payment.application_id)
                    & (ScheduledPayment.period == Payment.period),
                )
                .where(Payment.application_id == application_id, ScheduledPayment.period_end > event_date)
                .order_by(Payment.period, Payment.funder)
                .with_for_update(of=Payment)
            )
        )
        .scalars()
        .all()
    )
    now = _now()
    cancelled: list[Payment] = []
    recovered: list[Payment] = []
    for payment in rows:
        if payment.status in NOT_SENT:
            payment.status = "cancelled"
            payment.batch_id = None
            payment.cancel_reason = f"{event} on {event_date.isoformat()}"
            payment.cancelled_by = actor
            payment.updated_at = now
            await post_negative(session, payment, "reversal")
            cancelled.append(payment)
        elif payment.status in MONEY_OUT:
            await post_negative(session, payment, "recovery")
            recovered.append(payment)
    await session.flush()
    await refresh_months(session, [(p.application_id, p.period) for p in cancelled])
    if not recovered:
        return None
    application = await session.get(Application, application_id)
    assert application is not None
    city = sum((p.amount for p in recovered if p.funder == "city"), ZERO)
    county = sum((p.amount for p in recovered if p.funder == "county"), ZERO)
    recovery = Recovery(
        id=uuid.uuid4(),
        application_id=application_id,
        person_id=application.person_id,
        program=application.program,
        county=application.county,
        event=event,
        event_date=event_date,
        months=[
            {"period": p.period, "funder": p.funder, "amount": f"{p.amount:.2f}", "reference": p.reference}
            for p in recovered
        ],
        amount=city + county,
        city_amount=city,
        county_amount=county,
        outstanding=city + county,
        status="open",
        created_at=now,
    )
    session.add(recovery)
    await session.flush()
    await append_audit(
        session,
        kind="recovery_created",
        actor=actor,
        at=now,
        application_id=application_id,
        detail={
            "recovery_id": str(recovery.id),
            "event": event,
            "event_date": event_date.isoformat(),
            "periods": sorted({p.period for p in recovered}),
            "amount": f"{recovery.amount:.2f}",
            "city": f"{city:.2f}",
            "county": f"{county:.2f}",
            "cancelled_not_sent": [p.reference for p in cancelled],
        },
    )
    return recovery


async def unpaid_after_all(session: AsyncSession, payment: Payment, actor: str) -> bool:
    """A payment recovered while it was with the bank, which the bank then did not pay: nobody owes it back, and it is
    not paid again (the month is not owed). Its ledger rows, obligation and recovery, already net to nothing."""
    recovery = await session.scalar(
        select(Recovery).where(Recovery.application_id == payment.application_id).with_for_update()
    )
    if recovery is None:
        return False
    months = [dict(m) for m in recovery.months or []]
    entry = next((m for m in months if m.get("reference") == payment.reference and not m.get("not_paid")), None)
    if entry is None:
        return False
    entry["not_paid"] = "the bank did not pay it"
    recovery.months = months
    recovery.amount -= payment.amount
    if payment.funder == "city":
        recovery.city_amount -= payment.amount
    else:
        recovery.county_amount -= payment.amount
    recovery.outstanding = max(ZERO, min(recovery.outstanding - payment.amount, recovery.amount))
    now = _now()
    if recovery.status == "open" and recovery.outstanding == ZERO:
        recovery.status, recovery.settled_by, recovery.settled_at = "offset", "system", now
        recovery.settlement_note = "the bank did not pay the months recovered"
    payment.status = "cancelled"
    payment.cancel_reason = f"recovered: {recovery.event} on {recovery.event_date.isoformat()}"
    payment.cancelled_by = actor
    await append_audit(
        session,
        kind="recovery_reduced",
        actor=actor,
        at=now,
        application_id=payment.application_id,
        detail={"recovery_id": str(recovery.id), "reference": payment.reference, "amount": f"{payment.amount:.2f}"},
    )
    return True


async def get_recovery(session: AsyncSession, identity: Identity, recovery_id: str) -> Recovery:
    try:
        key = uuid.UUID(recovery_id)
    except ValueError:
        raise NotFound("no such recovery") from None
    recovery = await session.get(Recovery, key, with_for_update=True)
    if recovery is None:
        raise NotFound("no such recovery")
    if not identity.has(*SETTLERS):
        raise Forbidden("recoveries are settled by finance officers and the Disabled Persons' Federation")
    if identity.county is not None and identity.county != recovery.county:
        raise Forbidden("this recovery belongs to another county")
    return recovery


def _open(recovery: Recovery) -> None:
    if recovery.status != "open":
        raise Conflict(f"the recovery is already {recovery.status}")


def _note(note: str, field: str = "note") -> str:
    note = note.strip()
    if not note:
        raise Invalid(field, "say what happened (the receipt, the reason)", "reason_required")
    return note[:1000]


async def record_repaid(session: AsyncSession, identity: Identity, recovery_id: str, note: str) -> Recovery:
    recovery = await get_recovery(session, identity, recovery_id)
    _open(recovery)
    now = _now()
    recovery.status, recovery.outstanding = "repaid", ZERO
    recovery.settled_by, recovery.settled_at, recovery.settlement_note = identity.username, now, _note(note)
    await append_audit(
        session,
        kind="recovery_repaid",
        actor=identity.username,
        at=now,
        application_id=recovery.application_id,
        detail={"recovery_id": str(recovery.id), "amount": f"{recovery.amount:.2f}", "note": recovery.settlement_note},
    )
    return recovery


async def offset_against_later(session: AsyncSession, identity: Identity, recovery_id: str) -> Recovery:
    """Later payments due to the same person (any program, the same funder, not yet in a batch) are kept back, whole,
    while they fit in what is still owed of that funder's part; the recovery is `offset` once nothing is owed."""
    recovery = await get_recovery(session, identity, recovery_id)
    _open(recovery)
    if recovery.person_id is None:
        raise Conflict("the recovery has no person whose later payments could offset it")
    owed = {
        "city": recovery.city_amount - _offset_so_far(recovery, "city"),
        "county": recovery.county_amount - _offset_so_far(recovery, "county"),
    }
    later = (
        await session.scalars(
            select(Payment)
            .join(Application, Application.id == Payment.application_id)
            .where(
                Application.person_id == recovery.person_id,
                Payment.status.in_(("due", "corrected")),
                Payment.application_id != recovery.application_id,
            )
            .order_by(Payment.period, Payment.funder)
            .with_for_update(of=Payment)
        )
    ).all()
    now = _now()
    kept: list[Payment] = []
    for payment in later:
        if payment.amount <= owed[payment.funder]:
            owed[payment.funder] -= payment.amount
            payment.status = "cancelled"
            payment.cancel_reason = f"offset against recovery {recovery.id}"
            payment.cancelled_by = identity.username
            payment.updated_at = now
            kept.append(payment)
    if not kept:
        raise Conflict("no later payment of this person is due that fits in what is owed")
    await session.flush()
    await refresh_months(session, [(p.application_id, p.period) for p in kept])
    offsets = [*(recovery.months or [])]
    offsets.extend(
        {"offset_reference": p.reference, "funder": p.funder, "amount": f"{p.amount:.2f}", "period": p.period}
        for p in kept
    )
    recovery.months = offsets
    recovery.outstanding = owed["city"] + owed["county"]
    if recovery.outstanding == ZERO:
        recovery.status = "offset"
        recovery.settled_by, recovery.settled_at = identity.username, now
        recovery.settlement_note = "offset against later payments"
    await append_audit(
        session,
        kind="recovery_offset",
        actor=identity.username,
        at=now,
        application_id=recovery.application_id,
        detail={
            "recovery_id": str(recovery.id),
            "offset_references": [p.reference for p in kept],
            "offset": f"{sum((p.amount for p in kept), ZERO):.2f}",
            "outstanding": f"{recovery.outstanding:.2f}",
        },
    )
    return recovery


def _offset_so_far(recovery: Recovery, funder: str) -> Decimal:
    return sum(
        (Decimal(m["amount"]) for m in recovery.months or [] if "offset_reference" in m and m["funder"] == funder),
        ZERO,
    )


async def write_off(session: AsyncSession, identity: Identity, recovery_id: str, reason: str) -> Recovery:
    """The first official proposes with a reason; a second, not the first, confirms with theirs: written off."""
    recovery = await get_recovery(session, identity, recovery_id)
    _open(recovery)
    reason = _note(reason, "reason")
    now = _now()
    if recovery.write_off_proposed_by is None:
        recovery.write_off_proposed_by, recovery.write_off_reason = identity.username, reason
        kind = "recovery_write_off_proposed"
    elif recovery.write_off_proposed_by == identity.username:
        raise Forbidden("a write-off is confirmed by a second official, not the one who proposed it")
    else:
        recovery.status = "written_off"
        recovery.settled_by, recovery.settled_at, recovery.settlement_note = identity.username, now, reason
        kind = "recovery_written_off"
    await append_audit(
        session,
        kind=kind,
        actor=identity.username,
        at=now,
        application_id=recovery.application_id,
        detail={"recovery_id": str(recovery.id), "outstanding": f"{recovery.outstanding:.2f}", "reason": reason},
    )
    return recovery
