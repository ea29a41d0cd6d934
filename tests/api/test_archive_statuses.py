"""Every terminal status of every program archives its history; a status that is not terminal for its program does
not (issue 13: approved post declarations were never archived, because the archiver kept a list of its own)."""

from __future__ import annotations

import uuid

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from subsidy.api.audit import archive_closed, ended_applications
from subsidy.db.models import Application, ArchivedHistory
from subsidy.programs.graduate_hiring_subsidy import workflow as graduate_hiring
from subsidy.programs.over_quota_reward import workflow as over_quota_reward
from subsidy.programs.public_welfare import flexible_insurance_workflow as flexible_insurance
from subsidy.programs.public_welfare import placement_workflow as public_welfare_placement
from subsidy.programs.public_welfare import post_workflow as public_welfare_post
from subsidy.programs.registry import PROGRAMS
from subsidy.programs.rent_subsidy import workflow as rent_subsidy


def test_the_registry_names_the_terminal_statuses_the_workflows_end_in() -> None:
    assert set(PROGRAMS["rent_subsidy"].terminal_statuses) == rent_subsidy.TERMINAL
    assert set(PROGRAMS["public_welfare_post"].terminal_statuses) == public_welfare_post.TERMINAL
    assert set(PROGRAMS["public_welfare_placement"].terminal_statuses) == public_welfare_placement.TERMINAL
    assert set(PROGRAMS["flexible_employment_insurance_subsidy"].terminal_statuses) == flexible_insurance.TERMINAL
    assert set(PROGRAMS["over_quota_reward"].terminal_statuses) == over_quota_reward.TERMINAL
    assert set(PROGRAMS["graduate_hiring_subsidy"].terminal_statuses) == set(graduate_hiring.TERMINAL)


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
            ("over_quota_reward", "approved"),  # approved, its payment not yet posted
            ("graduate_hiring_subsidy", "active"),
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


# A status in which each program's procedure goes on (the registry's terminal statuses are all the others).
RUNNING_STATUS = {
    "rent_subsidy": "active",
    "training_subsidy": "approved",  # a class plan approved waits for its completion report
    "public_welfare_post": "under_review",
    "public_welfare_post_collection": "under_review",
    "public_welfare_placement": "publicity",
    "flexible_employment_insurance_subsidy": "active",
    "account_registration": "submitted",
    "county_annual_report": "under_review",  # open until the county submits
    "over_quota_reward": "under_review",
    "dispatch_referral_reward": "active",  # the year of employment runs
    "blind_massage_insurance_subsidy": "under_review",
    "graduate_hiring_subsidy": "active",
}


def test_every_program_has_a_running_status_for_the_archiver_test() -> None:
    assert set(RUNNING_STATUS) == set(PROGRAMS)
    for code, status in RUNNING_STATUS.items():
        assert status not in PROGRAMS[code].terminal_statuses


async def test_the_archiver_archives_a_closed_workflow_in_every_terminal_status_of_every_program_and_nothing_else(
    sessions: async_sessionmaker[AsyncSession], dev_server_env: WorkflowEnvironment
) -> None:
    """Through `archive_closed` itself, on the Temporal dev server: each row's workflow (of its program's type, on a
    task queue no worker polls) is closed by terminating it, except where the test says it still runs."""
    client = dev_server_env.client
    queue = f"archive-test-{uuid.uuid4()}"
    rows: dict[uuid.UUID, tuple[str, str, bool]] = {}  # id -> (program, status, workflow closed)
    handles: list[WorkflowHandle] = []  # type: ignore[type-arg]

    async def add(db: AsyncSession, program: str, status: str, *, closed: bool = True) -> None:
        application_id = _row(db, program, status)
        handle = await client.start_workflow(
            PROGRAMS[program].workflow, id=_workflow_id(application_id), task_queue=queue
        )
        handles.append(handle)
        if closed:
            await handle.terminate("the archiver test needs only a closed history")
        rows[application_id] = (program, status, closed)

    try:
        async with sessions.begin() as db:
            for program in PROGRAMS.values():
                for status in program.terminal_statuses:
                    await add(db, program.code, status)
                await add(db, program.code, RUNNING_STATUS[program.code])  # ended in Temporal, not in its status
            await add(db, "public_welfare_post", "approved", closed=False)  # ended, but its workflow still runs
        await archive_closed(sessions, client, limit=100_000)
        async with sessions() as db:
            archived = {
                (row.application_id, row.run_index, row.workflow_type, row.events)
                for row in await db.scalars(select(ArchivedHistory).where(ArchivedHistory.application_id.in_(rows)))
            }
        expected = {
            (application_id, 0, PROGRAMS[program].workflow, 3)  # started, task scheduled, terminated
            for application_id, (program, status, closed) in rows.items()
            if closed and status in PROGRAMS[program].terminal_statuses
        }
        assert archived == expected
        assert len(expected) == sum(len(p.terminal_statuses) for p in PROGRAMS.values())
        assert ("public_welfare_post", "approved", True) in {rows[a] for a, *_ in archived}
    finally:
        for handle in handles:
            try:
                await handle.terminate("archiver test over")
            except Exception:  # noqa: BLE001 - already closed
                pass
        async with sessions.begin() as db:
            await db.execute(delete(ArchivedHistory).where(ArchivedHistory.application_id.in_(rows)))
            await db.execute(delete(Application).where(Application.id.in_(rows)))


def _workflow_id(application_id: uuid.UUID) -> str:
    return f"archive-test-{application_id}"


def _row(db: AsyncSession, program: str, status: str) -> uuid.UUID:
    application_id = uuid.uuid4()
    db.add(
        Application(
            id=application_id,
            program=program,
            status=status,
            county="150203",
            submitted_by="test",
            workflow_id=_workflow_id(application_id),
            form={},
        )
    )
    return application_id
