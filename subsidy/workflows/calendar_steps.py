"""Working days for the workflows, from the calendar in PostgreSQL through the activity COUNT_WORKING_DAYS.

Behind `workflow.patched(CALENDAR_FROM_DATABASE)`: a history recorded before the patch counted inside the workflow
on the installed chinesecalendar package, and replays that way (`None` here tells the caller to do so); every
workflow task that runs anew asks the activity, whose answer stays in the history.
"""

from __future__ import annotations

from datetime import date

from temporalio import workflow

from subsidy.activities.calendar_names import COUNT_WORKING_DAYS
from subsidy.workflows.calendar_contracts import CALENDAR_FROM_DATABASE, WorkingDaysAnswer, WorkingDaysQuery
from subsidy.workflows.common import DB_ACTIVITY, DB_STEPS_AS_LOCAL_ACTIVITIES, db_step

__all__ = ["count_working_days"]


async def count_working_days(
    start: date, count: int, *, local: bool, patch: str = DB_STEPS_AS_LOCAL_ACTIVITIES
) -> WorkingDaysAnswer | None:
    """The `count`-th working day after `start` on the official calendar, or None before the patch.

    `local`: as a database step of the workflow (`db_step` under the workflow type's `patch`, a local activity since
    that patch) rather than a regular activity, for the workflows whose database steps go through `db_step`.
    """
    if not workflow.patched(CALENDAR_FROM_DATABASE):
        return None
    query = WorkingDaysQuery(start, count)
    if local:
        answer: WorkingDaysAnswer = await db_step(COUNT_WORKING_DAYS, query, result_type=WorkingDaysAnswer, patch=patch)
        return answer
    return await workflow.execute_activity(COUNT_WORKING_DAYS, query, result_type=WorkingDaysAnswer, **DB_ACTIVITY)
