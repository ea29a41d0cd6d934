"""What every page shares: the signed-in user and the session's time-outs, CSRF, language, rendering, headers."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from fastapi_csrf_protect import CsrfProtect
from fastapi_csrf_protect.exceptions import CsrfProtectError
from itsdangerous import BadData, URLSafeTimedSerializer
from starlette.datastructures import FormData, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from subsidy.api.pages.i18n import LANGUAGE_COOKIE, choose_language, translations
from subsidy.api.pages.words import DECISION
from subsidy.api.security import Identity
from subsidy.forms import TEMPLATES_DIR
from subsidy.policy.counties import BAOTOU_COUNTIES, BAOTOU_COUNTIES_EN
from subsidy.policy.workdays import CHINA

# The CSRF token outlives any session: a form left open is refused for its session, never for its token.
CSRF_MAX_AGE_SECONDS = 24 * 60 * 60
CSRF_COOKIE = "subsidy_csrf"
CSRF_FIELD = "csrf_token"
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)

templates = Jinja2Templates(directory=TEMPLATES_DIR)
templates.env.filters["as_json"] = lambda value: json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
templates.env.globals.update(china=CHINA, DECISION=DECISION, reference=lambda application: str(application)[:8].upper())


class LoginRequired(Exception):
    def __init__(self, next_path: str, reason: str = "") -> None:
        self.next_path = next_path
        self.reason = reason


class CsrfRejected(Exception):
    pass


@dataclass
class PageSettings:
    csrf: CsrfProtect
    secret: str
    cookie_secure: bool
    # Idle and absolute limits of a page session. A warning appears `warn_seconds` before the idle limit, with a
    # button that extends the session without leaving the page (WCAG 2.2.1).
    idle_seconds: int = 30 * 60
    absolute_seconds: int = 10 * 60 * 60
    warn_seconds: int = 3 * 60


def page_settings(request: Request) -> PageSettings:
    found: PageSettings = request.app.state.page_settings
    return found


def language(request: Request) -> str:
    return choose_language(request.cookies.get(LANGUAGE_COOKIE))


def gettext_for(request: Request) -> Any:
    return translations(language(request)).gettext


def sign_in(request: Request, identity: Identity) -> None:
    now = int(time.time())
    request.session.clear()
    request.session.update(
        username=identity.username,
        roles=list(identity.roles),
        county=identity.county,
        started=now,
        seen=now,
    )


def sign_out(request: Request) -> None:
    request.session.clear()


def page_identity(request: Request) -> Identity | None:
    """The signed-in user, or None; enforces the idle and absolute time-outs and records activity."""
    session = request.session
    if "username" not in session:
        return None
    now = int(time.time())
    limits = page_settings(request)
    if (
        now - int(session.get("started", 0)) > limits.absolute_seconds
        or now - int(session.get("seen", 0)) > limits.idle_seconds
    ):
        session.clear()
        session["expired"] = True
        return None
    session["seen"] = now
    return Identity(session["username"], tuple(session.get("roles", ())), session.get("county"))


def require_user(request: Request) -> Identity:
    identity = page_identity(request)
    if identity is None:
        reason = "expired" if request.session.pop("expired", False) else ""
        raise LoginRequired(request.url.path, reason)
    return identity


def safe_next(path: str | None, default: str = "/") -> str:
    """Only a path on this site: never an open redirect."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path:
        return default
    return path


def login_redirect(error: LoginRequired) -> RedirectResponse:
    query = f"?next={quote(error.next_path)}" + ("&expired=1" if error.reason == "expired" else "")
    return RedirectResponse(f"/login{query}", status_code=303)


def _csrf_token(request: Request) -> tuple[str, str | None]:
    """The token for hidden form fields; a new signed cookie only when the browser has no valid one."""
    settings = page_settings(request)
    signed = request.cookies.get(CSRF_COOKIE)
    if signed:
        try:
            token: str = URLSafeTimedSerializer(settings.secret, salt="fastapi-csrf-token").loads(
                signed, max_age=CSRF_MAX_AGE_SECONDS
            )
            return token, None
        except BadData:
            pass
    token, signed = settings.csrf.generate_csrf_tokens()
    return token, signed


async def checked_form(request: Request) -> FormData:
    """The posted form, after its CSRF token was checked against the signed cookie (403 page otherwise)."""
    form = await request.form()
    try:
        await page_settings(request).csrf.validate_csrf(request)
    except CsrfProtectError:
        raise CsrfRejected() from None
    return form


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
    identity: Identity | None = None,
) -> HTMLResponse:
    lang = language(request)
    settings = page_settings(request)
    token, new_cookie = _csrf_token(request)
    signed_in = identity if identity is not None else page_identity(request)
    values = {
        "_": translations(lang).gettext,
        "lang": lang,
        "user": signed_in,
        "csrf_field": CSRF_FIELD,
        "csrf_token": token,
        "idle_seconds": settings.idle_seconds,
        "warn_seconds": settings.warn_seconds,
        "warn_minutes": max(settings.warn_seconds // 60, 1),
        "current_path": request.url.path,
        "acts_for": getattr(request.state, "acts_for", None),
        "county_name": lambda code: (BAOTOU_COUNTIES_EN if lang == "en" else BAOTOU_COUNTIES).get(code, code),
        **(context or {}),
    }
    response = templates.TemplateResponse(request, template, values, status_code=status_code)
    if new_cookie is not None:
        response.set_cookie(
            CSRF_COOKIE,
            new_cookie,
            max_age=CSRF_MAX_AGE_SECONDS,
            httponly=True,
            samesite="strict",
            secure=settings.cookie_secure,
        )
    return response


# Headers for every page: personal data is never cached, nothing runs but our own scripts.
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


class PageHeaders:
    """`PAGE_HEADERS` on every page's response, as plain ASGI: the JSON API passes straight through (an
    `@app.middleware("http")` wrapper cost every API request a task and a body stream, bench/ profile)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_page_path(scope["path"]):
            await self.app(scope, receive, send)
            return

        async def send_protected(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in PAGE_HEADERS.items():
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, send_protected)


def is_page_path(path: str) -> bool:
    return not (path.startswith("/api/") or path in ("/healthz", "/openapi.json") or path.startswith("/docs"))
