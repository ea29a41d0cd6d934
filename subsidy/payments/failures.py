"""Failures come back to people: the payee corrects the bank account (every failed payment of the application goes
into the next batch under a new reference), or the finance officer cancels a failed payment with a reason."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from subsidy.api.errors import Conflict, Forbidden, Invalid, NotFound
from subsidy.api.security import Identity
from subsidy.db.audit_chain import append_audit
from subsidy.db.binding_models import AccountBinding
from subsidy.db.models import Application, Person
from subsidy.db.payment_models import BankAccountChange, Payment
from subsidy.payments.obligations import payment_reference, post_negative, refresh_months
from subsidy.payments.payees import current_accounts, masked_account
from subsidy.payments.scope import require_scope
from subsidy.payments.tasks import PAYMENT_FAILED, close_payment_tasks

ACCOUNT_PATTERN = re.compile(r"^\d{8,30}$")


async def may_correct(session: AsyncSession, identity: Identity, application: Application) -> bool:
    """The account that filed the application, or one bound to its person (a filing at the service window)."""
    if application.submitted_by == identity.username:
        return True
    if application.person_id is None:
        return False
    binding = await session.get(AccountBinding, identity.username)
    person = await session.get(Person, application.person_id)
    return (
        binding is not None
        and person is not None
        and binding.status == "verified"
        and binding.kind == "person"
        and binding.identifier == person.id_number
    )


async def failed_payments(session: AsyncSession, application_id: object) -> list[Payment]:
    return list(
        (
            await session.scalars(
                select(Payment)
                .where(Payment.application_id == application_id, Payment.status == "failed")
                .order_by(Payment.period, Payment.funder)
                .with_for_update()
            )
        ).all()
    )


async def correct_account(session: AsyncSession, identity: Identity, application: Application, account: str) -> int:
    """The new account for the application; its failed payments become `corrected` under their next reference.
    Returns how many payments will be paid again."""
    account = account.strip().replace(" ", "")
    if not ACCOUNT_PATTERN.match(account):
        raise Invalid("bank_account", "enter the bank account number: 8 to 30 digits", "bank_account_format")
    if not await may_correct(session, identity, application):
        raise Forbidden("only the payee may correct the bank account")
    failed = await failed_payments(session, application.id)
    now = datetime.now(UTC)
    if not failed:
        return await _first_account(session, identity, application, account, now)
    for payment in failed:
        payment.attempt += 1
        payment.reference = payment_reference(payment.application_id, payment.period, payment.funder, payment.attempt)
        payment.status = "corrected"
        payment.updated_at = now
    session.add(
        BankAccountChange(
            application_id=application.id,
            account=account,
            changed_by=identity.username,
            changed_at=now,
            payment_reference=failed[0].reference,
        )
    )
    await session.flush()
    await refresh_months(session, [(p.application_id, p.period) for p in failed])
    for funder, county in {(p.funder, p.county) for p in failed}:
        await close_payment_tasks(session, application.id, PAYMENT_FAILED, funder, county, identity.username, "approve")
    await append_audit(
        session,
        kind="bank_account_corrected",
        actor=identity.username,
        at=now,
        application_id=application.id,
        detail={"account": masked_account(account), "references": [p.reference for p in failed]},
    )
    return len(failed)


async def _first_account(
    session: AsyncSession, identity: Identity, application: Application, account: str, now: datetime
) -> int:
    """A payee whose form had no bank account (an employer, a provider, an agency) gives one for its due payments,
    which the next batch then takes; once an account is on record it changes only after a failure."""
    if (application.form or {}).get("bank_account") or await current_accounts(session, [application.id]):
        raise Conflict("no payment of this application has failed: the bank account on record stays as it is")
    waiting = list(
        (
            await session.scalars(
                select(Payment.reference).where(Payment.application_id == application.id, Payment.status == "due")
            )
        ).all()
    )
    if not waiting:
        raise Conflict("no payment of this application is due: there is no account to give yet")
    session.add(
        BankAccountChange(application_id=application.id, account=account, changed_by=identity.username, changed_at=now)
    )
    await append_audit(
        session,
        kind="bank_account_given",
        actor=identity.username,
        at=now,
        application_id=application.id,
        detail={"account": masked_account(account), "references": waiting},
    )
    return len(waiting)


async def cancel_payment(session: AsyncSession, identity: Identity, reference: str, reason: str) -> Payment:
    """A failed payment cancelled by the finance officer of its scope, with a reason."""
    reason = reason.strip()
    if not reason:
        raise Invalid("reason", "say why the payment is cancelled", "reason_required")
    payment = await session.scalar(select(Payment).where(Payment.reference == reference).with_for_update())
    if payment is None:
        raise NotFound("no such payment")
    require_scope(identity, payment.funder, payment.county)
    if payment.status == "cancelled":
        return payment
    if payment.status != "failed":
        raise Conflict(f"only a failed payment can be cancelled; this one is {payment.status}")
    now = datetime.now(UTC)
    payment.status = "cancelled"
    payment.cancel_reason = reason[:1000]
    payment.cancelled_by = identity.username
    payment.updated_at = now
    await post_negative(session, payment, "reversal")
    await session.flush()
    await refresh_months(session, [(payment.application_id, payment.period)])
    if not [p for p in await failed_payments(session, payment.application_id) if p.funder == payment.funder]:
        await close_payment_tasks(
            session, payment.application_id, PAYMENT_FAILED, payment.funder, payment.county, identity.username, "reject"
        )
    await append_audit(
        session,
        kind="payment_cancelled",
        actor=identity.username,
        at=now,
        application_id=payment.application_id,
        detail={"reference": payment.reference, "amount": str(payment.amount), "reason": payment.cancel_reason},
    )
    return payment
