"""The employer's pages for the graduate hiring subsidy: its hires, the form (the employer is the organisation the
account acts for, never typed), review and confirm, the refusal by rule in words, and the subsidy's own page (its
years with their checks and payments, the "confirm year k" and "employment ended" forms when they apply, withdraw).

A year's amount is known once its check is approved; before that the page shows an estimate with the standard in
force today, marked as an estimate.
"""

from __future__ import annotations

import secrets
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from subsidy.api import procedures
from subsidy.api.bindings import binding_of
from subsidy.api.deps import ResourcesDep, SessionDep
from subsidy.api.errors import Conflict, Forbidden, NotFound, ServiceError
from subsidy.api.pages.form_support import FieldError, field_errors, flat_values, nested
from subsidy.api.pages.page_events import send_from_page, submit_from_page
from subsidy.api.pages.payment_notices import payment_notice
from subsidy.api.pages.web import checked_form, gettext_for, language, render, require_user
from subsidy.api.pages.words import N_, SCHEDULE_STATUS, STATUS, reasons_of
from subsidy.api.read_model import application_out, get_visible_application, mask_id_number
from subsidy.api.refusals import record_refusal
from subsidy.api.schemas import EventIn
from subsidy.api.security import Identity
from subsidy.db.binding_models import AccountBinding
from subsidy.db.minimum_wages import minimum_wage
from subsidy.db.models import Application, AuditRecord, ScheduledPayment, Task
from subsidy.policy.counties import BAOTOU_COUNTIES, BAOTOU_COUNTIES_EN
from subsidy.policy.workdays import china_today
from subsidy.programs.graduate_hiring_subsidy.contracts import GRADUATE_HIRING_PROGRAM, YEAR_CHECK_STEP
from subsidy.programs.graduate_hiring_subsidy.form import GraduateHiringForm
from subsidy.programs.graduate_hiring_subsidy.rules import confirmable, year_amount
from subsidy.programs.graduate_hiring_subsidy.task_words import params_of, years_of
from subsidy.programs.registry import PROGRAMS

router = APIRouter(include_in_schema=False)

HIRES = "/employer/graduate-hires"
FORM = HIRES + "/new"
FIELDS = [
    "county",
    "person.name",
    "person.id_number",
    "person.disability_cert_number",
    "graduated_on",
    "contract.start_date",
    "contract.end_date",
    "social_insurance_from",
]
NEXT_STEP = {
    "submitted": N_("We are checking the hire against the rules."),
    "under_review": N_("The County Disabled Persons' Federation is reviewing the hire."),
    "active": N_(
        "When each year of employment ends, confirm that the contract and the insurance still hold; the County "
        "Disabled Persons' Federation then checks the year and pays it."
    ),
    "rejected": N_("Nothing more to do."),
    "completed": N_("All the years of the subsidy have been paid."),
    "terminated": N_("The subsidy has ended: the years not paid are cancelled."),
    "withdrawn": N_("You withdrew this application."),
}
YEAR_STATUS = {**SCHEDULE_STATUS, "check": N_("Being checked by the County DPF")}
TERMINAL = ("rejected", "completed", "terminated", "withdrawn")
# The shared words, but its years are paid one at a time, after each check.
STATUS_WORDS = {**STATUS, "active": N_("Active (each year paid after its check)")}
DONE = {
    "confirmed": N_("The employment has been confirmed: the County DPF checks the year."),
    "ended": N_("The end of the employment has been recorded."),
    "withdrawn": N_("Your application has been withdrawn."),
}


def labels(_: Any) -> dict[str, str]:
    return {
        "county": _("County whose Disabled Persons' Federation decides"),
        "person.name": _("Graduate's name"),
        "person.id_number": _("Graduate's resident ID number"),
        "person.disability_cert_number": _("Graduate's disability certificate number"),
        "graduated_on": _("Day of graduation"),
        "contract.start_date": _("First day of the labour contract"),
        "contract.end_date": _("Last day of the labour contract"),
        "social_insurance_from": _("First day of social insurance"),
        "date": _("Date"),
        "note": _("Note"),
    }


