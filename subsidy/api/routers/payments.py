"""Money that leaves, over HTTP: payments, batches with four eyes, the bank file and the bank's result, corrected
accounts, cancellations, reconciliation and recoveries (subsidy/payments/)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select

from subsidy.api.deps import CurrentUser, PageDep, SessionDep
from subsidy.api.errors import Forbidden, Invalid, documented
from subsidy.api.read_model import application_scope, get_visible_application
from subsidy.api.schemas import MoneyOut
from subsidy.api.security import Identity
from subsidy.db.models import Application
from subsidy.db.payment_models import PAYMENT_STATUSES, Payment, PaymentBatch, Recovery
from subsidy.forms.text import PlainText
from subsidy.payments import batches, failures, recoveries
from subsidy.payments.payees import masked_account
from subsidy.payments.reconciliation import check_scope, reconcile
from subsidy.payments.scope import is_city_finance, reads_all_payments, require_finance
from subsidy.policy.counties import BAOTOU_COUNTIES

router = APIRouter(prefix="/api/v1", tags=["money"], responses=documented(400, 401, 403, 413))

PERIOD = r"^\d{4}-(0[1-9]|1[0-2])$"
PeriodQuery = Annotated[str | None, Query(pattern=PERIOD, description="YYYY-MM")]
CountyQuery = Annotated[str | None, Query(pattern=r"^\d{6}$")]
Funder = Literal["city", "county"]


class PaymentOut(BaseModel):
    reference: str
    application_id: str
    period: str
    funder: str
    county: str
    amount: MoneyOut
    status: str = Field(description="due | batched | sent | paid (bank confirmed) | failed | corrected | cancelled")
    batch_id: str | None
    program: str
    attempt: int
    failure_reason: str | None
    cancel_reason: str | None


def payment_out(payment: Payment) -> PaymentOut:
    return PaymentOut(
        reference=payment.reference,
        application_id=str(payment.application_id),
        period=payment.period,
        funder=payment.funder,
        county=payment.county,
        amount=payment.amount,
        status=payment.status,
        batch_id=str(payment.batch_id) if payment.batch_id else None,
        program=payment.program,
        attempt=payment.attempt,
        failure_reason=payment.failure_reason,
        cancel_reason=payment.cancel_reason,
    )


@router.get("/payments", response_model=list[PaymentOut])
async def list_payments(
    identity: CurrentUser,
    db: SessionDep,
    response: Response,
    paging: PageDep,
    application_id: uuid.UUID | None = None,
    status: Literal[PAYMENT_STATUSES] | None = None,  # type: ignore[valid-type]
    county: CountyQuery = None,
    funder: Funder | None = None,
    period: PeriodQuery = None,
) -> list[PaymentOut]:
    """Payments the caller may see: their own applications', their county's (officials, finance), every one
    (the city's finance officers, City DPF, auditors)."""
    query = select(Payment).join(Application, Application.id == Payment.application_id)
    if not reads_all_payments(identity):
        query = query.where(application_scope(identity))
    for column, value in (
        (Payment.application_id, application_id),
        (Payment.status, status),
        (Payment.county, county),
        (Payment.funder, funder),
        (Payment.period, period),
    ):
        if value is not None:
            query = query.where(column == value)
    total = await db.scalar(select(func.count()).select_from(query.subquery()))
    response.headers["X-Total-Count"] = str(total or 0)
    rows = await db.scalars(
        query.order_by(Payment.period, Payment.application_id, Payment.funder).limit(paging.limit).offset(paging.offset)
    )
    return [payment_out(row) for row in rows.all()]


class BatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    funder: Funder
    county: Annotated[str, Field(pattern=r"^\d{6}$")]
    up_to_period: Annotated[str, Field(pattern=PERIOD, description="YYYY-MM: the last period the batch takes")]


class BatchOut(BaseModel):
    id: str
    status: str = Field(description="built | approved | sent | settled")
    lines: int
    total: MoneyOut
    funder: str
    county: str
    up_to_period: str
    built_by: str
    built_at: datetime
    approved_by: str | None
    approved_at: datetime | None
    sent_at: datetime | None
    settled_at: datetime | None
    without_account: int = Field(0, description="due payments left out: no bank account on record")


def batch_out(batch: PaymentBatch, without_account: int = 0) -> BatchOut:
    return BatchOut(
        id=str(batch.id),
        status=batch.status,
        lines=batch.lines,
        total=batch.total,
        funder=batch.funder,
        county=batch.county,
        up_to_period=batch.up_to_period,
        built_by=batch.built_by,
        built_at=batch.built_at,
        approved_by=batch.approved_by,
        approved_at=batch.approved_at,
        sent_at=batch.sent_at,
        settled_at=batch.settled_at,
        without_account=without_account,
    )


BatchId = Annotated[str, Path(max_length=64)]


@router.post("/payment-batches", status_code=201, response_model=BatchOut, responses=documented(409))
async def build(body: BatchIn, identity: CurrentUser, db: SessionDep) -> BatchOut:
    """The due payments of this funder and county up to the period, not yet in a batch (409 when none)."""
    if body.county not in BAOTOU_COUNTIES:
        raise Invalid("county", f"{body.county} is not a county of the city")
    built = await batches.build_batch(db, identity, body.funder, body.county, body.up_to_period)
    out = batch_out(built.batch, built.without_account)
    await db.commit()  # before the answer: the approver's request may come at once
    return out


@router.get("/payment-batches", response_model=list[BatchOut])
async def list_batches(
    identity: CurrentUser, db: SessionDep, status: Literal["built", "approved", "sent", "settled"] | None = None
) -> list[BatchOut]:
    """The batches of the caller's scope, newest first (finance officers)."""
    require_finance(identity)
    query = select(PaymentBatch)
    if is_city_finance(identity):
        query = query.where(PaymentBatch.funder == "city")
    else:
        query = query.where(PaymentBatch.funder == "county", PaymentBatch.county == identity.county)
    if status:
        query = query.where(PaymentBatch.status == status)
    rows = await db.scalars(query.order_by(PaymentBatch.built_at.desc()).limit(200))
    return [batch_out(row) for row in rows.all()]


class LineOut(BaseModel):
    reference: str
    payee_name: str
    account_masked: str
    amount: MoneyOut
    application_id: str
    period: str
    result: str | None
    reason: str | None


class BatchDetail(BatchOut):
    payments: list[LineOut]


@router.get("/payment-batches/{batch_id}", response_model=BatchDetail, responses=documented(404))
async def get_batch(batch_id: BatchId, identity: CurrentUser, db: SessionDep) -> BatchDetail:
    batch = await batches.get_batch(db, identity, batch_id)
    lines = await batches.batch_lines(db, batch)
    return BatchDetail(
        **batch_out(batch).model_dump(),
        payments=[
            LineOut(
                reference=line.reference,
                payee_name=line.payee_name,
                account_masked=masked_account(line.account),
                amount=line.amount,
                application_id=str(line.application_id),
                period=line.period,
                result=line.result,
                reason=line.reason,
            )
            for line in lines
        ],
    )


@router.post("/payment-batches/{batch_id}/approve", response_model=BatchOut, responses=documented(404, 409))
async def approve(batch_id: BatchId, identity: CurrentUser, db: SessionDep) -> BatchOut:
    """A second finance officer of the same scope approves (the builder: 403)."""
    out = batch_out(await batches.approve_batch(db, identity, batch_id))
    await db.commit()
    return out


@router.get(
    "/payment-batches/{batch_id}/bank-file",
    responses={
        200: {
            "description": "the bank file (UTF-8 CSV, CRLF): reference, payee_name, account, amount, application_id, "
            "period, funder, county; its first download sends the batch",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        },
        **documented(404, 409),
    },
)
async def bank_file(batch_id: BatchId, identity: CurrentUser, db: SessionDep) -> Response:
    batch, content = await batches.bank_file(db, identity, batch_id)
    file_name = f"bank-file-{batch.county}-{batch.funder}-{batch.id}.csv"
    await db.commit()  # the batch is sent once the file is out
    return Response(
        content,
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{file_name}"',
            "Cache-Control": "no-store",
        },
    )


