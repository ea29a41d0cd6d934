"""The auditor's pages: find an application, read its timeline, download and replay its history, verify the log."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import String, cast, select

from subsidy.api import audit
from subsidy.api.deps import ResourcesDep, SessionDep
from subsidy.api.errors import Forbidden
from subsidy.api.pages.web import checked_form, gettext_for, render, require_user
from subsidy.api.pages.words import PROGRAM, STATUS
from subsidy.api.read_model import get_visible_application
from subsidy.api.security import Identity
from subsidy.db.audit_chain import verify_chain
from subsidy.db.models import Application

router = APIRouter(include_in_schema=False)


def _auditor(request: Request) -> Identity:
    identity = require_user(request)
    if not identity.has("auditor", "admin"):
        raise Forbidden("these pages are for auditors")
    return identity


@router.get("/audit", response_class=HTMLResponse)
async def search(request: Request, db: SessionDep, reference: Annotated[str, Query(max_length=40)] = "") -> Response:
    identity = _auditor(request)
    _ = gettext_for(request)
    wanted = reference.strip().lower()
    found = []
    # A reference is the start of an application id: anything else matches nothing (and a NUL would not even reach
    # PostgreSQL as text).
    if wanted and all(ch in "0123456789abcdef-" for ch in wanted):
        found = list(
            (
                await db.scalars(
                    select(Application)
                    .where(cast(Application.id, String).startswith(wanted))
                    .order_by(Application.submitted_at.desc())
                    .limit(50)
                )
            ).all()
        )
    return render(
        request,
        "audit_search.html",
        {
            "title": _("Audit"),
            "searched_reference": reference,
            "found": found,
            "searched": bool(wanted),
            "PROGRAM": PROGRAM,
            "STATUS": STATUS,
        },
        identity=identity,
    )


@router.post("/audit/verify", response_class=HTMLResponse)
async def verify(request: Request, db: SessionDep) -> Response:
    identity = _auditor(request)
    await checked_form(request)
    _ = gettext_for(request)
    check = await verify_chain(db)
    return render(
        request,
        "audit_search.html",
        {
            "title": _("Audit"),
            "searched_reference": "",
            "found": [],
            "searched": False,
            "check": check,
            "PROGRAM": PROGRAM,
            "STATUS": STATUS,
        },
        identity=identity,
    )


@router.get("/audit/applications/{application_id}", response_class=HTMLResponse)
async def timeline(request: Request, application_id: str, db: SessionDep, res: ResourcesDep) -> Response:
    identity = _auditor(request)
    _ = gettext_for(request)
    application = await get_visible_application(db, application_id, identity)
    runs = await audit.histories(db, res.temporal, application)
    entries = await audit.timeline(db, application, runs)
    await db.commit()
    report = None
    if request.query_params.get("replayed") == "1":
        report = await audit.replay(runs)
    return render(
        request,
        "audit_timeline.html",
        {
            "title": _("Timeline of an application"),
            "app": application,
            "entries": entries,
            "runs": len(runs),
            "report": report,
            "PROGRAM": PROGRAM,
            "STATUS": STATUS,
        },
        identity=identity,
    )


@router.post("/audit/applications/{application_id}/replay")
async def replay(request: Request, application_id: str) -> Response:
    _auditor(request)
    await checked_form(request)
    return RedirectResponse(f"/audit/applications/{application_id}?replayed=1#replay-result", status_code=303)


@router.get("/audit/applications/{application_id}/history.json")
async def download(request: Request, application_id: str, db: SessionDep, res: ResourcesDep) -> Response:
    identity = _auditor(request)
    application = await get_visible_application(db, application_id, identity)
    document = audit.history_document(await audit.histories(db, res.temporal, application))
    await db.commit()
    return Response(
        json.dumps(document, ensure_ascii=False),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="history-{application.id}.json"'},
    )
