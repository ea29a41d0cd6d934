"""What an official reads before deciding, in words, per program: the application from its stored form and read
model, the eligibility check, and a preview of what the decision will do (what will be paid, to whom, split how).

Everything here is built on the page, in the page's language, from the application itself (never from the
workflow's English task summary). The preview uses the same pure rules the workflows use (`rules.py` of each program)
on the pinned policy version, so the amounts shown are the amounts the workflow will schedule.
"""

from __future__ import annotations

import importlib
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from types import ModuleType
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from subsidy.api.pages.words import PROGRAM, REASON, STATUS, STEP
from subsidy.api.policy_versions import stored_version
from subsidy.api.read_model import mask_id_number, mask_name
from subsidy.db.models import Application, Person, PolicyVersionRow, Task
from subsidy.policy.ages import age_on
from subsidy.policy.identifiers import DISABILITY_CATEGORIES, IdentifierError, validate_resident_id
from subsidy.policy.money import split_shares, to_money
from subsidy.policy.versions import PolicyVersion
from subsidy.programs.model import N_, Step
from subsidy.programs.public_welfare.models import PublicWelfarePlacement, PublicWelfarePost
from subsidy.programs.registry import PROGRAMS
from subsidy.programs.rent_subsidy.rules import RentFacts, months_ended_by, rent_schedule
from subsidy.programs.training_subsidy.models import TrainingClass, TrainingEnrolment
from subsidy.programs.training_subsidy.rules import qualifies, reimbursement, reimbursement_shares

Gettext = Callable[[str], str]

CATEGORY = {
    "visual": N_("Visual disability"),
    "hearing": N_("Hearing disability"),
    "speech": N_("Speech disability"),
    "physical": N_("Physical disability"),
    "intellectual": N_("Intellectual disability"),
    "mental": N_("Mental disability"),
    "multiple": N_("Multiple disabilities"),
}
GRADE = {1: N_("grade 1 (severe)"), 2: N_("grade 2 (severe)"), 3: N_("grade 3"), 4: N_("grade 4")}
POST_CATEGORY = {
    "public_service": N_("Public service post"),
    "professional_technical": N_("Professional and technical post"),
}
POST_STATUS = {
    "declared": N_("Declared"),
    "approved": N_("Approved"),
    "rejected": N_("Rejected"),
    "withdrawn": N_("Withdrawn"),
}
COURSE_KIND = {"vocational": N_("Vocational skills"), "rural_practical": N_("Rural practical skills")}
ENROLMENT_STATUS = {
    "enrolled": N_("Enrolled"),
    "excluded": N_("Not admitted"),
    "qualified": N_("Qualified"),
    "not_qualified": N_("Not qualified"),
    "released": N_("Released"),
}
DEFAULT_ACTS = (("approve", N_("Approve")), ("return", N_("Return for correction")), ("reject", N_("Reject")))


@dataclass
class Table:
    caption: str
    head: list[str]
    rows: list[list[str]]
    foot: list[str] | None = None
    id: str = ""


@dataclass
class Section:
    """One part of the page: a heading, label/value rows, and perhaps a table."""

    title: str
    rows: list[tuple[str, str]] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class Preview:
    """What the decision will do, shown before it is confirmed."""

    lines: list[str]
    tables: list[Table] = field(default_factory=list)


def reference(application_id: uuid.UUID | str) -> str:
    return str(application_id)[:8].upper()


def money(value: Decimal | str | None) -> str:
    return "–" if value is None or value == "" else f"{to_money(value):.2f}"


def masked_account(number: str | None) -> str:
    return "–" if not number else "*" * max(len(number) - 4, 0) + number[-4:]


def step_of(task: Task) -> Step | None:
    program = PROGRAMS.get(task.program)
    return program.step(task.step) if program else None


def acts_of(task: Task) -> tuple[tuple[str, str], ...]:
    found = step_of(task)
    return found.acts if found is not None and found.acts else DEFAULT_ACTS


def reason_to_approve(task: Task) -> bool:
    found = step_of(task)
    return bool(found and found.reason_to_approve)


def reason_label(_: Gettext, task: Task) -> str:
    """The words of the decision's text box: "Reason", or the step's own (a county report's narrative)."""
    found = step_of(task)
    return _(found.reason_label) if found and found.reason_label else _("Reason")


