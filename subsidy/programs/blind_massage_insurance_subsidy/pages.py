"""The blind massage practitioner's pages (apply, review and confirm, the claim's own page, withdraw) and the County
DPF's page for the years in the federation's paper register.

The practitioner's name, ID, certificate and household registration come from the account's binding (the County DPF
verified them); the practitioner types the phone number, the year, the insurance paid, the workplace and the bank
account. The bank account is shown in full only on the confirmation page, to the practitioner who typed it.
"""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from subsidy.api import procedures
from subsidy.api.bindings import binding_of
from subsidy.api.deps import ResourcesDep, SessionDep
from subsidy.api.errors import Forbidden, NotFound
from subsidy.api.pages.form_support import FieldError, field_errors, flat_values, nested
from subsidy.api.pages.page_events import send_from_page, submit_or_refusal_page
from subsidy.api.pages.payment_notices import payment_notice
from subsidy.api.pages.task_views import disability_words, masked_account
from subsidy.api.pages.web import checked_form, gettext_for, render, require_user
from subsidy.api.pages.words import N_, SCHEDULE_STATUS, STATUS, reasons_of
from subsidy.api.read_model import application_out, get_visible_application, mask_id_number
from subsidy.api.schemas import EventIn
from subsidy.api.security import Identity
from subsidy.policy.identifiers import IdentifierError, validate_resident_id
from subsidy.policy.workdays import china_today
from subsidy.programs.blind_massage_insurance_subsidy.contracts import PROGRAM as PROGRAM_CODE
from subsidy.programs.blind_massage_insurance_subsidy.form import BlindMassageForm
from subsidy.programs.blind_massage_insurance_subsidy.prior_years import record_prior_years
from subsidy.programs.registry import PROGRAMS, is_terminal

router = APIRouter(include_in_schema=False)

FORM = "/apply/blind-massage-insurance"
MINE = "/my/blind-massage-insurance"
REGISTER = "/registry/prior-years"
FIELDS = ["applicant.phone", "year", "insurance_paid", "workplace.name", "workplace.credit_code", "bank_account"]
NEXT_STEP = {
    "submitted": N_("We are checking your claim against the rules."),
    "under_review": N_(
        "The County Disabled Persons' Federation of your household registration checks the insurance you paid."
    ),
    "approved": N_("Your claim is approved: the subsidy is being paid."),
    "completed": N_("The subsidy for this year has been paid."),
    "rejected": N_("Nothing more to do for this year."),
    "withdrawn": N_("You withdrew this claim. You may claim the same year again."),
}
REGISTER_FIELDS = ["id_number", "name", "years", "source"]


def labels(_: Any) -> dict[str, str]:
    return {
        "applicant.phone": _("Phone number"),
        "year": _("Year the insurance was paid for"),
        "insurance_paid": _("Social insurance you paid for that year (yuan)"),
        "workplace.name": _("Name of the massage workplace"),
        "workplace.credit_code": _("Unified social credit code of the workplace"),
        "bank_account": _("Bank account number"),
    }


def _applicant(request: Request) -> Identity:
    identity = require_user(request)
    if not identity.has("applicant"):
        raise Forbidden("these pages are for applicants")
    return identity


async def _bound_person(db: SessionDep, identity: Identity, _: Any) -> dict[str, Any]:
    bound = await binding_of(db, identity.username)
    if bound is None or bound.status != "verified" or bound.kind != "person" or not bound.disability_cert_number:
        raise Forbidden("this account does not act for a verified person")
    return {
        "name": bound.name,
        "id_number": bound.identifier,
        "id_masked": mask_id_number(bound.identifier),
        "disability_cert_number": bound.disability_cert_number,
        "disability": disability_words(_, bound.disability_cert_number),
        "county": bound.county,
    }


def _body(person: dict[str, Any], values: dict[str, str]) -> dict[str, Any]:
    body: dict[str, Any] = nested({name: values.get(name, "") for name in FIELDS})
    applicant = body.setdefault("applicant", {})
    applicant.update(
        name=person["name"],
        id_number=person["id_number"],
        disability_cert_number=person["disability_cert_number"],
        hukou_county=person["county"],
    )
    return {"program": PROGRAM_CODE, **body}


