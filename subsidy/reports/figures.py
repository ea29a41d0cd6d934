"""The annual figures, counted from the records: what the city asks every county each November.

Every figure is for one calendar year (days in China time) and one county, or the whole city; each can be traced to
the rows it counts (`figure_rows`). The definitions, which the report states on its page and in its CSV:

- persons served: distinct persons with at least one application decided in the year (a decision recorded on it),
  the trainees of a class decided in the year included;
- new employment: applications approved in the year at a step their program declares (`Program.new_employment`:
  a placement that took up its post, a start-up whose rent subsidy was approved, a graduate hire, a dispatch referral
  that reached one year) and now in one of the statuses it names;
- persons trained: distinct trainees who attended at least the minimum class hours, in classes whose completion was
  approved in the year;
- money paid: the ledger's postings for periods of the year, by program × funder × month;
- applications by status: the applications submitted in the year, by their status now;
- officials' work: tasks decided in the year, the median days from a task's opening to its decision, and the tasks
  marked overdue among those opened in the year.
"""

from __future__ import annotations

import statistics
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from subsidy.db.models import Application, Decision, LedgerEntry, Person, Task
from subsidy.programs.training_subsidy.contracts import COMPLETION_REVIEW_STEP
from subsidy.programs.training_subsidy.models import TrainingClass, TrainingEnrolment

CHINA_TZ = "Asia/Shanghai"
FIGURES = (
    "persons_served",
    "new_employment",
    "persons_trained",
    "money_paid",
    "applications_by_status",
    "tasks_decided",
    "median_days_to_decide",
    "overdue_tasks",
)
# The figures whose rows are people or applications (a drill-down list each).
TRACEABLE = (
    "persons_served",
    "new_employment",
    "persons_trained",
    "money_paid",
    "applications",
    "tasks_decided",
    "overdue_tasks",
)


def _year_of(column: Any) -> ColumnElement[Any]:
    return func.extract("year", func.timezone(CHINA_TZ, column))


def _in_county(column: Any, county: str | None) -> ColumnElement[bool]:
    return column == county if county is not None else true()


@dataclass
class CountyFigures:
    """The figures of one county (or of the city, `county` None) for one year."""

    year: int
    county: str | None
    persons_served: int = 0
    new_employment: int = 0
    new_employment_by_program: dict[str, int] = field(default_factory=dict)
    persons_trained: int = 0
    money_paid: Decimal = Decimal("0.00")
    # (program, funder, month "YYYY-MM") -> amount
    money_by_program_funder_month: dict[tuple[str, str, str], Decimal] = field(default_factory=dict)
    applications_by_status: dict[str, int] = field(default_factory=dict)
    tasks_decided: int = 0
    median_days_to_decide: Decimal | None = None
    overdue_tasks: int = 0

    def money_by_program(self) -> dict[str, dict[str, Decimal]]:
        totals: dict[str, dict[str, Decimal]] = {}
        for (program, funder, _), amount in sorted(self.money_by_program_funder_month.items()):
            by_funder = totals.setdefault(program, {})
            by_funder[funder] = by_funder.get(funder, Decimal("0.00")) + amount
        return totals

    def money_by_month(self) -> dict[str, Decimal]:
        totals: dict[str, Decimal] = {}
        for (_, _, month), amount in sorted(self.money_by_program_funder_month.items(), key=lambda i: i[0][2]):
            totals[month] = totals.get(month, Decimal("0.00")) + amount
        return totals

    def as_json(self) -> dict[str, Any]:
        return {
            "year": self.year,
            "county": self.county,
            "persons_served": self.persons_served,
            "new_employment": self.new_employment,
            "new_employment_by_program": dict(sorted(self.new_employment_by_program.items())),
            "persons_trained": self.persons_trained,
            "money_paid": str(self.money_paid),
            "money_paid_by_program": {
                program: {funder: str(amount) for funder, amount in funders.items()}
                for program, funders in self.money_by_program().items()
            },
            "money_paid_by_program_funder_month": [
                {"program": program, "funder": funder, "month": month, "amount": str(amount)}
                for (program, funder, month), amount in sorted(self.money_by_program_funder_month.items())
            ],
            "applications_by_status": dict(sorted(self.applications_by_status.items())),
            "tasks_decided": self.tasks_decided,
            "median_days_to_decide": str(self.median_days_to_decide)
            if self.median_days_to_decide is not None
            else None,
            "overdue_tasks": self.overdue_tasks,
        }


