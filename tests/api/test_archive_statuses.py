"""Every terminal status of every program archives its history; a status that is not terminal for its program does
not (issue 13: approved post declarations were never archived, because the archiver kept a list of its own)."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from subsidy.api.audit import ended_applications
from subsidy.db.models import Application
from subsidy.programs.registry import PROGRAMS
from subsidy.workflows import flexible_insurance, public_welfare_placement, public_welfare_post, rent_subsidy


def test_the_registry_names_the_terminal_statuses_the_workflows_end_in() -> None:
    assert set(PROGRAMS["rent_subsidy"].terminal_statuses) == rent_subsidy.TERMINAL
    assert set(PROGRAMS["public_welfare_post"].terminal_statuses) == public_welfare_post.TERMINAL
    assert set(PROGRAMS["public_welfare_placement"].terminal_statuses) == public_welfare_placement.TERMINAL
    assert set(PROGRAMS["flexible_employment_insurance_subsidy"].terminal_statuses) == flexible_insurance.TERMINAL


async def test_the_archiver_takes_every_terminal_status_of_every_program_and_nothing_else(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    ended: set[uuid.UUID] = set()
    running: set[uuid.UUID] = set()
    async with sessions() as db:
        for program in PROGRAMS.values():
            for status in program.terminal_statuses:
                ended.add(_row(db, program.code, status))
        for code, status in [
            ("training_subsidy", "approved"),  # a class plan approved waits for its completion report
            ("rent_subsidy", "active"),
            ("public_welfare_post", "under_review"),
            ("public_welfare_post_collection", "under_review"),
            ("public_welfare_placement", "publicity"),
            ("flexible_employment_insurance_subsidy", "active"),
        ]:
            running.add(_row(db, code, status))
        await db.flush()
        chosen = set(
            (
                await db.scalars(
                    select(Application.id).where(Application.id.in_(ended | running)).where(ended_applications())
                )
            ).all()
        )
        await db.rollback()
    assert ("public_welfare_post", "approved") in {(p.code, s) for p in PROGRAMS.values() for s in p.terminal_statuses}
    assert chosen == ended


def _row(db: AsyncSession, program: str, status: str) -> uuid.UUID:
    application_id = uuid.uuid4()
    db.add(
        Application(
            id=application_id,
            program=program,
            status=status,
            county="150203",
            submitted_by="test",
            workflow_id=f"archive-test-{application_id}",
            form={},
        )
    )
    return application_id
