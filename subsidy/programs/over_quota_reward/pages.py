"""The employer's pages of the over-quota employment reward: the claim form (review and confirm), my claims, the
claim's own page (status in words, who decides, each employee line, the figures and the payment), withdraw.

The employees are typed as lines of a textarea, "name, ID number, certificate number" (commas, Chinese commas or tabs
between the three): plain HTML that works without JavaScript, however many employees there are. The employer's name
and credit code come from the account's binding; the form is the API's own (`OverQuotaRewardForm`).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Mapping
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from starlette.datastructures import FormData

from subsidy.api import procedures
from subsidy.api.bindings import binding_of
from subsidy.api.deps import ResourcesDep, SessionDep
from subsidy.api.errors import Forbidden, NotFound, ServiceError, Unavailable
from subsidy.api.pages.form_support import FieldError, error_message, flat_values
from subsidy.api.pages.page_events import send_from_page, submit_from_page
from subsidy.api.pages.payment_notices import payment_notice
from subsidy.api.pages.web import checked_form, gettext_for, language, render, require_user
from subsidy.api.pages.words import SCHEDULE_STATUS, STATUS, reasons_of
from subsidy.api.read_model import application_out, get_visible_application
from subsidy.api.refusals import record_refusal
from subsidy.api.schemas import EventIn
from subsidy.api.security import Identity
from subsidy.db.binding_models import AccountBinding
from subsidy.db.models import Application
from subsidy.policy.counties import BAOTOU_COUNTIES, BAOTOU_COUNTIES_EN
from subsidy.programs.model import N_
from subsidy.programs.over_quota_reward import task_words
from subsidy.programs.over_quota_reward.contracts import OVER_QUOTA_PROGRAM
from subsidy.programs.over_quota_reward.form import MAX_EMPLOYEES, OverQuotaRewardForm
from subsidy.programs.registry import PROGRAMS, is_terminal

router = APIRouter(include_in_schema=False)

BASE = "/employer/over-quota"
FIELDS = ["county", "year", "unit_kind", "staff_total"]
MAX_TEXT = 200_000  # the employees' lines: 2000 lines of a name, an ID number and a certificate number
SEPARATORS = re.compile(r"\s*[,，、;；\t]\s*")
NEXT_STEP = {
    "submitted": N_("We are checking the claim and counting the employees against the rules."),
    "under_review": N_(
        "The County Disabled Persons' Federation reviews the claim and approves or rejects it with a reason. There "
        "is no fixed deadline for the review."
    ),
    "approved": N_("The claim is approved: the reward is being paid."),
    "completed": N_("The reward has been paid. Nothing more to do."),
    "rejected": N_("Nothing more to do for this claim. You may claim the year again if the reason no longer applies."),
    "withdrawn": N_("You withdrew this claim. You may claim the year again."),
}
# The shared words of the statuses, but a reward that is paid is "paid", not "expired" like a monthly subsidy.
CLAIM_STATUS = {**STATUS, "completed": N_("Reward paid")}
MESSAGES = {
    "int_parsing": N_("Enter a whole number, for example 200"),
    "greater_than_equal": N_("Enter a whole number of at least 1"),
    "employee_duplicate": N_("The same person is listed twice: list each person once"),
    "employee_line": N_("Enter the name, the resident ID number and the certificate number, separated by commas"),
    "too_short": N_("List at least one employee with a disability"),
    "too_long": N_("List at most 2000 employees"),
}


def labels(_: Callable[[str], str]) -> dict[str, str]:
    return {
        "county": _("County"),
        "year": _("Year claimed"),
        "unit_kind": _("Kind of unit"),
        "staff_total": _("Total staff in that year"),
        "employees": _("Employees with disabilities, one a line"),
    }


def _employer(request: Request) -> Identity:
    identity = require_user(request)
    if not identity.has("employer"):
        raise Forbidden("these pages are for employers")
    return identity


async def _organisation(db: SessionDep, identity: Identity) -> AccountBinding:
    bound = await binding_of(db, identity.username)
    if bound is None or bound.status != "verified" or bound.kind != "employer":
        raise Forbidden("this account acts for no verified employer")
    return bound


def _counties(request: Request) -> list[tuple[str, str]]:
    return list((BAOTOU_COUNTIES_EN if language(request) == "en" else BAOTOU_COUNTIES).items())


def _values(form: FormData) -> dict[str, str]:
    values = flat_values(form, [*FIELDS, "submission_key"])
    values["employees"] = str(form.get("employees", ""))[:MAX_TEXT]
    if not values["submission_key"]:
        values["submission_key"] = secrets.token_urlsafe(16)
    return values


def employee_lines(text: str) -> list[list[str]]:
    """The employees' lines as typed: blank lines are left out; each line split into its parts."""
    return [SEPARATORS.split(line.strip()) for line in text.splitlines() if line.strip()]


class LineError(ValueError):
    def __init__(self, line: int) -> None:
        super().__init__(line)
        self.line = line


