"""The employer's pages of program P: declare the year's public-welfare posts (review and confirm), my declarations
with their posts and places, propose a person for an approved post (review and confirm), follow a placement through
publicity to active and its schedule, withdraw, and report the end of the employment.

On the services of the JSON API (`procedures.submit_application`, `page_events.send_from_page`, the read model); the
forms are the API's own (`PublicWelfarePostForm`, `PublicWelfarePlacementForm`), fed from the HTML fields.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from subsidy.api import procedures
from subsidy.api.bindings import binding_of
from subsidy.api.deps import ResourcesDep, SessionDep
from subsidy.api.errors import Forbidden, NotFound, ServiceError, Unavailable
from subsidy.api.pages.form_support import FieldError, error_message, field_errors, flat_values, nested
from subsidy.api.pages.page_events import send_from_page, submit_from_page
from subsidy.api.pages.payment_notices import payment_notice
from subsidy.api.pages.web import checked_form, gettext_for, language, render, require_user
from subsidy.api.pages.words import DECISION, PROGRAM, REASON, SCHEDULE_STATUS, STATUS, STEP
from subsidy.api.read_model import application_out, get_visible_application, mask_id_number, mask_name
from subsidy.api.refusals import record_refusal
from subsidy.api.schemas import EventIn
from subsidy.api.security import Identity
from subsidy.db.binding_models import AccountBinding
from subsidy.db.models import Application, Decision, Person
from subsidy.db.person_holds import HOLDS_PLACE
from subsidy.policy.counties import BAOTOU_COUNTIES, BAOTOU_COUNTIES_EN
from subsidy.programs.model import N_
from subsidy.programs.public_welfare.contracts import PLACEMENT_PROGRAM, POST_PROGRAM
from subsidy.programs.public_welfare.form import PublicWelfarePlacementForm, PublicWelfarePostForm
from subsidy.programs.public_welfare.models import PublicWelfarePlacement, PublicWelfarePost
from subsidy.programs.registry import PROGRAMS, is_terminal
from subsidy.programs.rent_subsidy.form import FormDate

router = APIRouter(include_in_schema=False)

# Empty post rows the declaration form shows at first; "more rows" adds as many, up to the form's 50 posts.
POST_ROWS = 3
MAX_POST_ROWS = 50
POST_FIELDS = ("title", "category", "count", "monthly_wage")
CATEGORY = {
    "public_service": N_("Public service post"),
    "professional_technical": N_("Professional or technical post"),
}
POST_STATUS = {
    "declared": N_("Waiting for the County HR bureau"),
    "approved": N_("Approved"),
    "rejected": N_("Rejected"),
    "withdrawn": N_("Withdrawn"),
}
# What happens next, in the employer's terms (the applicant's words of NEXT_STEP speak of the County DPF).
DECLARATION_NEXT = {
    "submitted": N_("We are checking the declaration against the rules."),
    "under_review": N_(
        "The County Disabled Persons' Federation collects the county's declarations and reports them to the County "
        "HR bureau, which approves or rejects each post."
    ),
    "approved": N_("You can propose persons for the approved posts that have a free place."),
    "rejected": N_("Nothing more to do for this declaration."),
    "withdrawn": N_("You withdrew this declaration."),
}
PLACEMENT_NEXT = {
    "submitted": N_("We are checking the placement against the rules."),
    "under_review": N_("The County HR bureau is reviewing the placement."),
    "publicity": N_("The placement is made public; objections may be raised until the last day of publicity."),
    "active": N_("The post subsidy and the social insurance subsidy are paid at the end of each month."),
    "rejected": N_("Nothing more to do for this placement."),
    "completed": N_("All months have been paid."),
    "terminated": N_("The employment has ended; months not yet paid are cancelled."),
    "withdrawn": N_("You withdrew this placement."),
}
# The words of errors the employer's forms give beyond the shared FIELD_ERROR.
MESSAGES = {
    "int_parsing": N_("Enter a whole number, for example 2"),
    "int_from_float": N_("Enter a whole number, for example 2"),
    "greater_than_equal": N_("Enter a number from 1 to 1000"),
    "less_than_equal": N_("Enter a number from 1 to 1000"),
    "too_short": N_("Enter at least one post"),
    "sex_mismatch": N_("The sex does not match the resident ID number"),
    "birth_date_mismatch": N_("The birth date does not match the one inside the resident ID number"),
    "severity_mismatch": N_("A severe disability is a grade 1 or 2 certificate: tick the box for those only"),
    "retirement_category_for_women": N_("The retirement category applies to women only"),
    "age_below_minimum": N_("The person must be at least 16 years old on the start date"),
}

PERSON_FIELDS = [
    "person.name",
    "person.id_number",
    "person.disability_cert_number",
    "person.sex",
    "person.birth_date",
    "person.severe_disability",
    "person.special_hardship",
    "person.retirement_category",
    "start_date",
    "override_reason",
]
PLACEMENT_HIDDEN = ["post_application_id", "post_number", "submission_key"]


def placement_labels(_: Callable[[str], str]) -> dict[str, str]:
    return {
        "person.name": _("Name"),
        "person.id_number": _("Resident ID number"),
        "person.disability_cert_number": _("Disability certificate number (2nd generation, 20 characters)"),
        "person.sex": _("Sex"),
        "person.birth_date": _("Date of birth"),
        "person.severe_disability": _("Severe disability (grade 1 or 2)"),
        "person.special_hardship": _("Special hardship"),
        "person.retirement_category": _("Retirement category (women only)"),
        "start_date": _("Start date on the post"),
        "override_reason": _("Reason for a special approval by the City DPF (optional)"),
        "post_application_id": _("Post"),
        "post_number": _("Post"),
    }


def post_labels(_: Callable[[str], str]) -> dict[str, str]:
    return {
        "title": _("Title of the post"),
        "category": _("Kind of post"),
        "count": _("Places (persons at the same time)"),
        "monthly_wage": _("Monthly wage (yuan)"),
    }


def _counties(request: Request) -> list[tuple[str, str]]:
    return list((BAOTOU_COUNTIES_EN if language(request) == "en" else BAOTOU_COUNTIES).items())


def _employer(request: Request) -> Identity:
    identity = require_user(request)
    if not identity.has("employer"):
        raise Forbidden("these pages are for employers")
    return identity


async def _organisation(db: AsyncSession, identity: Identity) -> AccountBinding:
    """The verified organisation the account acts for: the declaration's employer, never typed."""
    bound = await binding_of(db, identity.username)
    if bound is None or bound.status != "verified" or bound.kind != "employer":
        raise Forbidden("this account acts for no verified employer")
    return bound