def _employer(request: Request) -> Identity:
    identity = require_user(request)
    if not identity.has("employer"):
        raise Forbidden("these pages are for employers")
    return identity


async def _organisation(db: AsyncSession, identity: Identity) -> AccountBinding:
    bound = await binding_of(db, identity.username)
    if bound is None or bound.status != "verified" or bound.kind != "employer":
        raise Forbidden("this account acts for no verified employer")
    return bound


def _counties(request: Request) -> list[tuple[str, str]]:
    return list((BAOTOU_COUNTIES_EN if language(request) == "en" else BAOTOU_COUNTIES).items())


def _body(bound: AccountBinding, values: dict[str, str]) -> dict[str, Any]:
    return {
        "program": GRADUATE_HIRING_PROGRAM,
        "employer": {"name": bound.name, "credit_code": bound.identifier},
        **nested({name: values.get(name, "") for name in FIELDS}),
    }


def _form_page(
    request: Request,
    identity: Identity,
    bound: AccountBinding,
    values: dict[str, str],
    errors: list[FieldError],
    *,
    status_code: int = 200,
) -> HTMLResponse:
    _ = gettext_for(request)
    return render(
        request,
        "graduate_hiring_subsidy/form.html",
        {
            "title": _("Apply for the graduate hiring subsidy"),
            "employer": bound,
            "values": values,
            "errors": errors,
            "errors_by_field": {e.name: e for e in errors},
            "labels": labels(_),
            "counties": _counties(request),
        },
        status_code=status_code,
        identity=identity,
    )


def _posted(form: Any) -> dict[str, str]:
    values = flat_values(form, [*FIELDS, "submission_key"])
    if not values["submission_key"]:
        values["submission_key"] = secrets.token_urlsafe(16)
    return values


@router.get(HIRES, response_class=HTMLResponse)
async def my_hires(request: Request, db: SessionDep) -> Response:
    identity = _employer(request)
    _ = gettext_for(request)
    rows = (
        await db.scalars(
            select(Application)
            .where(Application.program == GRADUATE_HIRING_PROGRAM, Application.submitted_by == identity.username)
            .order_by(Application.submitted_at.desc())
        )
    ).all()
    hires = [
        {
            "id": row.id,
            "name": (row.form or {}).get("person", {}).get("name", ""),
            "start": (row.form or {}).get("contract", {}).get("start_date", ""),
            "status": row.status,
        }
        for row in rows
    ]
    return render(
        request,
        "graduate_hiring_subsidy/hires.html",
        {"title": _("My graduate hires"), "hires": hires, "STATUS": STATUS},
        identity=identity,
    )


@router.get(FORM, response_class=HTMLResponse)
async def hire_form(request: Request, db: SessionDep) -> Response:
    identity = _employer(request)
    bound = await _organisation(db, identity)
    values = {"county": bound.county or "", "submission_key": secrets.token_urlsafe(16)}
    return _form_page(request, identity, bound, values, [])


@router.post(FORM, response_class=HTMLResponse)
async def hire_check(request: Request, db: SessionDep) -> Response:
    identity = _employer(request)
    form = await checked_form(request)
    bound = await _organisation(db, identity)
    _ = gettext_for(request)
    values = _posted(form)
    if form.get("change"):
        return _form_page(request, identity, bound, values, [])
    try:
        checked = GraduateHiringForm.model_validate(_body(bound, values))
    except ValidationError as error:
        errors = field_errors(error, labels(_), FIELDS, _)
        return _form_page(request, identity, bound, values, errors, status_code=400)
    return render(
        request,
        "graduate_hiring_subsidy/confirm.html",
        {
            "title": _("Check your answers before you submit"),
            "employer": bound,
            "checked": checked,
            "id_masked": mask_id_number(checked.person.id_number),
            "values": values,
            "labels": labels(_),
            "county_names": dict(_counties(request)),
        },
        identity=identity,
    )


