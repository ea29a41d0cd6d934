"""The officials' pages: the inbox, a task with everything needed to decide, claim/release, the decision form, and
the preview of the decision's outcome before it is confirmed. What a task shows of its application, per program, is
built in `task_views.py`."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from subsidy.api import inbox
from subsidy.api.decision_values import STEP_VALUES, checked_values
from subsidy.api.deps import ResourcesDep, SessionDep
from subsidy.api.errors import Forbidden, Invalid, ServiceError
from subsidy.api.pages import finance_pages, task_views
from subsidy.api.pages.form_support import FieldError
from subsidy.api.pages.person_pages import person_link
from subsidy.api.pages.web import checked_form, gettext_for, language, render, require_user
from subsidy.api.pages.words import (
    NEXT_STEP,
    PROGRAM,
    REGISTRATION_KIND,
    SCHEDULE_STATUS,
    STATUS,
    STEP,
    TASK_STATUS,
    field_error,
    reasons_of,
)
from subsidy.api.read_model import application_out
from subsidy.api.refusals import record_refusal
from subsidy.api.security import Identity
from subsidy.db.models import Application, Decision, Person, Task
from subsidy.forms.text import invisible_characters
from subsidy.policy.counties import BAOTOU_COUNTIES, BAOTOU_COUNTIES_EN
from subsidy.policy.money import to_money
from subsidy.policy.workdays import CHINA
from subsidy.programs.model import N_

router = APIRouter(include_in_schema=False)
OFFICIAL_ROLES = ("county_dpf", "county_hr", "city_dpf", "region_hr")
PAGE_SIZE = 50
# The inbox's sortable columns, by the key of `inbox.INBOX_SORTS` they sort on.
SORTABLE = ("step", "program", "due", "status")


def _official(request: Request) -> Identity:
    identity = require_user(request)
    # Finance officers' inbox holds their payment tasks, which link to the finance pages (finance_pages.task_link).
    if not identity.has(*OFFICIAL_ROLES, "finance"):
        raise Forbidden("the inbox is for officials")
    return identity


async def _inbox_rows(db: AsyncSession, _: Any, tasks: list[Task]) -> list[dict[str, Any]]:
    """Each task as the inbox shows it: which application (reference and name, masked where personal), a summary
    in the page's language built from the application, the outcome of a done task."""
    ids = {task.application_id for task in tasks}
    applications = (
        {row.id: row for row in (await db.scalars(select(Application).where(Application.id.in_(ids)))).all()}
        if ids
        else {}
    )
    person_ids = {row.person_id for row in applications.values() if row.person_id}
    people = (
        {row.id: row for row in (await db.scalars(select(Person).where(Person.id.in_(person_ids)))).all()}
        if person_ids
        else {}
    )
    rows = []
    for task in tasks:
        application = applications.get(task.application_id)
        person = people.get(application.person_id) if application and application.person_id else None
        rows.append(
            {
                "task": task,
                "reference": task_views.reference(task.application_id),
                "name": task_views.inbox_name(application, person),
                "summary": task_views.inbox_summary(_, task, application),
                "href": await finance_pages.task_link(db, task)
                if finance_pages.is_finance_task(task)
                else f"/tasks/{task.id}",
                "outcome": task_views.decision_words(_, task.program, task.step, task.decision)
                if task.decision
                else "",
            }
        )
    return rows