def _refusal_words(error: ServiceError, _: Callable[[str], str]) -> str:
    """A refusal in words: its reason code when it has one the declarations name, else the service's sentence."""
    detail = str(error.detail)
    code = detail.split(":", 1)[0].strip()
    if code in REASON:
        return _(REASON[code])
    if error.status_code in (403, 404):
        return _("It does not exist, or it belongs to someone else.")
    return detail


# ---- declaring the year's posts --------------------------------------------------------------------------


def _row_count(form: Mapping[str, Any] | FormData) -> int:
    try:
        rows = int(str(form.get("rows", POST_ROWS)))
    except ValueError:
        rows = POST_ROWS
    return max(1, min(rows, MAX_POST_ROWS))


def _declaration_values(form: FormData) -> dict[str, str]:
    rows = _row_count(form)
    names = ["county", "year", "rows", "submission_key"]
    names += [f"posts.{row}.{name}" for row in range(1, rows + 1) for name in POST_FIELDS]
    values = flat_values(form, names)
    values["rows"] = str(rows)
    return values


def _filled_rows(values: Mapping[str, str]) -> list[int]:
    """The rows with anything typed in them (the kind of post alone is a default): empty rows are ignored."""
    rows = int(values["rows"])
    return [
        row
        for row in range(1, rows + 1)
        if any(values.get(f"posts.{row}.{name}", "").strip() for name in ("title", "count", "monthly_wage"))
    ]


