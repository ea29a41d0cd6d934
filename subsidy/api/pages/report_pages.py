"""The annual report on a page: the year's figures of a county or the city, each county beside the others, the
plans' targets against the actual figures, the actions' statuses, charts with their tables, the rows behind every
figure, the CSV; printable on A4.

For the officials of a county (their own county), the City DPF, the region, auditors and administrators, as the API
(`subsidy.api.routers.reports`). A City DPF official updates an action's status with a note from here.
"""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from subsidy.api.deps import ResourcesDep, SessionDep
from subsidy.api.errors import Forbidden, Invalid, NotFound
from subsidy.api.pages.charts import bar_chart
from subsidy.api.pages.web import checked_form, gettext_for, language, render, require_user
from subsidy.api.pages.words import N_, PROGRAM, STATUS
from subsidy.api.routers.reports import report_scope
from subsidy.policy.counties import BAOTOU_CITY_CODE, BAOTOU_COUNTIES, BAOTOU_COUNTIES_EN
from subsidy.policy.plans import ACTION_STATUSES
from subsidy.policy.workdays import CHINA
from subsidy.reports.annual import annual_report, report_csv_rows
from subsidy.reports.figures import TRACEABLE, figure_rows

router = APIRouter(include_in_schema=False)
PATH = "/reports/annual"

FIGURE = {
    "persons_served": N_("Persons served"),
    "new_employment": N_("New employment"),
    "persons_trained": N_("Persons trained"),
    "money_paid": N_("Money paid (CNY)"),
    "applications": N_("Applications submitted"),
    "tasks_decided": N_("Tasks decided"),
    "median_days_to_decide": N_("Median days to decide"),
    "overdue_tasks": N_("Tasks overdue"),
}
FIGURE_MEANING = {
    "persons_served": N_("Distinct persons with at least one application decided in the year."),
    "new_employment": N_(
        "Placements that took up their post, start-ups whose rent subsidy was approved, graduate hires and "
        "dispatch referrals that reached one year: approved in the year."
    ),
    "persons_trained": N_(
        "Trainees with at least 40 class hours in classes whose completion was approved in the year."
    ),
    "money_paid": N_("Posted to the ledger for the months of the year, city and county shares."),
    "applications": N_("Applications submitted in the year, by their status now."),
    "tasks_decided": N_("Decisions recorded in the year."),
    "median_days_to_decide": N_("From a task's opening to its decision, the middle value."),
    "overdue_tasks": N_("Tasks opened in the year that went past their due date."),
}
MEASURE = {"new_employment": N_("New employment"), "persons_trained": N_("Persons trained")}
ACTION_STATUS = {"not_started": N_("Not started"), "in_progress": N_("In progress"), "done": N_("Done")}
FUNDER = {"city": N_("City"), "county": N_("County")}


@dataclass(frozen=True)
class FigureLine:
    key: str
    label: str
    value: str
    meaning: str
    traceable: bool


def _percent(share: str | None) -> str:
    if share is None:
        return "–"
    return f"{(Decimal(share) * 100).quantize(Decimal('0.1'))}%"


def _due_day(due_at: str | None) -> str | None:
    """The last day to submit: the due instant is the end of that day in China."""
    if due_at is None:
        return None
    return (datetime.fromisoformat(due_at).astimezone(CHINA) - timedelta(seconds=1)).date().isoformat()


def _county_names(request: Request) -> dict[str, str]:
    return BAOTOU_COUNTIES_EN if language(request) == "en" else BAOTOU_COUNTIES


async def _report(request: Request, db: SessionDep, res: ResourcesDep, year: int, county: str | None) -> Any:
    identity = require_user(request)
    scope = report_scope(identity, county)
    report = await annual_report(
        db, year, scope, counties=list(BAOTOU_COUNTIES), today=res.settings.today(), jurisdiction=BAOTOU_CITY_CODE
    )
    return identity, scope, report


YearQuery = Annotated[int | None, Query(ge=2000, le=2100)]
CountyQuery = Annotated[str | None, Query(pattern=r"^(\d{6})?$")]


