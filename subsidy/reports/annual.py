"""The annual report as a whole: the figures of the scope, each county's, and the plans' progress against their
targets (the plans of `subsidy.db.plans`), as JSON and as CSV lines."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from subsidy.reports.figures import county_figures

# ---- the report: the figures of the scope, each county's, and the plans' targets --------------------------------


REPORT_ROLES = ("county_dpf", "county_hr", "city_dpf", "region_hr", "auditor", "admin")


@dataclass
class PlanProgress:
    code: str
    title: str
    jurisdiction: str
    jurisdiction_name: str
    period_from: date
    period_to: date
    source: str
    description: str
    elapsed_share: Decimal
    # measure -> (target, actual or None when the plan is not of this service's jurisdiction, the plan's words)
    measures: list[dict[str, Any]]
    actions: list[dict[str, Any]]


async def plan_progress(
    session: AsyncSession, year: int, county: str | None, on: date, jurisdiction: str
) -> list[PlanProgress]:
    """Every stored plan, with the share of its period elapsed on `on` and, for a plan of this jurisdiction (or of
    the county), the actual figures of its period up to the end of `year` against each target."""
    from subsidy.db.plans import action_statuses, stored_plans

    progress = []
    # Each year's figures once, however many plans and targets count them (each is a dozen queries).
    by_year: dict[int, Any] = {}

    async def figures_of(each: int) -> Any:
        if each not in by_year:
            by_year[each] = await county_figures(session, each, county)
        return by_year[each]

    for plan in await stored_plans(session):
        ours = plan.jurisdiction == jurisdiction or (county is not None and plan.jurisdiction == county)
        measures = []
        for target in plan.targets:
            actual: int | None = None
            if ours:
                last = min(year, plan.period_to.year)
                actual = 0
                for each in range(plan.period_from.year, last + 1):
                    actual += int(getattr(await figures_of(each), target.measure))
            measures.append(
                {
                    "measure": target.measure,
                    "target": target.target,
                    "text": target.text,
                    "actual": actual,
                    "achieved_share": (
                        str((Decimal(actual) / Decimal(target.target)).quantize(Decimal("0.001")))
                        if actual is not None
                        else None
                    ),
                }
            )
        statuses = await action_statuses(session, plan.code)
        actions = [
            {
                "number": action.number,
                "title": action.title,
                "target_text": action.target_text,
                "departments": action.departments,
                "deadline": action.deadline,
                "status": statuses[action.number].status if action.number in statuses else "not_started",
                "note": statuses[action.number].note if action.number in statuses else "",
                "updated_by": statuses[action.number].updated_by if action.number in statuses else None,
                "updated_at": (statuses[action.number].updated_at.isoformat() if action.number in statuses else None),
            }
            for action in plan.actions
        ]
        progress.append(
            PlanProgress(
                code=plan.code,
                title=plan.title,
                jurisdiction=plan.jurisdiction,
                jurisdiction_name=plan.jurisdiction_name,
                period_from=plan.period_from,
                period_to=plan.period_to,
                source=plan.source,
                description=plan.description,
                elapsed_share=plan.elapsed_share(on),
                measures=measures,
                actions=actions,
            )
        )
    return progress


async def annual_report(
    session: AsyncSession, year: int, county: str | None, *, counties: Sequence[str], today: date, jurisdiction: str
) -> dict[str, Any]:
    """The report as JSON: the scope's figures, each county's (for the city), and the plans."""
    on = min(today, date(year, 12, 31))
    scope = await county_figures(session, year, county)
    by_county = [await county_figures(session, year, code) for code in counties] if county is None else []
    plans = await plan_progress(session, year, county, on, jurisdiction)
    reports = await county_reports(session, year, county)
    return {
        "year": year,
        "county": county,
        "jurisdiction": jurisdiction,
        "as_of": on.isoformat(),
        "figures": scope.as_json(),
        "counties": [figures.as_json() for figures in by_county],
        "county_reports": reports,
        "plans": [
            {
                "code": plan.code,
                "title": plan.title,
                "jurisdiction": plan.jurisdiction,
                "jurisdiction_name": plan.jurisdiction_name,
                "period_from": plan.period_from.isoformat(),
                "period_to": plan.period_to.isoformat(),
                "source": plan.source,
                "description": plan.description,
                "elapsed_share": str(plan.elapsed_share),
                "measures": plan.measures,
                "actions": plan.actions,
            }
            for plan in plans
        ],
    }


def report_csv_rows(report: dict[str, Any], county_name: Any) -> list[list[str]]:
    """One line per figure and breakdown: (scope, county, county name, figure, breakdown, value)."""
    rows = [["scope", "county", "county_name", "figure", "breakdown", "value"]]

    def figures_rows(scope: str, figures: dict[str, Any]) -> None:
        code = figures["county"] or ""
        name = county_name(code) if code else ""
        for key in (
            "persons_served",
            "new_employment",
            "persons_trained",
            "money_paid",
            "tasks_decided",
            "median_days_to_decide",
            "overdue_tasks",
        ):
            value = figures[key]
            rows.append([scope, code, name, key, "", "" if value is None else str(value)])
        for program, count in figures["new_employment_by_program"].items():
            rows.append([scope, code, name, "new_employment", program, str(count)])
        for line in figures["money_paid_by_program_funder_month"]:
            breakdown = f"{line['program']}/{line['funder']}/{line['month']}"
            rows.append([scope, code, name, "money_paid", breakdown, line["amount"]])
        for status, count in figures["applications_by_status"].items():
            rows.append([scope, code, name, "applications_by_status", status, str(count)])

    figures_rows("total", report["figures"])
    for figures in report["counties"]:
        figures_rows("county", figures)
    for plan in report["plans"]:
        for measure in plan["measures"]:
            rows.append(
                [
                    "plan",
                    plan["jurisdiction"],
                    plan["jurisdiction_name"],
                    f"target:{measure['measure']}",
                    plan["code"],
                    str(measure["target"]),
                ]
            )
            if measure["actual"] is not None:
                rows.append(
                    [
                        "plan",
                        plan["jurisdiction"],
                        plan["jurisdiction_name"],
                        f"actual:{measure['measure']}",
                        plan["code"],
                        str(measure["actual"]),
                    ]
                )
        rows.append(
            [
                "plan",
                plan["jurisdiction"],
                plan["jurisdiction_name"],
                "elapsed_share",
                plan["code"],
                plan["elapsed_share"],
            ]
        )
        for action in plan["actions"]:
            rows.append(
                [
                    "plan",
                    plan["jurisdiction"],
                    plan["jurisdiction_name"],
                    f"action:{action['number']}",
                    action["title"],
                    action["status"],
                ]
            )
    return rows


async def county_reports(session: AsyncSession, year: int, county: str | None) -> list[dict[str, Any]]:
    """The counties' yearly reports of `year`: which are open, which submitted (and when, by whom), which overdue."""
    from sqlalchemy import select

    from subsidy.db.models import Application, Task
    from subsidy.programs.county_annual_report.contracts import PROGRAM, SUBMIT_STEP
    from subsidy.programs.county_annual_report.models import CountyReport

    query = (
        select(Application, CountyReport, Task)
        .outerjoin(CountyReport, CountyReport.application_id == Application.id)
        .outerjoin(Task, (Task.application_id == Application.id) & (Task.step == SUBMIT_STEP))
        .where(Application.program == PROGRAM, Application.form["year"].as_integer() == year)
        .order_by(Application.county)
    )
    if county is not None:
        query = query.where(Application.county == county)
    rows = []
    for application, report, task in (await session.execute(query)).all():
        rows.append(
            {
                "application_id": str(application.id),
                "county": application.county,
                "status": "submitted" if report is not None else ("overdue" if task and task.overdue else "open"),
                "due_at": task.due_at.isoformat() if task and task.due_at else None,
                "submitted_at": report.submitted_at.isoformat() if report else None,
                "submitted_by": report.submitted_by if report else None,
                "figures_sha256": report.figures_sha256 if report else None,
            }
        )
    return rows
