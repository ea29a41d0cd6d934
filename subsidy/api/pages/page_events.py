"""Submitting an application, and sending an event (withdrawn, corrected, a completion report, the end of an
employment...), from a page.

Every page that sends one does the same: the read model's transaction ends first (the workflow's own steps write
the application), the event goes to the workflow's `event` update, and a refusal is recorded and handed back for
the page to show in words. What each page then shows is its own.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from subsidy.api import procedures
from subsidy.api.deps import Resources
from subsidy.api.errors import Conflict, ServiceError, Unavailable
from subsidy.api.pages.web import gettext_for, render
from subsidy.api.pages.words import reasons_of
from subsidy.api.refusals import record_refusal
from subsidy.api.security import Identity
from subsidy.db.models import Application
from subsidy.programs.registry import PROGRAMS


async def send_from_page(
    request: Request, db: AsyncSession, res: Resources, application: Application, event: Any
) -> ServiceError | None:
    """The workflow's refusal (already recorded), or None once the event is done."""
    await db.commit()
    try:
        await procedures.send_event(res.temporal, application.workflow_id, event)
    except ServiceError as refused:
        await record_refusal(request, refused.status_code)
        return refused
    return None


async def submit_from_page(
    db: AsyncSession, res: Resources, identity: Identity, form: BaseModel, submission_key: str
) -> RedirectResponse:
    """Submit a checked form from a page, and go to the application's own page (`?submitted=1`).

    `submission_key` is the one made when the form was first shown: pressing "submit" twice, or going back, gives
    one application. When the engine is away the application is saved all the same (the worker's starter starts it):
    its page then says so (`?saved=1`). A refusal (`ServiceError`) is the caller's to show.
    """
    key = f"page-{submission_key[:100]}" if submission_key else None
    try:
        application, _created = await procedures.submit_application(
            db, res.temporal, res.settings.task_queue, identity, form, key, res.settings.today()
        )
    except Unavailable:
        saved = await procedures.find_submission(db, identity, key) if key else None
        if saved is None:
            raise
        return RedirectResponse(f"{own_page(saved)}?saved=1", status_code=303)
    return RedirectResponse(f"{own_page(application)}?submitted=1", status_code=303)


async def submit_or_refusal_page(
    request: Request,
    db: AsyncSession,
    res: Resources,
    identity: Identity,
    form: BaseModel,
    submission_key: str,
    *,
    title: str,
    ask: str,
) -> Response:
    """`submit_from_page`, with a refusal by rule (409: an exclusivity, a claim already held) shown as a page in
    words: the reason code leads the refusal's detail. `title` and `ask` (whom to ask) are already translated."""
    try:
        return await submit_from_page(db, res, identity, form, submission_key)
    except Conflict as refused:
        await db.rollback()
        await record_refusal(request, refused.status_code)
        _ = gettext_for(request)
        code = str(refused.detail).split(":", 1)[0]
        words = reasons_of(str(getattr(form, "program", "")))
        return render(
            request,
            "refused.html",
            {
                "title": title,
                "reason": _(words[code]) if code in words else str(refused.detail),
                "code": code,
                "ask": ask,
            },
            status_code=refused.status_code,
            identity=identity,
        )


def own_page(application: Application) -> str:
    """Where its applicant follows an application: its program's own page, else the shared one."""
    return (PROGRAMS[application.program].own_page or "/my/applications/{id}").format(id=application.id)