@router.get(PATH, response_class=HTMLResponse)
async def annual_page(
    request: Request,
    db: SessionDep,
    res: ResourcesDep,
    year: YearQuery = None,
    county: CountyQuery = None,
    updated: Annotated[int | None, Query(ge=1, le=1000)] = None,
) -> Response:
    year = year or res.settings.today().year
    identity, scope, report = await _report(request, db, res, year, county or None)
    _ = gettext_for(request)
    names = _county_names(request)
    scope_name = names.get(scope, scope) if scope else _("Baotou City (all counties)")
    figures = report["figures"]
    lines = [
        FigureLine(key, _(FIGURE[key]), value, _(FIGURE_MEANING[key]), key in TRACEABLE)
        for key, value in (
            ("persons_served", str(figures["persons_served"])),
            ("new_employment", str(figures["new_employment"])),
            ("persons_trained", str(figures["persons_trained"])),
            ("money_paid", figures["money_paid"]),
            ("applications", str(sum(figures["applications_by_status"].values()))),
            ("tasks_decided", str(figures["tasks_decided"])),
            ("median_days_to_decide", figures["median_days_to_decide"] or "–"),
            ("overdue_tasks", str(figures["overdue_tasks"])),
        )
    ]
    charts = []
    counties = report["counties"]
    if counties:
        rows = [(names.get(row["county"], row["county"]), row) for row in counties]
        charts.append(
            bar_chart(
                "chart-employment",
                _("New employment by county, %(year)s") % {"year": year},
                _("One bar per county: the new employment it recorded in the year."),
                [(name, row["new_employment"], str(row["new_employment"])) for name, row in rows],
                label_header=_("County"),
                value_header=_("New employment"),
            )
        )
        charts.append(
            bar_chart(
                "chart-money",
                _("Money paid by county, %(year)s (CNY)") % {"year": year},
                _("One bar per county: the money paid for the months of the year, city and county shares."),
                [(name, Decimal(row["money_paid"]), row["money_paid"]) for name, row in rows],
                label_header=_("County"),
                value_header=_("Money paid (CNY)"),
            )
        )
    months = {}
    for line in figures["money_paid_by_program_funder_month"]:
        months[line["month"]] = months.get(line["month"], Decimal("0.00")) + Decimal(line["amount"])
    if months:
        charts.append(
            bar_chart(
                "chart-months",
                _("Money paid by month, %(year)s (CNY)") % {"year": year},
                _("One bar per month of the year in which money was paid."),
                [(month, amount, str(amount)) for month, amount in sorted(months.items())],
                label_header=_("Month"),
                value_header=_("Money paid (CNY)"),
            )
        )
    plans = []
    for plan in report["plans"]:
        measures = [
            {
                **measure,
                "label": _(MEASURE.get(measure["measure"], measure["measure"])),
                "achieved": _percent(measure["achieved_share"]),
            }
            for measure in plan["measures"]
        ]
        chart = None
        comparable = [m for m in measures if m["actual"] is not None]
        if comparable:
            chart = bar_chart(
                f"chart-plan-{plan['code']}",
                _("%(plan)s: actual against target") % {"plan": plan["title"]},
                _("One bar per measure: the actual figure of the plan's period so far; the red mark is the target."),
                [(m["label"], m["actual"], f"{m['actual']} / {m['target']}") for m in comparable],
                label_header=_("Measure"),
                value_header=_("Actual / target"),
                targets=[m["target"] for m in comparable],
            )
        plans.append({**plan, "measures": measures, "chart": chart, "elapsed": _percent(plan["elapsed_share"])})
    money_by_program = [
        {
            "program": _(PROGRAM.get(program, program)),
            "city": funders.get("city", "0.00"),
            "county": funders.get("county", "0.00"),
        }
        for program, funders in figures["money_paid_by_program"].items()
    ]
    return render(
        request,
        "annual_report.html",
        {
            "title": _("Annual report %(year)s: %(scope)s") % {"year": year, "scope": scope_name},
            "year": year,
            "scope": scope,
            "scope_name": scope_name,
            "report": report,
            "lines": lines,
            "charts": charts,
            "plans": plans,
            "money_by_program": money_by_program,
            "statuses": [
                (_(STATUS.get(status, status)), count) for status, count in figures["applications_by_status"].items()
            ],
            "new_employment_by_program": [
                (_(PROGRAM.get(program, program)), count)
                for program, count in figures["new_employment_by_program"].items()
            ],
            "counties": [(names.get(row["county"], row["county"]), row) for row in counties],
            "county_choices": list(names.items()),
            "may_choose_county": identity.has("city_dpf", "region_hr", "auditor", "admin"),
            "may_update_actions": identity.has("city_dpf"),
            "action_statuses": [(status, _(ACTION_STATUS[status])) for status in ACTION_STATUSES],
            "ACTION_STATUS": ACTION_STATUS,
            "updated": updated,
            "county_reports": [{**row, "due_on": _due_day(row["due_at"])} for row in report["county_reports"]],
            "path": PATH,
        },
        identity=identity,
    )