async def county_figures(session: AsyncSession, year: int, county: str | None) -> CountyFigures:
    figures = CountyFigures(year=year, county=county)
    figures.persons_served = len(await _served_person_ids(session, year, county))
    by_program = await _new_employment(session, year, county)
    figures.new_employment_by_program = {program: len(ids) for program, ids in by_program.items() if ids}
    figures.new_employment = sum(figures.new_employment_by_program.values())
    figures.persons_trained = len(await _trained_person_ids(session, year, county))
    money = await session.execute(
        select(LedgerEntry.program, LedgerEntry.funder, LedgerEntry.period, func.sum(LedgerEntry.amount))
        .where(LedgerEntry.period.like(f"{year:04d}-%"), _in_county(LedgerEntry.county, county))
        .group_by(LedgerEntry.program, LedgerEntry.funder, LedgerEntry.period)
    )
    figures.money_by_program_funder_month = {
        (program, funder, period): Decimal(amount) for program, funder, period, amount in money.all()
    }
    figures.money_paid = sum(figures.money_by_program_funder_month.values(), Decimal("0.00"))
    statuses = await session.execute(
        select(Application.status, func.count())
        .where(_year_of(Application.submitted_at) == year, _in_county(Application.county, county))
        .group_by(Application.status)
    )
    figures.applications_by_status = {status: count for status, count in statuses.all()}
    durations = await session.execute(
        select(Decision.decided_at, Task.created_at)
        .join(Task, Task.id == Decision.task_id)
        .join(Application, Application.id == Decision.application_id)
        .where(_year_of(Decision.decided_at) == year, _in_county(Application.county, county))
    )
    days = [Decimal((decided - opened).total_seconds()) / 86400 for decided, opened in durations.all()]
    figures.tasks_decided = len(days)
    if days:
        figures.median_days_to_decide = Decimal(statistics.median(days)).quantize(Decimal("0.1"))
    figures.overdue_tasks = int(
        await session.scalar(
            select(func.count())
            .select_from(Task)
            .where(Task.overdue.is_(True), _year_of(Task.created_at) == year, _in_county(Task.county, county))
        )
        or 0
    )
    return figures


async def _served_person_ids(session: AsyncSession, year: int, county: str | None) -> set[uuid.UUID]:
    decided = select(Decision.application_id).where(_year_of(Decision.decided_at) == year).distinct().subquery()
    applicants = await session.scalars(
        select(Application.person_id)
        .join(decided, decided.c.application_id == Application.id)
        .where(Application.person_id.is_not(None), _in_county(Application.county, county))
    )
    trainees = await session.scalars(
        select(TrainingEnrolment.person_id)
        .join(decided, decided.c.application_id == TrainingEnrolment.application_id)
        .join(Application, Application.id == TrainingEnrolment.application_id)
        .where(TrainingEnrolment.status != "excluded", _in_county(Application.county, county))
    )
    return {person for person in applicants if person is not None} | set(trainees)


async def _new_employment(session: AsyncSession, year: int, county: str | None) -> dict[str, list[uuid.UUID]]:
    # Imported here: the registry names the county report's activities, which count these figures.
    from subsidy.programs.registry import DECLARED

    found: dict[str, list[uuid.UUID]] = {}
    for program in DECLARED:
        counted = program.new_employment
        if counted is None:
            continue
        ids = await session.scalars(
            select(Application.id)
            .join(Decision, Decision.application_id == Application.id)
            .where(
                Application.program == program.code,
                Application.status.in_(counted.statuses),
                Decision.step.in_(counted.steps),
                Decision.decision == "approve",
                _year_of(Decision.decided_at) == year,
                _in_county(Application.county, county),
            )
            .distinct()
        )
        found[program.code] = list(ids)
    return found


async def _trained_person_ids(session: AsyncSession, year: int, county: str | None) -> set[uuid.UUID]:
    people = await session.scalars(
        select(TrainingEnrolment.person_id)
        .join(TrainingClass, TrainingClass.application_id == TrainingEnrolment.application_id)
        .join(
            Decision,
            and_(
                Decision.application_id == TrainingClass.application_id,
                Decision.step == COMPLETION_REVIEW_STEP,
                Decision.decision == "approve",
            ),
        )
        .where(
            TrainingEnrolment.status == "qualified",
            _year_of(Decision.decided_at) == year,
            _in_county(TrainingClass.county, county),
        )
    )
    return set(people)


