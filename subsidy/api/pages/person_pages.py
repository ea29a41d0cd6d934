"""One page per person, `/people/{person_id}`, for the officials of the person's county, the City DPF and auditors:
every application, task, payment and recovery, and the per-person limits used so far (subsidy/api/person_view.py).
The ID number is masked until the official presses "show the ID number" (a POST, audited `person_id_shown`)."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from subsidy.api.deps import ResourcesDep, SessionDep
from subsidy.api.pages.payment_notices import FUNDER, RECOVERY_STATUS, recovery_view
from subsidy.api.pages.web import checked_form, gettext_for, render, require_user
from subsidy.api.pages.words import DECISION, N_, PROGRAM, ROLE, SCHEDULE_STATUS, STATUS, STEP, TASK_STATUS
from subsidy.api.person_view import (
    PersonRecord,
    TaskLine,
    may_open_people,
    person_record,
    show_id_number,
    visible_person,
)
from subsidy.api.read_model import mask_name
from subsidy.api.security import Identity
from subsidy.db.models import Application, Person

router = APIRouter(include_in_schema=False)

Gettext = Callable[[str], str]

LIMIT = {
    "trainings_this_year": N_("Subsidised trainings in %(year)s"),
    "placements": N_("Placements on public-welfare posts"),
    "rent_months": N_("Months of the rent subsidy used"),
    "blind_massage_years": N_("Years of the blind massage practitioners' insurance subsidy"),
}
PENDING = {
    "rent_months": N_("%(n)s more months planned"),
    "blind_massage_years": N_("%(n)s more claimed, not yet granted"),
}
RELATION = {"own": N_("Applicant or person named"), "trainee": N_("Trainee of the class")}
ENROLMENT = {
    "enrolled": N_("Enrolled"),
    "qualified": N_("Qualified"),
    "excluded": N_("Not enrolled: a per-person limit"),
    "not_qualified": N_("Not qualified"),
    "released": N_("Place given back"),
}


def person_link_text(_: Gettext, name: str) -> str:
    """The words of a link to a person's page: the name masked (it stands in lists)."""
    return _("All records of %(name)s") % {"name": mask_name(name)}


async def person_link(
    db: AsyncSession, identity: Identity, application: Application, _: Gettext
) -> tuple[str, str] | None:
    """The link to the page of the application's person, for an official who may open it (None otherwise)."""
    if application.person_id is None or not may_open_people(identity):
        return None
    person = await db.get(Person, application.person_id)
    if person is None:
        return None
    return f"/people/{person.id}", person_link_text(_, person.name)


def _task_in_scope(identity: Identity, task: TaskLine) -> bool:
    """As the inbox scopes tasks (read_model.task_scope_parts): the role, and the county unless the task is city-wide
    (a county's finance officer handles only the county's own)."""
    if task.role not in identity.roles:
        return False
    if task.county is None:
        return not (task.role == "finance" and identity.county is not None)
    return task.county == identity.county


def _links(identity: Identity, record: PersonRecord) -> dict[str, str]:
    """Where each application opens for this official: the auditors' timeline, else the latest task they may open."""
    links: dict[str, str] = {}
    for line in record.applications:
        if identity.has("auditor", "admin"):
            links[str(line.id)] = f"/audit/applications/{line.id}"
    for task in record.tasks:
        if not identity.has("auditor", "admin") and _task_in_scope(identity, task):
            links[str(task.application_id)] = f"/tasks/{task.id}"
    return links


async def _person_page(
    request: Request,
    db: AsyncSession,
    identity: Identity,
    person: Person,
    today_of: ResourcesDep,
    *,
    shown_id: str | None = None,
) -> HTMLResponse:
    _ = gettext_for(request)
    record = await person_record(db, identity, person, today_of.settings.today())
    limits = []
    for limit in record.limits:
        words = _(LIMIT[limit.code]) % {"year": limit.year}
        used = f"{limit.used} / {limit.limit}" if limit.limit is not None else f"{limit.used} / –"
        pending = _(PENDING[limit.code]) % {"n": limit.pending} if limit.pending and limit.code in PENDING else ""
        limits.append({"code": limit.code, "words": words, "used": used, "pending": pending})
    return render(
        request,
        "person.html",
        {
            "title": _("Records of %(name)s") % {"name": person.name},
            "record": record,
            "person_id": str(person.id),
            "shown_id": shown_id,
            "limits": limits,
            "links": _links(identity, record),
            "recoveries": [(r, recovery_view(_, r)) for r in record.recoveries],
            "PROGRAM": PROGRAM,
            "STATUS": STATUS,
            "STEP": STEP,
            "ROLE": ROLE,
            "TASK_STATUS": TASK_STATUS,
            "DECISION": DECISION,
            "SCHEDULE_STATUS": SCHEDULE_STATUS,
            "FUNDER": FUNDER,
            "RECOVERY_STATUS": RECOVERY_STATUS,
            "RELATION": RELATION,
            "ENROLMENT": ENROLMENT,
            "notice": _("The full ID number is shown; this opening has been recorded in the audit log.")
            if shown_id
            else None,
        },
        identity=identity,
    )


@router.get("/people/{person_id}", response_class=HTMLResponse)
async def person_page(request: Request, person_id: str, db: SessionDep, res: ResourcesDep) -> Response:
    identity = require_user(request)
    person = await visible_person(db, identity, person_id)
    return await _person_page(request, db, identity, person, res)


@router.post("/people/{person_id}/id-number", response_class=HTMLResponse)
async def person_id_number(request: Request, person_id: str, db: SessionDep, res: ResourcesDep) -> Response:
    identity = require_user(request)
    await checked_form(request)
    person = await visible_person(db, identity, person_id)
    shown = await show_id_number(db, identity, person)
    return await _person_page(request, db, identity, person, res, shown_id=shown)
