"""Refused sign-ins and refused actions go to the audit log: who tried what, never with which secret.

A 401 or 429 is recorded as `auth_failed`, a 403 as `forbidden`, each with the method and path only (no query
string, header, body or token). The actor is the user name the request carried, or "anonymous".
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from fastapi import Request

from subsidy.db.audit_chain import append_audit

log = logging.getLogger(__name__)

AUDITED_KINDS = {401: "auth_failed", 429: "auth_failed", 403: "forbidden"}
ANONYMOUS = "anonymous"
# Where the page-session middleware (subsidy/api/pages/web.py) leaves the request's page session.
PAGE_SESSION_SCOPE_KEY = "subsidy.page_session"


def printable(text: str, limit: int) -> str:
    """Text an attacker chose, made safe to store: no control or format characters, no lone surrogates."""
    return "".join(ch if ch.isprintable() else "\ufffd" for ch in text[:limit])


def set_actor(request: Request, username: str) -> None:
    """Who the request is from, for the audit record of a refusal (the user name, never a token)."""
    request.state.actor = printable(username, 64)


def client_address(request: Request) -> str:
    """The address the request came from (behind a proxy: uvicorn's `--forwarded-allow-ips` puts the client's)."""
    return request.client.host if request.client else "unknown"


def skip_refusal_audit(request: Request) -> None:
    """This refusal is counted in an aggregated record (subsidy/api/accounts.py), not audited on its own."""
    request.state.refusal_aggregated = True


def actor_of(request: Request) -> str:
    actor = getattr(request.state, "actor", None)
    if not actor:
        page = request.scope.get(PAGE_SESSION_SCOPE_KEY)
        actor = page.identity.username if page is not None and page.identity is not None else None
    return printable(str(actor), 64) if actor else ANONYMOUS


async def record_refusal(request: Request, status_code: int) -> None:
    kind = AUDITED_KINDS.get(status_code)
    resources = getattr(request.app.state, "resources", None)
    if kind is None or resources is None or getattr(request.state, "refusal_aggregated", False):
        return
    actor = actor_of(request)
    detail = {"method": request.method, "path": printable(request.url.path, 256), "status": status_code}
    try:
        async with resources.sessions.begin() as session:
            await append_audit(session, kind=kind, actor=actor, at=datetime.now(UTC), detail=detail)
    except Exception:
        # The refusal stands even when the database cannot record it; the log keeps the trace.
        log.warning("could not audit %s for %r on %s %s", kind, actor, request.method, detail["path"], exc_info=True)
