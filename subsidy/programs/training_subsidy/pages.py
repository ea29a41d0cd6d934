"""The training provider's pages (program T): file a class plan with its trainees, follow the classes, report a
class's completion (attended hours per trainee, actual cost), see the reimbursement and its split, withdraw.

Every form is checked by the same pydantic model the API uses (`TrainingSubsidyForm`) or, for the completion report,
by the same event the API sends; a review-and-confirm page comes before anything is sent. Trainees are shown by name
with their resident ID masked; the full numbers stay on the server (the stored class plan).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from pydantic_core import PydanticCustomError
from sqlalchemy import select
from starlette.datastructures import FormData

from subsidy.api import procedures
from subsidy.api.bindings import binding_of
from subsidy.api.deps import ResourcesDep, SessionDep
from subsidy.api.errors import Forbidden, NotFound
from subsidy.api.pages.form_support import FieldError, flat_values, nested
from subsidy.api.pages.page_events import send_from_page, submit_from_page
from subsidy.api.pages.payment_notices import payment_notice
from subsidy.api.pages.web import checked_form, gettext_for, language, render, require_user
from subsidy.api.pages.words import FIELD_ERROR, REASON, STATUS
from subsidy.api.read_model import application_out, get_visible_application, mask_id_number
from subsidy.api.refusals import record_refusal
from subsidy.api.schemas import AttendanceIn, EventIn
from subsidy.api.security import Identity
from subsidy.db.models import Application, PolicyVersionRow
from subsidy.policy.counties import BAOTOU_COUNTIES, BAOTOU_COUNTIES_EN
from subsidy.policy.versions import TrainingParams, version_from_json
from subsidy.programs.model import N_
from subsidy.programs.registry import PROGRAMS
from subsidy.programs.rent_subsidy.form import money_text
from subsidy.programs.training_subsidy.form import MAX_TRAINEES, TrainingSubsidyForm
from subsidy.programs.training_subsidy.models import TrainingClass, TrainingEnrolment
from subsidy.programs.training_subsidy.rules import qualifies, reimbursement, reimbursement_shares

router = APIRouter(include_in_schema=False)

PROGRAM_CODE = "training_subsidy"
CLASSES = "/training/classes"
NEW_CLASS = "/training/classes/new"
DEFAULT_ROWS = 5
MORE_ROWS = 5
CLASS_FIELDS = [
    "county",
    "course.code",
    "course.title",
    "course.level",
    "course.kind",
    "course.start_date",
    "course.end_date",
    "course.class_days",
    "course.class_hours",
    "planned_cost",
]
TRAINEE_PARTS = ("name", "id_number", "disability_cert_number")
COURSE_KIND = {"vocational": N_("Vocational skills training"), "rural_practical": N_("Rural practical skills training")}
ENROLMENT = {
    "enrolled": N_("Enrolled"),
    "excluded": N_("Not enrolled"),
    "qualified": N_("Qualified (enough class hours)"),
    "not_qualified": N_("Not qualified (fewer than the minimum class hours)"),
    "released": N_("Place given back"),
}
# Why a class's places were given back (the workflow's release reasons).
RELEASED = {
    "plan_rejected": N_("The class plan was rejected"),
    "completion_rejected": N_("The completion report was rejected"),
    "withdrawn": N_("The class was withdrawn"),
    "completion_report_deadline_passed": N_("No completion report arrived before the deadline"),
}
# A class's statuses in words: those of every application, but a paid class has been reimbursed (not "expired").
CLASS_STATUS = {**STATUS, "completed": N_("Reimbursed")}
TRAINEE_AGE = N_("A trainee must be at least 16 and younger than 63 on the first day of the course")


def labels(_: Any, rows: int) -> dict[str, str]:
    found = {
        "county": _("County"),
        "course.code": _("Course code"),
        "course.title": _("Course title"),
        "course.level": _("Level"),
        "course.kind": _("Kind of training"),
        "course.start_date": _("First day of the course"),
        "course.end_date": _("Last day of the course"),
        "course.class_days": _("Class days"),
        "course.class_hours": _("Class hours"),
        "planned_cost": _("Planned cost (yuan)"),
    }
    for row in range(rows):
        number = row + 1
        found[f"trainees.{row}.name"] = _("Trainee %(number)s: name") % {"number": number}
        found[f"trainees.{row}.id_number"] = _("Trainee %(number)s: resident ID number") % {"number": number}
        found[f"trainees.{row}.disability_cert_number"] = _("Trainee %(number)s: disability certificate number") % {
            "number": number
        }
    return found


def trainee_fields(rows: int) -> list[str]:
    return [f"trainees.{row}.{part}" for row in range(rows) for part in TRAINEE_PARTS]


def counties(request: Request) -> list[tuple[str, str]]:
    return list((BAOTOU_COUNTIES_EN if language(request) == "en" else BAOTOU_COUNTIES).items())


def _provider(request: Request) -> Identity:
    identity = require_user(request)
    if not identity.has("provider"):
        raise Forbidden("these pages are for training providers")
    return identity


async def _bound_provider(db: SessionDep, identity: Identity) -> dict[str, str]:
    """The provider the account acts for, as the class plan names it: only a verified binding files plans."""
    bound = await binding_of(db, identity.username)
    if bound is None or bound.status != "verified" or bound.kind != "provider":
        raise Forbidden("this account does not act for a verified training provider")
    return {"name": bound.name, "credit_code": bound.identifier}


# ---- reading the posted class plan ----------------------------------------------------------------------------


@dataclass
class PostedPlan:
    values: dict[str, str]
    rows: int
    lines: list[int]  # the form row of each trainee of the plan (empty rows are left out)
    body: dict[str, Any]


def _rows_of(form: FormData) -> int:
    try:
        rows = int(str(form.get("rows", DEFAULT_ROWS)))
    except ValueError:
        rows = DEFAULT_ROWS
    return min(max(rows, 1), MAX_TRAINEES)


def _posted_plan(form: FormData, provider: dict[str, str]) -> PostedPlan:
    rows = _rows_of(form)
    values = flat_values(form, [*CLASS_FIELDS, *trainee_fields(rows), "submission_key"])
    if not values["submission_key"]:
        values["submission_key"] = secrets.token_urlsafe(16)
    trainees: list[dict[str, str]] = []
    lines: list[int] = []
    for row in range(rows):
        parts = {part: values[f"trainees.{row}.{part}"].strip() for part in TRAINEE_PARTS}
        if any(parts.values()):
            trainees.append({part: text for part, text in parts.items() if text})
            lines.append(row)
    body = {
        "program": PROGRAM_CODE,
        **nested({name: values[name] for name in CLASS_FIELDS}),
        "trainees": trainees,
        "provider": provider,
    }
    return PostedPlan(values, rows, lines, body)


def _message(_: Any, name: str, code: str, problem: dict[str, Any]) -> str:
    if code == "trainee_duplicate":
        return str(_("This person is already listed as trainee %(earlier)s: list each person once")) % {
            "earlier": problem.get("ctx", {}).get("earlier", "")
        }
    if code in ("age_below_minimum", "age_above_maximum") and name.startswith("trainees."):
        return str(_(TRAINEE_AGE))
    if code == "cert_id_mismatch" and name.startswith("trainees."):
        return str(_("The certificate number must begin with the trainee's resident ID number"))
    if code == "course_order":
        return str(_("The last day of the course must be on or after its first day"))
    if code == "class_days_range":
        return str(_("A course cannot have more class days than calendar days from its first to its last day"))
    if name == "course.class_days" and code != "missing":
        return str(_("Enter the number of class days: a whole number from 1 to 366"))
    if name == "course.class_hours" and code != "missing":
        return str(_("Enter the number of class hours: a whole number from 1 to 5000"))
    if name == "course.kind" and code != "missing":
        return str(_(FIELD_ERROR["choice"]))
    if name == "county":
        return str(_("Choose the county whose Disabled Persons' Federation approves the class"))
    if code == "too_short" and name.startswith("trainees."):
        return str(_("List at least one trainee"))
    text = FIELD_ERROR.get(code) or (FIELD_ERROR["choice"] if code.startswith("literal") else None)
    if text is None and "date" in code:
        text = FIELD_ERROR["date_format"]
    return str(_(text)) if text else str(problem["msg"])


def plan_errors(error: ValidationError, plan: PostedPlan, _: Any) -> list[FieldError]:
    """One message per field, by the form row of each trainee, in the order of the form."""
    names = labels(_, plan.rows)
    order = [*CLASS_FIELDS, *trainee_fields(plan.rows)]
    found: dict[str, FieldError] = {}
    for problem in error.errors():
        loc = list(problem["loc"])
        code = problem["type"]
        if loc and loc[0] == "trainees":
            if len(loc) >= 3 and isinstance(loc[1], int) and loc[1] < len(plan.lines):
                part = str(loc[2]) if loc[2] in TRAINEE_PARTS else "name"
                name = f"trainees.{plan.lines[loc[1]]}.{part}"
            elif code == "trainee_duplicate":
                line = int(problem.get("ctx", {}).get("line", 1)) - 1
                name = f"trainees.{plan.lines[line] if line < len(plan.lines) else 0}.id_number"
            else:
                name, code = "trainees.0.name", "too_short" if code in ("too_short", "missing") else code
        elif loc and loc[0] == "provider":
            continue  # from the binding, not typed
        else:
            name = ".".join(str(part) for part in loc)
            if name not in names:
                name = next((field for field in order if field.startswith(name + ".")), order[0])
        if name in found:
            continue
        found[name] = FieldError(name, names[name], _message(_, name, code, problem), _("Error:"))
    return sorted(found.values(), key=lambda e: order.index(e.name) if e.name in order else len(order))


def _plan_form(
    request: Request,
    identity: Identity,
    provider: dict[str, str],
    values: dict[str, str],
    rows: int,
    errors: list[FieldError],
    *,
    status_code: int = 200,
) -> HTMLResponse:
    _ = gettext_for(request)
    return render(
        request,
        "training_subsidy/plan_form.html",
        {
            "title": _("File a training class plan"),
            "provider": provider,
            "values": values,
            "rows": rows,
            "more_rows": MORE_ROWS,
            "max_rows": MAX_TRAINEES,
            "errors": errors,
            "errors_by_field": {e.name: e for e in errors},
            "labels": labels(_, rows),
            "counties": counties(request),
            "COURSE_KIND": COURSE_KIND,
        },
        status_code=status_code,
        identity=identity,
    )


# ---- the class plan -------------------------------------------------------------------------------------------


@router.get(NEW_CLASS, response_class=HTMLResponse)
async def plan_form(request: Request, db: SessionDep) -> Response:
    identity = _provider(request)
    provider = await _bound_provider(db, identity)
    values = {"submission_key": secrets.token_urlsafe(16)}
    return _plan_form(request, identity, provider, values, DEFAULT_ROWS, [])


@router.post(NEW_CLASS, response_class=HTMLResponse)
async def plan_check(request: Request, db: SessionDep, res: ResourcesDep) -> Response:
    """Check the plan; show it again with the problems (or with more trainee rows), or show it for a last review."""
    identity = _provider(request)
    form = await checked_form(request)
    provider = await _bound_provider(db, identity)
    _ = gettext_for(request)
    plan = _posted_plan(form, provider)
    if form.get("more"):
        rows = min(plan.rows + MORE_ROWS, MAX_TRAINEES)
        return _plan_form(request, identity, provider, plan.values, rows, [])
    if form.get("change"):
        return _plan_form(request, identity, provider, plan.values, plan.rows, [])
    try:
        checked = TrainingSubsidyForm.model_validate(plan.body)
    except ValidationError as error:
        errors = plan_errors(error, plan, _)
        return _plan_form(request, identity, provider, plan.values, plan.rows, errors, status_code=400)
    # The most it could bring under the version in force today, the one the submission will pin.
    policy = await procedures.policy_in_force(db, res.settings.today())
    params = version_from_json(policy).training if policy is not None else None
    return render(
        request,
        "training_subsidy/plan_confirm.html",
        {
            "title": _("Check the class plan before you submit it"),
            "provider": provider,
            "checked": checked,
            "values": {**plan.values, "rows": str(plan.rows)},
            "county_name": dict(counties(request)),
            "COURSE_KIND": COURSE_KIND,
            "at_most": reimbursement(checked.planned_amount(), len(checked.trainees), params) if params else None,
            "min_hours": params.min_class_hours if params else None,
        },
        identity=identity,
    )


@router.post(NEW_CLASS + "/confirm", response_class=HTMLResponse)
async def plan_submit(request: Request, db: SessionDep, res: ResourcesDep) -> Response:
    identity = _provider(request)
    form = await checked_form(request)
    provider = await _bound_provider(db, identity)
    _ = gettext_for(request)
    plan = _posted_plan(form, provider)
    try:
        checked = TrainingSubsidyForm.model_validate(plan.body)
    except ValidationError as error:
        errors = plan_errors(error, plan, _)
        return _plan_form(request, identity, provider, plan.values, plan.rows, errors, status_code=400)
    return await submit_from_page(db, res, identity, checked, plan.values["submission_key"])


# ---- my classes -----------------------------------------------------------------------------------------------


@router.get(CLASSES, response_class=HTMLResponse)
async def my_classes(request: Request, db: SessionDep) -> Response:
    identity = _provider(request)
    _ = gettext_for(request)
    rows = (
        await db.execute(
            select(Application, TrainingClass)
            .outerjoin(TrainingClass, TrainingClass.application_id == Application.id)
            .where(Application.submitted_by == identity.username, Application.program == PROGRAM_CODE)
            .order_by(Application.submitted_at.desc())
            .limit(200)
        )
    ).all()
    counts: dict[Any, dict[str, int]] = {}
    if rows:
        enrolments = await db.execute(
            select(TrainingEnrolment.application_id, TrainingEnrolment.status).where(
                TrainingEnrolment.application_id.in_([application.id for application, _ in rows])
            )
        )
        for application_id, status in enrolments.all():
            counted = counts.setdefault(application_id, {"in": 0, "out": 0})
            counted["out" if status == "excluded" else "in"] += 1
    classes = [
        {
            "app": application,
            "course": application.form["course"],
            "trainees": len(application.form["trainees"]),
            "enrolled": counts.get(application.id, {}).get("in"),
            "excluded": counts.get(application.id, {}).get("out"),
            "next": next_step(application.status, training_class, _),
        }
        for application, training_class in rows
    ]
    return render(
        request,
        "training_subsidy/classes.html",
        {"title": _("My training classes"), "classes": classes, "STATUS": CLASS_STATUS},
        identity=identity,
    )


def next_step(status: str, training_class: TrainingClass | None, _: Any) -> str:
    reported = training_class is not None and training_class.reported_at is not None
    if status == "submitted":
        return str(_("We are checking the class plan and its trainees against the rules."))
    if status == "under_review":
        if reported:
            return str(_("The County Disabled Persons' Federation is reviewing the completion report."))
        return str(_("The County Disabled Persons' Federation is reviewing the class plan."))
    if status == "approved":
        if reported:
            return str(_("The completion report is approved: the reimbursement is being paid."))
        return str(_("The class plan is approved. After the last day of the course, report its completion."))
    if status == "completed":
        return str(_("The reimbursement has been paid."))
    if status == "rejected":
        return str(_("Nothing more to do: the class is not subsidised."))
    if status == "withdrawn":
        return str(_("You withdrew this class."))
    if status == "terminated":
        return str(_("No completion report arrived before the deadline: the class is not subsidised."))
    return ""


@dataclass
class ClassState:
    application: Application
    training_class: TrainingClass | None
    enrolments: dict[int, TrainingEnrolment]
    params: TrainingParams

    @property
    def course(self) -> dict[str, Any]:
        course: dict[str, Any] = self.application.form["course"]
        return course

    @property
    def reported(self) -> bool:
        return self.training_class is not None and self.training_class.reported_at is not None

    @property
    def end_date(self) -> date:
        return date.fromisoformat(self.course["end_date"])

    @property
    def report_deadline(self) -> date:
        """The last day a completion report is accepted (the workflow: until the end of that day, China time)."""
        return self.end_date + timedelta(days=self.params.completion_report_deadline_days)

    @property
    def can_withdraw(self) -> bool:
        return self.application.status in ("under_review", "approved") and not self.reported

    def can_report(self, today: date) -> bool:
        return (
            self.application.status == "approved"
            and not self.reported
            and self.end_date <= today <= self.report_deadline
        )

    def trainees(self) -> list[dict[str, Any]]:
        """Each trainee of the plan by line: name, masked ID, enrolment, reasons and hours."""
        found = []
        for line, trainee in enumerate(self.application.form["trainees"]):
            enrolment = self.enrolments.get(line)
            found.append(
                {
                    "line": line,
                    "name": trainee["name"],
                    "id_masked": mask_id_number(trainee["id_number"]),
                    "status": enrolment.status if enrolment else None,
                    "reasons": list(enrolment.reasons) if enrolment else [],
                    "hours": enrolment.hours if enrolment else None,
                }
            )
        return found

    def reportable(self) -> list[dict[str, Any]]:
        """The trainees whose hours the report gives: those enrolled (the excluded ones do not count)."""
        return [trainee for trainee in self.trainees() if trainee["status"] == "enrolled"]


async def _class_state(db: SessionDep, identity: Identity, application_id: str) -> ClassState:
    application = await get_visible_application(db, application_id, identity)
    if application.program != PROGRAM_CODE or application.submitted_by != identity.username:
        raise NotFound("no such class")
    training_class = await db.get(TrainingClass, application.id)
    enrolments = (
        await db.scalars(select(TrainingEnrolment).where(TrainingEnrolment.application_id == application.id))
    ).all()
    params = TrainingParams()
    if application.policy_version is not None:
        pinned = await db.get(PolicyVersionRow, application.policy_version)
        if pinned is not None:
            params = version_from_json(procedures.pinned_parameters(pinned)).training
    return ClassState(application, training_class, {e.line: e for e in enrolments}, params)


async def _class_page(
    request: Request,
    db: SessionDep,
    res: ResourcesDep,
    identity: Identity,
    application_id: str,
    *,
    notice: str | None = None,
    problem: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    _ = gettext_for(request)
    state = await _class_state(db, identity, application_id)
    view = await application_out(db, state.application)
    query = request.query_params
    notice = (
        notice
        or (_("The class plan has been submitted.") if query.get("submitted") == "1" else None)
        or (_("The completion report has been sent.") if query.get("reported") == "1" else None)
        or (
            _(
                "The class plan has been saved. Its review starts by itself as soon as the system is back: "
                "you do not need to submit it again."
            )
            if query.get("saved") == "1"
            else None
        )
    )
    return render(
        request,
        "training_subsidy/class.html",
        {
            "title": state.course["title"],
            "app": view,
            "state": state,
            "trainees": state.trainees(),
            "outcome": _outcome(state, view),
            "next_step": next_step(state.application.status, state.training_class, _),
            "can_report": state.can_report(res.settings.today()),
            "STATUS": CLASS_STATUS,
            "REASON": {**REASON, **RELEASED},
            "ENROLMENT": ENROLMENT,
            "COURSE_KIND": COURSE_KIND,
            "notice": notice,
            "problem": problem,
            "payee_notice": await payment_notice(db, identity, state.application, _),
        },
        status_code=status_code,
        identity=identity,
    )


def _outcome(state: ClassState, view: Any) -> dict[str, Any] | None:
    """Once reported: who qualified, the reimbursement and its split, and whether it is paid."""
    training_class = state.training_class
    if training_class is None or training_class.reported_at is None or training_class.reimbursement is None:
        return None
    amount = training_class.reimbursement
    scheduled = [row for row in view.schedule if row.status != "cancelled"]
    if scheduled:
        city, county = scheduled[0].city_share, scheduled[0].county_share
    else:
        city, county = reimbursement_shares(amount, state.params)
    return {
        "qualified": [t for t in state.trainees() if t["status"] == "qualified"],
        "actual_cost": training_class.actual_cost,
        "amount": amount,
        "city": city,
        "county": county,
        "paid": view.totals.paid > 0,
        "paid_amount": view.totals.paid,
        "due_amount": view.totals.due,
        "min_hours": state.params.min_class_hours,
    }


@router.get(CLASSES + "/{application_id}", response_class=HTMLResponse)
async def class_page(request: Request, application_id: str, db: SessionDep, res: ResourcesDep) -> Response:
    identity = _provider(request)
    return await _class_page(request, db, res, identity, application_id)


# ---- the completion report ------------------------------------------------------------------------------------


@dataclass
class PostedReport:
    values: dict[str, str]
    errors: list[FieldError]
    hours: dict[int, int]
    actual_cost: str | None


def _report_labels(_: Any, state: ClassState) -> dict[str, str]:
    found = {
        f"hours.{t['line']}": _("Class hours attended by %(name)s (%(id)s)") % {"name": t["name"], "id": t["id_masked"]}
        for t in state.reportable()
    }
    found["actual_cost"] = _("Actual cost of the class (yuan)")
    return found


def _posted_report(form: FormData, state: ClassState, _: Any) -> PostedReport:
    names = _report_labels(_, state)
    values = flat_values(form, list(names))
    errors: list[FieldError] = []
    hours: dict[int, int] = {}
    most = int(state.course["class_hours"])
    for trainee in state.reportable():
        name = f"hours.{trainee['line']}"
        text = values[name].strip()
        try:
            number = int(text.translate(str.maketrans("０１２３４５６７８９", "0123456789")))
        except ValueError:
            number = -1
        if text == "":
            errors.append(FieldError(name, names[name], _(FIELD_ERROR["missing"]), _("Error:")))
        elif not 0 <= number <= most:
            message = _("Enter the attended class hours: a whole number from 0 to %(most)s") % {"most": most}
            errors.append(FieldError(name, names[name], message, _("Error:")))
        else:
            hours[trainee["line"]] = number
    cost: str | None = None
    try:
        cost = money_text(values["actual_cost"]) if values["actual_cost"].strip() else None
        if cost is None:
            errors.append(FieldError("actual_cost", names["actual_cost"], _(FIELD_ERROR["missing"]), _("Error:")))
    except PydanticCustomError as error:
        message = _(FIELD_ERROR.get(error.type, FIELD_ERROR["money_format"]))
        errors.append(FieldError("actual_cost", names["actual_cost"], message, _("Error:")))
    return PostedReport(values, errors, hours, cost)


def _report_form(
    request: Request,
    identity: Identity,
    state: ClassState,
    values: dict[str, str],
    errors: list[FieldError],
    *,
    status_code: int = 200,
) -> HTMLResponse:
    _ = gettext_for(request)
    return render(
        request,
        "training_subsidy/report_form.html",
        {
            "title": _("Report the completion of the class"),
            "state": state,
            "trainees": state.reportable(),
            "values": values,
            "errors": errors,
            "errors_by_field": {e.name: e for e in errors},
            "labels": _report_labels(_, state),
        },
        status_code=status_code,
        identity=identity,
    )


async def _reportable_state(
    request: Request, db: SessionDep, res: ResourcesDep, identity: Identity, application_id: str
) -> ClassState | HTMLResponse:
    state = await _class_state(db, identity, application_id)
    if state.can_report(res.settings.today()):
        return state
    _ = gettext_for(request)
    if state.application.status == "approved" and not state.reported and res.settings.today() < state.end_date:
        problem = _("The class ends on %(day)s: report its completion from that day on.") % {
            "day": state.end_date.isoformat()
        }
    else:
        problem = _("This class has no completion report to send now.")
    await record_refusal(request, 409)
    return await _class_page(request, db, res, identity, application_id, problem=problem, status_code=409)


@router.get(CLASSES + "/{application_id}/report", response_class=HTMLResponse)
async def report_form(request: Request, application_id: str, db: SessionDep, res: ResourcesDep) -> Response:
    identity = _provider(request)
    state = await _reportable_state(request, db, res, identity, application_id)
    if isinstance(state, HTMLResponse):
        return state
    return _report_form(request, identity, state, {}, [])


@router.post(CLASSES + "/{application_id}/report", response_class=HTMLResponse)
async def report_check(request: Request, application_id: str, db: SessionDep, res: ResourcesDep) -> Response:
    identity = _provider(request)
    form = await checked_form(request)
    state = await _reportable_state(request, db, res, identity, application_id)
    if isinstance(state, HTMLResponse):
        return state
    _ = gettext_for(request)
    report = _posted_report(form, state, _)
    if form.get("change"):
        return _report_form(request, identity, state, report.values, [])
    if report.errors or report.actual_cost is None:
        return _report_form(request, identity, state, report.values, report.errors, status_code=400)
    trainees = [{**t, "hours": report.hours[t["line"]]} for t in state.reportable()]
    qualified = [t for t in trainees if qualifies(t["hours"], state.params)]
    amount = reimbursement(Decimal(report.actual_cost), len(qualified), state.params)
    city, county = reimbursement_shares(amount, state.params)
    return render(
        request,
        "training_subsidy/report_confirm.html",
        {
            "title": _("Check the completion report before you send it"),
            "state": state,
            "trainees": trainees,
            "qualified": qualified,
            "actual_cost": report.actual_cost,
            "amount": amount,
            "city": city,
            "county": county,
            "min_hours": state.params.min_class_hours,
            "per_person_cap": state.params.per_person_cap,
            "values": report.values,
        },
        identity=identity,
    )


@router.post(CLASSES + "/{application_id}/report/confirm", response_class=HTMLResponse)
async def report_send(request: Request, application_id: str, db: SessionDep, res: ResourcesDep) -> Response:
    identity = _provider(request)
    form = await checked_form(request)
    state = await _reportable_state(request, db, res, identity, application_id)
    if isinstance(state, HTMLResponse):
        return state
    _ = gettext_for(request)
    report = _posted_report(form, state, _)
    if report.errors or report.actual_cost is None:
        return _report_form(request, identity, state, report.values, report.errors, status_code=400)
    stored = state.application.form["trainees"]
    event = EventIn(
        type="completion_report",
        attendance=[
            AttendanceIn(id_number=stored[line]["id_number"], hours=hours) for line, hours in report.hours.items()
        ],
        actual_cost=report.actual_cost,
    )
    request_in = PROGRAMS[PROGRAM_CODE].event(state.application, event, procedures.actor_of(identity))
    refused = await send_from_page(request, db, res, state.application, request_in)
    if refused is not None:
        return await _class_page(
            request, db, res, identity, application_id, problem=str(refused.detail), status_code=refused.status_code
        )
    return RedirectResponse(f"{CLASSES}/{application_id}?reported=1", status_code=303)


# ---- withdraw -------------------------------------------------------------------------------------------------


@router.get(CLASSES + "/{application_id}/withdraw", response_class=HTMLResponse)
async def withdraw_form(request: Request, application_id: str, db: SessionDep) -> Response:
    identity = _provider(request)
    _ = gettext_for(request)
    state = await _class_state(db, identity, application_id)
    return render(
        request,
        "training_subsidy/withdraw.html",
        {"title": _("Withdraw the class"), "state": state},
        identity=identity,
    )


@router.post(CLASSES + "/{application_id}/withdraw", response_class=HTMLResponse)
async def withdraw(request: Request, application_id: str, db: SessionDep, res: ResourcesDep) -> Response:
    identity = _provider(request)
    await checked_form(request)
    _ = gettext_for(request)
    state = await _class_state(db, identity, application_id)
    request_in = PROGRAMS[PROGRAM_CODE].event(
        state.application, EventIn(type="withdrawn"), procedures.actor_of(identity)
    )
    refused = await send_from_page(request, db, res, state.application, request_in)
    if refused is not None:
        return await _class_page(
            request, db, res, identity, application_id, problem=str(refused.detail), status_code=refused.status_code
        )
    db.expire_all()
    return await _class_page(request, db, res, identity, application_id, notice=_("The class has been withdrawn."))