@router.post(FORM + "/confirm", response_class=HTMLResponse)
async def hire_submit(request: Request, db: SessionDep, res: ResourcesDep) -> Response:
    identity = _employer(request)
    form = await checked_form(request)
    bound = await _organisation(db, identity)
    _ = gettext_for(request)
    values = _posted(form)
    try:
        checked = GraduateHiringForm.model_validate(_body(bound, values))
    except ValidationError as error:
        errors = field_errors(error, labels(_), FIELDS, _)
        return _form_page(request, identity, bound, values, errors, status_code=400)
    try:
        return await submit_from_page(db, res, identity, checked, values["submission_key"])
    except Conflict as refused:
        await db.rollback()
        await record_refusal(request, refused.status_code)
        code = str(refused.detail).split(":", 1)[0]
        return render(
            request,
            "graduate_hiring_subsidy/refused.html",
            {
                "title": _("Your application cannot be accepted"),
                "reason": _(reasons_of("graduate_hiring_subsidy")[code])
                if code in reasons_of("graduate_hiring_subsidy")
                else str(refused.detail),
            },
            status_code=refused.status_code,
            identity=identity,
        )


async def _mine(db: AsyncSession, identity: Identity, application_id: str) -> Application:
    application = await get_visible_application(db, application_id, identity)
    if application.program != GRADUATE_HIRING_PROGRAM or application.submitted_by != identity.username:
        raise NotFound("no such application")
    return application


async def subsidy_years_now(db: AsyncSession, application: Application, today: date) -> dict[str, Any]:
    """The years as the page shows them, from the database: paid rows, open checks, the end of the employment."""
    params = await params_of(db, application)
    form = application.form or {}
    paid = {
        row.period: row
        for row in (
            await db.scalars(select(ScheduledPayment).where(ScheduledPayment.application_id == application.id))
        ).all()
    }
    checking = {
        task.round
        for task in (
            await db.scalars(
                select(Task).where(
                    Task.application_id == application.id,
                    Task.step == YEAR_CHECK_STEP,
                    Task.status.in_(("open", "claimed")),
                )
            )
        ).all()
    }
    ended = await db.scalar(
        select(AuditRecord.detail)
        .where(AuditRecord.application_id == application.id, AuditRecord.kind == "employment_ended")
        .order_by(AuditRecord.id.desc())
        .limit(1)
    )
    ended_on = date.fromisoformat(ended["date"]) if ended and ended.get("date") else None
    standard = await minimum_wage(db, application.county, today)
    estimate = year_amount(standard.monthly, params) if standard is not None else None
    rows: list[dict[str, Any]] = []
    to_confirm: int | None = None
    waiting_seen = False  # the years wait in turn: only the first year not paid may be confirmed
    for year in years_of(form, params):
        row = paid.get(year.period)
        amount: Any = estimate
        if row is not None and row.status not in ("planned", "cancelled"):
            status, amount = row.status, row.amount
        elif application.status in ("submitted", "under_review"):
            status = "planned"
        elif application.status in TERMINAL or not confirmable(year, ended_on):
            status, amount = "cancelled", None
        elif year.number in checking:
            status = "check"
            waiting_seen = True
        else:
            status = "planned"
            if not waiting_seen and not checking and today >= year.end:
                to_confirm = year.number
            waiting_seen = True
        rows.append(
            {
                "number": year.number,
                "start": year.start,
                "last_day": year.last_day,
                "period": year.period,
                "status": status,
                "amount": amount,
                "estimated": status in ("planned", "check") and amount is not None,
            }
        )
    next_planned = next((row for row in rows if row["status"] in ("planned", "check")), None)
    return {
        "rows": rows,
        "to_confirm": to_confirm,
        "next_planned": next_planned,
        "ended_on": ended_on,
        "standard": standard,
        "months": params.yearly_minimum_wage_months,
    }


