"""The finance officer's pages (issue 18): what is due in their scope, building and approving batches with four eyes,
the bank file and the bank's result, a failed payment and its cancellation, reconciliation, recoveries.

For role `finance` (a county's officer: the county's shares of that county; the city's: the city's shares of every
county); auditors read. Every action calls the same domain function as the API (subsidy/payments/); reading goes
through `subsidy.payments.views`.
"""

from __future__ import annotations

import re
import uuid
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import UploadFile

from subsidy.api.deps import ResourcesDep, SessionDep
from subsidy.api.errors import Conflict, Forbidden, Invalid, ServiceError
from subsidy.api.pages.form_support import FieldError
from subsidy.api.pages.timeline_words import BUSINESS_STEP
from subsidy.api.pages.web import checked_form, gettext_for, language, render, require_user
from subsidy.api.pages.words import N_, PROGRAM, SCHEDULE_STATUS, STATUS, STEP
from subsidy.api.read_model import get_visible_application, mask_name
from subsidy.api.refusals import record_refusal
from subsidy.api.routers.payments import reconciliation_scope
from subsidy.api.security import Identity
from subsidy.db.models import Application, Task
from subsidy.db.payment_models import Recovery
from subsidy.forms.text import invisible_characters
from subsidy.payments import batches, failures, recoveries, views
from subsidy.payments.payees import current_accounts, masked_account, payee_of
from subsidy.payments.reconciliation import check_scope, reconcile
from subsidy.payments.tasks import PAYMENT_FAILED, PAYMENT_STEPS
from subsidy.policy.counties import BAOTOU_COUNTIES, BAOTOU_COUNTIES_EN
from subsidy.programs.rent_subsidy.rules import add_months

router = APIRouter(include_in_schema=False)
HOME = "/finance"
PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
PeriodQuery = Annotated[str, Query(max_length=7, pattern=r"^(\d{4}-(0[1-9]|1[0-2]))?$")]
CountyQuery = Annotated[str, Query(max_length=6, pattern=r"^(\d{6})?$")]

BATCH_STATUS = {
    "built": N_("Built, waiting for a second finance officer's approval"),
    "approved": N_("Approved, bank file not yet downloaded"),
    "sent": N_("Sent to the bank, waiting for its result"),
    "settled": N_("Settled: the bank answered every line"),
}
LINE_RESULT = {"paid": N_("Paid by the bank"), "failed": N_("Failed")}
FUNDER = {"city": N_("City's share"), "county": N_("County's share")}
RECOVERY_STATUS = {
    "open": N_("Open: money owed back"),
    "repaid": N_("Repaid"),
    "offset": N_("Offset against later payments"),
    "written_off": N_("Written off"),
}
DIFFERENCE_KIND = {
    "ledger_payment": N_("The ledger and the payment disagree"),
    "bank_line_payment": N_("The bank's answer and the payment disagree"),
    "batch_total": N_("A batch's total and its lines disagree"),
}
# The domain's refusals, in the page's words.
REFUSAL = {
    "a batch is approved by a second finance officer, not the one who built it": N_(
        "You built this batch: a second finance officer approves it, not the one who built it."
    ),
    "a write-off is confirmed by a second official, not the one who proposed it": N_(
        "You proposed this write-off: a second official confirms it, not the one who proposed it."
    ),
    "the batch must be approved by a second finance officer before its bank file is sent": N_(
        "The batch must be approved by a second finance officer before its bank file is sent."
    ),
    "the bank has not been sent this batch's file yet": N_(
        "The bank has not been sent this batch's file yet: download the bank file first."
    ),
    "no later payment of this person is due that fits in what is owed": N_(
        "No later payment of this person is due that fits in what is still owed."
    ),
    "the recovery has no person whose later payments could offset it": N_(
        "The recovery has no person whose later payments could offset it."
    ),
}
RESULT_PROBLEM = {
    "result_file_encoding": N_("The result file must be UTF-8 text."),
    "result_file_too_long": N_("The result file has too many lines."),
    "result_file_invalid": N_("Some lines of the result file cannot be read (each line: reference,result,reason)."),
    "result_file_empty": N_("The result file has no lines."),
    "reference_not_in_batch": N_("The result file names references that are not in this batch."),
    "result_conflicts_with_recorded": N_("The bank's file gives another result than the one already recorded."),
}
MAX_RESULT_BYTES = 900 * 1024


