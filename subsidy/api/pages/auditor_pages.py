"""The auditor's pages: find an application, read its timeline, download and replay its history, verify the log."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import String, cast, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from subsidy.api import audit
from subsidy.api.deps import ResourcesDep, SessionDep
from subsidy.api.errors import Forbidden
from subsidy.api.pages.form_support import FieldError
from subsidy.api.pages.person_pages import person_link
from subsidy.api.pages.timeline_words import Actor, TimelineLine, in_words
from subsidy.api.pages.web import checked_form, gettext_for, language, render, require_user
from subsidy.api.pages.words import PROGRAM, STATUS
from subsidy.api.read_model import get_visible_application
from subsidy.api.security import Identity
from subsidy.db.audit_chain import verify_chain
from subsidy.db.models import Application, AuditRecord, Person, User
from subsidy.policy.workdays import CHINA

router = APIRouter(include_in_schema=False)


def _auditor(request: Request) -> Identity:
    identity = require_user(request)
    if not identity.has("auditor", "admin"):
        raise Forbidden("these pages are for auditors")
    return identity


@router.get("/audit", response_class=HTMLResponse)
async def search(
    request: Request,
    db: SessionDep,
    reference: Annotated[str, Query(max_length=40)] = "",
    official: Annotated[str, Query(max_length=64)] = "",
    person: Annotated[str, Query(max_length=64)] = "",
    on: Annotated[str, Query(max_length=10)] = "",
) -> Response:
    identity = _auditor(request)
    _ = gettext_for(request)
    query = AuditQuery(reference.strip().lower(), official.strip(), person.strip(), on.strip())
    errors = query.errors(_)
    found = [] if errors or not query.given() else await query.applications(db)
    return render(
        request,
        "audit_search.html",
        {
            "title": _("Audit"),
            "query": query,
            "found": found,
            "searched": query.given(),
            "search_errors": errors,
            "PROGRAM": PROGRAM,
            "STATUS": STATUS,
        },
        identity=identity,
    )


@dataclass(frozen=True)
class AuditQuery:
    """Find applications by reference, by an official who acted on them, by the person, or by a day's records."""

    reference: str
    official: str
    person: str
    on: str

    def given(self) -> bool:
        return bool(self.reference or self.official or self.person or self.on)

    def day(self) -> date | None:
        try:
            return date.fromisoformat(self.on) if self.on else None
        except ValueError:
            return None

    def errors(self, _: Callable[[str], str]) -> list[FieldError]:
        found = []
        # A reference is the start of an application id: anything else matches nothing (and a NUL would not even
        # reach PostgreSQL as text).
        if self.reference and not all(ch in "0123456789abcdef-" for ch in self.reference):
            found.append(
                FieldError(
                    "reference",
                    _("Reference"),
                    _("Enter the first characters of the reference (0–9, A–F)"),
                    _("Error:"),
                )
            )
        if self.on and self.day() is None:
            found.append(
                FieldError("on", _("Date"), _("Enter a date as year-month-day, for example 2025-03-15"), _("Error:"))
            )
        for name, label, text in (("official", _("Official"), self.official), ("person", _("Person"), self.person)):
            if any(not ch.isprintable() for ch in text):
                found.append(FieldError(name, label, _("Enter this information"), _("Error:")))
        return found

    async def applications(self, db: AsyncSession) -> list[Application]:
        statement = select(Application)
        if self.reference:
            statement = statement.where(cast(Application.id, String).startswith(self.reference))
        if self.person:
            people = select(Person.id).where(
                or_(Person.id_number == self.person.upper(), Person.name.contains(self.person, autoescape=True))
            )
            statement = statement.where(Application.person_id.in_(people))
        if self.official:
            accounts = select(User.username).where(
                or_(User.username == self.official, User.display_name.contains(self.official, autoescape=True))
            )
            acted = select(AuditRecord.application_id).where(AuditRecord.actor.in_(accounts))
            statement = statement.where(Application.id.in_(acted))
        if (day := self.day()) is not None:
            start = datetime.combine(day, time(0), tzinfo=CHINA)
            that_day = select(AuditRecord.application_id).where(
                AuditRecord.at >= start, AuditRecord.at < start + timedelta(days=1)
            )
            statement = statement.where(Application.id.in_(that_day))
        return list((await db.scalars(statement.order_by(Application.submitted_at.desc()).limit(50))).all())


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
            "query": AuditQuery("", "", "", ""),
            "found": [],
            "searched": False,
            "search_errors": [],
            "check": check,
            "PROGRAM": PROGRAM,
            "STATUS": STATUS,
        },
        identity=identity,
    )