def reason_hint(_: Gettext, task: Task) -> str | None:
    found = step_of(task)
    return _(found.reason_hint) if found and found.reason_hint else None


# ---- people --------------------------------------------------------------------------------------------------------


def disability_words(_: Gettext, cert_number: str | None) -> str:
    """Category and grade, read from the 19th and 20th characters of a second-generation certificate number."""
    if not cert_number or len(cert_number) != 20 or not cert_number[18:].isdigit():
        return "–"
    category = DISABILITY_CATEGORIES.get(int(cert_number[18]))
    grade = int(cert_number[19])
    if category is None or grade not in GRADE:
        return "–"
    return f"{_(CATEGORY[category])}, {_(GRADE[grade])}"


def age_words(_: Gettext, id_number: str | None, on: date | None) -> str:
    if not id_number or on is None:
        return "–"
    try:
        born = validate_resident_id(id_number).birth_date
    except IdentifierError:
        return "–"
    return _("%(age)s years (on %(day)s)") % {"age": age_on(born, on), "day": on.isoformat()}


def person_rows(
    _: Gettext, name: str, id_number: str | None, cert: str | None, on: date | None
) -> list[tuple[str, str]]:
    return [
        (_("Name"), name or "–"),
        (_("Resident ID number"), mask_id_number(id_number) if id_number else "–"),
        (_("Age"), age_words(_, id_number, on)),
        (_("Disability (category and grade, from the certificate number)"), disability_words(_, cert)),
    ]


def _day(text: Any) -> date | None:
    try:
        return date.fromisoformat(str(text))
    except ValueError:
        return None


def own_words(program: str) -> ModuleType | None:
    """The program's own task words (`Program.task_words`), for a program that declares them."""
    declared = PROGRAMS.get(program)
    if declared is None or declared.task_words is None:
        return None
    return importlib.import_module(declared.task_words)


# ---- the application, per program ----------------------------------------------------------------------------------


async def application_sections(
    db: AsyncSession, _: Gettext, application: Application, task: Task, county_name: Callable[[str], str]
) -> list[Section]:
    form: dict[str, Any] = application.form or {}
    program = application.program
    own = own_words(program)
    if own is not None:
        sections: list[Section] = await own.sections(db, _, application, task, county_name)
        return sections
    if program == "rent_subsidy":
        return _rent_sections(_, application, form, county_name)
    if program == "training_subsidy":
        return await _training_sections(db, _, application, form, county_name)
    if program == "public_welfare_post":
        return await _post_sections(db, _, application, form, county_name)
    if program == "public_welfare_post_collection":
        return await _collection_sections(db, _, application, form, county_name)
    if program == "public_welfare_placement":
        return await _placement_sections(db, _, application, form)
    if program == "flexible_employment_insurance_subsidy":
        person = form.get("person", {})
        start = _day(form.get("start_date"))
        return [
            Section(
                _("The person"),
                person_rows(
                    _, person.get("name", ""), person.get("id_number"), person.get("disability_cert_number"), start
                ),
            ),
            Section(
                _("The flexible employment"),
                [
                    (_("Start date"), str(form.get("start_date", "–"))),
                    (_("County HR bureau applied to"), county_name(application.county)),
                ],
            ),
        ]
    return []


def _rent_sections(
    _: Gettext, application: Application, form: dict[str, Any], county_name: Callable[[str], str]
) -> list[Section]:
    applicant = form.get("applicant", {})
    business = form.get("business", {})
    lease = form.get("lease", {})
    applied_on = application.submitted_at.date() if application.submitted_at else None
    person = Section(
        _("The applicant"),
        [
            *person_rows(
                _,
                applicant.get("name", ""),
                applicant.get("id_number"),
                applicant.get("disability_cert_number"),
                applied_on,
            ),
            (_("County of household registration"), county_name(applicant.get("hukou_county", ""))),
            (_("Phone number"), applicant.get("phone", "–")),
        ],
    )
    kind = _("Blind massage shop") if business.get("business_type") == "blind_massage" else _("General business")
    shop = Section(
        _("The business"),
        [
            (_("Name of the business"), business.get("name", "–")),
            (_("Unified social credit code"), business.get("credit_code", "–")),
            (_("Kind of business"), kind),
            (_("Date of the business licence"), business.get("license_date", "–")),
            (_("Date the business was started"), business.get("started_on", "–")),
        ],
    )
    premises = Section(
        _("The lease"),
        [
            (_("Declared monthly rent (yuan)"), money(lease.get("monthly_rent"))),
            (_("Lease period"), f"{lease.get('start_date', '–')} – {lease.get('end_date', '–')}"),
            (_("Bank account for the payments"), masked_account(form.get("bank_account"))),
        ],
    )
    return [person, shop, premises]


