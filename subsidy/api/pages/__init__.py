"""Server-rendered pages (Jinja2, zh-CN first) on the same services the JSON API uses."""

from __future__ import annotations

import importlib

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi_csrf_protect import CsrfProtect

from subsidy.api.errors import ServiceError, error_headers
from subsidy.api.pages import (
    account_pages,
    admin_pages,
    applicant_pages,
    approver_pages,
    auditor_pages,
    auth_pages,
    calendar_pages,
    document_pages,
    finance_pages,
    letter_pages,
    minimum_wage_pages,
    payment_notices,
    person_pages,
    report_pages,
)
from subsidy.api.pages.banner import load_acts_for
from subsidy.api.pages.error_pages import install_error_pages
from subsidy.api.pages.web import (
    CSRF_COOKIE,
    CSRF_FIELD,
    CSRF_MAX_AGE_SECONDS,
    PASSWORD_PAGE,
    CsrfRejected,
    LoginRequired,
    PageHeaders,
    PageSessions,
    PageSettings,
    PasswordChangeRequired,
    gettext_for,
    is_page_path,
    login_redirect,
    render,
)
from subsidy.api.refusals import record_refusal
from subsidy.forms import STATIC_DIR
from subsidy.programs.registry import DECLARED


def is_page(request: Request) -> bool:
    return is_page_path(request.url.path)


def install_pages(
    app: FastAPI,
    secret: str,
    *,
    cookie_secure: bool = True,
    idle_seconds: int = 30 * 60,
    absolute_seconds: int = 10 * 60 * 60,
    warn_seconds: int = 3 * 60,
) -> None:
    # fastapi-csrf-protect keeps its settings on the class: a subclass per app keeps apps (and tests) apart.
    csrf_class: type[CsrfProtect] = type("PageCsrf", (CsrfProtect,), {})
    csrf_class.load_config(
        lambda: [
            ("secret_key", secret),
            ("cookie_key", CSRF_COOKIE),
            ("token_location", "body"),
            ("token_key", CSRF_FIELD),
            ("max_age", CSRF_MAX_AGE_SECONDS),
            ("cookie_samesite", "strict"),
            ("cookie_secure", cookie_secure),
        ]
    )
    app.state.page_settings = PageSettings(
        csrf=csrf_class(),
        secret=secret,
        cookie_secure=cookie_secure,
        idle_seconds=idle_seconds,
        absolute_seconds=absolute_seconds,
        warn_seconds=warn_seconds,
    )
    app.add_middleware(
        PageSessions, cookie_secure=cookie_secure, absolute_seconds=absolute_seconds, idle_seconds=idle_seconds
    )

    app.add_middleware(PageHeaders)

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for module in (
        auth_pages,
        applicant_pages,
        approver_pages,
        auditor_pages,
        admin_pages,
        calendar_pages,
        document_pages,
        finance_pages,
        letter_pages,
        minimum_wage_pages,
        report_pages,
        payment_notices,
        person_pages,
    ):
        app.include_router(module.router, dependencies=[Depends(load_acts_for)])
    app.include_router(account_pages.router, dependencies=[Depends(load_acts_for)])
    # A person's flexible-employment insurance pages and the rent subsidy's "before you start" (before the form's
    # route, which they do not overlap): shared page modules of their own.
    # Each program's own pages, as its declaration names them (shared modules once).
    for module_name in dict.fromkeys(program.pages for program in DECLARED if program.pages):
        app.include_router(importlib.import_module(module_name).router, dependencies=[Depends(load_acts_for)])

    async def login_required(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, LoginRequired)
        return login_redirect(exc)

    async def csrf_rejected(request: Request, exc: Exception) -> Response:
        await record_refusal(request, 403)
        _ = gettext_for(request)
        message = _("The form was sent without a valid security token. Go back, reload the page and try again.")
        return render(
            request, "error.html", {"title": _("The form could not be accepted"), "message": message}, status_code=403
        )

    async def service_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ServiceError)
        await record_refusal(request, exc.status_code)
        if not is_page(request):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=error_headers(exc))
        _ = gettext_for(request)
        titles = {403: _("You cannot see this page"), 404: _("Page not found")}
        message = (
            _("It does not exist, or it belongs to someone else.")
            if exc.status_code in (403, 404)
            else _(str(exc.detail))
        )
        return render(
            request,
            "error.html",
            {"title": titles.get(exc.status_code, _("Something went wrong")), "message": message},
            status_code=exc.status_code,
        )

    async def password_change_required(request: Request, exc: Exception) -> Response:
        return RedirectResponse(PASSWORD_PAGE, status_code=303)

    app.add_exception_handler(LoginRequired, login_required)
    app.add_exception_handler(PasswordChangeRequired, password_change_required)
    app.add_exception_handler(CsrfRejected, csrf_rejected)
    app.add_exception_handler(ServiceError, service_error)
    install_error_pages(app)
