"""Submissions whose workflow never started get started: the applicant's "saved" is kept even without a retry.

`POST /api/v1/applications` commits the row first and starts the workflow second. If the engine cannot be reached
in between (the client gets 503), or the API dies there, the row waits as `submitted` with no workflow. The worker
looks for such rows every `SUBSIDY_SWEEP_SECONDS` and starts them, with the submission's own date and policy
version; a workflow id is never reused, so a row whose workflow exists (or existed) is left as it is.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.service import RPCError

from subsidy.api.procedures import start_workflow_of
from subsidy.db.models import Application

log = logging.getLogger("subsidy.starter")

# A submission younger than this may still be starting in the API's own request.
GRACE = timedelta(seconds=10)
BATCH = 200


async def start_stranded(
    sessions: async_sessionmaker[AsyncSession], client: Client, task_queue: str, *, grace: timedelta = GRACE
) -> int:
    """Start the workflows of submissions that have none; returns how many were started now."""
    async with sessions() as session:
        waiting = (
            await session.scalars(
                select(Application)
                .where(Application.status == "submitted", Application.submitted_at < datetime.now(UTC) - grace)
                .order_by(Application.submitted_at)
                .limit(BATCH)
            )
        ).all()
        started = 0
        for application in waiting:
            # (A corrected application is `submitted` again while its running workflow checks it: found, left alone.)
            # The session reads the version the application pinned (loaded versions are in the database only).
            if await start_workflow_of(client, task_queue, application, session=session):
                log.info("started the workflow of application %s, submitted with no workflow", application.id)
                started += 1
    return started


async def run_starter(
    sessions: async_sessionmaker[AsyncSession],
    client: Client,
    task_queue: str,
    stop: asyncio.Event,
    every_seconds: float,
) -> None:
    while not stop.is_set():
        try:
            await start_stranded(sessions, client, task_queue)
        except RPCError as error:  # the engine is still away: the next round tries again
            log.warning("starting saved submissions: the workflow engine cannot be reached (%s)", error.status.name)
        except Exception:
            log.exception("starting saved submissions failed")
        try:
            await asyncio.wait_for(stop.wait(), timeout=every_seconds)
        except TimeoutError:
            pass
