"""Working days on China's official calendar (statutory holidays and adjusted working weekends, 调休).

The State Council publishes each year's holidays only late in the previous year, so the calendar
package knows a limited range of years. Outside it `CalendarYearUnknown` is raised instead of guessing;
the caller decides whether to fall back to `add_weekdays`.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from chinese_calendar import is_workday as _official_is_workday  # type: ignore[import-untyped, unused-ignore]

__all__ = ["CHINA", "CalendarYearUnknown", "add_weekdays", "add_working_days", "china_today", "is_working_day"]

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


def is_working_day(day: date) -> bool:
    """Whether `day` is a working day, adjusted working Saturdays and Sundays included."""
    try:
        return bool(_official_is_workday(day))
    except NotImplementedError:
        raise CalendarYearUnknown(day.year) from None


def add_working_days(start: date, count: int) -> date:
    """The `count`-th working day strictly after `start` (`start` itself when count is 0).

    `start` need not be a working day: a task opened on a Sunday counts from the Monday.
    """
    if count < 0:
        raise ValueError("count of working days must not be negative")
    day = start
    remaining = count
    while remaining > 0:
        day += _ONE_DAY
        if is_working_day(day):
            remaining -= 1
    return day


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