async def _hire_page(
    request: Request,
    db: AsyncSession,
    identity: Identity,
    application_id: str,
    *,
    notice: str | None = None,
    problem: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    _ = gettext_for(request)
    application = await _mine(db, identity, application_id)
    view = await application_out(db, application)
    today = china_today()
    query = request.query_params
    return render(
        request,
        "graduate_hiring_subsidy/hire.html",
        {
            "title": _("Graduate hiring subsidy"),
            "app": view,
            "form": application.form,
            "years": await subsidy_years_now(db, application, today),
            "today": today.isoformat(),
            "STATUS": STATUS_WORDS,
            "NEXT_STEP": NEXT_STEP,
            "REASON": reasons_of("graduate_hiring_subsidy"),
            "YEAR_STATUS": YEAR_STATUS,
            "labels": labels(_),
            "can_withdraw": application.status in ("submitted", "under_review"),
            "can_end": application.status == "active",
            "notice": notice
            or (_("Your application has been submitted.") if query.get("submitted") == "1" else None)
            or (_(DONE[query["done"]]) if query.get("done") in DONE else None)
            or (
                _(
                    "Your application has been saved. Its review starts by itself as soon as the system is back: "
                    "you do not need to submit it again."
                )
                if query.get("saved") == "1"
                else None
            ),
            "problem": problem,
            "payee_notice": await payment_notice(db, identity, application, _),
        },
        status_code=status_code,
        identity=identity,
    )


@router.get(HIRES + "/{application_id}", response_class=HTMLResponse)
async def hire_page(request: Request, application_id: str, db: SessionDep) -> Response:
    identity = _employer(request)
    return await _hire_page(request, db, identity, application_id)


async def _send(
    request: Request, db: AsyncSession, res: Any, identity: Identity, application_id: str, event: EventIn, done: str
) -> Response:
    application = await _mine(db, identity, application_id)
    try:
        request_in = PROGRAMS[GRADUATE_HIRING_PROGRAM].event(application, event, procedures.actor_of(identity))
    except ServiceError as invalid:
        return await _hire_page(
            request, db, identity, application_id, problem=str(invalid.detail), status_code=invalid.status_code
        )
    refused = await send_from_page(request, db, res, application, request_in)
    if refused is not None:
        return await _hire_page(
            request, db, identity, application_id, problem=str(refused.detail), status_code=refused.status_code
        )
    return RedirectResponse(f"{HIRES}/{application_id}?done={done}", status_code=303)


def _event_values(form: Any) -> tuple[date | None, str | None]:
    text = str(form.get("date", "")).strip()
    try:
        day = date.fromisoformat(text) if text else None
    except ValueError:
        day = None
    note = str(form.get("note", "")).strip()[:500] or None
    return day, note


@router.post(HIRES + "/{application_id}/confirm", response_class=HTMLResponse)
async def confirm_year(request: Request, application_id: str, db: SessionDep, res: ResourcesDep) -> Response:
    identity = _employer(request)
    form = await checked_form(request)
    day, note = _event_values(form)
    if day is None:
        _ = gettext_for(request)
        return await _hire_page(
            request, db, identity, application_id, problem=_("Enter the date as YYYY-MM-DD."), status_code=400
        )
    event = EventIn(type="employment_confirmed", date=day, note=note)
    return await _send(request, db, res, identity, application_id, event, "confirmed")


@router.post(HIRES + "/{application_id}/ended", response_class=HTMLResponse)
async def employment_ended(request: Request, application_id: str, db: SessionDep, res: ResourcesDep) -> Response:
    identity = _employer(request)
    form = await checked_form(request)
    day, note = _event_values(form)
    if day is None:
        _ = gettext_for(request)
        return await _hire_page(
            request, db, identity, application_id, problem=_("Enter the date as YYYY-MM-DD."), status_code=400
        )
    event = EventIn(type="employment_ended", date=day, note=note)
    return await _send(request, db, res, identity, application_id, event, "ended")


@router.post(HIRES + "/{application_id}/withdraw", response_class=HTMLResponse)
async def withdraw(request: Request, application_id: str, db: SessionDep, res: ResourcesDep) -> Response:
    identity = _employer(request)
    await checked_form(request)
    return await _send(request, db, res, identity, application_id, EventIn(type="withdrawn"), "withdrawn")