def _words(_: Any, refused: ServiceError) -> str:
    detail = refused.detail
    if isinstance(detail, str):
        if detail in REFUSAL:
            return str(_(REFUSAL[detail]))
        if detail.startswith("the batch is already "):
            status = detail[21:]
            return str(_("The batch is already: %(status)s.") % {"status": _(BATCH_STATUS.get(status, status))})
        if detail.startswith("the recovery is already "):
            status = detail[24:]
            return str(_("The recovery is already: %(status)s.") % {"status": _(RECOVERY_STATUS.get(status, status))})
        if detail.startswith("nothing is due for this funder and county up to that period"):
            return str(_("Nothing is due in your scope up to that period that is not in a batch already."))
        if detail.startswith("the records of these payments disagree by"):
            return str(_("The records disagree: settle the reconciliation differences before the next batch."))
        if detail.startswith("only a failed payment can be cancelled"):
            return str(_("Only a failed payment can be cancelled."))
        return detail
    return "; ".join(str(item.get("msg", "")) for item in detail)  # type: ignore[union-attr]


def _county_names(request: Request) -> dict[str, str]:
    return BAOTOU_COUNTIES_EN if language(request) == "en" else BAOTOU_COUNTIES


def _last_month(today: date) -> str:
    return add_months(today, -1).strftime("%Y-%m")


def _scope_words(_: Any, request: Request, scope: views.FinanceScope) -> str:
    if scope.funder is None:
        return str(_("Every county, the city's and the counties' shares (reading only)"))
    if scope.funder == "city":
        return str(_("The city's shares of every county"))
    return str(_("The county's shares of %(county)s") % {"county": _county_names(request).get(scope.county or "", "")})


def _finance(request: Request) -> tuple[Identity, views.FinanceScope]:
    identity = require_user(request)
    return identity, views.finance_scope(identity)


async def task_link(db: AsyncSession, task: Task) -> str:
    """Where a finance task is settled: the failed payment's page, the reconciliation of the application's county."""
    if task.step == PAYMENT_FAILED:
        reference = await views.failed_reference(db, task)
        return f"/finance/payments/{reference}" if reference else f"/finance/applications/{task.application_id}"
    application = await db.get(Application, task.application_id)
    county = application.county if application is not None else ""
    return f"/finance/reconciliation?county={county}"


def is_finance_task(task: Task) -> bool:
    return task.step in PAYMENT_STEPS


# ---- /finance ----------------------------------------------------------------------------------------------------


async def _home(
    request: Request,
    db: AsyncSession,
    res: ResourcesDep,
    identity: Identity,
    scope: views.FinanceScope,
    *,
    errors: list[FieldError] | None = None,
    values: dict[str, str] | None = None,
    problem: str | None = None,
    status_code: int = 200,
) -> Response:
    _ = gettext_for(request)
    due = await views.due_by_period(db, scope)
    tasks = await views.open_finance_tasks(db, scope)
    ids = {task.application_id for task in tasks}
    found = (await db.scalars(select(Application).where(Application.id.in_(ids)))).all() if ids else []
    applications = {application.id: application for application in found}
    task_rows = [
        {
            "task": task,
            "step": _(STEP.get(task.step, task.step)),
            "reference": str(task.application_id)[:8].upper(),
            "county": applications[task.application_id].county if task.application_id in applications else "",
            "href": await task_link(db, task),
        }
        for task in tasks
    ]
    return render(
        request,
        "finance/home.html",
        {
            "title": _("Payments to the bank"),
            "scope": scope,
            "scope_words": _scope_words(_, request, scope),
            "due": due,
            "due_count": sum(row.payments for row in due),
            "due_total": sum((row.total for row in due), Decimal("0.00")),
            "batches": await views.scope_batches(db, scope),
            "task_rows": task_rows,
            "counties": _county_names(request),
            "values": values or {"up_to_period": _last_month(res.settings.today()), "county": ""},
            "errors": errors or [],
            "errors_by_field": {e.name: e for e in errors or []},
            "problem": problem,
            "BATCH_STATUS": BATCH_STATUS,
            "FUNDER": FUNDER,
        },
        identity=identity,
        status_code=status_code,
    )