async def _training_sections(
    db: AsyncSession, _: Gettext, application: Application, form: dict[str, Any], county_name: Callable[[str], str]
) -> list[Section]:
    course = form.get("course", {})
    provider = form.get("provider") or {}
    start = _day(course.get("start_date"))
    found = await db.get(TrainingClass, application.id)
    enrolments = {
        row.line: row
        for row in (
            await db.scalars(select(TrainingEnrolment).where(TrainingEnrolment.application_id == application.id))
        ).all()
    }
    rows = [
        (_("Course"), f"{course.get('title', '–')} ({course.get('code', '')}, {course.get('level', '')})"),
        (_("Kind of training"), _(COURSE_KIND.get(course.get("kind", ""), course.get("kind", "–")))),
        (_("Class period"), f"{course.get('start_date', '–')} – {course.get('end_date', '–')}"),
        (
            _("Class days and hours"),
            _("%(days)s days, %(hours)s class hours")
            % {"days": course.get("class_days", "–"), "hours": course.get("class_hours", "–")},
        ),
        (_("Planned cost (yuan)"), money(form.get("planned_cost"))),
        (_("Training provider"), provider.get("name") or application.submitted_by),
        (_("County"), county_name(application.county)),
    ]
    if found is not None and found.actual_cost is not None:
        rows.append((_("Actual cost reported (yuan)"), money(found.actual_cost)))
        rows.append((_("Trainees who qualified"), str(found.qualified_count or 0)))
    reported = found is not None and found.reported_at is not None
    head = [_("Line"), _("Name"), _("Resident ID number"), _("Age"), _("Disability"), _("Status")]
    if reported:
        head.append(_("Hours attended"))
    trainees = []
    for line, trainee in enumerate(form.get("trainees", []), start=1):
        enrolment = enrolments.get(line)
        status = _(ENROLMENT_STATUS.get(enrolment.status, enrolment.status)) if enrolment else "–"
        if enrolment is not None and enrolment.reasons:
            status += " (" + "; ".join(_(REASON.get(code, code)) for code in enrolment.reasons) + ")"
        row = [
            str(line),
            trainee.get("name", ""),
            mask_id_number(trainee.get("id_number", "")),
            age_words(_, trainee.get("id_number"), start),
            disability_words(_, trainee.get("disability_cert_number")),
            status,
        ]
        if reported:
            row.append("–" if enrolment is None or enrolment.hours is None else str(enrolment.hours))
        trainees.append(row)
    table = Table(_("Trainees"), head, trainees, id="trainees")
    return [Section(_("The class"), rows), Section(_("The trainees"), tables=[table])]


async def _posts_of(db: AsyncSession, application_id: uuid.UUID) -> list[PublicWelfarePost]:
    query = select(PublicWelfarePost).where(PublicWelfarePost.application_id == application_id)
    return list((await db.scalars(query.order_by(PublicWelfarePost.number))).all())


async def _post_sections(
    db: AsyncSession, _: Gettext, application: Application, form: dict[str, Any], county_name: Callable[[str], str]
) -> list[Section]:
    employer = form.get("employer", {})
    stored = {post.number: post for post in await _posts_of(db, application.id)}
    rows = []
    for number, post in enumerate(form.get("posts", []), start=1):
        kept = stored.get(number)
        rows.append(
            [
                str(number),
                post.get("title", ""),
                _(POST_CATEGORY.get(post.get("category", ""), post.get("category", ""))),
                str(post.get("count", "")),
                money(post.get("monthly_wage")),
                _(POST_STATUS.get(kept.status, kept.status)) if kept else "–",
            ]
        )
    head = [_("No."), _("Post title"), _("Category"), _("Places"), _("Monthly wage (yuan)"), _("Status")]
    places = sum(int(post.get("count", 0)) for post in form.get("posts", []))
    return [
        Section(
            _("The employer"),
            [
                (_("Employer"), employer.get("name", "–")),
                (_("Unified social credit code"), employer.get("credit_code", "–")),
                (_("County"), county_name(application.county)),
                (_("Year"), str(form.get("year", "–"))),
            ],
        ),
        Section(
            _("The posts"),
            tables=[Table(_("Posts declared"), head, rows, foot=["", _("Total"), "", str(places), "", ""], id="posts")],
        ),
    ]


