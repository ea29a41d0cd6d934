"""Messages of the county annual report: the round the Schedule starts each year, and one county's report."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

PROGRAM = "county_annual_report"
COUNTY_REPORT_WORKFLOW = "CountyAnnualReportWorkflow"
REPORT_ROUND_WORKFLOW = "AnnualReportRoundWorkflow"
SCHEDULE_ID = "county-annual-reports"
SUBMIT_STEP = "report_submission"
ESCALATION_STEP = "report_overdue"
OPEN_COUNTY_REPORTS = "open_county_reports"
FREEZE_COUNTY_REPORT = "freeze_county_report"
_NAMESPACE = uuid.UUID("5d1f8a0e-6c1b-4f7e-9a51-2b8d3c4e5f60")


def report_application_id(county: str, year: int) -> uuid.UUID:
    """One report per county and year, whoever opens it and however often."""
    return uuid.uuid5(_NAMESPACE, f"{county}:{year}")


def report_workflow_id(county: str, year: int) -> str:
    return f"county-report-{county}-{year}"


@dataclass
class ReportRoundInput:
    """What the Schedule starts: the year (None: the year of the scheduled time in China) and the counties (None:
    every county of the policy version in force)."""

    year: int | None = None
    counties: list[str] | None = None


@dataclass
class OpenReports:
    year: int
    counties: list[str] | None
    task_queue: str


@dataclass
class OpenedReports:
    year: int
    opened: list[str]  # the counties whose report was opened now (not already open)
    due_on: str  # ISO date


@dataclass
class CountyReportInput:
    application_id: str
    county: str
    year: int
    due_at: datetime
    plan: str | None
    program: str = PROGRAM
    submitted_by: str = "system"


@dataclass
class FreezeReport:
    application_id: str
    county: str
    year: int
    narrative: str
    submitted_by: str


@dataclass
class FrozenReport:
    figures_sha256: str
    persons_served: int
    new_employment: int
    money_paid: str