@router.get(HOME, response_class=HTMLResponse)
async def finance_home(request: Request, db: SessionDep, res: ResourcesDep) -> Response:
    identity, scope = _finance(request)
    return await _home(request, db, res, identity, scope)


@router.post("/finance/batches", response_class=HTMLResponse)
async def build_on_the_page(request: Request, db: SessionDep, res: ResourcesDep) -> Response:
    identity, scope = _finance(request)
    form = await checked_form(request)
    _ = gettext_for(request)
    if not scope.acts:
        raise Forbidden("only finance officers build batches")
    period = str(form.get("up_to_period", "")).strip()[:20]
    county = scope.county if scope.funder == "county" else str(form.get("county", "")).strip()[:20]
    values = {"up_to_period": period, "county": county or ""}
    errors = []
    if scope.funder == "city" and county not in BAOTOU_COUNTIES:
        errors.append(FieldError("county", _("County"), _("Choose the county"), _("Error:")))
    if not PERIOD.match(period):
        errors.append(
            FieldError("up_to_period", _("Up to the month"), _("Enter the month as YYYY-MM, e.g. 2026-03"), _("Error:"))
        )
    if errors:
        return await _home(request, db, res, identity, scope, errors=errors, values=values, status_code=422)
    assert scope.funder is not None and county is not None
    try:
        built = await batches.build_batch(db, identity, scope.funder, county, period)
    except ServiceError as refused:
        await db.rollback()
        await record_refusal(request, refused.status_code)
        problem, status = _words(_, refused), refused.status_code
        return await _home(request, db, res, identity, scope, values=values, problem=problem, status_code=status)
    await db.commit()
    suffix = f"&without_account={built.without_account}" if built.without_account else ""
    return RedirectResponse(f"/finance/batches/{built.batch.id}?built=1{suffix}", status_code=303)


# ---- /finance/batches/{id} ---------------------------------------------------------------------------------------


async def _batch_page(
    request: Request,
    db: AsyncSession,
    identity: Identity,
    scope: views.FinanceScope,
    batch_id: str,
    *,
    problem: str | None = None,
    notice: str | None = None,
    errors: list[FieldError] | None = None,
    result_problems: list[str] | None = None,
    status_code: int = 200,
) -> Response:
    _ = gettext_for(request)
    batch = await views.readable_batch(db, identity, batch_id)
    lines = await batches.batch_lines(db, batch)
    counts = {"paid": 0, "failed": 0, "open": 0}
    for line in lines:
        counts[line.result or "open"] += 1
    if request.query_params.get("built") == "1" and notice is None:
        notice = _("The batch has been built: a second finance officer approves it.")
        without = request.query_params.get("without_account", "")
        if without.isdigit():
            notice += " " + _("%(count)s due payments were left out: no bank account on record.") % {"count": without}
    if request.query_params.get("approved") == "1" and notice is None:
        notice = _("The batch has been approved: download the bank file and send it to the bank.")
    return render(
        request,
        "finance/batch.html",
        {
            "title": _("Payment batch"),
            "batch": batch,
            "batch_ref": str(batch.id)[:8].upper(),
            "lines": lines,
            "counts": counts,
            "masked": masked_account,
            "mask_name": mask_name,
            "acts": scope.acts,
            "is_builder": batch.built_by == identity.username,
            "problem": problem,
            "notice": notice,
            "errors": errors or [],
            "result_problems": result_problems or [],
            "BATCH_STATUS": BATCH_STATUS,
            "LINE_RESULT": LINE_RESULT,
            "FUNDER": FUNDER,
        },
        identity=identity,
        status_code=status_code,
    )


@router.get("/finance/batches/{batch_id}", response_class=HTMLResponse)
async def batch_page(request: Request, batch_id: str, db: SessionDep) -> Response:
    identity, scope = _finance(request)
    return await _batch_page(request, db, identity, scope, batch_id)


