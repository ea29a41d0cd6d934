"""Batches with four eyes: built from what is due by one finance officer, approved by a second, sent to the bank as a
file, settled by the bank's result file. Each step is audited; each is safe to repeat.

The order of locks: the scope's advisory lock (one build per funder and county at a time), then the batch row, then
its payments. A reference is sent once: payment_lines' primary key is the reference, and a payment sent again after a
failure goes under its next attempt's reference.
"""

from __future__ import annotations

import csv
import hashlib
import io
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from subsidy.api.errors import Conflict, Forbidden, Invalid, NotFound
from subsidy.api.security import Identity
from subsidy.db.audit_chain import append_audit
from subsidy.db.models import Application
from subsidy.db.payment_models import Payment, PaymentBatch, PaymentLine
from subsidy.payments.obligations import refresh_months
from subsidy.payments.payees import current_accounts, payee_of
from subsidy.payments.reconciliation import check_scope, reconcile
from subsidy.payments.recoveries import unpaid_after_all
from subsidy.payments.scope import require_finance, require_scope
from subsidy.payments.tasks import PAYMENT_FAILED, open_payment_task

BANK_FILE_COLUMNS = ("reference", "payee_name", "account", "amount", "application_id", "period", "funder", "county")
BATCHABLE = ("due", "corrected")
MAX_RESULT_LINES = 100_000


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Built:
    batch: PaymentBatch
    without_account: int


async def build_batch(session: AsyncSession, identity: Identity, funder: str, county: str, up_to_period: str) -> Built:
    """The due (and corrected) payments of this funder and county up to `up_to_period` not yet in a batch, with a
    bank account on record; 409 when there are none."""
    require_scope(identity, funder, county)
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": f"payment-batch:{funder}:{county}"}
    )
    differences = await reconcile(session, county=county, funder=funder)
    if differences.difference:
        raise Conflict(
            f"the records of these payments disagree by {differences.difference:.2f}: settle the reconciliation "
            "tasks before the next batch (GET /api/v1/reconciliation lists each difference)"
        )
    payments = (
        await session.scalars(
            select(Payment)
            .where(
                Payment.funder == funder,
                Payment.county == county,
                Payment.status.in_(BATCHABLE),
                Payment.period <= up_to_period,
            )
            .order_by(Payment.period, Payment.application_id)
            .with_for_update()
        )
    ).all()
    applications = {
        application.id: application
        for application in (
            await session.scalars(select(Application).where(Application.id.in_({p.application_id for p in payments})))
        ).all()
    }
    accounts = await current_accounts(session, list(applications))
    lines: list[tuple[Payment, str, str]] = []
    without_account = 0
    for payment in payments:
        payee = payee_of(applications[payment.application_id], accounts)
        if not payee.account:
            without_account += 1
            continue
        lines.append((payment, payee.name, payee.account))
    if not lines:
        raise Conflict(
            "nothing is due for this funder and county up to that period"
            + (f" ({without_account} due payments have no bank account on record)" if without_account else "")
        )
    now = _now()
    batch = PaymentBatch(
        id=uuid.uuid4(),
        funder=funder,
        county=county,
        up_to_period=up_to_period,
        status="built",
        lines=len(lines),
        total=sum((payment.amount for payment, _, _ in lines), Decimal("0.00")),
        built_by=identity.username,
        built_at=now,
    )
    session.add(batch)
    await session.flush()
    # Core statements with parameter lists: a county's batch has thousands of lines.
    await session.execute(
        insert(PaymentLine.__table__),
        [
            {
                "reference": payment.reference,
                "payment_id": payment.id,
                "batch_id": batch.id,
                "payee_name": name,
                "account": account,
                "amount": payment.amount,
                "application_id": payment.application_id,
                "period": payment.period,
            }
            for payment, name, account in lines
        ],
    )
    await session.execute(
        update(Payment)
        .where(Payment.id.in_([payment.id for payment, _, _ in lines]))
        .values(status="batched", batch_id=batch.id, updated_at=now)
        .execution_options(synchronize_session="fetch")
    )
    await refresh_months(session, [(p.application_id, p.period) for p, _, _ in lines])
    await append_audit(
        session,
        kind="payment_batch_built",
        actor=identity.username,
        at=now,
        detail={
            "batch_id": str(batch.id),
            "funder": funder,
            "county": county,
            "up_to_period": up_to_period,
            "lines": batch.lines,
            "total": str(batch.total),
            "references": [payment.reference for payment, _, _ in lines],
            "without_account": without_account,
        },
    )
    return Built(batch, without_account)


