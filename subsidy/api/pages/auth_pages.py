"""Sign-in, sign-out, keeping a session alive, the language switch, and the start page."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from subsidy.api.accounts import SignIn, sign_in
from subsidy.api.deps import ResourcesDep
from subsidy.api.pages.form_support import FieldError
from subsidy.api.pages.i18n import LANGUAGE_COOKIE, LANGUAGES
from subsidy.api.pages.web import (
    PASSWORD_PAGE,
    checked_form,
    gettext_for,
    page_identity,
    page_settings,
    render,
    require_user,
    safe_next,
    sign_out,
)
from subsidy.api.pages.web import sign_in as start_session
from subsidy.api.pages.words import N_
from subsidy.api.refusals import client_address, record_refusal, set_actor
from subsidy.api.security import Identity

router = APIRouter(include_in_schema=False)
OFFICIAL_ROLES = ("county_dpf", "county_hr", "city_dpf", "region_hr")
# What a signed-in role whose start page is the home page can do there: (role, path, words).
HOME_ACTIONS = (
    ("employer", "/employer/declare", N_("Declare this year's public-welfare posts")),
    ("employer", "/employer/declarations", N_("My post declarations: posts, places and proposing a person")),
    ("employer", "/employer/placements", N_("My placements: publicity, payment schedule, end of employment")),
    ("employer", "/employer/over-quota/new", N_("Claim the over-quota employment reward for a past year")),
    ("employer", "/employer/over-quota", N_("My over-quota reward claims: employees counted, figures, payment")),
    ("employer", "/employer/graduate-hires", N_("My graduate hires: the graduate hiring subsidy, its yearly checks")),
    ("employer", "/my/applications", N_("All my applications")),
    ("agency", "/agency/referrals/new", N_("Claim the reward for referring a person into employment")),
    ("agency", "/my/applications", N_("All my applications")),
    (
        "county_dpf",
        "/registry/prior-years",
        N_("Record years of the blind massage insurance subsidy from the register"),
    ),
)


def start_page(identity: Identity) -> str:
    if identity.must_change_password:
        return PASSWORD_PAGE
    if identity.has(*OFFICIAL_ROLES):
        return "/inbox"
    if identity.has("finance"):
        return "/finance"  # what is due, the batches, the finance tasks (subsidy/api/pages/finance_pages.py)
    if identity.has("applicant"):
        return "/my/applications"
    if identity.has("admin") and not identity.has("auditor"):
        return "/admin/calendar"  # the official calendar, which warns from 1 November while next year is unknown
    if identity.has("auditor", "admin"):
        return "/audit"
    return "/"


@router.get("/", response_class=HTMLResponse)
async def home(request: Request) -> Response:
    identity = page_identity(request)
    # Officials, auditors and administrators start in their work list; applicants and providers are shown here
    # what they can do (they land on their own list after signing in).
    if identity is not None and start_page(identity) != "/" and not identity.has("applicant", "provider"):
        return RedirectResponse(start_page(identity), status_code=303)
    _ = gettext_for(request)
    actions = [(path, _(words)) for role, path, words in HOME_ACTIONS if identity is not None and identity.has(role)]
    return render(
        request, "home.html", {"title": _("Disability employment subsidies"), "actions": actions}, identity=identity
    )


@router.get("/login", response_class=HTMLResponse)
async def login_form(
    request: Request,
    next: Annotated[str | None, Query(max_length=500)] = None,
    expired: Annotated[int, Query(ge=0, le=1)] = 0,
) -> Response:
    _ = gettext_for(request)
    notice = (
        _("You were signed out because you did not use the service for a while. Sign in again.") if expired else None
    )
    return render(
        request,
        "login.html",
        {"title": _("Sign in"), "next": safe_next(next, ""), "values": {}, "errors": [], "notice": notice},
    )


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request, res: ResourcesDep) -> Response:
    form = await checked_form(request)
    _ = gettext_for(request)
    username = str(form.get("username", "")).strip()
    password = str(form.get("password", ""))
    next_path = safe_next(str(form.get("next", "")), "")
    attempt = SignIn(None, audited=False)
    if username and password:
        settings = page_settings(request)
        attempt = await sign_in(
            res.sessions,
            username,
            password,
            client=client_address(request),
            kind="page",
            lifetime=timedelta(seconds=settings.absolute_seconds),
            path=request.url.path,
        )
    if attempt.identity is not None and attempt.secret is not None:
        await start_session(request, attempt.identity, attempt.secret)
        if attempt.identity.must_change_password:
            next_path = PASSWORD_PAGE
        return RedirectResponse(next_path or start_page(attempt.identity), status_code=303)
    set_actor(request, username)
    message = _("The user name or password is wrong")
    if attempt.retry_after is not None:
        # The same rule as the API: the wait in words on the page, and in Retry-After.
        if attempt.client_limited:
            minutes = math.ceil(attempt.retry_after / 60)
            message = _("Too many failed sign-ins from this device. Try again in %(minutes)s minutes.") % {
                "minutes": minutes
            }
        else:
            message = _("Too many failed sign-ins with this user name. Try again in %(seconds)s seconds.") % {
                "seconds": attempt.retry_after
            }
    if attempt.audited:
        await record_refusal(request, 401 if attempt.retry_after is None else 429)
    errors = [FieldError("username", _("User name"), message, _("Error:"))]
    response = render(
        request,
        "login.html",
        {"title": _("Sign in"), "next": next_path, "values": {"username": username}, "errors": errors},
        status_code=400 if attempt.retry_after is None else 429,
    )
    if attempt.retry_after is not None:
        response.headers["Retry-After"] = str(attempt.retry_after)
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    await checked_form(request)
    await sign_out(request)
    return RedirectResponse("/login", status_code=303)


@router.post("/session/extend")
async def extend(request: Request) -> Response:
    await checked_form(request)
    require_user(request)  # recording the activity is what extends the idle time-out
    return Response(status_code=204)


@router.post("/language")
async def switch_language(request: Request) -> Response:
    form = await checked_form(request)
    chosen = str(form.get("lang", ""))
    response = RedirectResponse(safe_next(str(form.get("next", "/"))), status_code=303)
    if chosen in LANGUAGES:
        settings = page_settings(request)
        response.set_cookie(
            LANGUAGE_COOKIE, chosen, max_age=365 * 24 * 3600, samesite="lax", secure=settings.cookie_secure
        )
    return response