@router.post("/finance/batches/{batch_id}/approve", response_class=HTMLResponse)
async def approve_on_the_page(request: Request, batch_id: str, db: SessionDep) -> Response:
    identity, scope = _finance(request)
    await checked_form(request)
    _ = gettext_for(request)
    try:
        await batches.approve_batch(db, identity, batch_id)
    except (Forbidden, Conflict) as refused:
        await db.rollback()
        await record_refusal(request, refused.status_code)
        return await _batch_page(
            request, db, identity, scope, batch_id, problem=_words(_, refused), status_code=refused.status_code
        )
    await db.commit()
    return RedirectResponse(f"/finance/batches/{batch_id}?approved=1", status_code=303)


@router.get("/finance/batches/{batch_id}/bank-file")
async def bank_file_download(request: Request, batch_id: str, db: SessionDep) -> Response:
    """The same bytes as GET /api/v1/payment-batches/{id}/bank-file; the first download sends the batch."""
    identity, scope = _finance(request)
    _ = gettext_for(request)
    try:
        batch, content = await batches.bank_file(db, identity, batch_id)
    except Conflict as refused:
        await db.rollback()
        await record_refusal(request, refused.status_code)
        return await _batch_page(
            request, db, identity, scope, batch_id, problem=_words(_, refused), status_code=refused.status_code
        )
    return Response(
        content,
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="bank-file-{batch.county}-{batch.funder}-{batch.id}.csv"',
            "Cache-Control": "no-store",
        },
    )


