"""A person's pages for the flexible-employment social insurance subsidy: apply (the person is the one the account
acts for), review and confirm, the refusal for exclusivity in words, the status page, withdraw.

The person's name, ID and certificate come from the account's binding (the County DPF verified them); sex, birth date
and severity are read from those numbers, as the form requires them to agree. What the person types is the county,
the day the flexible employment started, and (for a woman) the retirement category.
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
from subsidy.api.pages.form_support import FieldError, field_errors, flat_values
from subsidy.api.pages.page_events import send_from_page, submit_or_refusal_page
from subsidy.api.pages.payment_notices import payment_notice
from subsidy.api.pages.web import checked_form, gettext_for, language, render, require_user
from subsidy.api.pages.words import N_, STATUS, reasons_of
from subsidy.api.read_model import application_out, get_visible_application, mask_id_number
from subsidy.api.schemas import EventIn
from subsidy.api.security import Identity
from subsidy.policy.counties import BAOTOU_COUNTIES, BAOTOU_COUNTIES_EN
from subsidy.policy.identifiers import validate_disability_cert, validate_resident_id
from subsidy.programs.public_welfare.form import SEVERE_GRADES, FlexibleInsuranceForm
from subsidy.programs.registry import PROGRAMS, is_terminal

router = APIRouter(include_in_schema=False)

PROGRAM_CODE = "flexible_employment_insurance_subsidy"
FORM = "/apply/flexible-insurance"
MINE = "/my/flexible-insurance"
FIELDS = ["county", "start_date", "person.retirement_category"]
RETIREMENT = {
    "female_50": N_("Worker (statutory retirement from 50)"),
    "female_55": N_("Cadre (statutory retirement from 55)"),
}
NEXT_STEP = {
    "submitted": N_("We are checking your application against the rules."),
    "under_review": N_("The County HR and Social Security Bureau is reviewing your application."),
    "active": N_("The subsidy runs while you are in flexible employment."),
    "rejected": N_("Nothing more to do. You may apply again if your situation changes."),
    "terminated": N_("The subsidy has ended with your flexible employment."),
    "withdrawn": N_("You withdrew this application."),
}
SEX = {"M": N_("Male"), "F": N_("Female")}


def labels(_: Any) -> dict[str, str]:
    return {
        "county": _("County HR bureau you apply to"),
        "start_date": _("Day your flexible employment started"),
        "person.retirement_category": _("Your retirement category"),
    }


def _applicant(request: Request) -> Identity:
    identity = require_user(request)
    if not identity.has("applicant"):
        raise Forbidden("these pages are for applicants")
    return identity


async def _bound_person(db: SessionDep, identity: Identity) -> dict[str, Any]:
    """The person the account acts for, with what their numbers say (sex, birth date, grade)."""
    bound = await binding_of(db, identity.username)
    if bound is None or bound.status != "verified" or bound.kind != "person" or not bound.disability_cert_number:
        raise Forbidden("this account does not act for a verified person")
    resident = validate_resident_id(bound.identifier)
    certificate = validate_disability_cert(bound.disability_cert_number, bound.identifier)
    return {
        "name": bound.name,
        "id_number": bound.identifier,
        "id_masked": mask_id_number(bound.identifier),
        "disability_cert_number": bound.disability_cert_number,
        "sex": resident.sex,
        "birth_date": resident.birth_date.isoformat(),
        "grade": certificate.grade,
        "severe_disability": certificate.grade in SEVERE_GRADES,
        "county": bound.county,
    }


def _body(person: dict[str, Any], values: dict[str, str]) -> dict[str, Any]:
    category = values.get("person.retirement_category", "").strip()
    return {
        "program": PROGRAM_CODE,
        **({"county": values["county"]} if values.get("county", "").strip() else {}),
        "person": {
            "name": person["name"],
            "id_number": person["id_number"],
            "disability_cert_number": person["disability_cert_number"],
            "sex": person["sex"],
            "birth_date": person["birth_date"],
            "severe_disability": person["severe_disability"],
            **({"retirement_category": category} if category and person["sex"] == "F" else {}),
        },
        **({"start_date": values["start_date"]} if values.get("start_date", "").strip() else {}),
    }


def _errors(error: ValidationError, _: Any) -> list[FieldError]:
    found = field_errors(error, labels(_), FIELDS, _, {"person.birth_date": "start_date"})
    # The person's age is checked on the start date: say so in the words of this form.
    if not any(problem["type"] == "age_below_minimum" for problem in error.errors()):
        return found
    young = _("You must be at least 16 years old on the day your flexible employment started")
    return [FieldError(e.name, e.label, young, e.prefix) if e.name == "start_date" else e for e in found]


def _counties(request: Request) -> list[tuple[str, str]]:
    return list((BAOTOU_COUNTIES_EN if language(request) == "en" else BAOTOU_COUNTIES).items())


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
        "flexible/form.html",
        {
            "title": _("Apply for the flexible-employment social insurance subsidy"),
            "person": person,
            "values": values,
            "errors": errors,
            "errors_by_field": {e.name: e for e in errors},
            "labels": labels(_),
            "counties": _counties(request),
            "RETIREMENT": RETIREMENT,
            "SEX": SEX,
        },
        status_code=status_code,
        identity=identity,
    )


@router.get(FORM, response_class=HTMLResponse)
async def flexible_form(request: Request, db: SessionDep) -> Response:
    identity = _applicant(request)
    person = await _bound_person(db, identity)
    values = {"county": person["county"], "submission_key": secrets.token_urlsafe(16)}
    return _form_page(request, identity, person, values, [])


def _posted(form: Any) -> dict[str, str]:
    values = flat_values(form, [*FIELDS, "submission_key"])
    if not values["submission_key"]:
        values["submission_key"] = secrets.token_urlsafe(16)
    return values


@router.post(FORM, response_class=HTMLResponse)
async def flexible_check(request: Request, db: SessionDep) -> Response:
    identity = _applicant(request)
    form = await checked_form(request)
    person = await _bound_person(db, identity)
    _ = gettext_for(request)
    values = _posted(form)
    if form.get("change"):
        return _form_page(request, identity, person, values, [])
    try:
        checked = FlexibleInsuranceForm.model_validate(_body(person, values))
    except ValidationError as error:
        return _form_page(request, identity, person, values, _errors(error, _), status_code=400)
    return render(
        request,
        "flexible/confirm.html",
        {
            "title": _("Check your answers before you submit"),
            "person": person,
            "checked": checked,
            "values": values,
            "labels": labels(_),
            "county_name": dict(_counties(request)),
            "RETIREMENT": RETIREMENT,
            "SEX": SEX,
        },
        identity=identity,
    )


@router.post(FORM + "/confirm", response_class=HTMLResponse)
async def flexible_submit(request: Request, db: SessionDep, res: ResourcesDep) -> Response:
    identity = _applicant(request)
    form = await checked_form(request)
    person = await _bound_person(db, identity)
    _ = gettext_for(request)
    values = _posted(form)
    try:
        checked = FlexibleInsuranceForm.model_validate(_body(person, values))
    except ValidationError as error:
        return _form_page(request, identity, person, values, _errors(error, _), status_code=400)
    return await submit_or_refusal_page(
        request,
        db,
        res,
        identity,
        checked,
        values["submission_key"],
        title=_("Your application cannot be accepted"),
        ask=_(
            "Nothing was submitted. If you think this is wrong, ask the County HR and Social Security Bureau or the "
            "County Disabled Persons' Federation."
        ),
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
    query = request.query_params
    return render(
        request,
        "flexible/status.html",
        {
            "title": _("Flexible-employment social insurance subsidy"),
            "app": view,
            "form": application.form,
            "STATUS": STATUS,
            "NEXT_STEP": NEXT_STEP,
            "REASON": reasons_of("flexible_employment_insurance_subsidy"),
            "can_withdraw": not is_terminal(view.program, view.status),
            "notice": notice
            or (_("Your application has been submitted.") if query.get("submitted") == "1" else None)
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


@router.get(MINE + "/{application_id}", response_class=HTMLResponse)
async def flexible_status(request: Request, application_id: str, db: SessionDep) -> Response:
    identity = _applicant(request)
    return await _status_page(request, db, identity, application_id)


@router.get(MINE + "/{application_id}/withdraw", response_class=HTMLResponse)
async def flexible_withdraw_form(request: Request, application_id: str, db: SessionDep) -> Response:
    identity = _applicant(request)
    _ = gettext_for(request)
    application = await _mine(db, identity, application_id)
    return render(
        request,
        "flexible/withdraw.html",
        {"title": _("Withdraw your application"), "app": application},
        identity=identity,
    )


@router.post(MINE + "/{application_id}/withdraw", response_class=HTMLResponse)
async def flexible_withdraw(request: Request, application_id: str, db: SessionDep, res: ResourcesDep) -> Response:
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
    return await _status_page(request, db, identity, application_id, notice=_("Your application has been withdrawn."))
