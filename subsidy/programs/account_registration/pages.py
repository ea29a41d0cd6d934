"""Registering on the pages: a person or an organisation opens an account and is told who verifies it.

The same path as `POST /api/v1/registrations` (`bindings.register`, the per-client limit, the workflow started or
left to the starter); no sign-in is needed, the form's CSRF token is bound to a signed cookie instead.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from subsidy.api import procedures
from subsidy.api.bindings import register
from subsidy.api.deps import ResourcesDep, SessionDep
from subsidy.api.errors import Conflict, TooManyRequests, Unavailable
from subsidy.api.pages.applicant_pages import counties
from subsidy.api.pages.form_support import FieldError, field_errors, flat_values
from subsidy.api.pages.timeline_words import county_words
from subsidy.api.pages.web import checked_form, gettext_for, language, render
from subsidy.api.pages.words import N_
from subsidy.api.refusals import client_address, record_refusal, set_actor
from subsidy.api.registration_limits import count_registration
from subsidy.programs.account_registration.form import RegistrationIn

router = APIRouter(include_in_schema=False)

FIELDS = [
    "kind",
    "username",
    "password",
    "name",
    "id_number",
    "disability_cert_number",
    "credit_code",
    "phone",
    "county",
]
PERSON_ONLY = ("id_number", "disability_cert_number")
MESSAGES = {
    "username_format": N_("3 to 64 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit"),
    "person_identifiers": N_("A person gives the resident ID number and the disability certificate number"),
    "organisation_identifiers": N_("An organisation gives its unified social credit code"),
    "county_unknown": N_("Choose a county"),
    "password_too_short": N_("At least 10 characters"),
}


def _labels(_: Callable[[str], str]) -> dict[str, str]:
    return {
        "kind": _("Who registers"),
        "username": _("User name"),
        "password": _("Password"),
        "name": _("Name of the person or organisation"),
        "id_number": _("Resident ID number"),
        "disability_cert_number": _("Disability certificate number (2nd generation, 20 characters)"),
        "credit_code": _("Unified social credit code"),
        "phone": _("Phone number"),
        "county": _("County, district or banner"),
    }


def _page(request: Request, values: dict[str, str], errors: list[FieldError], status: int = 200) -> Response:
    _ = gettext_for(request)
    return render(
        request,
        "account_registration/register.html",
        {
            "title": _("Register an account"),
            "values": values,
            "errors": errors,
            "errors_by_field": {error.name: error for error in errors},
            "labels": _labels(_),
            "counties": counties(language(request)),
        },
        status_code=status,
    )


@router.get("/register", response_class=HTMLResponse)
async def registration_form(request: Request) -> Response:
    return _page(request, {}, [])


@router.post("/register", response_class=HTMLResponse)
async def registration(request: Request, db: SessionDep, res: ResourcesDep) -> Response:
    set_actor(request, "anonymous")
    form = await checked_form(request)
    _ = gettext_for(request)
    values = flat_values(form, FIELDS)
    kept = {name: value for name, value in values.items() if name != "password"}  # never sent back to the page
    body = {name: value.strip() for name, value in values.items() if value.strip() and name != "password"}
    body["password"] = values["password"]
    # A person's form carries no credit code, an organisation's no ID: what belongs to the other kind is ignored.
    for name in ("credit_code",) if body.get("kind") == "person" else PERSON_ONLY:
        body.pop(name, None)
    labels = _labels(_)
    try:
        checked = RegistrationIn.model_validate(body)
    except ValidationError as error:
        errors = field_errors(error, labels, FIELDS, _, messages=MESSAGES)
        if not errors:  # a rule on the whole form (the identifiers of the kind)
            errors = [
                FieldError(
                    "kind",
                    labels["kind"],
                    _(MESSAGES.get(error.errors()[0]["type"], "")) or str(error.errors()[0]["msg"]),
                    _("Error:"),
                )
            ]
        return _page(request, kept, errors, 422)
    client = client_address(request)
    try:
        created = await register(db, checked, lambda: count_registration(res.sessions, client))
    except (Conflict, TooManyRequests) as refused:
        await record_refusal(request, refused.status_code)
        message = str(refused.detail)
        field = "username" if "user name" in message else ("id_number" if checked.kind == "person" else "credit_code")
        if isinstance(refused, TooManyRequests):
            field, message = "username", _("Too many registrations from this connection: try again in an hour")
        return _page(request, kept, [FieldError(field, labels[field], message, _("Error:"))], refused.status_code)
    try:
        await procedures.start_saved(res.temporal, res.settings.task_queue, created)
    except Unavailable:
        pass  # saved: the worker's starter opens the County DPF's task once the engine is back
    return render(
        request,
        "account_registration/registered.html",
        {
            "title": _("Your registration has been received"),
            "username": checked.username,
            "county_name": county_words(checked.county, language(request)),
            "organisation": checked.kind != "person",
        },
    )