async def collected_declarations(db: AsyncSession, application: Application) -> list[Application]:
    form = application.form or {}
    query = (
        select(Application)
        .where(
            Application.program == "public_welfare_post",
            Application.county == application.county,
            Application.form["year"].astext == str(form.get("year", "")),
        )
        .order_by(Application.submitted_at)
    )
    return list((await db.scalars(query)).all())


async def _collection_sections(
    db: AsyncSession, _: Gettext, application: Application, form: dict[str, Any], county_name: Callable[[str], str]
) -> list[Section]:
    rows = []
    for declaration in await collected_declarations(db, application):
        posts = declaration.form.get("posts", [])
        rows.append(
            [
                reference(declaration.id),
                declaration.form.get("employer", {}).get("name", ""),
                "; ".join(f"{post.get('title', '')} ×{post.get('count', '')}" for post in posts),
                _(STATUS.get(declaration.status, declaration.status)),
            ]
        )
    head = [_("Reference"), _("Employer"), _("Posts and places"), _("Status")]
    return [
        Section(
            _("The collection"),
            [(_("County"), county_name(application.county)), (_("Year"), str(form.get("year", "–")))],
            tables=[Table(_("Declarations of the year"), head, rows, id="declarations")],
        )
    ]


async def placement_post(db: AsyncSession, form: dict[str, Any]) -> tuple[PublicWelfarePost | None, Application | None]:
    try:
        declaration_id = uuid.UUID(str(form.get("post_application_id", "")))
    except ValueError:
        return None, None
    post = await db.scalar(
        select(PublicWelfarePost).where(
            PublicWelfarePost.application_id == declaration_id,
            PublicWelfarePost.number == int(form.get("post_number", 1)),
        )
    )
    return post, await db.get(Application, declaration_id)


async def _placement_sections(
    db: AsyncSession, _: Gettext, application: Application, form: dict[str, Any]
) -> list[Section]:
    person = form.get("person", {})
    start = _day(form.get("start_date"))
    post, declaration = await placement_post(db, form)
    placed = await db.get(PublicWelfarePlacement, application.id)
    rows = person_rows(_, person.get("name", ""), person.get("id_number"), person.get("disability_cert_number"), start)
    if person.get("special_hardship"):
        rows.append((_("Special hardship"), _("Yes")))
    sections = [Section(_("The person"), rows)]
    post_rows = [
        (_("Employer"), declaration.form.get("employer", {}).get("name", "–") if declaration else "–"),
        (_("Post title"), post.title if post else "–"),
        (_("Category"), _(POST_CATEGORY.get(post.category, post.category)) if post else "–"),
        (_("Monthly wage (yuan)"), money(post.monthly_wage) if post else "–"),
        (_("Start date"), str(form.get("start_date", "–"))),
    ]
    if placed is not None:
        post_rows.append((_("Placement of this person"), _("No. %(n)s") % {"n": placed.sequence}))
        if placed.retirement_on:
            post_rows.append((_("Statutory retirement on"), placed.retirement_on.isoformat()))
    if form.get("override_reason"):
        post_rows.append((_("Reason given for a special approval"), str(form["override_reason"])))
    sections.append(Section(_("The post"), post_rows))
    return sections


# ---- the short words of the inbox ----------------------------------------------------------------------------------


def inbox_name(application: Application | None, person: Person | None) -> str:
    """Whose application it is, masked where personal: a person's name masked, an organisation's or class's whole."""
    if application is None:
        return ""
    form = application.form or {}
    for part in ("business", "employer", "provider"):
        name = (form.get(part) or {}).get("name")
        if name:
            owner = person.name if person is not None else (form.get("applicant") or {}).get("name", "")
            return f"{name} · {mask_name(owner)}" if owner else str(name)
    if form.get("course"):
        return str(form["course"].get("title", ""))
    if person is not None:
        return mask_name(person.name)
    if (form.get("person") or {}).get("name"):
        return mask_name(form["person"]["name"])
    if form.get("name"):
        return mask_name(str(form["name"])) if form.get("kind") == "person" else str(form["name"])
    if application.program == "public_welfare_post_collection":
        return str(form.get("year", ""))
    return ""


