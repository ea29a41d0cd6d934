"""The administrator's page of the official calendar: the years known with their sources, and loading a year file.

The page is the administrator's home page, and says from 1 November that next year's calendar is not loaded yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from subsidy.api.deps import ResourcesDep, SessionDep
from subsidy.api.errors import Forbidden
from subsidy.api.pages.web import checked_form, gettext_for, render, require_user
from subsidy.api.security import Identity
from subsidy.db.calendar import calendar_status, known_years, store_year
from subsidy.policy.calendar_file import CalendarFileError, parse_year_file

router = APIRouter(include_in_schema=False)
FIELD_ID = "year_file"
MAX_FILE_BYTES = 64 * 1024  # a year file is about 1 KiB


@dataclass(frozen=True)
class FileProblem:
    field_id: str
    label: str
    message: str
    prefix: str


def _admin(request: Request) -> Identity:
    identity = require_user(request)
    if not identity.has("admin"):
        raise Forbidden("this page is for administrators")
    return identity


async def _page(
    request: Request,
    db: SessionDep,
    res: ResourcesDep,
    identity: Identity,
    *,
    problems: list[FileProblem] | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Response:
    _ = gettext_for(request)
    status = await calendar_status(db, res.settings.today())
    return render(
        request,
        "admin_calendar.html",
        {
            "title": _("Official calendar"),
            "years": await known_years(db),
            "next_year": res.settings.today().year + 1,
            "warning": status.warning,
            "errors": problems or [],
            "file_error": problems[0] if problems else None,
            "notice": notice,
            "field_id": FIELD_ID,
        },
        status_code=status_code,
        identity=identity,
    )


@router.get("/admin/calendar", response_class=HTMLResponse)
async def calendar_page(
    request: Request, db: SessionDep, res: ResourcesDep, loaded: Annotated[int | None, Query(ge=2000, le=2200)] = None
) -> Response:
    identity = _admin(request)
    _ = gettext_for(request)
    notice = _("The calendar of %(year)s is loaded.") % {"year": loaded} if loaded else None
    return await _page(request, db, res, identity, notice=notice)


@router.post("/admin/calendar", response_class=HTMLResponse)
async def load_year(request: Request, db: SessionDep, res: ResourcesDep) -> Response:
    identity = _admin(request)
    form = await checked_form(request)
    _ = gettext_for(request)
    upload = form.get(FIELD_ID)
    data = b""
    if isinstance(upload, UploadFile):
        data = await upload.read(MAX_FILE_BYTES + 1)
    problems: list[FileProblem] = []
    label = _("Year file")
    prefix = _("Error:")
    if not data:
        problems.append(FileProblem(FIELD_ID, label, _("Choose the year file to load."), prefix))
    elif len(data) > MAX_FILE_BYTES:
        problems.append(FileProblem(FIELD_ID, label, _("The file is too large for a year file."), prefix))
    else:
        try:
            year = parse_year_file(data.decode("utf-8"))
        except UnicodeDecodeError:
            problems.append(FileProblem(FIELD_ID, label, _("The file is not UTF-8 text."), prefix))
        except CalendarFileError as error:
            # The checks' own words name the place in the file: shown as they are, after a translated lead.
            problems.extend(FileProblem(FIELD_ID, f"{label} · {p.field}", p.message, prefix) for p in error.problems)
        else:
            await store_year(db, year, identity.username)
            await db.commit()
            return RedirectResponse(f"/admin/calendar?loaded={year.year}", status_code=303)
    return await _page(request, db, res, identity, problems=problems, status_code=400)