async def get_batch(session: AsyncSession, identity: Identity, batch_id: str, *, lock: bool = False) -> PaymentBatch:
    try:
        key = uuid.UUID(batch_id)
    except ValueError:
        raise NotFound("no such payment batch") from None
    require_finance(identity)
    query = select(PaymentBatch).where(PaymentBatch.id == key)
    batch = await session.scalar(query.with_for_update() if lock else query)
    if batch is None:
        raise NotFound("no such payment batch")
    require_scope(identity, batch.funder, batch.county)
    return batch


async def approve_batch(session: AsyncSession, identity: Identity, batch_id: str) -> PaymentBatch:
    batch = await get_batch(session, identity, batch_id, lock=True)
    if batch.built_by == identity.username:
        raise Forbidden("a batch is approved by a second finance officer, not the one who built it")
    if batch.status != "built":
        if batch.approved_by == identity.username:
            return batch  # the same approval again
        raise Conflict(f"the batch is already {batch.status}")
    now = _now()
    batch.status = "approved"
    batch.approved_by = identity.username
    batch.approved_at = now
    await append_audit(
        session,
        kind="payment_batch_approved",
        actor=identity.username,
        at=now,
        detail={"batch_id": str(batch.id), "lines": batch.lines, "total": str(batch.total)},
    )
    return batch


async def batch_lines(session: AsyncSession, batch: PaymentBatch) -> list[PaymentLine]:
    return list(
        (
            await session.scalars(
                select(PaymentLine)
                .where(PaymentLine.batch_id == batch.id)
                .order_by(PaymentLine.period, PaymentLine.reference)
            )
        ).all()
    )


