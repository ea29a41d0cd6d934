"""The dispatch referral reward in words for the County DPF's task page: the agency, the person, the employment,
the year of employment, and what an approval pays (from the same pure rules the workflow uses)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from subsidy.api.pages.task_views import Gettext, Preview, Section, money, person_rows, pinned_version
from subsidy.db.models import Application, Task
from subsidy.programs.dispatch_referral_reward.rules import reward_period, reward_shares, year_ends_on


def _start(form: dict[str, Any]) -> date | None:
    try:
        return date.fromisoformat(str((form.get("contract") or {}).get("start_date", "")))
    except ValueError:
        return None


async def sections(
    db: AsyncSession, _: Gettext, application: Application, task: Task, county_name: Callable[[str], str]
) -> list[Section]:
    form: dict[str, Any] = application.form or {}
    agency = form.get("agency") or {}
    person = form.get("person") or {}
    employer = form.get("employer") or {}
    contract = form.get("contract") or {}
    applied_on = application.submitted_at.date() if application.submitted_at else None
    version = await pinned_version(db, application)
    start = _start(form)
    year_end = year_ends_on(start, version.dispatch_referral) if version and start else None
    return [
        Section(
            _("The labour dispatch agency"),
            [
                (_("Name of the agency"), agency.get("name", "–")),
                (_("Unified social credit code"), agency.get("credit_code", "–")),
                (_("County"), county_name(form.get("county", ""))),
            ],
        ),
        Section(
            _("The person referred"),
            person_rows(
                _, person.get("name", ""), person.get("id_number"), person.get("disability_cert_number"), applied_on
            ),
        ),
        Section(
            _("The employment"),
            [
                (_("Employer"), employer.get("name", "–")),
                (_("Employer's unified social credit code"), employer.get("credit_code", "–")),
                (_("Labour contract"), f"{contract.get('start_date', '–')} – {contract.get('end_date', '–')}"),
                (_("One year of employment on"), year_end.isoformat() if year_end else "–"),
            ],
            notes=[
                _(
                    "Check that the person is still employed by this employer a year after the contract's start "
                    "(the social insurance record shows it)."
                )
            ],
        ),
    ]


def summary(_: Gettext, task: Task, application: Application | None) -> str:
    form: dict[str, Any] = (application.form if application is not None else None) or {}
    return _("Referral into %(employer)s from %(start)s") % {
        "employer": (form.get("employer") or {}).get("name", "–"),
        "start": (form.get("contract") or {}).get("start_date", "–"),
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
    version = await pinned_version(db, application)
    start = _start(form)
    if version is None or start is None:
        return Preview([_("The policy version of this application is not known: no preview can be computed.")])
    params = version.dispatch_referral
    amount, city, county = reward_shares(params)
    return Preview(
        [
            _("Paid once to the agency %(agency)s, for the month %(period)s.")
            % {"agency": (form.get("agency") or {}).get("name", "–"), "period": reward_period(start, params)},
            _("A year of employment (%(months)s months) from %(start)s to %(end)s (policy version %(version)s).")
            % {
                "months": params.min_employment_months,
                "start": start.isoformat(),
                "end": year_ends_on(start, params).isoformat(),
                "version": version.code,
            },
            _("%(amount)s = %(city)s city + %(county)s county")
            % {"amount": money(amount), "city": money(city), "county": money(county)},
        ]
    )