@router.post("/finance/batches/{batch_id}/bank-result", response_class=HTMLResponse)
async def bank_result_on_the_page(request: Request, batch_id: str, db: SessionDep) -> Response:
    identity, scope = _finance(request)
    form = await checked_form(request)
    _ = gettext_for(request)
    upload = form.get("result_file")
    label = _("The bank's result file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        error = FieldError("result_file", label, _("Choose the bank's result file"), _("Error:"))
        return await _batch_page(request, db, identity, scope, batch_id, errors=[error], status_code=422)
    body = await upload.read(MAX_RESULT_BYTES + 1)
    if len(body) > MAX_RESULT_BYTES:
        error = FieldError("result_file", label, _("The result file is too large"), _("Error:"))
        return await _batch_page(request, db, identity, scope, batch_id, errors=[error], status_code=422)
    try:
        settled = await batches.apply_bank_result(db, identity, batch_id, body)
    except Invalid as invalid:
        await db.rollback()
        await record_refusal(request, 422)
        item = invalid.detail[0]  # type: ignore[index]
        message = _(RESULT_PROBLEM.get(str(item["type"]), "")) or str(item["msg"])
        message = _("%(problem)s Nothing was recorded.") % {"problem": message}
        error = FieldError("result_file", label, message, _("Error:"))
        return await _batch_page(
            request,
            db,
            identity,
            scope,
            batch_id,
            errors=[error],
            result_problems=[part.strip() for part in str(item["msg"]).split(";") if part.strip()],
            status_code=422,
        )
    except (Forbidden, Conflict) as refused:
        await db.rollback()
        await record_refusal(request, refused.status_code)
        return await _batch_page(
            request, db, identity, scope, batch_id, problem=_words(_, refused), status_code=refused.status_code
        )
    await db.commit()
    notice = _("The bank's result is recorded: paid %(paid)s, failed %(failed)s, unchanged %(unchanged)s.") % {
        "paid": settled.paid,
        "failed": settled.failed,
        "unchanged": settled.unchanged,
    }
    return await _batch_page(request, db, identity, scope, batch_id, notice=notice)


# ---- /finance/reconciliation -------------------------------------------------------------------------------------


async def _reconciliation_page(
    request: Request,
    db: AsyncSession,
    identity: Identity,
    scope: views.FinanceScope,
    period: str,
    county: str,
    *,
    notice: str | None = None,
    errors: list[FieldError] | None = None,
    status_code: int = 200,
) -> Response:
    _ = gettext_for(request)
    shown_county, funder = reconciliation_scope(identity, county or None, None)
    result = await reconcile(db, period=period or None, county=shown_county, funder=funder)
    names = _county_names(request)
    figures = [
        ("due", _("Due for payment")),
        ("batched", _("Batched")),
        ("sent", _("Sent to the bank")),
        ("paid", _("Paid (confirmed by the bank)")),
        ("failed", _("Failed")),
        ("not_batched", _("Not yet in a batch")),
        ("awaiting_bank", _("Awaiting the bank's answer")),
        ("difference", _("Difference")),
    ]
    return render(
        request,
        "finance/reconciliation.html",
        {
            "title": _("Reconciliation"),
            "scope": scope,
            "scope_words": _scope_words(_, request, scope),
            "period": period,
            "county": shown_county or "",
            "counties": names,
            "fixed_county": scope.funder == "county",
            "figures": [(key, words, getattr(result, key)) for key, words in figures],
            "differences": result.differences,
            "difference": result.difference,
            "notice": notice,
            "errors": errors or [],
            "errors_by_field": {e.name: e for e in errors or []},
            "DIFFERENCE_KIND": DIFFERENCE_KIND,
            "FUNDER": FUNDER,
        },
        identity=identity,
        status_code=status_code,
    )


@router.get("/finance/reconciliation", response_class=HTMLResponse)
async def reconciliation_page(
    request: Request, db: SessionDep, period: PeriodQuery = "", county: CountyQuery = ""
) -> Response:
    identity, scope = _finance(request)
    return await _reconciliation_page(request, db, identity, scope, period, county)


@router.post("/finance/reconciliation/check", response_class=HTMLResponse)
async def check_now(request: Request, db: SessionDep) -> Response:
    identity, scope = _finance(request)
    form = await checked_form(request)
    _ = gettext_for(request)
    if not scope.acts:
        raise Forbidden("only finance officers reconcile")
    county = scope.county if scope.funder == "county" else str(form.get("county", "")).strip()[:20]
    if county not in BAOTOU_COUNTIES:
        error = FieldError("county", _("County"), _("Choose the county to reconcile"), _("Error:"))
        return await _reconciliation_page(request, db, identity, scope, "", "", errors=[error], status_code=422)
    assert scope.funder is not None and county is not None
    result = await check_scope(db, scope.funder, county)
    await db.commit()
    notice = (
        _("Reconciled now: the records agree (difference 0.00).")
        if not result.difference
        else _("Reconciled now: the records disagree by %(amount)s; a task is open for each application concerned.")
        % {"amount": f"{result.difference:.2f}"}
    )
    return await _reconciliation_page(request, db, identity, scope, "", county, notice=notice)


# ---- /finance/payments/{reference} and /finance/applications/{id} -----------------------------------------------


async def _payment_page(
    request: Request,
    db: AsyncSession,
    identity: Identity,
    scope: views.FinanceScope,
    reference: str,
    *,
    errors: list[FieldError] | None = None,
    values: dict[str, str] | None = None,
    problem: str | None = None,
    status_code: int = 200,
) -> Response:
    _ = gettext_for(request)
    found = await views.payment_by_reference(db, identity, reference)
    payment = found.payment
    application = await db.get(Application, payment.application_id)
    assert application is not None
    payee = payee_of(application, await current_accounts(db, [application.id]))
    notice = _("The payment has been cancelled.") if request.query_params.get("cancelled") == "1" else None
    return render(
        request,
        "finance/payment.html",
        {
            "title": _("Payment %(reference)s") % {"reference": payment.reference},
            "payment": payment,
            "application": application,
            "app_ref": str(application.id)[:8].upper(),
            "program_title": _(PROGRAM.get(application.program, application.program)),
            "payee": payee,
            "account": masked_account(payee.account),
            "attempts": found.attempts,
            "masked": masked_account,
            "acts": scope.acts,
            "errors": errors or [],
            "errors_by_field": {e.name: e for e in errors or []},
            "values": values or {},
            "problem": problem,
            "notice": notice,
            "SCHEDULE_STATUS": SCHEDULE_STATUS,
            "LINE_RESULT": LINE_RESULT,
            "FUNDER": FUNDER,
        },
        identity=identity,
        status_code=status_code,
    )


@router.get("/finance/payments/{reference}", response_class=HTMLResponse)
async def payment_page(request: Request, reference: str, db: SessionDep) -> Response:
    identity, scope = _finance(request)
    return await _payment_page(request, db, identity, scope, reference[:64])


@router.post("/finance/payments/{reference}/cancel", response_class=HTMLResponse)
async def cancel_on_the_page(request: Request, reference: str, db: SessionDep) -> Response:
    identity, scope = _finance(request)
    form = await checked_form(request)
    _ = gettext_for(request)
    reason = str(form.get("reason", "")).strip()[:1000]
    label = _("Why the payment is cancelled")
    error = None
    if not reason:
        error = _("Say why the payment is cancelled: the payee and the auditors will read it")
    elif invisible_characters(reason, multiline=True):
        error = _("Remove control characters and invisible formatting characters")
    if error:
        errors = [FieldError("reason", label, error, _("Error:"))]
        return await _payment_page(
            request, db, identity, scope, reference[:64], errors=errors, values={"reason": reason}, status_code=422
        )
    try:
        payment = await failures.cancel_payment(db, identity, reference[:64], reason)
    except Conflict as refused:
        await db.rollback()
        await record_refusal(request, refused.status_code)
        return await _payment_page(
            request,
            db,
            identity,
            scope,
            reference[:64],
            values={"reason": reason},
            problem=_words(_, refused),
            status_code=refused.status_code,
        )
    await db.commit()
    return RedirectResponse(f"/finance/payments/{payment.reference}?cancelled=1", status_code=303)


@router.get("/finance/applications/{application_id}", response_class=HTMLResponse)
async def application_page(request: Request, application_id: str, db: SessionDep) -> Response:
    """An application as finance sees it: the payee, the account on record (masked), its payments of the scope."""
    identity, scope = _finance(request)
    _ = gettext_for(request)
    application = await get_visible_application(db, application_id, identity)
    payee = payee_of(application, await current_accounts(db, [application.id]))
    return render(
        request,
        "finance/application.html",
        {
            "title": _("Application %(reference)s") % {"reference": str(application.id)[:8].upper()},
            "application": application,
            "program_title": _(PROGRAM.get(application.program, application.program)),
            "status_words": _(STATUS.get(application.status, application.status)),
            "payee": payee,
            "account": masked_account(payee.account),
            "payments": await views.application_payments(db, scope, application.id),
            "SCHEDULE_STATUS": SCHEDULE_STATUS,
            "FUNDER": FUNDER,
        },
        identity=identity,
    )


# ---- /finance/recoveries -----------------------------------------------------------------------------------------


def _may_settle(identity: Identity) -> bool:
    return identity.has(*recoveries.SETTLERS)


@router.get("/finance/recoveries", response_class=HTMLResponse)
async def recoveries_page(request: Request, db: SessionDep) -> Response:
    identity = require_user(request)
    _ = gettext_for(request)
    found = await views.scope_recoveries(db, identity)
    return render(
        request,
        "finance/recoveries.html",
        {
            "title": _("Money owed back (recoveries)"),
            "recoveries": found,
            "total": sum((r.outstanding for r in found), Decimal("0.00")),
            "county_limit": views.recovery_county(identity),
            "months_of": lambda r: len([m for m in r.months or [] if "offset_reference" not in m]),
            "RECOVERY_STATUS": RECOVERY_STATUS,
            "EVENT": BUSINESS_STEP,
            "PROGRAM": PROGRAM,
        },
        identity=identity,
    )


async def _recovery_page(
    request: Request,
    db: AsyncSession,
    identity: Identity,
    recovery_id: str,
    *,
    errors: list[FieldError] | None = None,
    values: dict[str, str] | None = None,
    problem: str | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Response:
    _ = gettext_for(request)
    recovery: Recovery = await views.readable_recovery(db, identity, recovery_id)
    application = await db.get(Application, recovery.application_id)
    done = request.query_params.get("done", "")
    notices = {
        "repaid": _("Recorded: the money has been repaid."),
        "offset": _("Later payments have been kept back against what is owed."),
        "proposed": _("The write-off has been proposed: a second official confirms it."),
        "written_off": _("The recovery has been written off."),
    }
    months = [m for m in recovery.months or [] if "offset_reference" not in m]
    offsets = [m for m in recovery.months or [] if "offset_reference" in m]
    return render(
        request,
        "finance/recovery.html",
        {
            "title": _("Recovery %(reference)s") % {"reference": str(recovery.id)[:8].upper()},
            "recovery": recovery,
            "application": application,
            "app_ref": str(recovery.application_id)[:8].upper(),
            "program_title": _(PROGRAM.get(recovery.program, recovery.program)),
            "event_words": _(BUSINESS_STEP.get(recovery.event, recovery.event)),
            "months": months,
            "offsets": offsets,
            "may_settle": _may_settle(identity) and recovery.status == "open",
            "is_proposer": recovery.write_off_proposed_by == identity.username,
            "errors": errors or [],
            "errors_by_field": {e.name: e for e in errors or []},
            "values": values or {},
            "problem": problem,
            "notice": notice or notices.get(done),
            "RECOVERY_STATUS": RECOVERY_STATUS,
            "FUNDER": FUNDER,
        },
        identity=identity,
        status_code=status_code,
    )


@router.get("/finance/recoveries/{recovery_id}", response_class=HTMLResponse)
async def recovery_page(request: Request, recovery_id: str, db: SessionDep) -> Response:
    identity = require_user(request)
    return await _recovery_page(request, db, identity, recovery_id)


def _text(form: Any, name: str) -> str:
    return str(form.get(name, "")).strip()[:1000]


async def _settle(request: Request, db: AsyncSession, recovery_id: str, action: str) -> Response:
    identity = require_user(request)
    form = await checked_form(request)
    _ = gettext_for(request)
    views.recovery_county(identity)
    field = {"repaid": "note", "write-off": "reason"}.get(action)
    typed = _text(form, field) if field else ""
    values = {field: typed} if field else {}
    if field and (not typed or invisible_characters(typed, multiline=True)):
        label = _("What happened (the receipt)") if field == "note" else _("Why the money is written off")
        message = (
            _("Say what happened: the receipt, the reason")
            if not typed
            else _("Remove control characters and invisible formatting characters")
        )
        errors = [FieldError(field, label, message, _("Error:"))]
        return await _recovery_page(request, db, identity, recovery_id, errors=errors, values=values, status_code=422)
    try:
        if action == "repaid":
            await recoveries.record_repaid(db, identity, recovery_id, typed)
            done = "repaid"
        elif action == "offset":
            await recoveries.offset_against_later(db, identity, recovery_id)
            done = "offset"
        else:
            found = await recoveries.write_off(db, identity, recovery_id, typed)
            done = "written_off" if found.status == "written_off" else "proposed"
    except (Forbidden, Conflict) as refused:
        await db.rollback()
        await record_refusal(request, refused.status_code)
        return await _recovery_page(
            request,
            db,
            identity,
            recovery_id,
            values=values,
            problem=_words(_, refused),
            status_code=refused.status_code,
        )
    await db.commit()
    return RedirectResponse(f"/finance/recoveries/{uuid.UUID(recovery_id)}?done={done}", status_code=303)


@router.post("/finance/recoveries/{recovery_id}/repaid", response_class=HTMLResponse)
async def repaid_on_the_page(request: Request, recovery_id: str, db: SessionDep) -> Response:
    return await _settle(request, db, recovery_id, "repaid")


@router.post("/finance/recoveries/{recovery_id}/offset", response_class=HTMLResponse)
async def offset_on_the_page(request: Request, recovery_id: str, db: SessionDep) -> Response:
    return await _settle(request, db, recovery_id, "offset")


@router.post("/finance/recoveries/{recovery_id}/write-off", response_class=HTMLResponse)
async def write_off_on_the_page(request: Request, recovery_id: str, db: SessionDep) -> Response:
    return await _settle(request, db, recovery_id, "write-off")