# ---- the rows behind a figure ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FigureRow:
    """One row a figure counts: an application (and the person, masked, where the row is a person)."""

    application_id: str
    program: str
    county: str
    status: str
    on: date | None
    person: str | None = None  # masked name
    detail: str = ""


async def figure_rows(session: AsyncSession, figure: str, year: int, county: str | None) -> list[FigureRow]:
    """The rows a traceable figure counts, in a stable order."""
    from subsidy.api.read_model import mask_name

    if figure == "money_paid":
        ledger = await session.execute(
            select(LedgerEntry, Application.status)
            .join(Application, Application.id == LedgerEntry.application_id)
            .where(LedgerEntry.period.like(f"{year:04d}-%"), _in_county(LedgerEntry.county, county))
            .order_by(LedgerEntry.period, LedgerEntry.program, LedgerEntry.application_id, LedgerEntry.funder)
        )
        return [
            FigureRow(
                str(entry.application_id),
                entry.program,
                entry.county,
                status,
                None,
                detail=f"{entry.period} {entry.funder} {entry.item} {entry.amount}",
            )
            for entry, status in ledger.all()
        ]
    if figure in ("persons_served", "persons_trained"):
        ids = (
            await _served_person_ids(session, year, county)
            if figure == "persons_served"
            else await _trained_person_ids(session, year, county)
        )
        if not ids:
            return []
        people = await session.execute(select(Person.id, Person.name).where(Person.id.in_(ids)).order_by(Person.id))
        rows = []
        for person_id, name in people.all():
            latest = await session.execute(
                select(Application)
                .outerjoin(TrainingEnrolment, TrainingEnrolment.application_id == Application.id)
                .where((Application.person_id == person_id) | (TrainingEnrolment.person_id == person_id))
                .order_by(Application.submitted_at.desc())
                .limit(1)
            )
            application = latest.scalar_one_or_none()
            rows.append(
                FigureRow(
                    str(application.id) if application else "",
                    application.program if application else "",
                    application.county if application else "",
                    application.status if application else "",
                    None,
                    person=mask_name(name),
                )
            )
        return rows
    if figure == "new_employment":
        by_program = await _new_employment(session, year, county)
        ids = [application_id for found in by_program.values() for application_id in found]
        return await _application_rows(session, ids)
    if figure == "applications":
        ids = list(
            await session.scalars(
                select(Application.id).where(
                    _year_of(Application.submitted_at) == year, _in_county(Application.county, county)
                )
            )
        )
        return await _application_rows(session, ids)
    if figure in ("tasks_decided", "overdue_tasks"):
        query = select(Task, Application).join(Application, Application.id == Task.application_id)
        if figure == "tasks_decided":
            query = query.join(Decision, Decision.task_id == Task.id).where(
                _year_of(Decision.decided_at) == year, _in_county(Application.county, county)
            )
        else:
            query = query.where(
                Task.overdue.is_(True), _year_of(Task.created_at) == year, _in_county(Task.county, county)
            )
        result = await session.execute(query.order_by(Task.created_at, Task.id))
        return [
            FigureRow(
                str(application.id),
                application.program,
                application.county,
                application.status,
                _china_day(task.closed_at or task.created_at),
                detail=f"{task.step} {task.decision or task.status}"
                + (f" {task.decided_by}" if task.decided_by else ""),
            )
            for task, application in result.all()
        ]
    raise KeyError(figure)


async def _application_rows(session: AsyncSession, ids: Sequence[uuid.UUID]) -> list[FigureRow]:
    if not ids:
        return []
    rows = await session.execute(
        select(Application, Person.name)
        .outerjoin(Person, Person.id == Application.person_id)
        .where(Application.id.in_(ids))
        .order_by(Application.submitted_at, Application.id)
    )
    from subsidy.api.read_model import mask_name

    return [
        FigureRow(
            str(application.id),
            application.program,
            application.county,
            application.status,
            _china_day(application.submitted_at),
            person=mask_name(name) if name else None,
        )
        for application, name in rows.all()
    ]


def _china_day(moment: datetime | None) -> date | None:
    from subsidy.policy.workdays import CHINA

    return moment.astimezone(CHINA).date() if moment is not None else None
