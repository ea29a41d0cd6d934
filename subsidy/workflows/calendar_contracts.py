"""Messages of the calendar activity: the workflows ask it for a day N working days on, and the answer stays in
their history, so a replay reads the same day whatever the calendar in PostgreSQL says by then."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

# workflow.patched id: a workflow that passed this point with it counts working days on the calendar in PostgreSQL
# (through the activity COUNT_WORKING_DAYS) instead of the installed chinesecalendar package.
CALENDAR_FROM_DATABASE = "calendar-from-database"


@dataclass
class WorkingDaysQuery:
    start: date
    count: int


@dataclass
class WorkingDaysAnswer:
    day: date  # the count-th working day after start; Monday to Friday where the calendar did not reach
    estimate: bool  # True when counted Monday to Friday
    unknown_year: int | None = None  # the first year the calendar did not know, when estimate
