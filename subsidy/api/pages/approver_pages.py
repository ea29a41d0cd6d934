"""The officials' pages: the inbox, a task with everything needed to decide, claim/release, the decision form."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from subsidy.api import inbox
from subsidy.api.decision_values import STEP_VALUES
from subsidy.api.deps import ResourcesDep, SessionDep
from subsidy.api.errors import Forbidden, ServiceError
from subsidy.api.pages.form_support import FieldError
from subsidy.api.pages.web import checked_form, gettext_for, render, require_user
from subsidy.api.pages.words import (
    NEXT_STEP,
    PROGRAM,
    REASON,
    REGISTRATION_KIND,
    SCHEDULE_STATUS,
    STATUS,
    STEP,
    TASK_STATUS,
    field_error,
)
from subsidy.api.read_model import application_out
from subsidy.api.refusals import record_refusal
from subsidy.api.security import Identity
from subsidy.db.models import Application, Decision, Task

router = APIRouter(include_in_schema=False)
OFFICIAL_ROLES = ("county_dpf", "county_hr", "city_dpf", "region_hr")
PAGE_SIZE = 50


def _official(request: Request) -> Identity:
    identity = require_user(request)
    if not identity.has(*OFFICIAL_ROLES):
        raise Forbidden("the inbox is for officials")
    return identity


@router.get("/inbox", response_class=HTMLResponse)
async def inbox_page(
    request: Request,
    db: SessionDep,
    status: Annotated[Literal["", "open", "claimed", "done"], Query()] = "",
    program: Annotated[str, Query(max_length=48, pattern=r"^[a-z_]*$")] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    identity = _official(request)
    _ = gettext_for(request)
    wanted = inbox.InboxFilter(status or None, program or None)
    tasks, total = await inbox.list_inbox(db, identity, wanted, PAGE_SIZE, (page - 1) * PAGE_SIZE)
    return render(
        request,
        "inbox.html",
        {
            "title": _("Task inbox"),
            "tasks": tasks,
            "total": total,
            "counts": await inbox.inbox_counts(db, identity),
            "status": status,
            "program": program,
            "page": page,
            "pages": max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1),
            "PROGRAM": PROGRAM,
            "STEP": STEP,
            "TASK_STATUS": TASK_STATUS,
        },
        identity=identity,
    )


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
    return render(
        request,
        "task.html",
        {
            "title": _(STEP.get(task.step, task.step)),
            "task": task,
            "app": view,
            "form": application.form,
            "earlier": earlier,
            "clause": eligibility.get("clause"),
            "errors": errors or [],
            "errors_by_field": {e.name: e for e in errors or []},
            "values": values or {"monthly_rent": application.form.get("lease", {}).get("monthly_rent", "")},
            # The value fields this step asks for, and no others (decision_values.STEP_VALUES).
            "step_values": STEP_VALUES.get((task.program, task.step), ()),
            "problem": problem,
            "notice": notice,
            "can_decide": task.status in ("open", "claimed") and task.claimed_by in (None, identity.username),
            "STATUS": STATUS,
            "NEXT_STEP": NEXT_STEP,
            "PROGRAM": PROGRAM,
            "REASON": REASON,
            "SCHEDULE_STATUS": SCHEDULE_STATUS,
            "TASK_STATUS": TASK_STATUS,
            "REGISTRATION_KIND": REGISTRATION_KIND,
        },
        status_code=status_code,
        identity=identity,
    )


@router.get("/tasks/{task_id}", response_class=HTMLResponse)
async def task_page(request: Request, task_id: str, db: SessionDep) -> Response:
    return await _task_page(request, db, _official(request), task_id)


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


@router.post("/tasks/{task_id}/decision", response_class=HTMLResponse)
async def decide(request: Request, task_id: str, db: SessionDep, res: ResourcesDep) -> Response:
    identity = _official(request)
    form = await checked_form(request)
    _ = gettext_for(request)
    decision = str(form.get("decision", ""))
    reason = str(form.get("reason", "")).strip()[:2000]
    monthly_rent = str(form.get("monthly_rent", "")).strip()[:20]
    values = {"decision": decision, "reason": reason, "monthly_rent": monthly_rent}
    errors = []
    if decision not in ("approve", "reject", "return"):
        errors.append(FieldError("decision", _("Decision"), field_error(_, "decision_required"), _("Error:")))
    if decision in ("reject", "return") and not reason:
        errors.append(FieldError("reason", _("Reason"), field_error(_, "reason_required"), _("Error:")))
    if errors:
        return await _task_page(request, db, identity, task_id, errors=errors, values=values, status_code=400)
    try:
        # Only the values this step reads (decision_values.STEP_VALUES), whatever else the form carries: a
        # training approval records no rent, a rent approval nothing but the verified rent.
        shown = await inbox.get_task(db, task_id, identity)
        asks = STEP_VALUES.get((shown.program, shown.step), ())
        verified = (
            {name: str(form[name]).strip()[:200] for name in asks if name in form} if decision == "approve" else {}
        )
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
