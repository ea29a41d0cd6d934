"""The labour dispatch agency's pages for the referral reward: claim it (the agency is the one the account acts for),
review and confirm, the referral's own page (the year of employment, who checks it and when, the payment), the end
of the employment, withdraw."""

from __future__ import annotations

import secrets
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from subsidy.api import procedures
from subsidy.api.bindings import binding_of
from subsidy.api.deps import ResourcesDep, SessionDep
from subsidy.api.errors import Forbidden, NotFound, ServiceError
from subsidy.api.pages.form_support import FieldError, field_errors, flat_values, nested
from subsidy.api.pages.page_events import send_from_page, submit_or_refusal_page
from subsidy.api.pages.payment_notices import payment_notice
from subsidy.api.pages.web import checked_form, gettext_for, language, render, require_user
from subsidy.api.pages.words import N_, SCHEDULE_STATUS, STATUS, reasons_of
from subsidy.api.read_model import application_out, get_visible_application, mask_id_number
from subsidy.api.schemas import EventIn
from subsidy.api.security import Identity
from subsidy.policy.counties import BAOTOU_COUNTIES, BAOTOU_COUNTIES_EN
from subsidy.programs.dispatch_referral_reward.contracts import PROGRAM as PROGRAM_CODE
from subsidy.programs.dispatch_referral_reward.form import DispatchReferralForm
from subsidy.programs.registry import PROGRAMS

router = APIRouter(include_in_schema=False)

FORM = "/agency/referrals/new"
MINE = "/agency/referrals"
FIELDS = [
    "county",
    "person.name",
    "person.id_number",
    "person.disability_cert_number",
    "employer.name",
    "employer.credit_code",
    "contract.start_date",
    "contract.end_date",
]
NEXT_STEP = {
    "submitted": N_("We are checking the referral against the rules."),
    "active": N_(
        "The year of employment runs. When it is complete, the County DPF checks that the person is still employed."
    ),
    "under_review": N_("The County Disabled Persons' Federation checks the year of employment."),
    "approved": N_("The reward is approved and is being paid."),
    "completed": N_("The reward has been paid."),
    "rejected": N_("Nothing more to do: no reward is paid for this referral."),
    "terminated": N_("The employment ended before it had lasted one year: no reward is paid."),
    "withdrawn": N_("You withdrew this claim."),
}


def labels(_: Any) -> dict[str, str]:
    return {
        "county": _("County DPF you apply to"),
        "person.name": _("Name of the person referred"),
        "person.id_number": _("Resident ID number of the person referred"),
        "person.disability_cert_number": _("Disability certificate number"),
        "employer.name": _("Employer"),
        "employer.credit_code": _("Employer's unified social credit code"),
        "contract.start_date": _("First day of the labour contract"),
        "contract.end_date": _("Last day of the labour contract"),
    }


def _agency(request: Request) -> Identity:
    identity = require_user(request)
    if not identity.has("agency"):
        raise Forbidden("these pages are for labour dispatch agencies")
    return identity


async def _bound_agency(db: SessionDep, identity: Identity) -> dict[str, str]:
    bound = await binding_of(db, identity.username)
    if bound is None or bound.status != "verified" or bound.kind != "agency":
        raise Forbidden("this account does not act for a verified agency")
    return {"name": bound.name, "credit_code": bound.identifier, "county": bound.county}


def _body(agency: dict[str, str], values: dict[str, str]) -> dict[str, Any]:
    body: dict[str, Any] = nested({name: values.get(name, "") for name in FIELDS})
    return {"program": PROGRAM_CODE, "agency": {"name": agency["name"], "credit_code": agency["credit_code"]}, **body}


def _counties(request: Request) -> list[tuple[str, str]]:
    return list((BAOTOU_COUNTIES_EN if language(request) == "en" else BAOTOU_COUNTIES).items())