def _declaration_errors(error: ValidationError, filled: list[int], _: Callable[[str], str]) -> list[FieldError]:
    labels = post_labels(_)
    found: dict[str, FieldError] = {}
    for problem in error.errors():
        loc = problem["loc"]
        if loc and loc[0] == "posts" and len(loc) >= 3 and isinstance(loc[1], int):
            row = filled[loc[1]]
            name = f"posts.{row}.{loc[2]}"
            label = _("Post %(number)s: %(field)s") % {"number": row, "field": labels.get(str(loc[2]), str(loc[2]))}
        elif loc and loc[0] == "posts":
            name, label = "posts.1.title", _("Posts")
        elif loc and loc[0] in ("county", "year"):
            name, label = str(loc[0]), _("County") if loc[0] == "county" else _("Year")
        else:
            name, label = "posts.1.title", _("Posts")
        if name not in found:
            found[name] = FieldError(name, label, error_message(problem, _, MESSAGES), _("Error:"))
    return list(found.values())


def _declaration_form(
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
        "public_welfare/declare.html",
        {
            "title": _("Declare this year's public-welfare posts"),
            "values": values,
            "errors": errors,
            "errors_by_field": {e.name: e for e in errors},
            "labels": post_labels(_),
            "rows": range(1, int(values["rows"]) + 1),
            "more_rows": int(values["rows"]) < MAX_POST_ROWS,
            "counties": _counties(request),
            "years": [(str(year), str(year)) for year in (today_year, today_year + 1)],
            "categories": [(code, _(words)) for code, words in CATEGORY.items()],
            "employer": bound,
            "problem": problem,
        },
        status_code=status_code,
        identity=identity,
    )


def _checked_declaration(values: Mapping[str, str], bound: AccountBinding) -> tuple[list[int], PublicWelfarePostForm]:
    filled = _filled_rows(values)
    body = nested({k: v for k, v in values.items() if k in ("county", "year")})
    posts = []
    for row in filled:
        post = nested({name: values.get(f"posts.{row}.{name}", "") for name in POST_FIELDS})
        posts.append(post)
    checked = PublicWelfarePostForm.model_validate(
        {
            "program": POST_PROGRAM,
            "employer": {"name": bound.name, "credit_code": bound.identifier},
            **body,
            "posts": posts,
        }
    )
    return filled, checked


@router.get("/employer/declare", response_class=HTMLResponse)
async def declare_form(request: Request, db: SessionDep, res: ResourcesDep) -> Response:
    identity = _employer(request)
    bound = await _organisation(db, identity)
    today = res.settings.today()
    values = {"county": bound.county, "year": str(today.year), "rows": str(POST_ROWS)}
    values["submission_key"] = secrets.token_urlsafe(16)
    return _declaration_form(request, identity, bound, values, [], today_year=today.year)


@router.post("/employer/declare", response_class=HTMLResponse)
async def declare_check(request: Request, db: SessionDep, res: ResourcesDep) -> Response:
    """More rows, or check the form: show it again with the problems, or everything for a last review."""
    identity = _employer(request)
    bound = await _organisation(db, identity)
    form = await checked_form(request)
    _ = gettext_for(request)
    values = _declaration_values(form)
    values["submission_key"] = values["submission_key"] or secrets.token_urlsafe(16)
    today_year = res.settings.today().year
    if form.get("more"):
        values["rows"] = str(min(int(values["rows"]) + POST_ROWS, MAX_POST_ROWS))
        return _declaration_form(request, identity, bound, values, [], today_year=today_year)
    if form.get("change"):
        return _declaration_form(request, identity, bound, values, [], today_year=today_year)
    try:
        filled, checked = _checked_declaration(values, bound)
    except ValidationError as error:
        filled = _filled_rows(values)
        errors = _declaration_errors(error, filled, _)
        return _declaration_form(request, identity, bound, values, errors, today_year=today_year, status_code=400)
    return render(
        request,
        "public_welfare/declare_confirm.html",
        {
            "title": _("Check the declaration before you submit it"),
            "values": values,
            "checked": checked,
            "employer": bound,
            "CATEGORY": CATEGORY,
        },
        identity=identity,
    )


