"""Decision letters (决定书): every decision on an application, as a letter to print on A4 or download.

A letter names the office that decided, the applicant, the decision and its reasons, the policy and clause, the
amounts an approval schedules, and for a refusal how to ask for administrative review (60 days, 《中华人民共和国
行政复议法》 article 20) or go to court (6 months, 《中华人民共和国行政诉讼法》 article 46), with the last day of
each counted from the day of the decision. The decisions are those of the read model (`decisions`), numbered 1, 2…
in the order they were made, as the application's page lists them; number 0 is the rules' own refusal at
submission (an ineligible application never reaches an official).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import func, select

from subsidy.api.deps import SessionDep
from subsidy.api.errors import NotFound
from subsidy.api.pages.task_views import own_words
from subsidy.api.pages.web import gettext_for, language, render, require_user
from subsidy.api.pages.words import DECISION, N_, PROGRAM, STEP, reasons_of
from subsidy.api.read_model import get_visible_application
from subsidy.db.models import Application, Decision, Person, ScheduledPayment, User
from subsidy.policy.counties import BAOTOU_COUNTIES, BAOTOU_COUNTIES_EN
from subsidy.policy.workdays import CHINA
from subsidy.programs.registry import PROGRAMS
from subsidy.programs.rent_subsidy.rules import add_months

router = APIRouter(include_in_schema=False)

REVIEW_DAYS = 60  # 行政复议法 (2023) art. 20: within 60 days of knowing of the decision
LAWSUIT_MONTHS = 6  # 行政诉讼法 art. 46: within six months of knowing of the decision
OFFICE = {
    "county_dpf": N_("%(county)s Disabled Persons' Federation"),
    "county_hr": N_("%(county)s Human Resources and Social Security Bureau"),
    "city_dpf": N_("Baotou City Disabled Persons' Federation"),
    "region_hr": N_("Inner Mongolia Department of Human Resources and Social Security"),
}
ELIGIBILITY = "eligibility"


@dataclass(frozen=True)
class Letter:
    number: int
    office: str
    decided_on: date
    decision: str  # approve | reject | return
    step_title: str
    reason: str | None
    reasons: list[str]  # the rules' reason codes, in words
    review_by: date | None
    lawsuit_by: date | None
    months: int
    total: Decimal
    city: Decimal
    county: Decimal
    # What the decision used, in words, for a program whose task words name them (`letter_inputs`).
    inputs: tuple[tuple[str, str], ...] = ()
    # A program paid once (a reward) says so instead of "paid in N months".
    paid_once: bool = False


def office_name(role: str | None, county: str | None, _: Any, lang: str) -> str:
    names = BAOTOU_COUNTIES if lang.startswith("zh") else BAOTOU_COUNTIES_EN
    template = OFFICE.get(role or "county_dpf", OFFICE["county_dpf"])
    return _(template) % {"county": names.get(county or "", county or "")}


def appeal_dates(decided_on: date) -> tuple[date, date]:
    return decided_on + timedelta(days=REVIEW_DAYS), add_months(decided_on, LAWSUIT_MONTHS)


async def _letter(db: SessionDep, application: Application, number: int, _: Any, lang: str) -> Letter:
    payments = (
        await db.execute(
            select(
                func.count(),
                func.coalesce(func.sum(ScheduledPayment.amount), 0),
                func.coalesce(func.sum(ScheduledPayment.city_share), 0),
                func.coalesce(func.sum(ScheduledPayment.county_share), 0),
            ).where(ScheduledPayment.application_id == application.id, ScheduledPayment.status != "cancelled")
        )
    ).one()
    if number == 0:
        eligibility = application.eligibility or {}
        if eligibility.get("eligible", True):
            raise NotFound("no such decision")
        decided_on = (application.updated_at or application.submitted_at).astimezone(CHINA).date()
        review, lawsuit = appeal_dates(decided_on)
        return Letter(
            0,
            office_name("county_dpf", application.county, _, lang),
            decided_on,
            "reject",
            _("Check of the application against the rules"),
            None,
            [_(reasons_of(application.program).get(code, code)) for code in eligibility.get("reasons", [])],
            review,
            lawsuit,
            0,
            Decimal(0),
            Decimal(0),
            Decimal(0),
        )
    decisions = (
        await db.scalars(
            select(Decision).where(Decision.application_id == application.id).order_by(Decision.decided_at, Decision.id)
        )
    ).all()
    if not 1 <= number <= len(decisions):
        raise NotFound("no such decision")
    decision = decisions[number - 1]
    official = await db.scalar(select(User).where(User.username == decision.decided_by))
    role = next((r for r in (official.roles if official else []) if r in OFFICE), None)
    county = official.county if official is not None and official.county else application.county
    decided_on = decision.decided_at.astimezone(CHINA).date()
    refused = decision.decision == "reject"
    review, lawsuit = appeal_dates(decided_on) if refused else (None, None)
    approved = decision.decision == "approve"
    count, total, city, county_share = payments if approved else (0, 0, 0, 0)
    own = own_words(application.program)
    inputs = own.letter_inputs(_, application, decision.values or {}) if hasattr(own, "letter_inputs") else ()
    return Letter(
        number,
        office_name(role, county, _, lang),
        decided_on,
        decision.decision,
        _(STEP.get(decision.step, decision.step)),
        decision.reason,
        [],
        review,
        lawsuit,
        int(count),
        Decimal(total),
        Decimal(city),
        Decimal(county_share),
        tuple(inputs),
        bool(getattr(own, "PAID_ONCE", False)),
    )


@router.get("/letters/{application_id}/{number}", response_class=HTMLResponse)
async def letter(request: Request, application_id: str, number: str, db: SessionDep) -> Response:
    identity = require_user(request)
    _ = gettext_for(request)
    lang = language(request)
    application = await get_visible_application(db, application_id, identity)
    if not number.isdigit() or len(number) > 4:
        raise NotFound("no such decision")
    found = await _letter(db, application, int(number), _, lang)
    person = await db.get(Person, application.person_id) if application.person_id else None
    addressee = person.name if person is not None else _organisation(application.form)
    eligibility = application.eligibility or {}
    response = render(
        request,
        "letter.html",
        {
            "title": _("Decision letter"),
            "app": application,
            "letter": found,
            "addressee": addressee,
            "program_title": _(PROGRAM.get(application.program, application.program)),
            "decision_words": _(DECISION.get(found.decision, found.decision)),
            "policy_version": application.policy_version or eligibility.get("policy_version"),
            "clause": eligibility.get("clause"),
            "download": request.query_params.get("download") == "1",
        },
        identity=identity,
    )
    if request.query_params.get("download") == "1":
        response.headers["Content-Disposition"] = (
            f'attachment; filename="decision-{str(application.id)[:8]}-{found.number}.html"'
        )
    return response


def _organisation(form: dict[str, Any]) -> str:
    for key in ("agency", "employer", "provider", "business"):
        part = form.get(key)
        if isinstance(part, dict) and part.get("name"):
            return str(part["name"])
    return ""


def letters_of(application: Application, decision_count: int) -> list[int]:
    """The numbers of the letters an application has: 0 for a refusal by the rules, then 1… per decision."""
    eligibility = application.eligibility or {}
    first = [0] if eligibility and not eligibility.get("eligible", True) else []
    return first + list(range(1, decision_count + 1))


__all__ = ["PROGRAMS", "letters_of", "router"]
