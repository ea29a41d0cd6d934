"""The calendar activity: working days counted on the official calendar kept in PostgreSQL (`calendar_years`).

A read, no side effect: its answer goes into the workflow's history, which is what keeps the workflow
deterministic when an administrator loads a year later on.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from subsidy.activities.calendar_names import COUNT_WORKING_DAYS
from subsidy.db.calendar import read_calendar
from subsidy.policy.workdays import CalendarYearUnknown, add_weekdays, add_working_days
from subsidy.workflows.calendar_contracts import WorkingDaysAnswer, WorkingDaysQuery


class CalendarActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    def all(self) -> list[Any]:
        return [self.count_working_days]

    @activity.defn(name=COUNT_WORKING_DAYS)
    async def count_working_days(self, query: WorkingDaysQuery) -> WorkingDaysAnswer:
        # A count of working days never spans more than a few years; read only those.
        years = range(query.start.year, query.start.year + 2 + query.count // 200)
        async with self._sessions() as session:
            calendar = await read_calendar(session, years)
        try:
            return WorkingDaysAnswer(add_working_days(query.start, query.count, calendar), estimate=False)
        except CalendarYearUnknown as unknown:
            return WorkingDaysAnswer(add_weekdays(query.start, query.count), estimate=True, unknown_year=unknown.year)
