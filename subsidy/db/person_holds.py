"""What a person holds now, read under the person's row lock: shared by the placement activities and the API's
admission checks (program P and the flexible-employment insurance subsidy exclude each other).

Lock order, everywhere: the person's row, then the application's, then the post's (DESIGN.md §8).
"""

from __future__ import annotations

import uuid

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from subsidy.db.models import Application, Person
from subsidy.programs.graduate_hiring_subsidy.contracts import GRADUATE_HIRING_PROGRAM
from subsidy.programs.public_welfare.contracts import FLEXIBLE_PROGRAM, PLACEMENT_PROGRAM

# A placement in one of these holds its place on the post (and so excludes the flexible-employment subsidy).
HOLDS_PLACE = ("publicity", "approved", "active")
# A placement in one of these has taken up a post: it counts towards the cap.
TOOK_UP_A_POST = (*HOLDS_PLACE, "completed", "terminated")
# A flexible-employment subsidy in one of these is running (it is approved straight into `active`).
FLEXIBLE_RUNNING = ("approved", "active")
FLEXIBLE_PENDING_OR_RUNNING = ("under_review", "returned", *FLEXIBLE_RUNNING)
# A graduate hiring subsidy in `active` is running (its years are being paid); one submitted or under review is
# pending: a person has one of them at a time, and a running one excludes a public-welfare placement.
GRADUATE_HIRING_RUNNING = ("active",)
GRADUATE_HIRING_PENDING_OR_RUNNING = ("submitted", "under_review", *GRADUATE_HIRING_RUNNING)


async def lock_person(session: AsyncSession, person_id: uuid.UUID) -> None:
    await session.execute(select(Person.id).where(Person.id == person_id).with_for_update())


async def placement_held(session: AsyncSession, person_id: uuid.UUID, exclude: uuid.UUID | None = None) -> bool:
    return await holds(session, person_id, PLACEMENT_PROGRAM, HOLDS_PLACE, exclude)


async def flexible_insurance_held(
    session: AsyncSession, person_id: uuid.UUID, exclude: uuid.UUID | None = None
) -> bool:
    return await holds(session, person_id, FLEXIBLE_PROGRAM, FLEXIBLE_RUNNING, exclude)


async def graduate_hiring_held(session: AsyncSession, person_id: uuid.UUID, exclude: uuid.UUID | None = None) -> bool:
    """Whether the person's graduate hiring subsidy is running (it excludes a public-welfare post)."""
    return await holds(session, person_id, GRADUATE_HIRING_PROGRAM, GRADUATE_HIRING_RUNNING, exclude)


async def holds(
    session: AsyncSession, person_id: uuid.UUID, program: str, statuses: tuple[str, ...], exclude: uuid.UUID | None
) -> bool:
    """Whether the person has an application of `program` in one of `statuses` (other than `exclude`)."""
    query = select(
        exists().where(
            Application.person_id == person_id,
            Application.program == program,
            Application.status.in_(statuses),
            *([Application.id != exclude] if exclude is not None else []),
        )
    )
    return bool(await session.scalar(query))
