"""The rent subsidy's "before you start" page: who cannot qualify is told so before filling in the form.

The limits are those of the policy version in force today (the one a submission would pin), as dates: the latest
licence date that has had its full year, and the earliest start that is still within the years allowed.
"""

from __future__ import annotations

from datetime import date, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from subsidy.api import procedures
from subsidy.api.deps import ResourcesDep, SessionDep
from subsidy.api.errors import Forbidden
from subsidy.api.pages.web import gettext_for, render, require_user
from subsidy.policy.versions import RentSubsidyParams, version_from_json
from subsidy.programs.rent_subsidy.rules import add_months

router = APIRouter(include_in_schema=False)


def latest_licence_date(today: date, months: int) -> date:
    """The latest licence date whose business has operated `months` full months by today (as the rules count)."""
    day = add_months(today, -months)
    while add_months(day + timedelta(days=1), months) <= today:
        day += timedelta(days=1)
    while add_months(day, months) > today:
        day -= timedelta(days=1)
    return day


def earliest_start_date(today: date, years: int) -> date:
    """The earliest start of a business that is still within `years` years of its start today."""
    day = add_months(today, -12 * years)
    while add_months(day - timedelta(days=1), 12 * years) >= today:
        day -= timedelta(days=1)
    while add_months(day, 12 * years) < today:
        day += timedelta(days=1)
    return day


@router.get("/apply/rent-subsidy/before-you-start", response_class=HTMLResponse)
async def before_you_start(request: Request, db: SessionDep, res: ResourcesDep) -> Response:
    identity = require_user(request)
    if not identity.has("applicant"):
        raise Forbidden("these pages are for applicants")
    _ = gettext_for(request)
    today = res.settings.today()
    policy = await procedures.policy_in_force(db, today)
    params = version_from_json(policy).rent if policy is not None else RentSubsidyParams()
    return render(
        request,
        "rent_before_you_start.html",
        {
            "title": _("Before you apply for the rent subsidy"),
            "params": params,
            "latest_licence": latest_licence_date(today, params.min_operating_months),
            "earliest_start": earliest_start_date(today, params.apply_within_years),
        },
        identity=identity,
    )
