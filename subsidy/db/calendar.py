"""The official calendar in PostgreSQL: read it as a value, load a year, seed the packaged years.

`policy.workdays` counts on an `OfficialCalendar` value; this module makes that value from `calendar_years`, which
the API, the pages, `subsidy calendar load` and the workflows' calendar activity all read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from subsidy.db.audit_chain import append_audit
from subsidy.db.calendar_models import CalendarYearRow
from subsidy.policy.calendar_file import (
    PACKAGED,
    CalendarYear,
    calendar_of,
    packaged_year,
    packaged_years,
    year_from_json,
    year_to_json,
)
from subsidy.policy.workdays import OfficialCalendar

__all__ = ["CalendarStatus", "calendar_status", "known_years", "read_calendar", "seed_calendar", "store_year"]

# From this day of a year on, the next year's calendar should be known (the notice comes out in the autumn).
WARN_FROM_MONTH = 11


def _year_of(row: CalendarYearRow) -> CalendarYear:
    return year_from_json(
        row.year,
        row.source,
        row.days,
        notice=row.notice,
        url=row.url,
        description=row.description,
        example=row.example,
    )


async def known_years(session: AsyncSession) -> list[CalendarYearRow]:
    return list((await session.scalars(select(CalendarYearRow).order_by(CalendarYearRow.year))).all())


async def read_calendar(session: AsyncSession, years: range | None = None) -> OfficialCalendar:
    """The calendar of every year the database knows (or of those of `years` it knows)."""
    query = select(CalendarYearRow)
    if years is not None:
        query = query.where(CalendarYearRow.year.in_(list(years)))
    rows = (await session.scalars(query)).all()
    return calendar_of(_year_of(row) for row in rows)


async def store_year(session: AsyncSession, year: CalendarYear, loaded_by: str) -> bool:
    """Load (or replace) one year in the caller's transaction, audited; True when it replaced a known year."""
    values = {
        "source": year.source,
        "example": year.example,
        "notice": year.notice,
        "url": year.url,
        "description": year.description,
        "days": year_to_json(year),
        "loaded_by": loaded_by,
        "loaded_at": datetime.now(UTC),
    }
    before = await session.get(CalendarYearRow, year.year, with_for_update=True)
    previous = None if before is None else before.source
    await session.execute(
        insert(CalendarYearRow)
        .values(year=year.year, **values)
        .on_conflict_do_update(index_elements=[CalendarYearRow.year], set_=values)
    )
    await append_audit(
        session,
        kind="calendar_year_loaded",
        actor=loaded_by,
        at=datetime.now(UTC),
        detail={
            "year": year.year,
            "source": year.source,
            "notice": year.notice,
            "url": year.url,
            "replaced": previous,
            "holidays": len(year.holiday_days()),
            "working_days": len(year.working_days),
        },
    )
    return previous is not None


async def seed_calendar(sessions: async_sessionmaker[AsyncSession], *, packaged: bool = True) -> list[int]:
    """Insert the installed package's years the database does not know yet; `packaged=False` inserts none."""
    if not packaged:
        return []
    from importlib.metadata import version

    package_version = version("chinesecalendar")
    added: list[int] = []
    async with sessions.begin() as session:
        for number in packaged_years():
            year = packaged_year(number, package_version)
            if year is None:
                continue
            inserted = await session.scalar(
                insert(CalendarYearRow)
                .values(
                    year=number,
                    source=PACKAGED,
                    example=False,
                    description=year.description,
                    days=year_to_json(year),
                    loaded_by="seed",
                )
                .on_conflict_do_nothing(index_elements=[CalendarYearRow.year])
                .returning(CalendarYearRow.year)
            )
            if inserted is not None:
                added.append(number)
    return added


@dataclass(frozen=True)
class CalendarStatus:
    """What `/healthz` and the administrator's home page say about the calendar on `today`."""

    known: list[int]
    next_year_known: bool
    warning: str | None  # set from 1 November while next year is unknown, or known only from an example
    state: str = "ok"  # "next_year_unknown" or "next_year_example" while `warning` is set


async def calendar_status(session: AsyncSession, today: date) -> CalendarStatus:
    rows = (
        await session.execute(select(CalendarYearRow.year, CalendarYearRow.example).order_by(CalendarYearRow.year))
    ).all()
    years = [year for year, _example in rows]
    examples = {year for year, example in rows if example}
    next_year = today.year + 1
    next_known = next_year in years
    warning = None
    state = "ok"
    if today.month >= WARN_FROM_MONTH and not next_known:
        state = "next_year_unknown"
        warning = (
            f"the official calendar of {next_year} is not loaded: from 1 January due dates will be "
            "Monday-to-Friday estimates and publicity periods will be refused; load the State Council's notice"
        )
    elif today.month >= WARN_FROM_MONTH and next_year in examples:
        state = "next_year_example"
        # An example file counts days like a notice but is not one: a due date or publicity period counted on it
        # is not official, so the warning stays until the notice replaces it.
        warning = (
            f"the calendar of {next_year} is an example, not the State Council's notice: days counted on it are not "
            "official; load the notice"
        )
    return CalendarStatus(
        known=years, next_year_known=next_known and next_year not in examples, warning=warning, state=state
    )
