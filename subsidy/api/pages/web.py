"""What every page shares: the signed-in user and the session's time-outs, CSRF, language, rendering, headers."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
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
from starlette.datastructures import FormData, Headers, MutableHeaders
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from subsidy.api.auth_sessions import page_identity as check_page_session
from subsidy.api.auth_sessions import revoke as revoke_session
from subsidy.api.pages.i18n import LANGUAGE_COOKIE, choose_language, translations
from subsidy.api.pages.words import DECISION
from subsidy.api.refusals import PAGE_SESSION_SCOPE_KEY
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


class PasswordChangeRequired(Exception):
    """A one-time password signed this session in: nothing but choosing a new one until then."""


# The page where a new password is chosen; with a one-time password, the only page (besides signing out).
PASSWORD_PAGE = "/account/password"


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


@dataclass
class PageSession:
    """The page session of one request, as `PageSessions` found it, and what the handler did to it."""

    secret: str | None
    identity: Identity | None = None
    timed_out: bool = False
    new_secret: str | None = None
    ended: bool = False


def _page_session(request: Request) -> PageSession:
    found = request.scope.get(PAGE_SESSION_SCOPE_KEY)
    if found is None:  # a path the middleware does not look at
        found = PageSession(None)
        request.scope[PAGE_SESSION_SCOPE_KEY] = found
    assert isinstance(found, PageSession)
    return found


async def sign_in(request: Request, identity: Identity, secret: str) -> None:
    """Hand the browser the new session (made by `accounts.sign_in`); a session it had before is revoked."""
    state = _page_session(request)
    if state.secret:
        async with request.app.state.resources.sessions.begin() as db:
            await revoke_session(db, state.secret)
    state.identity, state.new_secret, state.ended = identity, secret, False


async def sign_out(request: Request) -> None:
    state = _page_session(request)
    if state.secret:
        async with request.app.state.resources.sessions.begin() as db:
            await revoke_session(db, state.secret)
    state.identity, state.ended = None, True


def page_identity(request: Request) -> Identity | None:
    """The signed-in user, or None: checked against the session's row and the account by `PageSessions` (idle and
    absolute time-outs, revocation, disabled account), which also recorded the activity."""
    return _page_session(request).identity


def require_user(request: Request) -> Identity:
    identity = page_identity(request)
    if identity is None:
        raise LoginRequired(request.url.path, "expired" if _page_session(request).timed_out else "")
    if identity.must_change_password and request.url.path not in (PASSWORD_PAGE, "/session/extend"):
        raise PasswordChangeRequired()
    return identity


def page_session_secret(request: Request) -> str | None:
    state = _page_session(request)
    return state.new_secret or state.secret


def safe_next(path: str | None, default: str = "/") -> str:
    """Only a path on this site: never an open redirect."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path:
        return default
    return path


def login_redirect(error: LoginRequired) -> RedirectResponse:
    query = f"?next={quote(error.next_path)}" + ("&expired=1" if error.reason == "expired" else "")
    return RedirectResponse(f"/login{query}", status_code=303)


def session_csrf_token(request: Request) -> str | None:
    """The CSRF token of a signed-in page session: an HMAC of the session's secret, so a token of another session
    (or of the same browser before it signed in) is refused. None without a live session."""
    state = _page_session(request)
    secret = state.new_secret or state.secret
    if state.identity is None or not secret:
        return None
    mac = hmac.new(page_settings(request).secret.encode(), b"csrf:" + secret.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def _csrf_token(request: Request) -> tuple[str, str | None]:
    """The token for hidden form fields: the session's own when signed in; else (the sign-in form, the language
    switch) fastapi-csrf-protect's, with a new signed cookie only when the browser has no valid one."""
    bound = session_csrf_token(request)
    if bound is not None:
        return bound, None
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
    """The posted form, after its CSRF token was checked: against the page session when signed in, else against the
    signed cookie (403 page otherwise). A form of a session that has ended leads to the sign-in page."""
    form = await request.form()
    state = _page_session(request)
    bound = session_csrf_token(request)
    if bound is not None:
        sent = form.get(CSRF_FIELD)
        if not isinstance(sent, str) or not hmac.compare_digest(sent.encode(), bound.encode()):
            raise CsrfRejected()
        return form
    if state.secret and request.url.path == "/logout":
        return form  # the session has ended already: nothing a forged sign-out could do
    if state.secret and request.url.path != "/login":
        # The form of a session that has ended (timed out, signed out elsewhere, account disabled): sign in again.
        raise LoginRequired(request.url.path, "expired" if state.timed_out else "")
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


SESSION_COOKIE = "subsidy_session"


def wants_page_session(path: str) -> bool:
    """Pages (not their static files), and the auditors' codec endpoint that the Temporal UI calls with the cookie."""
    return (is_page_path(path) and not path.startswith("/static/")) or path.startswith("/api/v1/audit/codec")


class PageSessions:
    """Server-side page sessions, as plain ASGI: reads the `subsidy_session` cookie (a random secret), checks it and
    its account in one statement (subsidy/api/auth_sessions.py), and sets or deletes the cookie on the way out."""

    def __init__(self, app: ASGIApp, *, cookie_secure: bool, absolute_seconds: int, idle_seconds: int) -> None:
        self.app = app
        self.cookie_secure = cookie_secure
        self.absolute_seconds = absolute_seconds
        self.idle_seconds = idle_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not wants_page_session(scope["path"]):
            await self.app(scope, receive, send)
            return
        secret = cookie_parser(Headers(scope=scope).get("cookie", "")).get(SESSION_COOKIE) or None
        state = PageSession(secret)
        if secret:
            async with scope["app"].state.resources.sessions.begin() as db:
                check = await check_page_session(db, secret, self.idle_seconds)
            state.identity, state.timed_out, state.ended = check.identity, check.timed_out, check.identity is None
        scope[PAGE_SESSION_SCOPE_KEY] = state

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if state.new_secret:
                    headers.append("set-cookie", self._cookie(state.new_secret, self.absolute_seconds))
                elif state.ended and secret:
                    headers.append("set-cookie", self._cookie("", 0))
            await send(message)

        await self.app(scope, receive, send_with_cookie)

    def _cookie(self, value: str, max_age: int) -> str:
        secure = "; Secure" if self.cookie_secure else ""
        return f"{SESSION_COOKIE}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}"
