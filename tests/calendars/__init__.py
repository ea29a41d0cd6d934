"""Test calendars: the years a test counts working days in, loaded as `source: test data`, never the package.

`tests/calendars/<year>.yaml` holds a real year copied for the tests (2025, 2026); any other year is made up
here: New Year's Day, National Day 1-7 October and the Sunday or Saturday before it as a working day, so that the
tests still meet a holiday and an adjusted weekend in it. The session's database gets the years around today
(tests/conftest.py), whatever `SUBSIDY_CALENDAR_PACKAGED` says; a year the database knows already is kept.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterable
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from subsidy.db.calendar import read_calendar, seed_calendar, store_year
from subsidy.db.calendar_models import CalendarYearRow
from subsidy.policy.calendar_file import (
    TEST_DATA,
    AdjustedWorkingDay,
    CalendarYear,
    Holiday,
    calendar_of,
    parse_year_file,
)
from subsidy.policy.workdays import OfficialCalendar, china_today
from subsidy.settings import Settings

FOLDER = Path(__file__).parent
EXAMPLE_2027 = FOLDER.parent.parent / "calendars" / "2027-example.yaml"


def year_for_tests(year: int) -> CalendarYear:
    copied = FOLDER / f"{year}.yaml"
    if copied.exists():
        found = parse_year_file(copied.read_text(encoding="utf-8"))
        assert found.source == TEST_DATA
        return found
    before = date(year, 9, 30)
    while before.weekday() < 5:
        before -= timedelta(days=1)
    return CalendarYear(
        year=year,
        source=TEST_DATA,
        holidays=(
            Holiday("元旦", date(year, 1, 1), date(year, 1, 1)),
            Holiday("国庆节", date(year, 10, 1), date(year, 10, 7)),
        ),
        working_days=(AdjustedWorkingDay(before, "国庆节"),),
        description=f"made up for the tests: not the official calendar of {year}",
    )


def calendar_for_tests(*years: int) -> OfficialCalendar:
    return calendar_of(year_for_tests(year) for year in years)


async def load_test_calendar(sessions: async_sessionmaker[AsyncSession], years: Iterable[int]) -> list[int]:
    """Load the test calendar of each of `years` the database does not know yet; the years loaded."""
    loaded = []
    async with sessions.begin() as session:
        for year in years:
            if await session.get(CalendarYearRow, year) is None:
                await store_year(session, year_for_tests(year), "tests")
                loaded.append(year)
    return loaded


@contextlib.asynccontextmanager
async def example_year_for_a_test(sessions: async_sessionmaker[AsyncSession], year: int) -> AsyncIterator[None]:
    """For a test that loads an example file of `year` into the shared database: afterwards the year is the test
    calendar again, so that the tests after it (the health check: an example year warns) see the session's years."""
    try:
        yield
    finally:
        async with sessions.begin() as session:
            row = await session.get(CalendarYearRow, year)
            if row is not None and row.example:
                await session.delete(row)
        await load_test_calendar(sessions, [year])


async def seed_calendars_for_tests(sessions: async_sessionmaker[AsyncSession]) -> None:
    """A test database's calendar: the packaged years unless SUBSIDY_CALENDAR_PACKAGED=0 (CI runs the suite both
    ways), then the test calendars of last year, this year and next year where the database does not know them."""
    await seed_calendar(sessions, packaged=Settings().calendar_packaged)
    today = china_today()
    await load_test_calendar(sessions, range(today.year - 1, today.year + 2))


async def database_calendar(sessions: async_sessionmaker[AsyncSession]) -> OfficialCalendar:
    """The calendar the service counts on right now (what a test computes its expected days from)."""
    async with sessions() as session:
        return await read_calendar(session)