def _body(bound: AccountBinding, values: Mapping[str, str]) -> dict[str, Any]:
    employees = []
    for line, parts in enumerate(employee_lines(values.get("employees", "")), start=1):
        if len(parts) != 3:
            raise LineError(line)
        employees.append({"name": parts[0], "id_number": parts[1], "disability_cert_number": parts[2]})
    body: dict[str, Any] = {
        "program": OVER_QUOTA_PROGRAM,
        "employer": {"name": bound.name, "credit_code": bound.identifier},
        "employees": employees[: MAX_EMPLOYEES + 1],
    }
    for name in FIELDS:
        if values.get(name, "").strip():
            body[name] = values[name].strip()
    return body


def _errors(error: ValidationError, _: Callable[[str], str]) -> list[FieldError]:
    words = labels(_)
    found: dict[str, FieldError] = {}
    line_problems: list[str] = []
    for problem in error.errors():
        loc = [part for part in problem["loc"]]
        if loc and loc[0] == "employees":
            if len(loc) >= 2 and isinstance(loc[1], int):
                line_problems.append(
                    _("Line %(line)s: %(message)s")
                    % {"line": loc[1] + 1, "message": error_message(problem, _, MESSAGES)}
                )
            else:
                line_problems.append(error_message(problem, _, MESSAGES))
            continue
        name = str(loc[0]) if loc else "county"
        if name in words and name not in found:
            found[name] = FieldError(name, words[name], error_message(problem, _, MESSAGES), _("Error:"))
    ordered = [found[name] for name in FIELDS if name in found]
    if line_problems:
        message = "; ".join(line_problems[:5]) + ("…" if len(line_problems) > 5 else "")
        ordered.append(FieldError("employees", words["employees"], message, _("Error:")))
    return ordered


