"""The payee's side of the money on every status page that shows a schedule or a payment: what failed and why, the
link to correct the bank account, a recovery, and the sums due and paid (`payments_notice.html`); and the bank
account form itself, `/my/applications/{id}/bank-account`, which calls `subsidy.payments.failures.correct_account`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from subsidy.api.deps import SessionDep
from subsidy.api.errors import Conflict, Forbidden, Invalid
from subsidy.api.pages.form_support import FieldError
from subsidy.api.pages.timeline_words import BUSINESS_STEP
from subsidy.api.pages.web import checked_form, gettext_for, render, require_user
from subsidy.api.pages.words import N_, PROGRAM, SCHEDULE_STATUS, field_error
from subsidy.api.read_model import get_visible_application
from subsidy.api.security import Identity
from subsidy.db.models import Application, LedgerEntry
from subsidy.db.payment_models import Payment, Recovery
from subsidy.payments.failures import correct_account, may_correct
from subsidy.payments.payees import current_accounts, masked_account, payee_of
from subsidy.programs.registry import PROGRAMS

router = APIRouter(include_in_schema=False)

ZERO = Decimal("0.00")
Gettext = Callable[[str], str]

FUNDER = {"city": N_("City budget"), "county": N_("County budget")}

RECOVERY_STATUS = {
    "open": N_("Open: to be repaid"),
    "repaid": N_("Repaid"),
    "offset": N_("Offset against later payments"),
    "written_off": N_("Written off"),
}

# The bank's reasons that are known phrases (lower case, as the result file gives them); any other is shown as given.
BANK_REASON = {
    "account closed": N_("The account is closed"),
    "account not found": N_("There is no such account"),
    "no such account": N_("There is no such account"),
    "invalid account": N_("The account number is not valid"),
    "account frozen": N_("The account is frozen"),
    "name mismatch": N_("The name does not match the account holder"),
    "name does not match": N_("The name does not match the account holder"),
    "account dormant": N_("The account is dormant"),
    "账户已销户": N_("The account is closed"),
    "账户不存在": N_("There is no such account"),
    "户名不符": N_("The name does not match the account holder"),
    "账户冻结": N_("The account is frozen"),
}


def bank_reason(_: Gettext, reason: str | None) -> str:
    if not reason:
        return ""
    known = BANK_REASON.get(reason.strip().lower().rstrip("."))
    return _(known) if known else reason


@dataclass(frozen=True)
class FailedLine:
    period: str
    funder: str
    amount: Decimal
    reason: str


@dataclass(frozen=True)
class StatusLine:
    status: str
    words: str
    count: int
    amount: Decimal


@dataclass(frozen=True)
class RecoveryView:
    amount: Decimal
    city_amount: Decimal
    county_amount: Decimal
    outstanding: Decimal
    months: list[tuple[str, str, str]]
    event: str
    event_date: str
    status: str
    status_words: str


@dataclass
class PaymentNotice:
    """What the payee is shown about the money of one application."""

    application_id: str
    county: str
    failed: list[FailedLine] = field(default_factory=list)
    can_correct: bool = False
    # No bank account on record (a form that names none) while payments are due: the payee gives one.
    needs_account: bool = False
    waiting: int = 0
    statuses: list[StatusLine] = field(default_factory=list)
    due: Decimal = ZERO
    paid: Decimal = ZERO
    recovery: RecoveryView | None = None

    @property
    def shown(self) -> bool:
        return bool(self.statuses or self.recovery)


async def payment_notice(db: AsyncSession, identity: Identity, application: Application, _: Gettext) -> PaymentNotice:
    """The notice of `application` for `identity` (the page has already checked that they may see it)."""
    payments = (
        await db.scalars(
            select(Payment).where(Payment.application_id == application.id).order_by(Payment.period, Payment.funder)
        )
    ).all()
    notice = PaymentNotice(str(application.id), application.county)
    failed = [p for p in payments if p.status == "failed"]
    notice.failed = [
        FailedLine(p.period, _(FUNDER.get(p.funder, p.funder)), p.amount, bank_reason(_, p.failure_reason))
        for p in failed
    ]
    due = [p for p in payments if p.status == "due"]
    if due and not failed:
        accounts = await current_accounts(db, [application.id])
        notice.needs_account = not payee_of(application, accounts).account
        notice.waiting = len(due) if notice.needs_account else 0
    notice.can_correct = bool(failed or notice.needs_account) and await may_correct(db, identity, application)
    for status in SCHEDULE_STATUS:
        if status == "paid":
            continue  # the sum paid is a line of its own
        rows = [p for p in payments if p.status == status]
        if rows:
            amount = sum((p.amount for p in rows), ZERO)
            notice.statuses.append(StatusLine(status, _(SCHEDULE_STATUS[status]), len(rows), amount))
    # As the schedule counts it: the ledger's rows, less what was reversed or is owed back.
    notice.due = (
        await db.scalar(
            select(func.coalesce(func.sum(LedgerEntry.amount), ZERO)).where(
                LedgerEntry.application_id == application.id
            )
        )
        or ZERO
    )
    notice.paid = sum((p.amount for p in payments if p.status == "paid"), ZERO)
    recovery = await db.scalar(select(Recovery).where(Recovery.application_id == application.id))
    if recovery is not None:
        notice.recovery = recovery_view(_, recovery)
    return notice


def recovery_view(_: Gettext, recovery: Recovery) -> RecoveryView:
    months = [
        (str(m["period"]), _(FUNDER.get(str(m["funder"]), str(m["funder"]))), str(m["amount"]))
        for m in recovery.months or []
        if "offset_reference" not in m
    ]
    return RecoveryView(
        amount=recovery.amount,
        city_amount=recovery.city_amount,
        county_amount=recovery.county_amount,
        outstanding=recovery.outstanding,
        months=months,
        event=_(BUSINESS_STEP.get(recovery.event, recovery.event)),
        event_date=recovery.event_date.isoformat(),
        status=recovery.status,
        status_words=_(RECOVERY_STATUS.get(recovery.status, recovery.status)),
    )


# ---- the bank account form -------------------------------------------------------------------------------------


async def _payee_application(request: Request, db: AsyncSession, application_id: str) -> tuple[Identity, Application]:
    identity = require_user(request)
    application = await get_visible_application(db, application_id, identity)
    if not await may_correct(db, identity, application):
        raise Forbidden("only the payee may correct the bank account")
    return identity, application


async def _account_page(
    request: Request,
    db: AsyncSession,
    identity: Identity,
    application: Application,
    *,
    value: str = "",
    errors: list[FieldError] | None = None,
    corrected: int | None = None,
    given: int | None = None,
    problem: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    _ = gettext_for(request)
    payee_notice = await payment_notice(db, identity, application, _)
    accounts = await current_accounts(db, [application.id])
    errors = errors or []
    return render(
        request,
        "bank_account.html",
        {
            "title": _("Give the bank account")
            if payee_notice.needs_account or given is not None
            else _("Correct the bank account"),
            "application": application,
            "program_name": _(PROGRAM.get(application.program, application.program)),
            "on_record": masked_account(payee_of(application, accounts).account),
            "payee_notice": payee_notice,
            "values": {"bank_account": value},
            "errors": errors,
            "errors_by_field": {e.name: e for e in errors},
            "corrected": corrected,
            "given": given,
            "problem": problem,
            "back": _back(application),
        },
        status_code=status_code,
        identity=identity,
    )


def _back(application: Application) -> str:
    own = PROGRAMS[application.program].own_page if application.program in PROGRAMS else None
    return own.format(id=application.id) if own else f"/my/applications/{application.id}"


@router.get("/my/applications/{application_id}/bank-account", response_class=HTMLResponse)
async def bank_account_form(request: Request, application_id: str, db: SessionDep) -> Response:
    identity, application = await _payee_application(request, db, application_id)
    corrected, given = request.query_params.get("corrected", ""), request.query_params.get("given", "")
    return await _account_page(
        request,
        db,
        identity,
        application,
        corrected=int(corrected) if corrected.isdigit() else None,
        given=int(given) if given.isdigit() else None,
    )


@router.post("/my/applications/{application_id}/bank-account", response_class=HTMLResponse)
async def bank_account_correct(request: Request, application_id: str, db: SessionDep) -> Response:
    identity, application = await _payee_application(request, db, application_id)
    form = await checked_form(request)
    _ = gettext_for(request)
    value = str(form.get("bank_account") or "")
    label = _("Bank account number")
    first = not (await payment_notice(db, identity, application, _)).failed
    try:
        corrected = await correct_account(db, identity, application, value)
    except Invalid:
        errors = [FieldError("bank_account", label, field_error(_, "bank_account_format"), _("Error:"))]
        return await _account_page(request, db, identity, application, value=value, errors=errors, status_code=400)
    except Conflict:
        problem = _("No payment of this application has failed, and the account on record stays as it is.")
        return await _account_page(request, db, identity, application, problem=problem, status_code=409)
    # Post, redirect, get: reloading the answer corrects nothing twice.
    answer = "given" if first else "corrected"
    return RedirectResponse(f"/my/applications/{application.id}/bank-account?{answer}={corrected}", status_code=303)