@router.get("/inbox", response_class=HTMLResponse)
async def inbox_page(
    request: Request,
    db: SessionDep,
    status: Annotated[Literal["", "open", "claimed", "done"], Query()] = "",
    program: Annotated[str, Query(max_length=48, pattern=r"^[a-z_]*$")] = "",
    step: Annotated[str, Query(max_length=48, pattern=r"^[a-z_]*$")] = "",
    q: Annotated[str, Query(max_length=64)] = "",
    overdue: Annotated[Literal["", "1"], Query()] = "",
    mine: Annotated[Literal["", "1"], Query()] = "",
    sort: Annotated[str, Query(max_length=16, pattern=r"^-?[a-z]*$")] = "due",
    decided: Annotated[str, Query(max_length=40)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    identity = _official(request)
    _ = gettext_for(request)
    sort = sort if sort in inbox.INBOX_SORTS else "due"
    search = " ".join(q.split())
    wanted = inbox.InboxFilter(
        status or None,
        program or None,
        search=search or None,
        step=step or None,
        overdue=overdue == "1",
        mine=mine == "1",
        sort=sort,
    )
    tasks, total = await inbox.list_inbox(db, identity, wanted, PAGE_SIZE, (page - 1) * PAGE_SIZE)
    recorded = None
    if decided:
        try:
            done = await inbox.get_task(db, decided, identity)
        except ServiceError:
            done = None
        if done is not None and done.decision:
            recorded = {
                "reference": task_views.reference(done.application_id),
                "step": _(STEP.get(done.step, done.step)),
                "decision": task_views.decision_words(_, done.program, done.step, done.decision),
            }
    query = {"status": status, "program": program, "step": step, "q": search, "overdue": overdue, "mine": mine}
    return render(
        request,
        "inbox.html",
        {
            "title": _("Task inbox"),
            "rows": await _inbox_rows(db, _, tasks),
            "total": total,
            "counts": await inbox.inbox_counts(db, identity),
            "status": status,
            "program": program,
            "step": step,
            "q": search,
            "overdue": overdue,
            "mine": mine,
            "sort": sort,
            "sortable": SORTABLE,
            "link": lambda **changed: "/inbox?" + urlencode({**query, "sort": sort, **changed}),
            "recorded": recorded,
            "page": page,
            "pages": max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1),
            "steps": sorted(STEP.items()),
            "PROGRAM": PROGRAM,
            "STEP": STEP,
            "TASK_STATUS": TASK_STATUS,
        },
        identity=identity,
    )


def _county_namer(request: Request) -> Any:
    names = BAOTOU_COUNTIES_EN if language(request) == "en" else BAOTOU_COUNTIES
    return lambda code: names.get(code, code)


async def _task_page(
    request: Request,
    db: SessionDep,
    identity: Identity,
    task_id: str,
    *,
    errors: list[FieldError] | None = None,
    values: dict[str, str] | None = None,
    problem: str | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    _ = gettext_for(request)
    task = await inbox.get_task(db, task_id, identity)
    application = await db.get(Application, task.application_id)
    assert application is not None
    view = await application_out(db, application)
    earlier = (
        await db.scalars(
            select(Decision).where(Decision.application_id == application.id).order_by(Decision.decided_at)
        )
    ).all()
    eligibility = application.eligibility or {}
    step = task_views.step_of(task)
    asks = STEP_VALUES.get((task.program, task.step), ())
    shown = values or {}
    if not values and "monthly_rent" in asks:
        shown = {"monthly_rent": application.form.get("lease", {}).get("monthly_rent", "")}
    return render(
        request,
        "task.html",
        {
            "title": _(STEP.get(task.step, task.step)),
            "task": task,
            "app": view,
            "form": application.form,
            "name": task_views.inbox_name(application, None),
            "person_link": await person_link(db, identity, application, _),
            "sections": await task_views.application_sections(db, _, application, task, _county_namer(request)),
            "earlier": earlier,
            "earlier_rows": task_views.earlier_rows(_, task.program, earlier, CHINA),
            "clause": eligibility.get("clause"),
            "errors": errors or [],
            "errors_by_field": {e.name: e for e in errors or []},
            "values": shown,
            # The value fields this step asks for, and no others (the declaration's `Step.values`).
            "step_values": asks,
            "value_fields": step.values if step is not None else (),
            "acts": [(code, _(words)) for code, words in task_views.acts_of(task)],
            "reason_to_approve": task_views.reason_to_approve(task),
            "reason_label": task_views.reason_label(_, task),
            "reason_hint": task_views.reason_hint(_, task),
            "posts": list(enumerate(application.form.get("posts", []), start=1)) if "rejected_posts" in asks else [],
            "rejected": task_views.rejected_numbers(shown.get("rejected_posts", "")),
            "problem": problem,
            "notice": notice,
            "can_decide": task.status in ("open", "claimed") and task.claimed_by in (None, identity.username),
            "STATUS": STATUS,
            "NEXT_STEP": NEXT_STEP,
            "PROGRAM": PROGRAM,
            "REASON": reasons_of(task.program),
            "SCHEDULE_STATUS": SCHEDULE_STATUS,
            "TASK_STATUS": TASK_STATUS,
            "REGISTRATION_KIND": REGISTRATION_KIND,
        },
        status_code=status_code,
        identity=identity,
    )


@router.get("/tasks/{task_id}", response_class=HTMLResponse)
async def task_page(request: Request, task_id: str, db: SessionDep) -> Response:
    identity = _official(request)
    task = await inbox.get_task(db, task_id, identity)
    if finance_pages.is_finance_task(task):
        # A payment task is settled on its payment's page (or the reconciliation), never by a decision here.
        return RedirectResponse(await finance_pages.task_link(db, task), status_code=303)
    return await _task_page(request, db, identity, task_id)


@router.post("/tasks/{task_id}/claim", response_class=HTMLResponse)
async def claim(request: Request, task_id: str, db: SessionDep) -> Response:
    identity = _official(request)
    await checked_form(request)
    try:
        await inbox.claim(db, task_id, identity)
    except ServiceError as refused:
        await db.rollback()
        return await _task_page(request, db, identity, task_id, problem=str(refused.detail), status_code=409)
    await db.commit()
    return RedirectResponse(f"/tasks/{task_id}", status_code=303)


@router.post("/tasks/{task_id}/release", response_class=HTMLResponse)
async def release(request: Request, task_id: str, db: SessionDep) -> Response:
    identity = _official(request)
    await checked_form(request)
    try:
        await inbox.release(db, task_id, identity)
    except ServiceError as refused:
        await db.rollback()
        return await _task_page(request, db, identity, task_id, problem=str(refused.detail), status_code=409)
    await db.commit()
    return RedirectResponse("/inbox", status_code=303)


# Field errors of the decision values, by the code the checks give (besides the forms' FIELD_ERROR words).
VALUE_ERRORS = {
    "value_required": N_("Enter this information"),
    "rejected_posts_format": N_("Choose the posts you reject by their numbers"),
    "all_posts_rejected": N_("To reject every post, choose Reject for the whole declaration"),
    "reason_to_approve": N_("A special approval needs a written reason"),
    "posts_reason_required": N_("Give the reason for the posts you reject: the employer will read it"),
}


def _value_error(_: Any, name: str, label: str, code: str) -> FieldError:
    message = _(VALUE_ERRORS[code]) if code in VALUE_ERRORS else field_error(_, code)
    return FieldError(name, label, message, _("Error:"))


def _posted_values(form: Any, asks: tuple[str, ...]) -> dict[str, str]:
    """The step's own values as typed (the posts rejected may come as checkboxes, one per post)."""
    values = {name: str(form[name]).strip()[:200] for name in asks if name in form}
    if "rejected_posts" in asks and "rejected_posts" not in values:
        numbers = [str(item) for item in form.getlist("rejected_post") if str(item).isdigit()]
        values["rejected_posts"] = ",".join(numbers)
    return values


@router.post("/tasks/{task_id}/decision", response_class=HTMLResponse)
async def decide(request: Request, task_id: str, db: SessionDep, res: ResourcesDep) -> Response:
    """The decision in two steps: what is chosen is checked and its outcome previewed (what will be paid, to whom,
    split how); only the preview's "confirm" sends it to the workflow."""
    identity = _official(request)
    form = await checked_form(request)
    _ = gettext_for(request)
    decision = str(form.get("decision", ""))
    reason = str(form.get("reason", "")).strip()[:2000]
    shown = await inbox.get_task(db, task_id, identity)
    asks = STEP_VALUES.get((shown.program, shown.step), ())
    typed = _posted_values(form, asks)
    values = {"decision": decision, "reason": reason, **typed}
    if form.get("change") == "yes":
        return await _task_page(request, db, identity, task_id, values=values)
    step = task_views.step_of(shown)
    labels = {value.name: _(value.label) for value in (step.values if step is not None else ())}
    reason_words = task_views.reason_label(_, shown)
    errors = []
    if decision not in dict(task_views.acts_of(shown)):
        errors.append(FieldError("decision", _("Decision"), field_error(_, "decision_required"), _("Error:")))
    if decision in ("reject", "return") and not reason:
        errors.append(FieldError("reason", reason_words, field_error(_, "reason_required"), _("Error:")))
    if invisible_characters(reason, multiline=True):
        # Refused here as the API refuses it (a NUL or a text-direction override), before any preview.
        errors.append(FieldError("reason", reason_words, field_error(_, "text_characters"), _("Error:")))
    if decision == "approve" and not reason and task_views.reason_to_approve(shown):
        errors.append(_value_error(_, "reason", reason_words, "reason_to_approve"))
    application = await db.get(Application, shown.application_id)
    assert application is not None
    # Only the values this step reads (the declaration's `Step.values`), whatever else the form carries: a
    # training approval records no rent, a rent approval nothing but the verified rent.
    verified = {name: value for name, value in typed.items() if value} if decision == "approve" else {}
    if decision == "approve":
        try:
            verified = checked_values(application, shown, decision, verified)
        except Invalid as invalid:
            item = invalid.detail[0]  # type: ignore[index]
            name = str(item["loc"][-1])
            errors.append(_value_error(_, name, labels.get(name, name), str(item["type"])))
        rejected = task_views.rejected_numbers(verified.get("rejected_posts", ""))
        if rejected and len(rejected) >= len(application.form.get("posts", [])):
            errors.append(_value_error(_, "rejected_posts", labels.get("rejected_posts", ""), "all_posts_rejected"))
        elif rejected and not reason:
            errors.append(_value_error(_, "reason", reason_words, "posts_reason_required"))
        declared = application.form.get("lease", {}).get("monthly_rent")
        if not errors and "monthly_rent" in verified and declared:
            if to_money(verified["monthly_rent"]) > to_money(declared):
                errors.append(_value_error(_, "monthly_rent", labels["monthly_rent"], "verified_above_declared"))
    if errors:
        return await _task_page(request, db, identity, task_id, errors=errors, values=values, status_code=422)
    if form.get("confirm") != "yes":
        outcome = await task_views.preview(db, _, application, shown, decision, verified, res.settings.today())
        return render(
            request,
            "task_confirm.html",
            {
                "title": _("Check the decision before you confirm it"),
                "task": shown,
                "reference_text": task_views.reference(shown.application_id),
                "name": task_views.inbox_name(application, None),
                "step_title": _(STEP.get(shown.step, shown.step)),
                "decision_text": task_views.decision_words(_, shown.program, shown.step, decision),
                "decision": decision,
                "reason": reason,
                "reason_label": task_views.reason_label(_, shown),
                "typed": typed,
                "verified": verified,
                "labels": labels,
                "preview": outcome,
            },
            identity=identity,
        )
    try:
        task: Task = await inbox.decide(db, res.temporal, task_id, identity, decision, reason or None, verified)
    except ServiceError as refused:
        # The workflow's refusal (wrong county, separation of duties, already decided…) is shown on the page.
        await db.rollback()
        await record_refusal(request, refused.status_code)
        field_errors = []
        if refused.status_code == 422 and "monthly_rent" in str(refused.detail):
            code = "verified_above_declared" if "verified_above_declared" in str(refused.detail) else "money_format"
            field_errors = [
                FieldError("monthly_rent", _("Verified monthly rent (yuan)"), field_error(_, code), _("Error:"))
            ]
        return await _task_page(
            request,
            db,
            identity,
            task_id,
            errors=field_errors,
            values=values,
            problem=None if field_errors else _refusal_text(refused),
            status_code=refused.status_code,
        )
    return RedirectResponse(f"/inbox?decided={uuid.UUID(str(task.id))}", status_code=303)


def _refusal_text(refused: ServiceError) -> str:
    detail = refused.detail
    return detail if isinstance(detail, str) else "; ".join(str(item.get("msg", "")) for item in detail)  # type: ignore[union-attr]
