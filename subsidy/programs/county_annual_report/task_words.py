"""The county annual report on the officials' task page: the county's live figures of the year, which the
submission freezes, and what submitting (or recording a reminder) does."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from subsidy.api.pages.task_views import Preview, Section, Table
from subsidy.db.models import Application, Task
from subsidy.programs.county_annual_report.contracts import ESCALATION_STEP
from subsidy.programs.model import N_
from subsidy.reports.figures import county_figures

Gettext = Callable[[str], str]
PERSONS_SERVED = N_("Persons served")
NEW_EMPLOYMENT = N_("New employment")
PERSONS_TRAINED = N_("Persons trained")
MONEY_PAID = N_("Money paid (CNY)")
TASKS_DECIDED = N_("Tasks decided")
MEDIAN_DAYS = N_("Median days to decide")
OVERDUE = N_("Tasks overdue")


def _year_county(application: Application) -> tuple[int, str]:
    form: dict[str, Any] = application.form or {}
    return int(form.get("year", 0)), application.county


async def _figure_rows(db: AsyncSession, _: Gettext, application: Application) -> list[tuple[str, str]]:
    year, county = _year_county(application)
    figures = await county_figures(db, year, county)
    return [
        (_(PERSONS_SERVED), str(figures.persons_served)),
        (_(NEW_EMPLOYMENT), str(figures.new_employment)),
        (_(PERSONS_TRAINED), str(figures.persons_trained)),
        (_(MONEY_PAID), str(figures.money_paid)),
        (_(TASKS_DECIDED), str(figures.tasks_decided)),
        (_(MEDIAN_DAYS), str(figures.median_days_to_decide) if figures.median_days_to_decide is not None else "–"),
        (_(OVERDUE), str(figures.overdue_tasks)),
    ]


async def sections(
    db: AsyncSession, _: Gettext, application: Application, task: Task, county_name: Callable[[str], str]
) -> list[Section]:
    year, county = _year_county(application)
    due = task.due_at.date().isoformat() if task.due_at else "–"
    return [
        Section(
            _("The report"),
            [
                (_("County"), county_name(county)),
                (_("Year"), str(year)),
                (_("Due"), due),
            ],
            notes=[
                _(
                    "Review the county's figures below, then write the narrative the plan asks for: what the county "
                    "did for each action, what worked, what is behind and why. Submitting freezes the figures as "
                    "they are at that moment, with your narrative."
                )
            ],
        ),
        Section(
            _("The county's figures of the year, as of now"),
            tables=[
                Table(
                    _("Figures of %(year)s: %(county)s") % {"year": year, "county": county_name(county)},
                    [_("Figure"), _("Value")],
                    [[label, value] for label, value in await _figure_rows(db, _, application)],
                )
            ],
            notes=[_("Each figure and the rows it counts are on the annual report page.")],
        ),
    ]


def summary(_: Gettext, task: Task, application: Application | None) -> str:
    if application is None:
        return ""
    year, _county = _year_county(application)
    if task.step == ESCALATION_STEP:
        return _("The county's annual report %(year)s is overdue") % {"year": year}
    return _("Annual implementation report %(year)s") % {"year": year}


async def preview(
    db: AsyncSession,
    _: Gettext,
    application: Application,
    task: Task,
    decision: str,
    values: dict[str, str],
    today: date,
) -> Preview:
    if task.step == ESCALATION_STEP:
        return Preview(
            [
                _("Your reminder to the county is recorded. The county's task stays open until it submits."),
            ]
        )
    year, _county = _year_county(application)
    return Preview(
        [
            _("The report of %(year)s is submitted to the City DPF with these figures and your narrative.")
            % {"year": year},
            _("The figures are frozen as they are at the moment you confirm; later records do not change them."),
        ],
        tables=[
            Table(
                _("Figures to be frozen"),
                [_("Figure"), _("Value")],
                [[label, value] for label, value in await _figure_rows(db, _, application)],
            )
        ],
    )