@router.post("/employer/declare/confirm", response_class=HTMLResponse)
async def declare_submit(request: Request, db: SessionDep, res: ResourcesDep) -> Response:
    identity = _employer(request)
    bound = await _organisation(db, identity)
    form = await checked_form(request)
    _ = gettext_for(request)
    values = _declaration_values(form)
    today_year = res.settings.today().year
    try:
        _filled, checked = _checked_declaration(values, bound)
    except ValidationError as error:
        errors = _declaration_errors(error, _filled_rows(values), _)
        return _declaration_form(request, identity, bound, values, errors, today_year=today_year, status_code=400)
    try:
        return await submit_from_page(db, res, identity, checked, values["submission_key"])
    except Unavailable:
        raise  # the engine is away and nothing was saved: the service's 503 page
    except ServiceError as refused:
        await record_refusal(request, refused.status_code)
        problem = _refusal_words(refused, _)
        return _declaration_form(
            request,
            identity,
            bound,
            values,
            [],
            today_year=today_year,
            problem=problem,
            status_code=refused.status_code,
        )


# ---- my declarations and their posts -------------------------------------------------------------------


async def _posts_of(db: AsyncSession, declaration_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[dict[str, Any]]]:
    """Each declaration's posts with their places taken (placements in publicity or active), in declared order."""
    if not declaration_ids:
        return {}
    taken = (
        select(PublicWelfarePlacement.post_id, func.count().label("taken"))
        .join(Application, Application.id == PublicWelfarePlacement.application_id)
        .where(Application.status.in_(HOLDS_PLACE))
        .group_by(PublicWelfarePlacement.post_id)
        .subquery()
    )
    rows = (
        await db.execute(
            select(PublicWelfarePost, func.coalesce(taken.c.taken, 0))
            .outerjoin(taken, taken.c.post_id == PublicWelfarePost.id)
            .where(PublicWelfarePost.application_id.in_(declaration_ids))
            .order_by(PublicWelfarePost.application_id, PublicWelfarePost.number)
        )
    ).all()
    found: dict[uuid.UUID, list[dict[str, Any]]] = {key: [] for key in declaration_ids}
    for post, places_taken in rows:
        found[post.application_id].append(
            {
                "number": post.number,
                "title": post.title,
                "category": post.category,
                "places": post.places,
                "taken": int(places_taken),
                "free": post.places - int(places_taken),
                "monthly_wage": post.monthly_wage,
                "status": post.status,
            }
        )
    return found


def _declared_posts(application: Application) -> list[dict[str, Any]]:
    """The posts as the form declared them, before the workflow has recorded them."""
    return [
        {
            "number": number,
            "title": post["title"],
            "category": post["category"],
            "places": post["count"],
            "taken": 0,
            "free": 0,
            "monthly_wage": post["monthly_wage"],
            "status": "declared",
        }
        for number, post in enumerate(application.form.get("posts", []), start=1)
    ]


