"""The worker of the service: one task queue, every program's workflows and activities (the client is
`subsidy.temporal_client.client`)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.worker import Worker

from subsidy.programs.registry import ACTIVITY_CLASSES, WORKFLOW_CLASSES


def build_worker(client: Client, task_queue: str, sessions: async_sessionmaker[AsyncSession]) -> Worker:
    return Worker(
        client,
        task_queue=task_queue,
        # Every program's workflows and activities, from the program registry (shared ones once).
        workflows=WORKFLOW_CLASSES,
        activities=[activity for kind in ACTIVITY_CLASSES for activity in kind(sessions).all()],
        max_concurrent_activities=50,
    )
