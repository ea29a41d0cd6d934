"""The county annual report's database steps: opening the year's reports, and freezing one when it is submitted."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import WorkflowAlreadyStartedError

from subsidy.db.audit_chain import append_audit
from subsidy.db.models import Application
from subsidy.db.plans import stored_plans
from subsidy.policy.counties import BAOTOU_CITY_CODE, BAOTOU_COUNTIES
from subsidy.programs.county_annual_report.contracts import (
    COUNTY_REPORT_WORKFLOW,
    FREEZE_COUNTY_REPORT,
    OPEN_COUNTY_REPORTS,
    PROGRAM,
    CountyReportInput,
    FreezeReport,
    FrozenReport,
    OpenedReports,
    OpenReports,
    report_application_id,
    report_workflow_id,
)
from subsidy.programs.county_annual_report.models import CountyReport
from subsidy.reports.figures import county_figures
from subsidy.workflows.common import end_of_day


async def report_due(session: AsyncSession, year: int) -> tuple[date, str | None]:
    """The day the city's plan names for the counties' reports (the newest plan of the city that names one; the
    plan's reporting is taken to continue after its period, as the policy version baotou-2025 assumes), or the end
    of the year when no plan names one."""
    plans = [p for p in await stored_plans(session) if p.jurisdiction == BAOTOU_CITY_CODE and p.report_due]
    if not plans:
        return date(year, 12, 31), None
    plan = max(plans, key=lambda p: p.period_from)
    due = plan.report_due_on(year)
    assert due is not None
    return due, plan.code


class CountyReportActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    def all(self) -> list[Any]:
        return [self.open_county_reports, self.freeze_county_report]

    @activity.defn(name=OPEN_COUNTY_REPORTS)
    async def open_county_reports(self, request: OpenReports) -> OpenedReports:
        """One report per county and year: its application row, then its workflow (both idempotent)."""
        counties = request.counties or list(BAOTOU_COUNTIES)
        opened: list[str] = []
        async with self._sessions.begin() as session:
            due_on, plan = await report_due(session, request.year)
            for county in counties:
                application_id = report_application_id(county, request.year)
                created = await session.scalar(
                    insert(Application)
                    .values(
                        id=application_id,
                        program=PROGRAM,
                        status="under_review",
                        county=county,
                        submitted_by="system",
                        workflow_id=report_workflow_id(county, request.year),
                        form={"program": PROGRAM, "county": county, "year": request.year},
                    )
                    .on_conflict_do_nothing()
                    .returning(Application.id)
                )
                if created is not None:
                    opened.append(county)
                    await append_audit(
                        session,
                        kind="submitted",
                        actor="system",
                        at=datetime.now(UTC),
                        application_id=application_id,
                        detail={
                            "program": PROGRAM,
                            "county": county,
                            "year": request.year,
                            "due_on": due_on.isoformat(),
                        },
                    )
        for county in counties:
            try:
                await activity.client().start_workflow(
                    COUNTY_REPORT_WORKFLOW,
                    CountyReportInput(
                        application_id=str(report_application_id(county, request.year)),
                        county=county,
                        year=request.year,
                        due_at=end_of_day(due_on),
                        plan=plan,
                    ),
                    id=report_workflow_id(county, request.year),
                    task_queue=request.task_queue,
                )
            except WorkflowAlreadyStartedError:
                continue  # a second round of the same year, or a retry after the first start
        return OpenedReports(year=request.year, opened=opened, due_on=due_on.isoformat())

    @activity.defn(name=FREEZE_COUNTY_REPORT)
    async def freeze_county_report(self, request: FreezeReport) -> FrozenReport:
        """The county's figures as of now, with the narrative, stored once; a retry returns what was stored."""
        application_id = uuid.UUID(request.application_id)
        async with self._sessions.begin() as session:
            stored = await session.get(CountyReport, application_id)
            if stored is None:
                figures = (await county_figures(session, request.year, request.county)).as_json()
                digest = hashlib.sha256(
                    json.dumps(figures, sort_keys=True, ensure_ascii=False).encode("utf-8")
                ).hexdigest()
                now = datetime.now(UTC)
                stored = CountyReport(
                    application_id=application_id,
                    county=request.county,
                    year=request.year,
                    figures=figures,
                    figures_sha256=digest,
                    narrative=request.narrative,
                    submitted_by=request.submitted_by,
                    submitted_at=now,
                )
                session.add(stored)
                await append_audit(
                    session,
                    kind="county_report_submitted",
                    actor=request.submitted_by,
                    at=now,
                    application_id=application_id,
                    detail={
                        "county": request.county,
                        "year": request.year,
                        "figures": figures,
                        "figures_sha256": digest,
                        "narrative": request.narrative,
                    },
                )
            return FrozenReport(
                figures_sha256=stored.figures_sha256,
                persons_served=int(stored.figures["persons_served"]),
                new_employment=int(stored.figures["new_employment"]),
                money_paid=str(stored.figures["money_paid"]),
            )


async def county_reports_of(session: AsyncSession, year: int) -> dict[str, CountyReport]:
    rows = await session.scalars(select(CountyReport).where(CountyReport.year == year))
    return {row.county: row for row in rows}
