"""The applicant's pages: my applications, the rent subsidy form with review-and-confirm, withdraw, correct."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from subsidy.api import procedures
from subsidy.api.audit import TimelineEntry
from subsidy.api.bindings import binding_of
from subsidy.api.deps import ResourcesDep, SessionDep
from subsidy.api.errors import Forbidden, Invalid
from subsidy.api.pages.form_support import FieldError, field_errors, flat_values, nested
from subsidy.api.pages.page_events import own_page, send_from_page, submit_from_page
from subsidy.api.pages.payment_notices import payment_notice
from subsidy.api.pages.timeline_words import TimelineLine, county_words, in_words
from subsidy.api.pages.web import checked_form, gettext_for, language, render, require_user
from subsidy.api.pages.words import NEXT_STEP, PROGRAM, REASON, ROLE, SCHEDULE_STATUS, STATUS, reasons_of
from subsidy.api.read_model import application_out, application_scope, get_visible_application
from subsidy.api.refusals import record_refusal
from subsidy.api.schemas import ApplicationOut, EventIn
from subsidy.api.security import Identity
from subsidy.db.models import Application, AuditRecord, Task
from subsidy.policy.counties import BAOTOU_COUNTIES, BAOTOU_COUNTIES_EN
from subsidy.policy.versions import version_from_json
from subsidy.policy.workdays import CHINA, china_today
from subsidy.programs.registry import PROGRAMS, is_terminal
from subsidy.programs.rent_subsidy.form import RentCorrection, RentSubsidyForm
from subsidy.programs.rent_subsidy.rules import monthly_subsidy
from subsidy.programs.rent_subsidy.start import COUNTY_CHANGE_NOT_ALLOWED

router = APIRouter(include_in_schema=False)

RENT_FIELDS = [
    "applicant.name",
    "applicant.id_number",
    "applicant.disability_cert_number",
    "applicant.hukou_county",
    "applicant.phone",
    "business.name",
    "business.credit_code",
    "business.license_date",
    "business.business_type",
    "business.started_on",
    "lease.monthly_rent",
    "lease.start_date",
    "lease.end_date",
    "bank_account",
]
CORRECTION_FIELDS = [
    name for name in RENT_FIELDS if name.startswith(("business.", "lease.")) or name.endswith("county")
]


def rent_labels(_: Any) -> dict[str, str]:
    return {
        "applicant.name": _("Name"),
        "applicant.id_number": _("Resident ID number"),
        "applicant.disability_cert_number": _("Disability certificate number (2nd generation, 20 characters)"),
        "applicant.hukou_county": _("County of household registration"),
        "applicant.phone": _("Phone number"),
        "business.name": _("Name of the business"),
        "business.credit_code": _("Unified social credit code"),
        "business.license_date": _("Date of the business licence"),
        "business.business_type": _("Kind of business"),
        "business.started_on": _("Date you started the business"),
        "lease.monthly_rent": _("Actual monthly rent (yuan)"),
        "lease.start_date": _("Lease start date"),
        "lease.end_date": _("Lease end date"),
        "bank_account": _("Bank account number"),
    }


def counties(lang: str) -> list[tuple[str, str]]:
    names = BAOTOU_COUNTIES_EN if lang == "en" else BAOTOU_COUNTIES
    return list(names.items())


# Every role that applies for something (applicants, employers, providers): each sees its own applications.
PARTY_ROLES = tuple(dict.fromkeys(role for program in PROGRAMS.values() for role in program.applicant_roles))
# Applications whose program has pages of its own: their page is there.


def _party(request: Request) -> Identity:
    identity = require_user(request)
    if not identity.has(*PARTY_ROLES):
        raise Forbidden("these pages are for those who apply")
    return identity


def _applicant(request: Request) -> Identity:
    identity = require_user(request)
    if not identity.has("applicant"):
        raise Forbidden("these pages are for applicants")
    return identity


def _form_page(
    request: Request,
    identity: Identity,
    values: dict[str, str],
    errors: list[FieldError],
    *,
    correcting: Application | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    _ = gettext_for(request)
    title = _("Correct your application") if correcting else _("Apply for the start-up premises rent subsidy")
    return render(
        request,
        "rent_form.html",
        {
            "title": title,
            "values": values,
            "errors": errors,
            "errors_by_field": {e.name: e for e in errors},
            "labels": rent_labels(_),
            "counties": counties(request.cookies.get("lang") or "zh-CN"),
            "correcting": correcting,
            "action": f"/my/applications/{correcting.id}/correct" if correcting else "/apply/rent-subsidy",
        },
        status_code=status_code,
        identity=identity,
    )


@router.get("/my/applications", response_class=HTMLResponse)
async def my_applications(request: Request, db: SessionDep) -> Response:
    identity = _party(request)
    _ = gettext_for(request)
    rows = (
        await db.scalars(
            select(Application)
            .where(application_scope(identity), Application.submitted_by == identity.username)
            .order_by(Application.submitted_at.desc())
            .limit(200)
        )
    ).all()
    return render(
        request,
        "my_applications.html",
        {
            "title": _("My applications"),
            "applications": rows,
            "STATUS": STATUS,
            "NEXT_STEP": NEXT_STEP,
            "PROGRAM": PROGRAM,
            "page_of": own_page,
        },
        identity=identity,
    )


@router.get("/my/applications/{application_id}", response_class=HTMLResponse)
async def my_application(request: Request, application_id: str, db: SessionDep) -> Response:
    identity = _party(request)
    application = await get_visible_application(db, application_id, identity)
    own_page = PROGRAMS[application.program].own_page
    if own_page is not None:
        return RedirectResponse(own_page.format(id=application.id), status_code=303)
    return await _application_page(request, db, identity, application_id)


async def _application_page(
    request: Request,
    db: SessionDep,
    identity: Identity,
    application_id: str,
    notice: str | None = None,
    problem: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    _ = gettext_for(request)
    # What the workflow wrote since this request's session first read the application (an event just sent).
    db.expire_all()
    application = await get_visible_application(db, application_id, identity)
    view = await application_out(db, application)
    standing = await where_it_stands(db, application, view, _, language(request))
    submitted = request.query_params.get("submitted") == "1"
    saved = request.query_params.get("saved") == "1"
    return render(
        request,
        "application.html",
        {
            "title": _(PROGRAM.get(view.program, view.program)),
            "app": view,
            "form": application.form,
            "STATUS": STATUS,
            "NEXT_STEP": NEXT_STEP,
            "REASON": reasons_of(view.program),
            "SCHEDULE_STATUS": SCHEDULE_STATUS,
            "can_withdraw": not is_terminal(view.program, view.status) and view.submitted_by == identity.username,
            "can_correct": view.status == "returned" and view.submitted_by == identity.username,
            "notice": notice
            or (_("Your application has been submitted.") if submitted else None)
            or (_("Your application has been withdrawn.") if request.query_params.get("withdrawn") == "1" else None)
            or (
                _(
                    "Your application has been saved. Its review starts by itself as soon as the system is back: "
                    "you do not need to submit it again."
                )
                if saved
                else None
            ),
            "problem": problem,
            "standing": standing,
            "payee_notice": await payment_notice(db, identity, application, _),
        },
        status_code=status_code,
        identity=identity,
    )


@router.get("/apply/rent-subsidy", response_class=HTMLResponse)
async def rent_form(request: Request) -> Response:
    identity = _applicant(request)
    return _form_page(request, identity, {"submission_key": secrets.token_urlsafe(16)}, [])


@router.post("/apply/rent-subsidy", response_class=HTMLResponse)
async def rent_check(request: Request, db: SessionDep) -> Response:
    """Check the form; show it again with the problems, or show everything for a last review."""
    identity = _applicant(request)
    form = await checked_form(request)
    _ = gettext_for(request)
    values = flat_values(form, [*RENT_FIELDS, "submission_key"])
    if not values["submission_key"]:
        values["submission_key"] = secrets.token_urlsafe(16)
    if form.get("change"):
        return _form_page(request, identity, values, [])
    try:
        checked = RentSubsidyForm.model_validate({"program": "rent_subsidy", **nested(_without_key(values))})
    except ValidationError as error:
        errors = field_errors(error, rent_labels(_), RENT_FIELDS, _)
        return _form_page(request, identity, values, errors, status_code=400)
    bound = await binding_of(db, identity.username)
    if bound is None or bound.status != "verified" or bound.identifier != checked.applicant.id_number:
        # The same words whoever the number belongs to: the account applies for its own person only.
        message = _("This account applies only for the person it acts for: enter your own resident ID number.")
        labels = rent_labels(_)
        errors = [FieldError("applicant.id_number", labels["applicant.id_number"], message, _("Error:"))]
        return _form_page(request, identity, values, errors, status_code=403)
    return render(
        request,
        "rent_confirm.html",
        {
            "title": _("Check your answers before you submit"),
            "values": values,
            "checked": checked,
            "labels": rent_labels(_),
            "fields": RENT_FIELDS,
            "county_name": dict(counties(request.cookies.get("lang") or "zh-CN")),
            "monthly_subsidy": _monthly_subsidy(checked, await procedures.policy_in_force(db, china_today())),
        },
        identity=identity,
    )


@router.post("/apply/rent-subsidy/confirm", response_class=HTMLResponse)
async def rent_submit(request: Request, db: SessionDep, res: ResourcesDep) -> Response:
    identity = _applicant(request)
    form = await checked_form(request)
    _ = gettext_for(request)
    values = flat_values(form, [*RENT_FIELDS, "submission_key"])
    try:
        checked = RentSubsidyForm.model_validate({"program": "rent_subsidy", **nested(_without_key(values))})
    except ValidationError as error:
        errors = field_errors(error, rent_labels(_), RENT_FIELDS, _)
        return _form_page(request, identity, values, errors, status_code=400)
    return await submit_from_page(db, res, identity, checked, values["submission_key"])


@router.get("/my/applications/{application_id}/withdraw", response_class=HTMLResponse)
async def withdraw_form(request: Request, application_id: str, db: SessionDep) -> Response:
    identity = _applicant(request)
    _ = gettext_for(request)
    application = await get_visible_application(db, application_id, identity)
    return render(
        request,
        "withdraw.html",
        {"title": _("Withdraw your application"), "app": application, "PROGRAM": PROGRAM},
        identity=identity,
    )


@router.post("/my/applications/{application_id}/withdraw", response_class=HTMLResponse)
async def withdraw(request: Request, application_id: str, db: SessionDep, res: ResourcesDep) -> Response:
    identity = _applicant(request)
    await checked_form(request)
    _ = gettext_for(request)
    application = await get_visible_application(db, application_id, identity)
    request_in = PROGRAMS[application.program].event(
        application, EventIn(type="withdrawn"), procedures.actor_of(identity)
    )
    refused = await send_from_page(request, db, res, application, request_in)
    if refused is not None:
        return await _application_page(
            request, db, identity, application_id, problem=str(refused.detail), status_code=refused.status_code
        )
    # Post, redirect, get: the page is read afresh (this session still holds the application as it was before the
    # workflow changed it), and reloading it withdraws nothing twice.
    return RedirectResponse(f"/my/applications/{application_id}?withdrawn=1", status_code=303)


@router.get("/my/applications/{application_id}/correct", response_class=HTMLResponse)
async def correct_form(request: Request, application_id: str, db: SessionDep) -> Response:
    identity = _applicant(request)
    application = await get_visible_application(db, application_id, identity)
    stored = application.form
    values = {name: str(stored.get(name.split(".")[0], {}).get(name.split(".")[1], "")) for name in CORRECTION_FIELDS}
    return _form_page(request, identity, values, [], correcting=application)


@router.post("/my/applications/{application_id}/correct", response_class=HTMLResponse)
async def correct(request: Request, application_id: str, db: SessionDep, res: ResourcesDep) -> Response:
    identity = _applicant(request)
    form = await checked_form(request)
    _ = gettext_for(request)
    application = await get_visible_application(db, application_id, identity)
    values = flat_values(form, CORRECTION_FIELDS)
    data = nested(values)
    try:
        correction = RentCorrection.model_validate(
            {
                "hukou_county": data.get("applicant", {}).get("hukou_county"),
                "business": data.get("business", {}),
                "lease": data.get("lease", {}),
            }
        )
    except ValidationError as error:
        aliases = {"hukou_county": "applicant.hukou_county"}
        errors = field_errors(error, rent_labels(_), CORRECTION_FIELDS, _, aliases)
        return _form_page(request, identity, values, errors, correcting=application, status_code=400)
    try:
        event = PROGRAMS[application.program].event(
            application, EventIn(type="corrected", corrected=correction), procedures.actor_of(identity)
        )
    except Invalid as refused:
        if COUNTY_CHANGE_NOT_ALLOWED not in str(refused.detail):
            raise
        await record_refusal(request, refused.status_code)
        name = "applicant.hukou_county"
        errors = [FieldError(name, rent_labels(_)[name], _(REASON[COUNTY_CHANGE_NOT_ALLOWED]), _("Error:"))]
        return _form_page(request, identity, values, errors, correcting=application, status_code=422)
    refused = await send_from_page(request, db, res, application, event)
    if refused is not None:
        return await _application_page(
            request, db, identity, application_id, problem=str(refused.detail), status_code=refused.status_code
        )
    return RedirectResponse(f"/my/applications/{application_id}?submitted=1", status_code=303)


def _monthly_subsidy(form: RentSubsidyForm, policy: dict[str, Any] | None) -> Decimal | None:
    """The estimate under the approved version in force today, the one the submission will pin."""
    version = version_from_json(policy) if policy is not None else None
    return monthly_subsidy(form.facts().monthly_rent, version.rent) if version else None


def _without_key(values: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in values.items() if k != "submission_key"}


@dataclass(frozen=True)
class Standing:
    """Where an application stands, for its applicant: who decides now and by when, the next payment, the history."""

    deciding: str | None
    due_on: date | None
    due_is_estimate: bool
    next_payment_on: date | None
    next_payment: Decimal | None
    history: list[TimelineLine]


async def where_it_stands(
    db: AsyncSession, application: Application, view: ApplicationOut, _: Callable[[str], str], lang: str
) -> Standing:
    task = await db.scalar(
        select(Task)
        .where(Task.application_id == application.id, Task.status.in_(("open", "claimed")))
        .order_by(Task.created_at)
        .limit(1)
    )
    deciding = None
    if task is not None:
        office = _(ROLE.get(task.role, task.role))
        deciding = f"{office} ({county_words(task.county, lang)})" if task.county else office
    planned = next((month for month in view.schedule if month.status == "planned"), None)
    records = (
        await db.scalars(
            select(AuditRecord).where(AuditRecord.application_id == application.id).order_by(AuditRecord.id)
        )
    ).all()
    entries = [TimelineEntry(r.at, r.kind, r.actor, dict(r.detail)) for r in records if r.kind in APPLICANT_STEPS]
    # The applicant reads what happened and which office did it, not the officials' accounts.
    history = [
        replace(line, person="", facts=[fact for fact in line.facts if fact[0] in (_("Decision"), _("Reason"))])
        for line in in_words(entries, {}, _, lang)
    ]
    return Standing(
        deciding=deciding,
        due_on=task.due_at.astimezone(CHINA).date() if task is not None and task.due_at is not None else None,
        due_is_estimate=bool(task is not None and task.due_is_estimate),
        # A month is paid when it has ended: on its last day, which is the day before the next one starts.
        next_payment_on=planned.end - timedelta(days=1) if planned is not None else None,
        next_payment=planned.amount if planned is not None else None,
        history=history,
    )


# The steps of the audit log an applicant is shown on the application's page (not the engine's, nor internal ones).
APPLICANT_STEPS = {
    "submitted",
    "eligibility",
    "task_created",
    "decision",
    "payment",
    "withdrawn",
    "business_closed",
    "lease_ended",
    "corrected",
    "completed",
    "terminated",
    "objection",
    "employment_ended",
    "document_attached",
    "completion_report",
    "entitlement_started",
    "placed",
}