@router.get(PATH + ".csv")
async def annual_csv(
    request: Request, db: SessionDep, res: ResourcesDep, year: YearQuery = None, county: CountyQuery = None
) -> Response:
    year = year or res.settings.today().year
    _identity, scope, report = await _report(request, db, res, year, county or None)
    out = io.StringIO()
    csv.writer(out).writerows(report_csv_rows(report, lambda code: BAOTOU_COUNTIES.get(code, code)))
    name = f"annual-report-{year}-{scope or BAOTOU_CITY_CODE}.csv"
    return Response(
        "\ufeff" + out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get(PATH + "/rows", response_class=HTMLResponse)
async def rows_page(
    request: Request,
    db: SessionDep,
    res: ResourcesDep,
    figure: Annotated[str, Query(pattern="^(" + "|".join(TRACEABLE) + ")$")],
    year: YearQuery = None,
    county: CountyQuery = None,
) -> Response:
    year = year or res.settings.today().year
    identity = require_user(request)
    scope = report_scope(identity, county or None)
    _ = gettext_for(request)
    names = _county_names(request)
    rows = await figure_rows(db, figure, year, scope)
    scope_name = names.get(scope, scope) if scope else _("Baotou City (all counties)")
    return render(
        request,
        "annual_report_rows.html",
        {
            "title": _("%(figure)s, %(year)s: %(scope)s")
            % {"figure": _(FIGURE[figure]), "year": year, "scope": scope_name},
            "meaning": _(FIGURE_MEANING[figure]),
            "rows": rows,
            "programs": {code: _(title) for code, title in PROGRAM.items()},
            "statuses": {code: _(title) for code, title in STATUS.items()},
            "may_open": identity.has("auditor", "admin"),
            "back": f"{PATH}?year={year}" + (f"&county={scope}" if scope else ""),
        },
        identity=identity,
    )


@router.post(PATH + "/actions", response_class=HTMLResponse)
async def update_action(request: Request, db: SessionDep) -> Response:
    from subsidy.db.plans import set_action_status, stored_plans

    identity = require_user(request)
    if not identity.has("city_dpf"):
        raise Forbidden("a City DPF official updates the plan's actions")
    form = await checked_form(request)
    plan_code = str(form.get("plan", ""))
    try:
        number = int(str(form.get("number", "")))
    except ValueError:
        number = 0
    status = str(form.get("status", ""))
    note = str(form.get("note", "")).strip()[:2000]
    year = str(form.get("year", ""))
    plan = next((plan for plan in await stored_plans(db) if plan.code == plan_code), None)
    if plan is None or all(action.number != number for action in plan.actions) or status not in ACTION_STATUSES:
        raise Invalid("status", "no such action, or not a status of an action")
    if any(ord(char) < 32 and char not in "\n\t" for char in note):
        raise Invalid("note", "the note has control characters")
    await set_action_status(db, plan_code, number, status, note, actor=identity.username)
    await db.commit()
    year_part = f"year={int(year)}&" if year.isdigit() and 2000 <= int(year) <= 2100 else ""
    return RedirectResponse(f"{PATH}?{year_part}updated={number}#action-{plan_code}-{number}", status_code=303)


@router.get("/reports/county/{application_id}", response_class=HTMLResponse)
async def county_report_page(request: Request, db: SessionDep, application_id: uuid.UUID) -> Response:
    """A county's submitted report as it was frozen: the figures and the narrative of that moment."""
    from subsidy.programs.county_annual_report.models import CountyReport

    identity = require_user(request)
    report = await db.get(CountyReport, application_id)
    if report is None:
        raise NotFound("no submitted county report has this id")
    report_scope(identity, report.county)
    _ = gettext_for(request)
    names = _county_names(request)
    figures = report.figures
    lines = [
        (_(FIGURE[key]), str(figures[key]) if figures.get(key) is not None else "–")
        for key in (
            "persons_served",
            "new_employment",
            "persons_trained",
            "money_paid",
            "tasks_decided",
            "median_days_to_decide",
            "overdue_tasks",
        )
    ]
    return render(
        request,
        "county_report.html",
        {
            "title": _("Annual report %(year)s of %(county)s, as submitted")
            % {"year": report.year, "county": names.get(report.county, report.county)},
            "report": report,
            "lines": lines,
            "back": f"{PATH}?year={report.year}",
        },
        identity=identity,
    )