def inbox_summary(_: Gettext, task: Task, application: Application | None) -> str:
    """A line about the application in the page's language, from the application (not the workflow's summary)."""
    if application is None:
        return ""
    form = application.form or {}
    program = application.program
    own = own_words(program)
    if own is not None:
        return str(own.summary(_, task, application))
    if program == "rent_subsidy":
        lease = form.get("lease", {})
        return _("Rent %(rent)s a month; licence of %(licence)s") % {
            "rent": money(lease.get("monthly_rent")),
            "licence": form.get("business", {}).get("license_date", "–"),
        }
    if program == "training_subsidy":
        course = form.get("course", {})
        return _("%(trainees)s trainees; %(days)s days, %(hours)s hours from %(start)s") % {
            "trainees": len(form.get("trainees", [])),
            "days": course.get("class_days", "–"),
            "hours": course.get("class_hours", "–"),
            "start": course.get("start_date", "–"),
        }
    if program == "public_welfare_post":
        posts = form.get("posts", [])
        return _("%(year)s: %(posts)s posts, %(places)s places (%(titles)s)") % {
            "year": form.get("year", ""),
            "posts": len(posts),
            "places": sum(int(post.get("count", 0)) for post in posts),
            "titles": ", ".join(str(post.get("title", "")) for post in posts),
        }
    if program == "public_welfare_post_collection":
        return _("Post declarations of %(year)s") % {"year": form.get("year", "")}
    if program == "public_welfare_placement":
        return _("Placement starting %(start)s") % {"start": form.get("start_date", "–")}
    if program == "flexible_employment_insurance_subsidy":
        return _("Insured employment from %(start)s") % {"start": form.get("start_date", "–")}
    if program == "account_registration":
        return _("Registration of an account")
    return _(PROGRAM.get(program, program))


# ---- the outcome ---------------------------------------------------------------------------------------------------


async def pinned_version(db: AsyncSession, application: Application) -> PolicyVersion | None:
    if not application.policy_version:
        return None
    row = await db.get(PolicyVersionRow, application.policy_version)
    return stored_version(row) if row is not None else None


def rent_facts(form: dict[str, Any], verified_rent: Decimal) -> RentFacts:
    applicant, business, lease = form["applicant"], form["business"], form["lease"]
    return RentFacts(
        hukou_county=applicant["hukou_county"],
        applied_to_county=form.get("county") or applicant["hukou_county"],
        business_type=business["business_type"],
        license_date=date.fromisoformat(business["license_date"]),
        started_on=date.fromisoformat(business["started_on"]),
        lease_start=date.fromisoformat(lease["start_date"]),
        lease_end=date.fromisoformat(lease["end_date"]),
        monthly_rent=verified_rent,
    )


async def preview(
    db: AsyncSession,
    _: Gettext,
    application: Application,
    task: Task,
    decision: str,
    values: dict[str, str],
    today: date,
) -> Preview:
    form: dict[str, Any] = application.form or {}
    program = application.program
    if decision == "return":
        return Preview(
            [
                _("The application goes back to the applicant, who reads your reason, corrects it and sends it again."),
                _("Nothing is paid now. Another official reviews the corrected application."),
            ]
        )
    if decision == "reject":
        lines = {
            "public_welfare_post": _("The declaration is rejected with all its posts; the employer reads your reason."),
            "public_welfare_post_collection": _("The declarations of this collection are refused and not reported."),
            "account_registration": _("The account stays unbound and has no role; the registrant reads your reason."),
        }
        return Preview(
            [
                lines.get(program, _("The application is rejected; the applicant reads your reason.")),
                _("Nothing will be paid."),
            ]
        )
    own = own_words(program)
    if own is not None:
        outcome: Preview = await own.preview(db, _, application, task, decision, values, today)
        return outcome
    if program == "rent_subsidy":
        return await _rent_preview(db, _, application, form, values, today)
    if program == "training_subsidy":
        return await _training_preview(db, _, application, form, task)
    if program == "public_welfare_post":
        return _post_preview(_, form, values)
    if program == "public_welfare_post_collection":
        count = sum(1 for row in await collected_declarations(db, application) if row.status == "under_review")
        return Preview(
            [_("The collected declarations are reported to the County HR bureau, which approves or rejects each post.")]
            + ([_("Declarations waiting in this collection: %(n)s") % {"n": count}] if count else [])
        )
    if program == "public_welfare_placement":
        return await _placement_preview(db, _, application, form, task, values)
    if program == "flexible_employment_insurance_subsidy":
        return Preview(
            [
                _("The flexible-employment insurance subsidy becomes active from %(start)s.")
                % {"start": form.get("start_date", "–")}
            ]
        )
    if program == "account_registration":
        return Preview(
            [
                _("The account %(user)s is bound to %(name)s and gets its role at once.")
                % {"user": form.get("username", ""), "name": form.get("name", "")}
            ]
        )
    return Preview([])