def _form_page(
    request: Request,
    identity: Identity,
    person: dict[str, Any],
    values: dict[str, str],
    errors: list[FieldError],
    *,
    status_code: int = 200,
) -> HTMLResponse:
    _ = gettext_for(request)
    return render(
        request,
        "blind_massage_insurance_subsidy/form.html",
        {
            "title": _("Claim the social insurance subsidy for blind massage practitioners"),
            "person": person,
            "values": values,
            "errors": errors,
            "errors_by_field": {e.name: e for e in errors},
            "labels": labels(_),
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
async def massage_form(request: Request, db: SessionDep) -> Response:
    identity = _applicant(request)
    _ = gettext_for(request)
    person = await _bound_person(db, identity, _)
    values = {"year": str(china_today().year - 1), "submission_key": secrets.token_urlsafe(16)}
    return _form_page(request, identity, person, values, [])


@router.post(FORM, response_class=HTMLResponse)
async def massage_check(request: Request, db: SessionDep) -> Response:
    identity = _applicant(request)
    form = await checked_form(request)
    _ = gettext_for(request)
    person = await _bound_person(db, identity, _)
    values = _posted(form)
    if form.get("change"):
        return _form_page(request, identity, person, values, [])
    try:
        checked = BlindMassageForm.model_validate(_body(person, values))
    except ValidationError as error:
        found = field_errors(error, labels(_), FIELDS, _)
        return _form_page(request, identity, person, values, found, status_code=400)
    return render(
        request,
        "blind_massage_insurance_subsidy/confirm.html",
        {
            "title": _("Check your answers before you submit"),
            "person": person,
            "checked": checked,
            "values": values,
            "labels": labels(_),
        },
        identity=identity,
    )


@router.post(FORM + "/confirm", response_class=HTMLResponse)
async def massage_submit(request: Request, db: SessionDep, res: ResourcesDep) -> Response:
    identity = _applicant(request)
    form = await checked_form(request)
    _ = gettext_for(request)
    person = await _bound_person(db, identity, _)
    values = _posted(form)
    try:
        checked = BlindMassageForm.model_validate(_body(person, values))
    except ValidationError as error:
        found = field_errors(error, labels(_), FIELDS, _)
        return _form_page(request, identity, person, values, found, status_code=400)
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
    submitted = request.query_params.get("submitted") == "1"
    saved = request.query_params.get("saved") == "1"
    return render(
        request,
        "blind_massage_insurance_subsidy/status.html",
        {
            "title": _("Social insurance subsidy for blind massage practitioners"),
            "app": view,
            "form": application.form,
            "years_before": (application.eligibility or {}).get("years_before"),
            "bank_account": masked_account(application.form.get("bank_account")),
            "STATUS": STATUS,
            "NEXT_STEP": NEXT_STEP,
            "SCHEDULE_STATUS": SCHEDULE_STATUS,
            "REASON": reasons_of("blind_massage_insurance_subsidy"),
            "can_withdraw": view.status == "under_review",
            "notice": notice
            or (_("Your claim has been submitted.") if submitted else None)
            or (
                _("Your claim has been saved. Its review starts by itself as soon as the system is back.")
                if saved
                else None
            ),
            "problem": problem,
            "terminal": is_terminal(view.program, view.status),
            "payee_notice": await payment_notice(db, identity, application, _),
        },
        status_code=status_code,
        identity=identity,
    )


@router.get(MINE + "/{application_id}", response_class=HTMLResponse)
async def massage_status(request: Request, application_id: str, db: SessionDep) -> Response:
    identity = _applicant(request)
    return await _status_page(request, db, identity, application_id)


@router.get(MINE + "/{application_id}/withdraw", response_class=HTMLResponse)
async def massage_withdraw_form(request: Request, application_id: str, db: SessionDep) -> Response:
    identity = _applicant(request)
    _ = gettext_for(request)
    application = await _mine(db, identity, application_id)
    return render(
        request,
        "blind_massage_insurance_subsidy/withdraw.html",
        {"title": _("Withdraw your claim"), "app": application},
        identity=identity,
    )


@router.post(MINE + "/{application_id}/withdraw", response_class=HTMLResponse)
async def massage_withdraw(request: Request, application_id: str, db: SessionDep, res: ResourcesDep) -> Response:
    identity = _applicant(request)
    await checked_form(request)
    _ = gettext_for(request)
    application = await _mine(db, identity, application_id)
    request_in = PROGRAMS[PROGRAM_CODE].event(application, EventIn(type="withdrawn"), procedures.actor_of(identity))
    refused = await send_from_page(request, db, res, application, request_in)
    if refused is not None:
        return await _status_page(
            request, db, identity, application_id, problem=str(refused.detail), status_code=refused.status_code
        )
    db.expire_all()
    return await _status_page(request, db, identity, application_id, notice=_("Your claim has been withdrawn."))


# ---- the County DPF's page: years from the federation's register ------------------------------------------------


def register_labels(_: Any) -> dict[str, str]:
    return {
        "id_number": _("Resident ID number"),
        "name": _("Name"),
        "years": _("Years subsidised (separated by commas)"),
        "source": _("Where the register records them (volume and page)"),
    }


def _official(request: Request) -> Identity:
    identity = require_user(request)
    if not identity.has("county_dpf") or identity.county is None:
        raise Forbidden("this page is for County DPF officials")
    return identity


def _register_page(
    request: Request,
    identity: Identity,
    values: dict[str, str],
    errors: list[FieldError],
    *,
    outcome: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    _ = gettext_for(request)
    return render(
        request,
        "blind_massage_insurance_subsidy/prior_years.html",
        {
            "title": _("Years of the blind massage insurance subsidy in the federation's register"),
            "values": values,
            "errors": errors,
            "errors_by_field": {e.name: e for e in errors},
            "labels": register_labels(_),
            "outcome": outcome,
        },
        status_code=status_code,
        identity=identity,
    )


@router.get(REGISTER, response_class=HTMLResponse)
async def prior_years_form(request: Request) -> Response:
    identity = _official(request)
    return _register_page(request, identity, {name: "" for name in REGISTER_FIELDS}, [])


@router.post(REGISTER, response_class=HTMLResponse)
async def prior_years_record(request: Request, db: SessionDep, res: ResourcesDep) -> Response:
    identity = _official(request)
    form = await checked_form(request)
    _ = gettext_for(request)
    values = flat_values(form, REGISTER_FIELDS)
    words = register_labels(_)
    errors: list[FieldError] = []
    id_number = ""
    try:
        id_number = validate_resident_id(values["id_number"]).number
    except IdentifierError:
        errors.append(FieldError("id_number", words["id_number"], _("Enter a valid resident ID number"), _("Error:")))
    if not values["name"].strip():
        errors.append(FieldError("name", words["name"], _("Enter the person's name"), _("Error:")))
    this_year = res.settings.today().year
    years: list[int] = []
    for part in values["years"].replace("，", ",").replace("、", ",").split(","):
        if part.strip():
            years.append(int(part) if part.strip().isdigit() else 0)
    if not years or any(not 1980 <= year < this_year for year in years):
        message = _("Enter the years, each from 1980 to %(last)s, separated by commas") % {"last": this_year - 1}
        errors.append(FieldError("years", words["years"], message, _("Error:")))
    if not values["source"].strip():
        errors.append(
            FieldError("source", words["source"], _("Enter where the register records the years"), _("Error:"))
        )
    if errors:
        return _register_page(request, identity, values, errors, status_code=400)
    assert identity.county is not None
    found = await record_prior_years(
        db,
        id_number=id_number,
        name=values["name"].strip()[:64],
        years=years,
        source=values["source"].strip()[:200],
        county=identity.county,
        official=identity.username,
    )
    await db.commit()
    outcome = {
        "id_masked": mask_id_number(id_number),
        "recorded": found.recorded,
        "already_held": found.already_held,
        "held": found.held_years,
    }
    return _register_page(request, identity, {name: "" for name in REGISTER_FIELDS}, [], outcome=outcome)