def bank_file_text(batch: PaymentBatch, lines: list[PaymentLine]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(BANK_FILE_COLUMNS)
    for line in lines:
        writer.writerow(
            (
                line.reference,
                line.payee_name,
                line.account,
                f"{line.amount:.2f}",
                str(line.application_id),
                line.period,
                batch.funder,
                batch.county,
            )
        )
    return out.getvalue()


async def bank_file(session: AsyncSession, identity: Identity, batch_id: str) -> tuple[PaymentBatch, str]:
    """The bank file of an approved batch; the first download sends it (its payments become `sent`)."""
    batch = await get_batch(session, identity, batch_id, lock=True)
    if batch.status == "built":
        raise Conflict("the batch must be approved by a second finance officer before its bank file is sent")
    lines = await batch_lines(session, batch)
    content = bank_file_text(batch, lines)
    digest = hashlib.sha256(content.encode()).hexdigest()
    now = _now()
    if batch.status == "approved":
        batch.status = "sent"
        batch.sent_by = identity.username
        batch.sent_at = now
        batch.file_sha256 = digest
        await session.execute(
            update(Payment)
            .where(Payment.batch_id == batch.id, Payment.status == "batched")
            .values(status="sent", updated_at=now)
        )
        await refresh_months(session, [(line.application_id, line.period) for line in lines])
    await append_audit(
        session,
        kind="bank_file_downloaded",
        actor=identity.username,
        at=now,
        detail={"batch_id": str(batch.id), "sha256": digest, "lines": len(lines), "first": batch.sent_at == now},
    )
    return batch, content


@dataclass(frozen=True)
class ResultLine:
    reference: str
    result: str
    reason: str


def parse_result_file(body: bytes) -> list[ResultLine]:
    """`reference,result,reason` per line (a header line is skipped); every problem is named with its line."""
    try:
        content = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Invalid("body", "the result file must be UTF-8 text", "result_file_encoding") from None
    try:
        rows = list(csv.reader(io.StringIO(content, newline="")))
    except csv.Error as error:
        raise Invalid("body", f"the result file is not CSV: {error}", "result_file_invalid") from None
    if rows and rows[0] and rows[0][0].strip().lower() == "reference":
        rows = rows[1:]
    if len(rows) > MAX_RESULT_LINES:
        raise Invalid("body", f"at most {MAX_RESULT_LINES} lines", "result_file_too_long")
    parsed: list[ResultLine] = []
    problems: list[str] = []
    seen: dict[str, str] = {}
    for number, row in enumerate(rows, start=1):
        if not row or all(not cell.strip() for cell in row):
            continue
        if len(row) not in (2, 3):
            problems.append(f"line {number}: expected reference,result,reason")
            continue
        reference, result = row[0].strip(), row[1].strip().lower()
        reason = row[2].strip() if len(row) == 3 else ""
        if result not in ("paid", "failed"):
            problems.append(f"line {number}: result must be paid or failed, not {result!r}")
            continue
        if result == "failed" and not reason:
            problems.append(f"line {number}: a failed payment needs the bank's reason")
            continue
        if reference in seen and seen[reference] != result:
            problems.append(f"line {number}: {reference} is given two different results")
            continue
        seen[reference] = result
        parsed.append(ResultLine(reference, result, reason[:500]))
    if problems:
        raise Invalid("body", "; ".join(problems[:20]), "result_file_invalid")
    if not parsed:
        raise Invalid("body", "the result file has no lines", "result_file_empty")
    return parsed


@dataclass(frozen=True)
class Settled:
    paid: int
    failed: int
    unchanged: int


async def apply_bank_result(session: AsyncSession, identity: Identity, batch_id: str, body: bytes) -> Settled:
    """The bank's answer for a sent batch: each reference paid or failed. All or nothing: a reference not in this
    batch, or a result other than the one already recorded, refuses the whole file (422). The same file again changes
    nothing (all `unchanged`)."""
    batch = await get_batch(session, identity, batch_id, lock=True)
    results = parse_result_file(body)
    if batch.status not in ("sent", "settled"):
        raise Conflict("the bank has not been sent this batch's file yet")
    lines = {line.reference: line for line in await batch_lines(session, batch)}
    unknown = sorted({r.reference for r in results if r.reference not in lines})
    if unknown:
        raise Invalid("body", f"not references of this batch: {', '.join(unknown[:10])}", "reference_not_in_batch")
    clashes = sorted({r.reference for r in results if lines[r.reference].result not in (None, r.result)})
    if clashes:
        raise Invalid(
            "body",
            f"the bank already answered differently for: {', '.join(clashes[:10])}",
            "result_conflicts_with_recorded",
        )
    now = _now()
    paid = failed = unchanged = 0
    touched: list[tuple[uuid.UUID, str]] = []
    failed_applications: dict[uuid.UUID, list[str]] = {}
    answers = {r.reference: r for r in results}
    payments = {
        payment.id: payment
        for payment in (
            await session.scalars(
                select(Payment)
                .where(Payment.id.in_([lines[ref].payment_id for ref in answers if lines[ref].result is None]))
                .with_for_update()
            )
        ).all()
    }
    for result in answers.values():
        line = lines[result.reference]
        if line.result is not None:
            unchanged += 1
            continue
        line.result = result.result
        line.reason = result.reason or None
        line.result_at = now
        payment = payments[line.payment_id]
        if result.result == "paid":
            payment.status = "paid"
            paid += 1
        else:
            payment.status = "failed"
            payment.batch_id = None
            payment.failure_reason = result.reason
            failed += 1
            if await unpaid_after_all(session, payment, identity.username):
                pass  # recovered already: the month is not owed, so it is not asked for again
            else:
                failed_applications.setdefault(payment.application_id, []).append(payment.reference)
        payment.updated_at = now
        touched.append((line.application_id, line.period))
    await session.flush()
    await refresh_months(session, touched)
    for application_id, references in failed_applications.items():
        await open_payment_task(
            session, application_id, PAYMENT_FAILED, batch.funder, batch.county, {"references": references}
        )
    answered = await session.scalar(
        select(func.count())
        .select_from(PaymentLine)
        .where(PaymentLine.batch_id == batch.id, PaymentLine.result.is_not(None))
    )
    if answered == batch.lines and batch.status != "settled":
        batch.status = "settled"
        batch.settled_at = now
    await session.flush()
    await check_scope(session, batch.funder, batch.county)
    if paid or failed:
        await append_audit(
            session,
            kind="bank_result_recorded",
            actor=identity.username,
            at=now,
            detail={
                "batch_id": str(batch.id),
                "paid": paid,
                "failed": failed,
                "unchanged": unchanged,
                "failed_references": [ref for refs in failed_applications.values() for ref in refs],
                "sha256": hashlib.sha256(body).hexdigest(),
            },
        )
    return Settled(paid, failed, unchanged)
