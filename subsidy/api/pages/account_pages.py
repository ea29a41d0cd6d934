"""Choosing a new password (required after a one-time password), and the administrators' account pages."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from subsidy.api import admin_accounts, passwords
from subsidy.api.account_schemas import USERNAME_PATTERN, AccountIn
from subsidy.api.deps import SessionDep
from subsidy.api.errors import Forbidden, Invalid, NotFound, ServiceError
from subsidy.api.pages.auth_pages import start_page
from subsidy.api.pages.form_support import FieldError
from subsidy.api.pages.web import (
    PASSWORD_PAGE,
    checked_form,
    gettext_for,
    language,
    page_session_secret,
    render,
    require_user,
)
from subsidy.api.pages.words import N_, REGISTRATION_KIND
from subsidy.api.pending_registrations import pending_registrations, waited_parts
from subsidy.api.read_model import mask_name
from subsidy.api.security import Identity
from subsidy.forms.text import invisible_characters
from subsidy.policy.counties import BAOTOU_COUNTIES, BAOTOU_COUNTIES_EN

router = APIRouter(include_in_schema=False)

ACCOUNT_ROLES = {
    "applicant": N_("Applicant"),
    "employer": N_("Employer"),
    "provider": N_("Training provider"),
    "agency": N_("Labour dispatch agency"),
    "county_dpf": N_("County Disabled Persons' Federation"),
    "county_hr": N_("County HR and Social Security Bureau"),
    "city_dpf": N_("City Disabled Persons' Federation"),
    "region_hr": N_("Region HR and Social Security Department"),
    "auditor": N_("Auditor"),
    "finance": N_("Finance"),
    "admin": N_("Administrator"),
}


@router.get(PASSWORD_PAGE, response_class=HTMLResponse)
async def password_form(request: Request) -> Response:
    identity = require_user(request)
    return _password_page(request, identity, [])


@router.post(PASSWORD_PAGE, response_class=HTMLResponse)
async def change_password(request: Request, db: SessionDep) -> Response:
    form = await checked_form(request)
    identity = require_user(request)
    _ = gettext_for(request)
    old, new = str(form.get("old", ""))[:200], str(form.get("new", ""))[:200]
    try:
        if not old:
            raise Invalid("old", _("Enter your current password"))
        await passwords.change_password(db, identity, old, new, keep_session=page_session_secret(request))
        await db.commit()  # before the redirect: the next page must find the restriction lifted
    except Invalid as refused:
        field = refused.detail[0]["loc"][-1] if isinstance(refused.detail, list) else "new"
        label = _("Current password") if field == "old" else _("New password")
        message = {
            "old": _("This is not your current password"),
        }.get(field, _("Choose a longer password that is harder to guess"))
        errors = [FieldError(field, label, message, _("Error:"))]
        return _password_page(request, identity, errors, status_code=422)
    changed = Identity(identity.username, identity.roles, identity.county)
    return RedirectResponse(start_page(changed), status_code=303)


def _password_page(
    request: Request, identity: Identity, errors: list[FieldError], *, status_code: int = 200
) -> HTMLResponse:
    _ = gettext_for(request)
    return render(
        request,
        "account_password.html",
        {
            "title": _("Choose a new password"),
            "errors": errors,
            "errors_by_field": {e.name: e for e in errors},
            "required": identity.must_change_password,
            "min_length": passwords.MIN_LENGTH,
        },
        status_code=status_code,
        identity=identity,
    )


def _admin(request: Request) -> Identity:
    identity = require_user(request)
    if not identity.has("admin"):
        raise Forbidden("these pages are for administrators")
    return identity


def _counties(request: Request) -> list[tuple[str, str]]:
    return list((BAOTOU_COUNTIES_EN if language(request) == "en" else BAOTOU_COUNTIES).items())


def _checked_username(username: str) -> str:
    if not re.fullmatch(USERNAME_PATTERN, username):
        raise NotFound("no such account")
    return username


@router.get("/admin/accounts", response_class=HTMLResponse)
async def accounts(
    request: Request,
    db: SessionDep,
    q: Annotated[str, Query(max_length=64)] = "",
    county: Annotated[str, Query(max_length=6)] = "",
) -> Response:
    identity = _admin(request)
    _ = gettext_for(request)
    wanted = "" if invisible_characters(q) else q.strip()
    users, total = await admin_accounts.list_accounts(db, wanted, 100, 0)
    # Registrations waiting for the County DPF's verification (it verifies them in its task; the administrator sees).
    waiting_county = county if county in BAOTOU_COUNTIES else ""
    waiting = await pending_registrations(db, waiting_county or None, datetime.now(UTC))
    return render(
        request,
        "admin_accounts.html",
        {
            "title": _("Accounts"),
            "users": users,
            "total": total,
            "q": wanted,
            "ROLES": ACCOUNT_ROLES,
            "mask_name": mask_name,
            "waiting": waiting,
            "waiting_county": waiting_county,
            "counties": _counties(request),
            "KINDS": REGISTRATION_KIND,
            "waited_parts": waited_parts,
        },
        identity=identity,
    )


@router.get("/admin/accounts/new", response_class=HTMLResponse)
async def new_account_form(request: Request) -> Response:
    identity = _admin(request)
    return _new_account_page(request, identity, {}, [])


@router.post("/admin/accounts/new", response_class=HTMLResponse)
async def create_account(request: Request, db: SessionDep) -> Response:
    form = await checked_form(request)
    identity = _admin(request)
    _ = gettext_for(request)
    values = {
        "username": str(form.get("username", ""))[:100].strip(),
        "display_name": str(form.get("display_name", ""))[:200].strip(),
        "county": str(form.get("county", "")),
    }
    roles = [str(role) for role in form.getlist("roles")][:8]
    labels = {"username": _("User name"), "display_name": _("Name"), "roles": _("Roles"), "county": _("County")}
    try:
        body = AccountIn.model_validate(
            {
                "username": values["username"],
                "display_name": values["display_name"] or None,
                "roles": roles,
                "county": values["county"] or None,
            }
        )
        created = await admin_accounts.create_account(db, identity, body)
        await db.commit()
    except ValidationError as invalid:
        names = {str(problem["loc"][0]) for problem in invalid.errors()}
        errors = [FieldError(n, labels[n], _("Check this field"), _("Error:")) for n in labels if n in names]
        return _new_account_page(request, identity, values, errors, roles=roles, status_code=422)
    except ServiceError as refused:
        field = "username"
        if isinstance(refused, Invalid) and isinstance(refused.detail, list):
            field = str(refused.detail[0]["loc"][-1])
        message = {
            409: _("An account with this user name exists"),
            403: _("You cannot act on your own account"),
        }.get(refused.status_code, _("Check this field"))
        if field == "county":
            message = _("County roles need a county; city-wide roles take none")
        errors = [FieldError(field, labels.get(field, field), message, _("Error:"))]
        return _new_account_page(request, identity, values, errors, roles=roles, status_code=refused.status_code)
    return _one_time_password_page(request, identity, created.username, created.one_time_password)


def _new_account_page(
    request: Request,
    identity: Identity,
    values: dict[str, str],
    errors: list[FieldError],
    *,
    roles: list[str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    _ = gettext_for(request)
    return render(
        request,
        "admin_account_new.html",
        {
            "title": _("New account"),
            "values": values,
            "chosen_roles": roles or [],
            "errors": errors,
            "errors_by_field": {e.name: e for e in errors},
            "ROLES": ACCOUNT_ROLES,
            "counties": _counties(request),
        },
        status_code=status_code,
        identity=identity,
    )


def _one_time_password_page(request: Request, identity: Identity, username: str, password: str) -> HTMLResponse:
    _ = gettext_for(request)
    return render(
        request,
        "admin_one_time_password.html",
        {"title": _("One-time password"), "username": username, "password": password},
        identity=identity,
    )


@router.get("/admin/accounts/{username}", response_class=HTMLResponse)
async def account(request: Request, username: str, db: SessionDep) -> Response:
    identity = _admin(request)
    _ = gettext_for(request)
    user = await admin_accounts.get_account(db, _checked_username(username))
    return render(
        request,
        "admin_account.html",
        {
            "title": _("Account") + " " + user.username,
            "account": user,
            "own": user.username == identity.username,
            "ROLES": ACCOUNT_ROLES,
            "done": request.query_params.get("done", ""),
        },
        identity=identity,
    )


@router.post("/admin/accounts/{username}/{action}", response_class=HTMLResponse)
async def act(request: Request, username: str, action: str, db: SessionDep) -> Response:
    await checked_form(request)
    identity = _admin(request)
    username = _checked_username(username)
    if action == "disable":
        await admin_accounts.disable_account(db, identity, username)
    elif action == "enable":
        await admin_accounts.enable_account(db, identity, username)
    elif action == "reset-password":
        reset = await admin_accounts.reset_password(db, identity, username)
        await db.commit()
        return _one_time_password_page(request, identity, reset.username, reset.one_time_password)
    else:
        raise NotFound("no such action")
    await db.commit()  # before the redirect: a disabled account's sessions are refused from the next request on
    return RedirectResponse(f"/admin/accounts/{username}?done={action}", status_code=303)
