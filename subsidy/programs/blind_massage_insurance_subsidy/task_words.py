"""The blind massage subsidy in words for the County DPF's task page: the practitioner, the workplace, the year and
the insurance declared, the years already subsidised, and what an approval pays (from the workflow's pure rules)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from subsidy.api.pages.task_views import (
    Gettext,
    Preview,
    Section,
    masked_account,
    money,
    person_rows,
    pinned_version,
)
from subsidy.db.models import Application, Task
from subsidy.policy.money import to_money
from subsidy.programs.blind_massage_insurance_subsidy.contracts import VERIFIED_VALUE
from subsidy.programs.blind_massage_insurance_subsidy.rules import subsidy_period, subsidy_shares


async def sections(
    db: AsyncSession, _: Gettext, application: Application, task: Task, county_name: Callable[[str], str]
) -> list[Section]:
    form: dict[str, Any] = application.form or {}
    applicant = form.get("applicant") or {}
    workplace = form.get("workplace") or {}
    eligibility = application.eligibility or {}
    applied_on = application.submitted_at.date() if application.submitted_at else None
    return [
        Section(
            _("The practitioner"),
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
        ),
        Section(
            _("The massage workplace"),
            [
                (_("Name of the workplace"), workplace.get("name", "–")),
                (_("Unified social credit code"), workplace.get("credit_code", "–")),
            ],
        ),
        Section(
            _("The year claimed"),
            [
                (_("Year"), str(form.get("year", "–"))),
                (_("Social insurance paid, as declared (yuan)"), money(form.get("insurance_paid"))),
                (
                    _("Years already subsidised (this service and the register)"),
                    str(eligibility.get("years_before", "–")),
                ),
                (_("Bank account for the payment"), masked_account(form.get("bank_account"))),
            ],
        ),
    ]


def summary(_: Gettext, task: Task, application: Application | None) -> str:
    form: dict[str, Any] = (application.form if application is not None else None) or {}
    return _("Social insurance of %(year)s: %(paid)s paid") % {
        "year": form.get("year", "–"),
        "paid": money(form.get("insurance_paid")),
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
    if version is None:
        return Preview([_("The policy version of this application is not known: no preview can be computed.")])
    params = version.blind_massage
    try:
        verified = to_money(values.get(VERIFIED_VALUE) or form.get("insurance_paid", "0"))
    except (ValueError, ArithmeticError):
        verified = to_money(form.get("insurance_paid", "0"))
    amount, city, county = subsidy_shares(verified, params)
    years_before = int((application.eligibility or {}).get("years_before", 0))
    return Preview(
        [
            _("Paid once to %(name)s, bank account %(account)s, for %(period)s.")
            % {
                "name": (form.get("applicant") or {}).get("name", ""),
                "account": masked_account(form.get("bank_account")),
                "period": subsidy_period(int(form.get("year", 0))),
            },
            _("%(share)s × the verified insurance %(verified)s (policy version %(version)s).")
            % {
                "share": f"{params.insurance_paid_share * 100:.0f} %",
                "verified": money(verified),
                "version": version.code,
            },
            _("%(amount)s = %(city)s city + %(county)s county")
            % {"amount": money(amount), "city": money(city), "county": money(county)},
            _("Years already subsidised: %(n)s of at most %(max)s; this is year %(this)s.")
            % {"n": years_before, "max": params.max_years_per_person, "this": years_before + 1},
        ]
    )