class SettledOut(BaseModel):
    paid: int
    failed: int
    unchanged: int


@router.post(
    "/payment-batches/{batch_id}/bank-result",
    response_model=SettledOut,
    responses=documented(404, 409),
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "CSV lines `reference,result,reason` (`result` paid|failed; a header line is skipped)",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        }
    },
)
async def bank_result(batch_id: BatchId, request: Request, identity: CurrentUser, db: SessionDep) -> SettledOut:
    """The bank's answer; the same file again changes nothing (all `unchanged`)."""
    settled = await batches.apply_bank_result(db, identity, batch_id, await request.body())
    await db.commit()
    return SettledOut(paid=settled.paid, failed=settled.failed, unchanged=settled.unchanged)


def reconciliation_scope(identity: Identity, county: str | None, funder: str | None) -> tuple[str | None, str | None]:
    if identity.has("auditor", "admin", "city_dpf"):
        return county, funder
    require_finance(identity)
    if is_city_finance(identity):
        if funder == "county":
            raise Forbidden("the city's finance officers reconcile the city's shares")
        return county, "city"
    if county is not None and county != identity.county:
        raise Forbidden("a county's finance officer reconciles their own county")
    if funder == "city":
        raise Forbidden("a county's finance officer reconciles the county's shares")
    return identity.county, "county"


@router.get("/reconciliation")
async def reconciliation(
    identity: CurrentUser,
    db: SessionDep,
    period: PeriodQuery = None,
    county: CountyQuery = None,
    funder: Funder | None = None,
) -> JSONResponse:
    """`{"due", "batched", "sent", "paid", "failed", "difference"}` (money), with what is not yet batched, what
    awaits the bank's answer and each place where the records disagree."""
    county, funder = reconciliation_scope(identity, county, funder)
    result = await reconcile(db, period=period, county=county, funder=funder)
    return JSONResponse({**result.as_json(), "period": period, "county": county, "funder": funder})


