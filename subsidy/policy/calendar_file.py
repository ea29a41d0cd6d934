"""A calendar year as data: the year file an administrator loads from the State Council's notice, and its checks.

The file (YAML, see README "The official calendar" and `calendars/2027-example.yaml`)::

    year: 2027
    source: State Council notice      # or "example" (with example: true) or "test data"
    notice: 国办发明电〔2026〕N号       # the notice's number and address: required for a State Council notice
    url: https://www.gov.cn/...
    description: ...                  # required for an example: what it is, and that it is not the notice
    holidays:                         # every day off, as named ranges (both ends included)
      - {name: 元旦, from: 2027-01-01, to: 2027-01-03}
    working_days:                     # weekends that become working days (调休), each with its holiday's name
      - {date: 2027-02-20, name: 春节}

Checked for consistency: every date in that year, ranges in order and not overlapping, each adjusted working day a
Saturday or Sunday named and outside the holidays. Parsing is pure (text in, value out); the database keeps
`year_to_json` of the loaded year.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import yaml

from subsidy.policy.workdays import OfficialCalendar

__all__ = [
    "EXAMPLE",
    "FILE_SOURCES",
    "PACKAGED",
    "STATE_COUNCIL",
    "TEST_DATA",
    "AdjustedWorkingDay",
    "CalendarFileError",
    "CalendarYear",
    "Holiday",
    "Problem",
    "calendar_of",
    "parse_year_file",
    "year_from_json",
    "year_to_json",
]

STATE_COUNCIL = "State Council notice"
EXAMPLE = "example"
TEST_DATA = "test data"
PACKAGED = "chinesecalendar"  # seeded from the installed package (its version is in the description)
FILE_SOURCES = (STATE_COUNCIL, EXAMPLE, TEST_DATA)
_FIELDS = {"year", "source", "example", "notice", "url", "description", "holidays", "working_days"}
_MIN_YEAR, _MAX_YEAR = 2000, 2200


@dataclass(frozen=True)
class Holiday:
    name: str
    first: date
    last: date  # included

    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]


@dataclass(frozen=True)
class AdjustedWorkingDay:
    day: date
    name: str  # the holiday it makes up for


@dataclass(frozen=True)
class CalendarYear:
    year: int
    source: str
    holidays: tuple[Holiday, ...]
    working_days: tuple[AdjustedWorkingDay, ...]
    notice: str | None = None
    url: str | None = None
    description: str | None = None
    example: bool = False

    def holiday_days(self) -> set[date]:
        return {day for holiday in self.holidays for day in holiday.days()}


@dataclass(frozen=True)
class Problem:
    field: str  # where in the file: "holidays[2].to", "notice"...
    message: str


@dataclass
class CalendarFileError(ValueError):
    problems: list[Problem] = field(default_factory=list)

    def __str__(self) -> str:
        return "; ".join(f"{p.field}: {p.message}" for p in self.problems)

    @classmethod
    def of(cls, where: str, message: str) -> CalendarFileError:
        return cls([Problem(where, message)])


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _day(value: Any, where: str, year: int | None, problems: list[Problem]) -> date | None:
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            pass
    if not isinstance(value, date):
        problems.append(Problem(where, "a date as YYYY-MM-DD is required"))
        return None
    if year is not None and value.year != year:
        problems.append(Problem(where, f"{value.isoformat()} is not in {year}: every date must be in that year"))
        return None
    return value


def parse_year_file(text: str) -> CalendarYear:
    """The year of a year file, or `CalendarFileError` naming every problem found."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise CalendarFileError.of("file", f"not readable as YAML: {error}".splitlines()[0]) from None
    except (ValueError, TypeError, RecursionError) as error:  # e.g. a date such as 2027-02-30, or deep nesting
        raise CalendarFileError.of("file", f"not readable: {type(error).__name__}: {error}"[:200]) from None
    if not isinstance(document, dict):
        raise CalendarFileError([Problem("file", "a mapping with year, source, holidays and working_days")])
    return check_year(document)


