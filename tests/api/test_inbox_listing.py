"""The inbox list read range by range (city-wide and own county, open and claimed) must give exactly the rows and
the order of the plain query, on every page: earliest due first, no due date last, then oldest, then id."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from subsidy.api.inbox import INBOX_ORDER, InboxFilter, inbox_query, inbox_ranges, list_inbox
from subsidy.api.security import Identity
from subsidy.db.models import Application, Task

COUNTY, OTHER_COUNTY = "150203", "150204"


async def seed(sessions: async_sessionmaker[AsyncSession], role: str) -> None:
    """73 tasks of one fresh role: own county, city-wide, another county, closed; equal due dates to test ties."""
    chooser = random.Random(7)
    start = datetime(2026, 11, 2, 9, tzinfo=UTC)
    async with sessions.begin() as session:
        application = Application(
            id=uuid.uuid4(),
            program="rent_subsidy",
            status="under_review",
            county=COUNTY,
            submitted_by="inbox-order-test",
            workflow_id=f"inbox-order-{uuid.uuid4()}",
            form={},
        )
        session.add(application)
        await session.flush()
        for n in range(73):
            county = chooser.choice([COUNTY, COUNTY, None, OTHER_COUNTY])
            status = chooser.choice(["open", "open", "claimed", "done"])
            due = None if n % 6 == 0 else start + timedelta(days=chooser.randint(0, 4))  # many equal due dates
            session.add(
                Task(
                    application_id=application.id,
                    workflow_id=application.workflow_id,
                    program="rent_subsidy",
                    step=f"step-{n}",
                    role=role,
                    county=county,
                    status=status,
                    claimed_by="dpf-150203-b" if status == "claimed" else None,
                    created_at=start - timedelta(hours=chooser.randint(0, 3)),
                    due_at=due,
                )
            )


async def test_ranges_merged_give_the_plain_querys_rows_in_order_on_every_page(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    role = f"t{uuid.uuid4().hex[:12]}"
    await seed(sessions, role)
    official = Identity("dpf-150203-a", (role,), COUNTY)
    async with sessions() as session:
        for wanted in (InboxFilter(), InboxFilter(status="claimed"), InboxFilter(program="rent_subsidy")):
            assert len(inbox_ranges(official, wanted)) >= 2  # the merged path is the one tested
            expected = list((await session.scalars(inbox_query(official, wanted).order_by(*INBOX_ORDER))).all())
            assert expected, "the seed gives every filter some tasks"
            assert all(task.county in (COUNTY, None) for task in expected)
            for limit, offset in ((10, 0), (10, 10), (7, 21), (100, 0), (5, len(expected) - 2), (5, len(expected))):
                page, total = await list_inbox(session, official, wanted, limit, offset)
                assert total == len(expected)
                assert [task.id for task in page] == [task.id for task in expected[offset : offset + limit]]
        # Nulls last: a task without a due date never comes before one with a date.
        page, _ = await list_inbox(session, official, InboxFilter(), 100, 0)
        dues = [task.due_at for task in page]
        assert None in dues and all(d is None for d in dues[dues.index(None) :])


async def test_an_official_without_a_county_sees_only_city_wide_tasks(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    role = f"t{uuid.uuid4().hex[:12]}"
    await seed(sessions, role)
    city_official = Identity("city-dpf-a", (role,), None)
    async with sessions() as session:
        page, total = await list_inbox(session, city_official, InboxFilter(), 100, 0)
    assert total == len(page) > 0
    assert {task.county for task in page} == {None}
    assert {task.status for task in page} <= {"open", "claimed"}