async def _rejection_reasons(db: AsyncSession, declaration_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The reason County HR gave with the decision that rejected posts (or the declaration)."""
    if not declaration_ids:
        return {}
    decisions = (
        await db.scalars(
            select(Decision)
            .where(Decision.application_id.in_(declaration_ids), Decision.reason.is_not(None))
            .order_by(Decision.decided_at)
        )
    ).all()
    return {d.application_id: d.reason for d in decisions if d.reason}


async def _declarations(db: AsyncSession, identity: Identity, only: uuid.UUID | None = None) -> list[dict[str, Any]]:
    query = select(Application).where(
        Application.program == POST_PROGRAM, Application.submitted_by == identity.username
    )
    if only is not None:
        query = query.where(Application.id == only)
    applications = (await db.scalars(query.order_by(Application.submitted_at.desc()).limit(100))).all()
    ids = [a.id for a in applications]
    posts = await _posts_of(db, ids)
    reasons = await _rejection_reasons(db, ids)
    return [
        {
            "app": a,
            "year": a.form.get("year"),
            "posts": posts.get(a.id) or _declared_posts(a),
            "reason": reasons.get(a.id),
            "can_withdraw": not is_terminal(a.program, a.status) and a.status in ("submitted", "under_review"),
        }
        for a in applications
    ]


def _words(_: Callable[[str], str]) -> dict[str, Any]:
    return {
        "STATUS": STATUS,
        "POST_STATUS": POST_STATUS,
        "CATEGORY": CATEGORY,
        "REASON": REASON,
        "STEP": STEP,
        "DECISION": DECISION,
        "SCHEDULE_STATUS": SCHEDULE_STATUS,
        "DECLARATION_NEXT": DECLARATION_NEXT,
        "PLACEMENT_NEXT": PLACEMENT_NEXT,
        "PROGRAM": PROGRAM,
    }


@router.get("/employer/declarations", response_class=HTMLResponse)
async def my_declarations(request: Request, db: SessionDep) -> Response:
    identity = _employer(request)
    _ = gettext_for(request)
    return render(
        request,
        "public_welfare/declarations.html",
        {"title": _("My post declarations"), "declarations": await _declarations(db, identity), **_words(_)},
        identity=identity,
    )


async def _own(db: AsyncSession, identity: Identity, application_id: str, program: str) -> Application:
    application = await get_visible_application(db, application_id, identity)
    if application.program != program or application.submitted_by != identity.username:
        raise NotFound("no such application")
    return application


def _notice(request: Request, _: Callable[[str], str]) -> str | None:
    query = request.query_params
    if query.get("submitted") == "1":
        return _("Your application has been submitted.")
    if query.get("withdrawn") == "1":
        return _("Your application has been withdrawn.")
    if query.get("ended") == "1":
        return _("The end of the employment has been recorded.")
    if query.get("saved") == "1":
        return _(
            "Your application has been saved. Its review starts by itself as soon as the system is back: "
            "you do not need to submit it again."
        )
    return None


@router.get("/employer/declarations/{application_id}", response_class=HTMLResponse)
async def declaration_page(request: Request, application_id: str, db: SessionDep) -> Response:
    identity = _employer(request)
    _ = gettext_for(request)
    application = await _own(db, identity, application_id, POST_PROGRAM)
    (declaration,) = await _declarations(db, identity, only=application.id)
    view = await application_out(db, application)
    return render(
        request,
        "public_welfare/declaration.html",
        {
            "title": _("Post declaration %(year)s") % {"year": declaration["year"]},
            "d": declaration,
            "view": view,
            "notice": _notice(request, _),
            **_words(_),
        },
        identity=identity,
    )


# ---- proposing a placement -------------------------------------------------------------------------------


async def _approved_post(db: AsyncSession, identity: Identity, declaration_id: str, number: str) -> dict[str, Any]:
    """The employer's own approved post, or 404 (the same for another employer's)."""
    declaration = await _own(db, identity, declaration_id, POST_PROGRAM)
    try:
        wanted = int(number)
    except ValueError:
        raise NotFound("no such post") from None
    posts = (await _posts_of(db, [declaration.id]))[declaration.id]
    post = next((p for p in posts if p["number"] == wanted), None)
    if post is None:
        raise NotFound("no such post")
    return {**post, "declaration": declaration}


def _placement_form(
    request: Request,
    identity: Identity,
    post: dict[str, Any],
    values: dict[str, str],
    errors: list[FieldError],
    *,
    problem: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    _ = gettext_for(request)
    return render(
        request,
        "public_welfare/placement_form.html",
        {
            "title": _("Propose a person for a public-welfare post"),
            "post": post,
            "values": values,
            "errors": errors,
            "errors_by_field": {e.name: e for e in errors},
            "labels": placement_labels(_),
            "problem": problem,
        },
        status_code=status_code,
        identity=identity,
    )


def _checked_placement(values: Mapping[str, str]) -> PublicWelfarePlacementForm:
    body = nested({k: v for k, v in values.items() if k != "submission_key"})
    return PublicWelfarePlacementForm.model_validate({"program": PLACEMENT_PROGRAM, **body})


@router.get("/employer/placements/new", response_class=HTMLResponse)
async def placement_form(request: Request, db: SessionDep) -> Response:
    identity = _employer(request)
    declaration = request.query_params.get("post", "")
    number = request.query_params.get("number", "1")
    post = await _approved_post(db, identity, declaration, number)
    values = {"post_application_id": declaration, "post_number": number, "submission_key": secrets.token_urlsafe(16)}
    return _placement_form(request, identity, post, values, [])


async def _placement_values(
    request: Request, db: AsyncSession, identity: Identity
) -> tuple[FormData, dict[str, str], dict[str, Any]]:
    form = await checked_form(request)
    values = flat_values(form, [*PERSON_FIELDS, *PLACEMENT_HIDDEN])
    post = await _approved_post(db, identity, values["post_application_id"], values["post_number"])
    return form, values, post


@router.post("/employer/placements/new", response_class=HTMLResponse)
async def placement_check(request: Request, db: SessionDep) -> Response:
    identity = _employer(request)
    form, values, post = await _placement_values(request, db, identity)
    _ = gettext_for(request)
    values["submission_key"] = values["submission_key"] or secrets.token_urlsafe(16)
    if form.get("change"):
        return _placement_form(request, identity, post, values, [])
    try:
        checked = _checked_placement(values)
    except ValidationError as error:
        errors = field_errors(error, placement_labels(_), PERSON_FIELDS, _, messages=MESSAGES)
        return _placement_form(request, identity, post, values, errors, status_code=400)
    return render(
        request,
        "public_welfare/placement_confirm.html",
        {
            "title": _("Check the placement before you submit it"),
            "values": values,
            "checked": checked,
            "post": post,
            "labels": placement_labels(_),
        },
        identity=identity,
    )


@router.post("/employer/placements/confirm", response_class=HTMLResponse)
async def placement_submit(request: Request, db: SessionDep, res: ResourcesDep) -> Response:
    identity = _employer(request)
    _form, values, post = await _placement_values(request, db, identity)
    _ = gettext_for(request)
    try:
        checked = _checked_placement(values)
    except ValidationError as error:
        errors = field_errors(error, placement_labels(_), PERSON_FIELDS, _, messages=MESSAGES)
        return _placement_form(request, identity, post, values, errors, status_code=400)
    try:
        return await submit_from_page(db, res, identity, checked, values["submission_key"])
    except Unavailable:
        raise  # the engine is away and nothing was saved: the service's 503 page
    except ServiceError as refused:
        await record_refusal(request, refused.status_code)
        return _placement_form(
            request,
            identity,
            post,
            values,
            [],
            problem=_refusal_words(refused, _),
            status_code=refused.status_code,
        )


# ---- following a placement -------------------------------------------------------------------------------


async def _placements(db: AsyncSession, identity: Identity, only: uuid.UUID | None = None) -> list[dict[str, Any]]:
    query = (
        select(Application, PublicWelfarePlacement, PublicWelfarePost, Person)
        .outerjoin(PublicWelfarePlacement, PublicWelfarePlacement.application_id == Application.id)
        .outerjoin(PublicWelfarePost, PublicWelfarePost.id == PublicWelfarePlacement.post_id)
        .outerjoin(Person, Person.id == Application.person_id)
        .where(Application.program == PLACEMENT_PROGRAM, Application.submitted_by == identity.username)
    )
    if only is not None:
        query = query.where(Application.id == only)
    rows = (await db.execute(query.order_by(Application.submitted_at.desc()).limit(200))).all()
    return [
        {
            "app": application,
            "placement": placement,
            "post_title": post.title if post is not None else "",
            "person_name": person.name if person is not None else "",
            "person_name_masked": mask_name(person.name) if person is not None else "",
            "person_id_masked": mask_id_number(person.id_number) if person is not None else "",
            "start_date": application.form.get("start_date", ""),
        }
        for application, placement, post, person in rows
    ]


@router.get("/employer/placements", response_class=HTMLResponse)
async def my_placements(request: Request, db: SessionDep) -> Response:
    identity = _employer(request)
    _ = gettext_for(request)
    return render(
        request,
        "public_welfare/placements.html",
        {"title": _("My placements"), "placements": await _placements(db, identity), **_words(_)},
        identity=identity,
    )


def _can_withdraw(application: Application) -> bool:
    if application.program == POST_PROGRAM:
        return application.status in ("submitted", "under_review")
    return not is_terminal(application.program, application.status) and application.status != "active"


async def _placement_page(
    request: Request,
    db: AsyncSession,
    identity: Identity,
    application: Application,
    *,
    values: dict[str, str] | None = None,
    errors: list[FieldError] | None = None,
    problem: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    _ = gettext_for(request)
    (placement,) = await _placements(db, identity, only=application.id)
    view = await application_out(db, application)
    errors = errors or []
    return render(
        request,
        "public_welfare/placement.html",
        {
            "title": _("Placement on a public-welfare post"),
            "p": placement,
            "view": view,
            "can_withdraw": _can_withdraw(application),
            "can_end": application.status == "active",
            "values": values or {},
            "errors": errors,
            "errors_by_field": {e.name: e for e in errors},
            "problem": problem,
            "notice": _notice(request, _),
            "payee_notice": await payment_notice(db, identity, application, _),
            **_words(_),
        },
        status_code=status_code,
        identity=identity,
    )


@router.get("/employer/placements/{application_id}", response_class=HTMLResponse)
async def placement_page(request: Request, application_id: str, db: SessionDep) -> Response:
    identity = _employer(request)
    application = await _own(db, identity, application_id, PLACEMENT_PROGRAM)
    return await _placement_page(request, db, identity, application)


class _Ended(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ended_on: FormDate


@router.post("/employer/placements/{application_id}/employment-ended", response_class=HTMLResponse)
async def employment_ended(request: Request, application_id: str, db: SessionDep, res: ResourcesDep) -> Response:
    identity = _employer(request)
    form = await checked_form(request)
    _ = gettext_for(request)
    application = await _own(db, identity, application_id, PLACEMENT_PROGRAM)
    values = flat_values(form, ["ended_on"])
    try:
        ended = _Ended.model_validate(nested(values))
    except ValidationError as error:
        labels = {"ended_on": _("Last day of the employment")}
        errors = field_errors(error, labels, ["ended_on"], _, messages=MESSAGES)
        return await _placement_page(request, db, identity, application, values=values, errors=errors, status_code=400)
    event = PROGRAMS[application.program].event(
        application, EventIn(type="employment_ended", date=ended.ended_on), procedures.actor_of(identity)
    )
    refused = await send_from_page(request, db, res, application, event)
    if refused is not None:
        return await _placement_page(
            request, db, identity, application, problem=_(str(refused.detail)), status_code=refused.status_code
        )
    return RedirectResponse(f"/employer/placements/{application.id}?ended=1", status_code=303)


# ---- withdrawing a declaration or a placement ----------------------------------------------------------------

PAGE_OF = {POST_PROGRAM: "/employer/declarations/", PLACEMENT_PROGRAM: "/employer/placements/"}


async def _withdrawable(db: AsyncSession, identity: Identity, application_id: str) -> Application:
    application = await get_visible_application(db, application_id, identity)
    if application.program not in PAGE_OF or application.submitted_by != identity.username:
        raise NotFound("no such application")
    return application


@router.get("/employer/applications/{application_id}/withdraw", response_class=HTMLResponse)
async def withdraw_form(request: Request, application_id: str, db: SessionDep) -> Response:
    identity = _employer(request)
    _ = gettext_for(request)
    application = await _withdrawable(db, identity, application_id)
    return render(
        request,
        "withdraw.html",
        {
            "title": _("Withdraw your application"),
            "app": application,
            "action": f"/employer/applications/{application.id}/withdraw",
            "back": f"{PAGE_OF[application.program]}{application.id}",
        },
        identity=identity,
    )


@router.post("/employer/applications/{application_id}/withdraw", response_class=HTMLResponse)
async def withdraw(request: Request, application_id: str, db: SessionDep, res: ResourcesDep) -> Response:
    identity = _employer(request)
    await checked_form(request)
    _ = gettext_for(request)
    application = await _withdrawable(db, identity, application_id)
    event = PROGRAMS[application.program].event(application, EventIn(type="withdrawn"), procedures.actor_of(identity))
    page = f"{PAGE_OF[application.program]}{application.id}"
    refused = await send_from_page(request, db, res, application, event)
    if refused is not None:
        if application.program == PLACEMENT_PROGRAM:
            return await _placement_page(
                request, db, identity, application, problem=_(str(refused.detail)), status_code=refused.status_code
            )
        return RedirectResponse(page, status_code=303)
    return RedirectResponse(f"{page}?withdrawn=1", status_code=303)