@router.post("/reconciliation/check")
async def check(identity: CurrentUser, db: SessionDep, county: CountyQuery = None) -> JSONResponse:
    """A finance officer reconciles their scope now: a blocking task for each application whose records disagree,
    closed once they agree again."""
    require_finance(identity)
    county, funder = reconciliation_scope(identity, county, None)
    if county is None:
        raise Invalid("county", "name the county to reconcile")
    result = await check_scope(db, funder or "county", county)
    await db.commit()
    return JSONResponse({**result.as_json(), "county": county, "funder": funder})


class AccountIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    bank_account: Annotated[str, Field(min_length=8, max_length=30, pattern=r"^\d{8,30}$")]


class CorrectedOut(BaseModel):
    corrected: int = Field(description="payments the next batch takes with this account (failed ones: new references)")


@router.post("/applications/{application_id}/bank-account", response_model=CorrectedOut, responses=documented(404, 409))
async def correct_account(
    application_id: Annotated[str, Path(max_length=64)], body: AccountIn, identity: CurrentUser, db: SessionDep
) -> CorrectedOut:
    """The payee corrects the bank account after a failure."""
    application = await get_visible_application(db, application_id, identity)
    corrected = await failures.correct_account(db, identity, application, body.bank_account)
    await db.commit()
    return CorrectedOut(corrected=corrected)


class ReasonIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, Field(min_length=1, max_length=1000), PlainText]


@router.post("/payments/{reference}/cancel", response_model=PaymentOut, responses=documented(404, 409))
async def cancel(
    reference: Annotated[str, Path(max_length=40)], body: ReasonIn, identity: CurrentUser, db: SessionDep
) -> PaymentOut:
    """The finance officer of its scope cancels a failed payment, with a reason."""
    out = payment_out(await failures.cancel_payment(db, identity, reference, body.reason))
    await db.commit()
    return out


class RecoveryOut(BaseModel):
    id: str
    application_id: str
    program: str
    county: str
    event: str
    event_date: str
    months: list[dict[str, str]]
    amount: MoneyOut
    city_amount: MoneyOut
    county_amount: MoneyOut
    outstanding: MoneyOut
    status: str = Field(description="open | repaid | offset | written_off")
    write_off_proposed_by: str | None
    settled_by: str | None
    settlement_note: str | None


def recovery_out(recovery: Recovery) -> RecoveryOut:
    return RecoveryOut(
        id=str(recovery.id),
        application_id=str(recovery.application_id),
        program=recovery.program,
        county=recovery.county,
        event=recovery.event,
        event_date=recovery.event_date.isoformat(),
        months=[{k: str(v) for k, v in month.items()} for month in recovery.months or []],
        amount=recovery.amount,
        city_amount=recovery.city_amount,
        county_amount=recovery.county_amount,
        outstanding=recovery.outstanding,
        status=recovery.status,
        write_off_proposed_by=recovery.write_off_proposed_by,
        settled_by=recovery.settled_by,
        settlement_note=recovery.settlement_note,
    )


@router.get("/recoveries", response_model=list[RecoveryOut])
async def list_recoveries(
    identity: CurrentUser,
    db: SessionDep,
    application_id: uuid.UUID | None = None,
    status: Literal["open", "repaid", "offset", "written_off"] | None = None,
) -> list[RecoveryOut]:
    query = select(Recovery).join(Application, Application.id == Recovery.application_id)
    if not reads_all_payments(identity):
        query = query.where(application_scope(identity))
    if application_id:
        query = query.where(Recovery.application_id == application_id)
    if status:
        query = query.where(Recovery.status == status)
    rows = await db.scalars(query.order_by(Recovery.created_at).limit(500))
    return [recovery_out(row) for row in rows.all()]


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: Annotated[str, Field(min_length=1, max_length=1000), PlainText]


RecoveryId = Annotated[str, Path(max_length=64)]


@router.post("/recoveries/{recovery_id}/repaid", response_model=RecoveryOut, responses=documented(404, 409))
async def repaid(recovery_id: RecoveryId, body: NoteIn, identity: CurrentUser, db: SessionDep) -> RecoveryOut:
    out = recovery_out(await recoveries.record_repaid(db, identity, recovery_id, body.note))
    await db.commit()
    return out


@router.post("/recoveries/{recovery_id}/offset", response_model=RecoveryOut, responses=documented(404, 409))
async def offset(recovery_id: RecoveryId, identity: CurrentUser, db: SessionDep) -> RecoveryOut:
    out = recovery_out(await recoveries.offset_against_later(db, identity, recovery_id))
    await db.commit()
    return out


@router.post("/recoveries/{recovery_id}/write-off", response_model=RecoveryOut, responses=documented(404, 409))
async def write_off(recovery_id: RecoveryId, body: ReasonIn, identity: CurrentUser, db: SessionDep) -> RecoveryOut:
    """Proposed by one official with a reason, confirmed by a second with theirs (the proposer again: 403)."""
    out = recovery_out(await recoveries.write_off(db, identity, recovery_id, body.reason))
    await db.commit()
    return out