def _form_page(
    request: Request,
    identity: Identity,
    bound: AccountBinding,
    values: dict[str, str],
    errors: list[FieldError],
    *,
    today_year: int,
    problem: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    _ = gettext_for(request)
    return render(
        request,
        "over_quota_reward/form.html",
        {
            "title": _("Claim the over-quota employment reward"),
            "values": values,
            "errors": errors,
            "errors_by_field": {e.name: e for e in errors},
            "labels": labels(_),
            "counties": _counties(request),
            "years": [str(year) for year in range(today_year - 1, today_year - 6, -1)],
            "unit_kinds": [(code, _(words)) for code, words in task_words.UNIT_KIND.items()],
            "employer": bound,
            "problem": problem,
        },
        status_code=status_code,
        identity=identity,
    )


def _checked(bound: AccountBinding, values: Mapping[str, str], _: Callable[[str], str]) -> OverQuotaRewardForm:
    return OverQuotaRewardForm.model_validate(_body(bound, values))


def _line_error(error: LineError, _: Callable[[str], str]) -> list[FieldError]:
    message = _("Line %(line)s: %(message)s") % {"line": error.line, "message": _(MESSAGES["employee_line"])}
    return [FieldError("employees", labels(_)["employees"], message, _("Error:"))]


@router.get(BASE + "/new", response_class=HTMLResponse)
async def claim_form(request: Request, db: SessionDep, res: ResourcesDep) -> Response:
    identity = _employer(request)
    bound = await _organisation(db, identity)
    today = res.settings.today()
    values = {
        "county": bound.county,
        "year": str(today.year - 1),
        "unit_kind": "enterprise",
        "staff_total": "",
        "employees": "",
        "submission_key": secrets.token_urlsafe(16),
    }
    return _form_page(request, identity, bound, values, [], today_year=today.year)


@router.post(BASE + "/new", response_class=HTMLResponse)
async def claim_check(request: Request, db: SessionDep, res: ResourcesDep) -> Response:
    identity = _employer(request)
    bound = await _organisation(db, identity)
    form = await checked_form(request)
    _ = gettext_for(request)
    values = _values(form)
    today_year = res.settings.today().year
    if form.get("change"):
        return _form_page(request, identity, bound, values, [], today_year=today_year)
    try:
        checked = _checked(bound, values, _)
    except LineError as error:
        return _form_page(
            request, identity, bound, values, _line_error(error, _), today_year=today_year, status_code=400
        )
    except ValidationError as error:
        return _form_page(request, identity, bound, values, _errors(error, _), today_year=today_year, status_code=400)
    return render(
        request,
        "over_quota_reward/confirm.html",
        {
            "title": _("Check the claim before you submit it"),
            "values": values,
            "checked": checked,
            "employer": bound,
            "labels": labels(_),
            "county_name_of": dict(_counties(request)),
            "unit_kind": dict((code, _(words)) for code, words in task_words.UNIT_KIND.items()),
            "masked": task_words.mask_id_number,
        },
        identity=identity,
    )


@router.post(BASE + "/new/confirm", response_class=HTMLResponse)
async def claim_submit(request: Request, db: SessionDep, res: ResourcesDep) -> Response:
    identity = _employer(request)
    bound = await _organisation(db, identity)
    form = await checked_form(request)
    _ = gettext_for(request)
    values = _values(form)
    today_year = res.settings.today().year
    try:
        checked = _checked(bound, values, _)
    except LineError as error:
        return _form_page(
            request, identity, bound, values, _line_error(error, _), today_year=today_year, status_code=400
        )
    except ValidationError as error:
        return _form_page(request, identity, bound, values, _errors(error, _), today_year=today_year, status_code=400)
    try:
        return await submit_from_page(db, res, identity, checked, values["submission_key"])
    except Unavailable:
        raise
    except ServiceError as refused:
        await db.rollback()
        bound = await _organisation(db, identity)  # read again: the rollback expired it
        await record_refusal(request, refused.status_code)
        code = str(refused.detail).split(":", 1)[0].strip()
        words = reasons_of("over_quota_reward")
        problem = _(words[code]) if code in words else str(refused.detail)
        return _form_page(
            request,
            identity,
            bound,
            values,
            [],
            today_year=today_year,
            problem=problem,
            status_code=refused.status_code,
        )


@router.get(BASE, response_class=HTMLResponse)
async def my_claims(request: Request, db: SessionDep) -> Response:
    identity = _employer(request)
    _ = gettext_for(request)
    rows = (
        await db.scalars(
            select(Application)
            .where(Application.program == OVER_QUOTA_PROGRAM, Application.submitted_by == identity.username)
            .order_by(Application.submitted_at.desc())
        )
    ).all()
    return render(
        request,
        "over_quota_reward/claims.html",
        {"title": _("My over-quota reward claims"), "claims": rows, "STATUS": CLAIM_STATUS},
        identity=identity,
    )


async def _mine(db: SessionDep, identity: Identity, application_id: str) -> Application:
    application = await get_visible_application(db, application_id, identity)
    if application.program != OVER_QUOTA_PROGRAM or application.submitted_by != identity.username:
        raise NotFound("no such application")
    return application


async def _claim_page(
    request: Request,
    db: SessionDep,
    identity: Identity,
    application_id: str,
    *,
    notice: str | None = None,
    problem: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    _ = gettext_for(request)
    application = await _mine(db, identity, application_id)
    view = await application_out(db, application)
    form: dict[str, Any] = application.form or {}
    county_name = dict(_counties(request))
    count = await task_words.current_count(db, application)
    query = request.query_params
    return render(
        request,
        "over_quota_reward/claim.html",
        {
            "title": _("Over-quota employment reward"),
            "app": view,
            "claim_rows": task_words.claim_rows(_, form, lambda code: county_name.get(code, code)),
            "employees": task_words.employee_table(_, count),
            "figures": task_words.figure_rows(_, count, int(form.get("staff_total", 1)))
            if application.eligibility
            else [],
            "STATUS": CLAIM_STATUS,
            "NEXT_STEP": NEXT_STEP,
            "REASON": reasons_of("over_quota_reward"),
            "SCHEDULE_STATUS": SCHEDULE_STATUS,
            "can_withdraw": view.status == "under_review" and not is_terminal(view.program, view.status),
            "notice": notice
            or (_("Your claim has been submitted.") if query.get("submitted") == "1" else None)
            or (
                _(
                    "Your claim has been saved. Its review starts by itself as soon as the system is back: you do not "
                    "need to submit it again."
                )
                if query.get("saved") == "1"
                else None
            ),
            "problem": problem,
            "payee_notice": await payment_notice(db, identity, application, _),
        },
        status_code=status_code,
        identity=identity,
    )


@router.get(BASE + "/{application_id}", response_class=HTMLResponse)
async def claim_page(request: Request, application_id: str, db: SessionDep) -> Response:
    identity = _employer(request)
    return await _claim_page(request, db, identity, application_id)


@router.get(BASE + "/{application_id}/withdraw", response_class=HTMLResponse)
async def withdraw_form(request: Request, application_id: str, db: SessionDep) -> Response:
    identity = _employer(request)
    _ = gettext_for(request)
    application = await _mine(db, identity, application_id)
    return render(
        request,
        "over_quota_reward/withdraw.html",
        {"title": _("Withdraw the claim"), "app": application},
        identity=identity,
    )


@router.post(BASE + "/{application_id}/withdraw", response_class=HTMLResponse)
async def withdraw(request: Request, application_id: str, db: SessionDep, res: ResourcesDep) -> Response:
    identity = _employer(request)
    await checked_form(request)
    _ = gettext_for(request)
    application = await _mine(db, identity, application_id)
    request_in = PROGRAMS[OVER_QUOTA_PROGRAM].event(
        application, EventIn(type="withdrawn"), procedures.actor_of(identity)
    )
    refused = await send_from_page(request, db, res, application, request_in)
    if refused is not None:
        return await _claim_page(
            request, db, identity, application_id, problem=str(refused.detail), status_code=refused.status_code
        )
    db.expire_all()
    return await _claim_page(request, db, identity, application_id, notice=_("Your claim has been withdrawn."))
