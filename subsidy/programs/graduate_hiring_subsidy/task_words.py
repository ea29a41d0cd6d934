"""The graduate hiring subsidy in words for the officials' task page: the hire, its years, and the preview of a
year's amount (from the same pure rules the workflow uses, with the minimum wage in force on the year's last day)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from subsidy.api.pages.task_views import Preview, Section, Table, money, person_rows, pinned_version
from subsidy.api.pages.words import SCHEDULE_STATUS
from subsidy.db.minimum_wages import minimum_wage
from subsidy.db.models import Application, ScheduledPayment, Task
from subsidy.policy.versions import GraduateHiringParams
from subsidy.programs.graduate_hiring_subsidy.contracts import REVIEW_STEP
from subsidy.programs.graduate_hiring_subsidy.rules import YearSpan, subsidy_years, year_amount, year_shares

Gettext = Callable[[str], str]


def _day(text: Any) -> date | None:
    try:
        return date.fromisoformat(str(text))
    except ValueError:
        return None


async def params_of(db: AsyncSession, application: Application) -> GraduateHiringParams:
    version = await pinned_version(db, application)
    return version.graduate_hiring if version is not None else GraduateHiringParams()


def years_of(form: dict[str, Any], params: GraduateHiringParams) -> list[YearSpan]:
    start = _day((form.get("contract") or {}).get("start_date"))
    return subsidy_years(start, params) if start is not None else []


async def paid_years(db: AsyncSession, application: Application) -> dict[str, ScheduledPayment]:
    rows = await db.scalars(select(ScheduledPayment).where(ScheduledPayment.application_id == application.id))
    return {row.period: row for row in rows.all()}


async def sections(
    db: AsyncSession, _: Gettext, application: Application, task: Task, county_name: Callable[[str], str]
) -> list[Section]:
    form: dict[str, Any] = application.form or {}
    person = form.get("person") or {}
    employer = form.get("employer") or {}
    contract = form.get("contract") or {}
    start = _day(contract.get("start_date"))
    params = await params_of(db, application)
    paid = await paid_years(db, application)
    year_rows = []
    for year in years_of(form, params):
        row = paid.get(year.period)
        year_rows.append(
            [
                str(year.number),
                f"{year.start.isoformat()} – {year.last_day.isoformat()}",
                _(SCHEDULE_STATUS[row.status]) if row is not None and row.status != "planned" else _("Not paid yet"),
                money(row.amount) if row is not None else "–",
            ]
        )
    return [
        Section(
            _("The graduate"),
            [
                *person_rows(
                    _, person.get("name", ""), person.get("id_number"), person.get("disability_cert_number"), start
                ),
                (_("Graduated on"), str(form.get("graduated_on", "–"))),
            ],
        ),
        Section(
            _("The employment"),
            [
                (_("Employer"), f"{employer.get('name', '–')} ({employer.get('credit_code', '')})"),
                (_("Labour contract"), f"{contract.get('start_date', '–')} – {contract.get('end_date', '–')}"),
                (_("Social insurance from"), str(form.get("social_insurance_from", "–"))),
                (_("County"), county_name(application.county)),
            ],
            tables=[
                Table(
                    _("Subsidised years"),
                    [_("Year"), _("Period"), _("Status"), _("Amount (yuan)")],
                    year_rows,
                    id="years",
                )
            ],
        ),
    ]


def summary(_: Gettext, task: Task, application: Application | None) -> str:
    form = (application.form if application is not None else None) or {}
    contract = form.get("contract") or {}
    if task.step == REVIEW_STEP:
        return _("Graduate hire, contract %(start)s – %(end)s") % {
            "start": contract.get("start_date", "–"),
            "end": contract.get("end_date", "–"),
        }
    return _("Graduate hire: check of year %(year)s (contract from %(start)s)") % {
        "year": task.round,
        "start": contract.get("start_date", "–"),
    }


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
    params = await params_of(db, application)
    if task.step == REVIEW_STEP:
        return Preview(
            [
                _("The subsidy becomes active: %(years)s years, each paid after its check.")
                % {"years": params.subsidy_years},
                _(
                    "Nothing is paid now: when each year of employment ends, the employer confirms that the contract "
                    "and the insurance still hold, and the County DPF checks it."
                ),
            ]
        )
    years = years_of(form, params)
    if not 0 < task.round <= len(years):
        return Preview([_("The year of this check is not known: no preview can be computed.")])
    year = years[task.round - 1]
    found = await minimum_wage(db, application.county, year.last_day)
    if found is None:
        return Preview(
            [
                _("No monthly minimum wage standard is known for the county on %(day)s: the year cannot be paid yet.")
                % {"day": year.last_day.isoformat()}
            ]
        )
    amount = year_amount(found.monthly, params)
    city, county = year_shares(amount, params)
    return Preview(
        [
            _("Year %(year)s (%(start)s – %(end)s) is paid once to the employer, for %(period)s.")
            % {
                "year": year.number,
                "start": year.start.isoformat(),
                "end": year.last_day.isoformat(),
                "period": year.period,
            },
            _("Monthly minimum wage on %(day)s: %(monthly)s (tier %(tier)s, %(standard)s, %(document)s).")
            % {
                "day": year.last_day.isoformat(),
                "monthly": money(found.monthly),
                "tier": found.tier,
                "standard": found.standard,
                "document": found.document,
            },
            _("%(months)s × %(monthly)s = %(amount)s = %(city)s city + %(county)s county (city share %(share)s)")
            % {
                "months": params.yearly_minimum_wage_months,
                "monthly": money(found.monthly),
                "amount": money(amount),
                "city": money(city),
                "county": money(county),
                "share": params.city_share,
            },
        ]
    )