async def _rent_preview(
    db: AsyncSession, _: Gettext, application: Application, form: dict[str, Any], values: dict[str, str], today: date
) -> Preview:
    version = await pinned_version(db, application)
    verified = to_money(values.get("monthly_rent", "0"))
    if version is None:
        return Preview([_("The policy version of this application is not known: no preview can be computed.")])
    used = int((application.eligibility or {}).get("months_already_used", 0))
    months = rent_schedule(rent_facts(form, verified), version.rent, used)
    at_once = months_ended_by(months, today)
    applicant = form.get("applicant", {})
    total = sum((month.amount for month in months), Decimal("0.00"))
    city = sum((month.city_share for month in months), Decimal("0.00"))
    county = sum((month.county_share for month in months), Decimal("0.00"))
    lines = [
        _("Paid to %(name)s, bank account %(account)s.")
        % {"name": applicant.get("name", ""), "account": masked_account(form.get("bank_account"))},
        _("Verified rent %(rent)s a month; subsidy at most %(cap)s a month (policy version %(version)s).")
        % {"rent": money(verified), "cap": money(version.rent.monthly_cap), "version": version.code},
        _("%(months)s months, %(total)s in all: %(city)s from the city, %(county)s from the county.")
        % {"months": len(months), "total": money(total), "city": money(city), "county": money(county)},
        _(
            "%(n)s months have already ended and are paid at once on approval (%(amount)s); the others at the end of "
            "each month."
        )
        % {"n": len(at_once), "amount": money(sum((m.amount for m in at_once), Decimal("0.00")))},
    ]
    if used:
        lines.append(_("Months already used by earlier rent subsidies: %(n)s") % {"n": used})
    ended = {month.period for month in at_once}
    rows = [
        [
            month.period,
            f"{month.start.isoformat()} – {month.end.isoformat()}",
            money(month.amount),
            money(month.city_share),
            money(month.county_share),
            _("At once") if month.period in ended else _("At the end of the month"),
        ]
        for month in months
    ]
    head = [_("Month"), _("Period"), _("Amount"), _("City share"), _("County share"), _("Paid")]
    table = Table(
        _("Months to be paid"),
        head,
        rows,
        foot=[_("Total"), "", money(total), money(city), money(county), ""],
        id="preview-months",
    )
    return Preview(lines, [table])


async def _training_preview(
    db: AsyncSession, _: Gettext, application: Application, form: dict[str, Any], task: Task
) -> Preview:
    found = await db.get(TrainingClass, application.id)
    provider = (form.get("provider") or {}).get("name") or application.submitted_by
    if task.step == "plan_review" or found is None or found.actual_cost is None:
        return Preview(
            [
                _("The class plan is approved: the trainees' places are kept for this class."),
                _(
                    "Nothing is paid now: after the class the provider reports each trainee's hours and the actual "
                    "cost, and the County DPF reviews that report."
                ),
            ]
        )
    version = await pinned_version(db, application)
    if version is None:
        return Preview([_("The policy version of this application is not known: no preview can be computed.")])
    params = version.training
    enrolments = (
        await db.scalars(
            select(TrainingEnrolment)
            .where(TrainingEnrolment.application_id == application.id)
            .order_by(TrainingEnrolment.line)
        )
    ).all()
    trainees = form.get("trainees", [])
    qualified = [
        trainees[row.line - 1].get("name", "") if 0 < row.line <= len(trainees) else str(row.line)
        for row in enrolments
        if row.hours is not None and row.status != "excluded" and qualifies(row.hours, params)
    ]
    amount = reimbursement(found.actual_cost, len(qualified), params)
    city, county = reimbursement_shares(amount, params)
    return Preview(
        [
            _("Paid once to the training provider %(provider)s.") % {"provider": provider},
            _("Trainees who qualified (at least %(hours)s hours): %(names)s")
            % {"hours": params.min_class_hours, "names": "、".join(qualified) or "–"},
            _("Reimbursement: the lower of the actual cost %(cost)s and %(cap)s × %(n)s trainees.")
            % {"cost": money(found.actual_cost), "cap": money(params.per_person_cap), "n": len(qualified)},
            _("%(amount)s = %(city)s city + %(county)s county")
            % {"amount": money(amount), "city": money(city), "county": money(county)},
        ]
    )


