"""The minimum wage in force on a day, for a county (`subsidy.db.minimum_wages`).

A read, no side effect: its answer goes into the workflow's history, so a standard loaded later never changes a
decision already taken, while a year paid after it was loaded uses it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from subsidy.activities.names import MINIMUM_WAGE_ON
from subsidy.db.minimum_wages import minimum_wage
from subsidy.workflows.shared_data_contracts import MinimumWageQuery, MinimumWageUsed


class MinimumWageActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    def all(self) -> list[Any]:
        return [self.minimum_wage_on]

    @activity.defn(name=MINIMUM_WAGE_ON)
    async def minimum_wage_on(self, query: MinimumWageQuery) -> MinimumWageUsed:
        async with self._sessions() as session:
            found = await minimum_wage(session, query.county, query.on)
        if found is None:
            return MinimumWageUsed(found=False, county=query.county, on=query.on)
        return MinimumWageUsed(
            found=True,
            county=found.county,
            on=found.on,
            tier=found.tier,
            monthly=found.monthly,
            standard=found.standard,
            document=found.document,
            valid_from=found.valid_from,
        )