def _form_page(
    request: Request,
    identity: Identity,
    agency: dict[str, str],
    values: dict[str, str],
    errors: list[FieldError],
    *,
    status_code: int = 200,
) -> HTMLResponse:
    _ = gettext_for(request)
    return render(
        request,
        "dispatch_referral_reward/form.html",
        {
            "title": _("Claim the dispatch referral reward"),
            "agency": agency,
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


@router.get(FORM, response_class=HTMLResponse)
async def referral_form(request: Request, db: SessionDep) -> Response:
    identity = _agency(request)
    agency = await _bound_agency(db, identity)
    values = {"county": agency["county"], "submission_key": secrets.token_urlsafe(16)}
    return _form_page(request, identity, agency, values, [])


@router.post(FORM, response_class=HTMLResponse)
async def referral_check(request: Request, db: SessionDep) -> Response:
    identity = _agency(request)
    form = await checked_form(request)
    agency = await _bound_agency(db, identity)
    _ = gettext_for(request)
    values = _posted(form)
    if form.get("change"):
        return _form_page(request, identity, agency, values, [])
    try:
        checked = DispatchReferralForm.model_validate(_body(agency, values))
    except ValidationError as error:
        return _form_page(request, identity, agency, values, field_errors(error, labels(_), FIELDS, _), status_code=400)
    return render(
        request,
        "dispatch_referral_reward/confirm.html",
        {
            "title": _("Check your answers before you submit"),
            "agency": agency,
            "checked": checked,
            "id_masked": mask_id_number(checked.person.id_number),
            "values": values,
            "labels": labels(_),
            "county_name_of": dict(_counties(request)),
        },
        identity=identity,
    )


@router.post(FORM + "/confirm", response_class=HTMLResponse)
async def referral_submit(request: Request, db: SessionDep, res: ResourcesDep) -> Response:
    identity = _agency(request)
    form = await checked_form(request)
    agency = await _bound_agency(db, identity)
    _ = gettext_for(request)
    values = _posted(form)
    try:
        checked = DispatchReferralForm.model_validate(_body(agency, values))
    except ValidationError as error:
        return _form_page(request, identity, agency, values, field_errors(error, labels(_), FIELDS, _), status_code=400)
    return await submit_or_refusal_page(
        request,
        db,
        res,
        identity,
        checked,
        values["submission_key"],
        title=_("Your claim cannot be accepted"),
        ask=_("Nothing was submitted. If you think this is wrong, ask the County Disabled Persons' Federation."),
    )


async def _mine(db: SessionDep, identity: Identity, application_id: str) -> Any:
    application = await get_visible_application(db, application_id, identity)
    if application.program != PROGRAM_CODE or application.submitted_by != identity.username:
        raise NotFound("no such application")
    return application


async def _status_page(
    request: Request,
    db: SessionDep,
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
    eligibility = application.eligibility or {}
    submitted = request.query_params.get("submitted") == "1"
    return render(
        request,
        "dispatch_referral_reward/status.html",
        {
            "title": _("Dispatch referral reward"),
            "app": view,
            "form": application.form,
            "year_ends_on": eligibility.get("year_ends_on"),
            "STATUS": {**STATUS, "active": N_("Active: the year of employment runs")},
            "NEXT_STEP": NEXT_STEP,
            "SCHEDULE_STATUS": SCHEDULE_STATUS,
            "REASON": reasons_of("dispatch_referral_reward"),
            "can_end": view.status == "active",
            "can_withdraw": view.status in ("active", "under_review"),
            "notice": notice or (_("Your claim has been submitted.") if submitted else None),
            "problem": problem,
            "values": {"date": ""},
            "payee_notice": await payment_notice(db, identity, application, _),
        },
        status_code=status_code,
        identity=identity,
    )


@router.get(MINE + "/{application_id}", response_class=HTMLResponse)
async def referral_status(request: Request, application_id: str, db: SessionDep) -> Response:
    identity = _agency(request)
    return await _status_page(request, db, identity, application_id)


async def _send(
    request: Request, db: SessionDep, res: ResourcesDep, application_id: str, event: EventIn, done: str
) -> Response:
    identity = _agency(request)
    application = await _mine(db, identity, application_id)
    try:
        request_in = PROGRAMS[PROGRAM_CODE].event(application, event, procedures.actor_of(identity))
    except ServiceError as refused:
        return await _status_page(
            request, db, identity, application_id, problem=str(refused.detail), status_code=refused.status_code
        )
    refused_by_workflow = await send_from_page(request, db, res, application, request_in)
    if refused_by_workflow is not None:
        return await _status_page(
            request,
            db,
            identity,
            application_id,
            problem=str(refused_by_workflow.detail),
            status_code=refused_by_workflow.status_code,
        )
    db.expire_all()
    return await _status_page(request, db, identity, application_id, notice=done)


@router.post(MINE + "/{application_id}/employment-ended", response_class=HTMLResponse)
async def referral_employment_ended(
    request: Request, application_id: str, db: SessionDep, res: ResourcesDep
) -> Response:
    form = await checked_form(request)
    _ = gettext_for(request)
    try:
        day = date.fromisoformat(str(form.get("date", "")).strip())
    except ValueError:
        identity = _agency(request)
        return await _status_page(
            request,
            db,
            identity,
            application_id,
            problem=_("Enter the last day of the employment as YYYY-MM-DD, for example 2025-03-15"),
            status_code=400,
        )
    event = EventIn(type="employment_ended", date=day)
    return await _send(request, db, res, application_id, event, _("The end of the employment has been recorded."))


@router.get(MINE + "/{application_id}/withdraw", response_class=HTMLResponse)
async def referral_withdraw_form(request: Request, application_id: str, db: SessionDep) -> Response:
    identity = _agency(request)
    _ = gettext_for(request)
    application = await _mine(db, identity, application_id)
    return render(
        request,
        "dispatch_referral_reward/withdraw.html",
        {"title": _("Withdraw your claim"), "app": application},
        identity=identity,
    )


@router.post(MINE + "/{application_id}/withdraw", response_class=HTMLResponse)
async def referral_withdraw(request: Request, application_id: str, db: SessionDep, res: ResourcesDep) -> Response:
    await checked_form(request)
    _ = gettext_for(request)
    return await _send(request, db, res, application_id, EventIn(type="withdrawn"), _("Your claim has been withdrawn."))