def rejected_numbers(text: str) -> list[int]:
    return sorted({int(part) for part in text.replace("，", ",").split(",") if part.strip().isdigit()})


def _post_preview(_: Gettext, form: dict[str, Any], values: dict[str, str]) -> Preview:
    rejected = rejected_numbers(values.get("rejected_posts", ""))
    posts = list(enumerate(form.get("posts", []), start=1))
    approved = [f"{n}. {post.get('title', '')} ({post.get('count', '')})" for n, post in posts if n not in rejected]
    refused = [f"{n}. {post.get('title', '')}" for n, post in posts if n in rejected]
    lines = [_("Approved posts, with their places: %(posts)s") % {"posts": "; ".join(approved) or "–"}]
    if refused:
        lines.append(_("Rejected posts (the employer reads your reason): %(posts)s") % {"posts": "; ".join(refused)})
    lines.append(_("The employer may then propose persons for the places of the approved posts."))
    return Preview(lines)


async def _placement_preview(
    db: AsyncSession, _: Gettext, application: Application, form: dict[str, Any], task: Task, values: dict[str, str]
) -> Preview:
    if task.step == "city_override":
        return Preview([_("The first City DPF official agrees; a second official of the City DPF must approve too.")])
    if task.step == "city_override_second":
        return Preview([_("The special approval is complete; County HR then decides on the placement.")])
    if task.step == "region_filing":
        return Preview([_("The re-placement is recorded as filed with the Region HR department.")])
    version = await pinned_version(db, application)
    lines = [
        _("Approved on %(day)s; the placement is then made public for %(days)s working days.")
        % {"day": values.get("approved_on", "–"), "days": version.placement.publicity_working_days if version else "–"},
        _("Without an objection the person takes up the post on %(start)s.") % {"start": form.get("start_date", "–")},
    ]
    if version is not None:
        params = version.placement
        post_amount = params.monthly_post_subsidy_by_county.get(application.county)
        insurance = params.monthly_social_insurance_subsidy_by_county.get(application.county)
        if post_amount is not None or insurance is not None:
            monthly = (post_amount or Decimal("0.00")) + (insurance or Decimal("0.00"))
            city, county = split_shares(monthly, params.city_share)
            lines.append(
                _(
                    "Then %(amount)s a month (post %(post)s + social insurance %(insurance)s) for up to %(years)s "
                    "years or until retirement: %(city)s city + %(county)s county."
                )
                % {
                    "amount": money(monthly),
                    "post": money(post_amount),
                    "insurance": money(insurance),
                    "years": params.subsidy_years,
                    "city": money(city),
                    "county": money(county),
                }
            )
    return Preview(lines)


def decision_words(_: Gettext, task_program: str, step: str, decision: str) -> str:
    program = PROGRAMS.get(task_program)
    found = program.step(step) if program else None
    acts = dict(found.acts if found is not None and found.acts else DEFAULT_ACTS)
    return _(acts.get(decision, decision))


def earlier_rows(_: Gettext, program: str, decisions: Sequence[Any], china: Any) -> list[list[str]]:
    rows = []
    for d in decisions:
        values = "; ".join(f"{name}: {value}" for name, value in (d.values or {}).items())
        rows.append(
            [
                d.decided_at.astimezone(china).strftime("%Y-%m-%d"),
                _(STEP.get(d.step, d.step)),
                decision_words(_, program, d.step, d.decision),
                d.decided_by,
                " · ".join(part for part in (d.reason or "", values) if part) or "–",
            ]
        )
    return rows


__all__ = ["Preview", "Section", "Table", "application_sections", "inbox_name", "inbox_summary", "preview"]