async def _timeline_lines(request: Request, db: AsyncSession, entries: list[audit.TimelineEntry]) -> list[TimelineLine]:
    names = {entry.actor for entry in entries}
    users = (await db.scalars(select(User).where(User.username.in_(names)))).all()
    actors = {u.username: Actor(u.username, u.display_name, tuple(u.roles), u.county) for u in users}
    return in_words(entries, actors, gettext_for(request), language(request))


@router.get("/audit/applications/{application_id}", response_class=HTMLResponse)
async def timeline(request: Request, application_id: str, db: SessionDep, res: ResourcesDep) -> Response:
    identity = _auditor(request)
    _ = gettext_for(request)
    application = await get_visible_application(db, application_id, identity)
    runs = await audit.histories(db, res.temporal, application)
    lines = await _timeline_lines(request, db, await audit.timeline(db, application, runs))
    await db.commit()
    report = None
    if request.query_params.get("replayed") == "1":
        report = await audit.replay(runs)
    settings = res.settings
    return render(
        request,
        "audit_timeline.html",
        {
            "title": _("Timeline of an application"),
            "app": application,
            "lines": [line for line in lines if not line.technical],
            "engine_lines": [line for line in lines if line.technical],
            "runs": len(runs),
            "person_link": await person_link(db, identity, application, _),
            "report": report,
            "PROGRAM": PROGRAM,
            "STATUS": STATUS,
            "temporal_ui": temporal_ui_help(request, settings.temporal_ui_port, settings.codec_origins()),
        },
        identity=identity,
    )


@router.get("/audit/applications/{application_id}/timeline.csv")
async def timeline_csv(request: Request, application_id: str, db: SessionDep, res: ResourcesDep) -> Response:
    """The timeline as a spreadsheet opens it: UTF-8 with a byte-order mark, so Chinese text stays intact."""
    identity = _auditor(request)
    _ = gettext_for(request)
    application = await get_visible_application(db, application_id, identity)
    runs = await audit.histories(db, res.temporal, application)
    lines = await _timeline_lines(request, db, await audit.timeline(db, application, runs))
    await db.commit()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [_("Time (China)"), _("What"), _("Office"), _("Person"), _("Details"), _("Technical detail"), "kind", "detail"]
    )
    for line in lines:
        writer.writerow(
            [
                line.at.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S"),
                line.what,
                line.office,
                line.person,
                "; ".join(f"{label}: {value}" for label, value in line.facts),
                _("Yes") if line.technical else _("No"),
                line.kind,
                json.dumps(line.raw, ensure_ascii=False, sort_keys=True, default=str),
            ]
        )
    return Response(
        "\ufeff" + out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="timeline-{application.id}.csv"'},
    )


@dataclass(frozen=True)
class TemporalUiHelp:
    url: str
    codec_endpoint: str
    configured: bool


def temporal_ui_help(request: Request, ui_port: int, origins: list[str]) -> TemporalUiHelp | None:
    """What an auditor sets in the Temporal UI to read payloads decrypted, with the real addresses.

    The UI that `subsidy up` starts calls the codec endpoint, but without the browser's cookies unless its Codec
    Server setting says so; the dev server has no option for that, so the auditor sets it once in the UI.
    """
    ui = next((origin for origin in origins if origin.endswith(f":{ui_port}")), None)
    if ui is None:
        return None
    base = str(request.base_url).rstrip("/")
    return TemporalUiHelp(url=ui, codec_endpoint=f"{base}/api/v1/audit/codec", configured=True)


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
