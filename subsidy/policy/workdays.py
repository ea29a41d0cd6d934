"""Working days on China's official calendar (statutory holidays and adjusted working weekends, 调休).

The State Council publishes each year's holidays only late in the previous year. The service keeps the years it
knows in PostgreSQL (`subsidy.db.calendar`), seeded from the `chinesecalendar` package and loaded for a new year
from the notice by an administrator; here the calendar is a value, `OfficialCalendar`, passed into the functions.
Outside its years `CalendarYearUnknown` is raised instead of guessing; the caller decides whether to fall back to
`add_weekdays` (and mark the result as an estimate).

Without a calendar (`calendar=None`) the functions read the installed `chinesecalendar` package, as the workflows
did before the patch `calendar-from-database`: only the replay of histories recorded before it takes that path.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from chinese_calendar import is_workday as _official_is_workday  # type: ignore[import-untyped, unused-ignore]

__all__ = [
    "CHINA",
    "CalendarYearUnknown",
    "OfficialCalendar",
    "add_weekdays",
    "add_working_days",
    "add_working_days_or_estimate",
    "china_today",
    "is_working_day",
]

# China has one time zone and no daylight saving: a calendar day ends at midnight UTC+8.
CHINA = timezone(timedelta(hours=8))
_ONE_DAY = timedelta(days=1)


def china_today() -> date:
    """Today in China, by the machine's clock (workflows use `workflow.now()` instead)."""
    return datetime.now(CHINA).date()


class CalendarYearUnknown(ValueError):
    """The official holiday calendar of this year is not known to the installed calendar data."""

    def __init__(self, year: int) -> None:
        super().__init__(f"China's official holiday calendar for {year} is not known")
        self.year = year

    def __reduce__(self) -> tuple[type[CalendarYearUnknown], tuple[int]]:
        # The default would call the class with the message instead of the year.
        return (type(self), (self.year,))


@dataclass(frozen=True)
class OfficialCalendar:
    """The official calendar of the years it knows: each year's holidays and its weekends that are working days.

    Any other day of a known year is a working day from Monday to Friday and a rest day at the weekend.
    """

    years: frozenset[int]
    holidays: frozenset[date] = frozenset()
    working_weekends: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        for day in self.holidays | self.working_weekends:
            if day.year not in self.years:
                raise ValueError(f"{day.isoformat()} is outside the calendar's years")
        if self.holidays & self.working_weekends:
            raise ValueError("a day cannot be both a holiday and a working day")
        if any(day.weekday() < 5 for day in self.working_weekends):
            raise ValueError("only a Saturday or a Sunday can become a working day")

    @classmethod
    def of(
        cls, years: Iterable[int], holidays: Iterable[date] = (), working_weekends: Iterable[date] = ()
    ) -> OfficialCalendar:
        return cls(frozenset(years), frozenset(holidays), frozenset(working_weekends))

    def knows(self, year: int) -> bool:
        return year in self.years

    def is_working_day(self, day: date) -> bool:
        if day.year not in self.years:
            raise CalendarYearUnknown(day.year)
        if day in self.working_weekends:
            return True
        return day.weekday() < 5 and day not in self.holidays

    def merged(self, other: OfficialCalendar) -> OfficialCalendar:
        """Both calendars' years; a year both know is taken from `other`."""
        keep_holidays = {d for d in self.holidays if d.year not in other.years}
        keep_working = {d for d in self.working_weekends if d.year not in other.years}
        return OfficialCalendar(
            self.years | other.years,
            frozenset(keep_holidays) | other.holidays,
            frozenset(keep_working) | other.working_weekends,
        )


def is_working_day(day: date, calendar: OfficialCalendar | None = None) -> bool:
    """Whether `day` is a working day, adjusted working Saturdays and Sundays included."""
    if calendar is not None:
        return calendar.is_working_day(day)
    try:
        return bool(_official_is_workday(day))
    except NotImplementedError:
        raise CalendarYearUnknown(day.year) from None


def add_working_days(start: date, count: int, calendar: OfficialCalendar | None = None) -> date:
    """The `count`-th working day strictly after `start` (`start` itself when count is 0).

    `start` need not be a working day: a task opened on a Sunday counts from the Monday.
    """
    if count < 0:
        raise ValueError("count of working days must not be negative")
    day = start
    remaining = count
    while remaining > 0:
        day += _ONE_DAY
        if is_working_day(day, calendar):
            remaining -= 1
    return day


def add_working_days_or_estimate(start: date, count: int, calendar: OfficialCalendar) -> tuple[date, bool]:
    """`add_working_days` on the calendar, or Monday to Friday where it does not reach: (day, is an estimate)."""
    try:
        return add_working_days(start, count, calendar), False
    except CalendarYearUnknown:
        return add_weekdays(start, count), True


def add_weekdays(start: date, count: int) -> date:
    """The `count`-th Monday-to-Friday day strictly after `start`, ignoring holidays.

    Only a fallback for years the official calendar does not know yet.
    """
    if count < 0:
        raise ValueError("count of weekdays must not be negative")
    day = start
    remaining = count
    while remaining > 0:
        day += _ONE_DAY
        if day.weekday() < 5:
            remaining -= 1
    return day