def check_year(document: dict[str, Any]) -> CalendarYear:
    problems: list[Problem] = []
    for unknown in sorted(set(map(str, document)) - _FIELDS):
        problems.append(Problem(unknown, "not a field of a year file"))
    year = document.get("year")
    if isinstance(year, bool) or not isinstance(year, int) or not _MIN_YEAR <= year <= _MAX_YEAR:
        problems.append(Problem("year", f"a year from {_MIN_YEAR} to {_MAX_YEAR} is required"))
        year = None
    source = document.get("source")
    if source not in FILE_SOURCES:
        problems.append(Problem("source", "one of: " + ", ".join(FILE_SOURCES)))
    example = document.get("example", False)
    if not isinstance(example, bool):
        problems.append(Problem("example", "true or false"))
        example = False
    notice, url, description = (_text(document.get(k)) for k in ("notice", "url", "description"))
    if source == STATE_COUNCIL:
        if example:
            problems.append(Problem("example", "a State Council notice is not an example"))
        if notice is None:
            problems.append(Problem("notice", "the notice's number is required (e.g. 国办发明电〔2025〕7号)"))
        if url is None or not re.match(r"^https?://\S+$", url):
            problems.append(Problem("url", "the notice's address (https://…) is required"))
    if source == EXAMPLE and not example:
        problems.append(Problem("example", "an example file says example: true"))
    if example and source != EXAMPLE:
        problems.append(Problem("source", "a file with example: true has source: example"))
    if source == EXAMPLE and description is None:
        problems.append(Problem("description", "an example says what it is, and that it is not the notice"))
    if url is not None and not re.match(r"^https?://\S+$", url):
        problems.append(Problem("url", "an address starting with https:// or http://"))

    holidays: list[Holiday] = []
    raw_holidays = document.get("holidays")
    if not isinstance(raw_holidays, list) or not raw_holidays:
        problems.append(Problem("holidays", "a list of named ranges {name, from, to} is required"))
        raw_holidays = []
    for n, entry in enumerate(raw_holidays):
        where = f"holidays[{n + 1}]"
        if not isinstance(entry, dict) or set(map(str, entry)) - {"name", "from", "to"}:
            problems.append(Problem(where, "a mapping of name, from and to"))
            continue
        name = _text(entry.get("name"))
        if name is None:
            problems.append(Problem(f"{where}.name", "the holiday's name is required"))
        first = _day(entry.get("from"), f"{where}.from", year, problems)
        last = _day(entry.get("to", entry.get("from")), f"{where}.to", year, problems)
        if first is None or last is None or name is None:
            continue
        if last < first:
            problems.append(Problem(f"{where}.to", f"{last.isoformat()} is before {first.isoformat()}"))
            continue
        for earlier in holidays:
            if first <= earlier.last and earlier.first <= last:
                problems.append(Problem(where, f"overlaps {earlier.name} ({earlier.first.isoformat()}…)"))
        holidays.append(Holiday(name, first, last))
    days_off = {day for holiday in holidays for day in holiday.days()}

    working: list[AdjustedWorkingDay] = []
    raw_working = document.get("working_days", [])
    if raw_working is None:
        raw_working = []
    if not isinstance(raw_working, list):
        problems.append(Problem("working_days", "a list of {date, name}"))
        raw_working = []
    for n, entry in enumerate(raw_working):
        where = f"working_days[{n + 1}]"
        if not isinstance(entry, dict) or set(map(str, entry)) - {"date", "name"}:
            problems.append(Problem(where, "a mapping of date and name"))
            continue
        day = _day(entry.get("date"), f"{where}.date", year, problems)
        name = _text(entry.get("name"))
        if name is None:
            problems.append(Problem(f"{where}.name", "the holiday this working day makes up for is required"))
        if day is None:
            continue
        if day.weekday() < 5:
            problems.append(
                Problem(f"{where}.date", f"{day.isoformat()} is a weekday: only a weekend becomes a working day")
            )
        elif day in days_off:
            problems.append(Problem(f"{where}.date", f"{day.isoformat()} is also listed as a holiday"))
        elif any(w.day == day for w in working):
            problems.append(Problem(f"{where}.date", f"{day.isoformat()} is listed twice"))
        elif name is not None:
            working.append(AdjustedWorkingDay(day, name))
    if problems:
        raise CalendarFileError(problems)
    assert year is not None and isinstance(source, str)
    return CalendarYear(
        year=year,
        source=source,
        holidays=tuple(sorted(holidays, key=lambda h: h.first)),
        working_days=tuple(sorted(working, key=lambda w: w.day)),
        notice=notice,
        url=url,
        description=description,
        example=example,
    )


def calendar_of(years: Iterable[CalendarYear]) -> OfficialCalendar:
    """The calendar value of these years (the functions of `policy.workdays` take it)."""
    chosen = list(years)
    return OfficialCalendar.of(
        (y.year for y in chosen),
        (day for y in chosen for day in y.holiday_days()),
        (w.day for y in chosen for w in y.working_days),
    )


def year_to_json(year: CalendarYear) -> dict[str, Any]:
    """The days of a year as the database keeps them (`calendar_years.days`)."""
    return {
        "holidays": [{"name": h.name, "from": h.first.isoformat(), "to": h.last.isoformat()} for h in year.holidays],
        "working_days": [{"date": w.day.isoformat(), "name": w.name} for w in year.working_days],
    }


def year_from_json(
    year: int,
    source: str,
    days: dict[str, Any],
    *,
    notice: str | None = None,
    url: str | None = None,
    description: str | None = None,
    example: bool = False,
) -> CalendarYear:
    return CalendarYear(
        year=year,
        source=source,
        holidays=tuple(
            Holiday(h["name"], date.fromisoformat(h["from"]), date.fromisoformat(h["to"])) for h in days["holidays"]
        ),
        working_days=tuple(AdjustedWorkingDay(date.fromisoformat(w["date"]), w["name"]) for w in days["working_days"]),
        notice=notice,
        url=url,
        description=description,
        example=example,
    )


def packaged_year(year: int, version: str) -> CalendarYear | None:
    """A year of the installed `chinesecalendar` package as a calendar year, or None when it does not know it."""
    from chinese_calendar import constants  # type: ignore[import-untyped, unused-ignore]

    holidays = sorted((d, str(n)) for d, n in constants.holidays.items() if d.year == year)
    if not holidays:
        return None
    ranges: list[Holiday] = []
    for day, name in holidays:
        if ranges and ranges[-1].name == name and ranges[-1].last + timedelta(days=1) == day:
            ranges[-1] = Holiday(name, ranges[-1].first, day)
        else:
            ranges.append(Holiday(name, day, day))
    working = tuple(
        AdjustedWorkingDay(d, str(n))
        for d, n in sorted(constants.workdays.items())
        if d.year == year and d.weekday() >= 5
    )
    return CalendarYear(
        year=year,
        source=PACKAGED,
        holidays=tuple(ranges),
        working_days=working,
        description=f"chinesecalendar {version}",
    )


def packaged_years() -> range:
    """The years the installed package covers (whole years only)."""
    from chinese_calendar import constants

    years = {d.year for d in constants.holidays}
    return range(min(years), max(years) + 1)
