"""The worker of the service: one task queue, every workflow, every activity (the client is
`subsidy.temporal_client.client`)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.worker import Worker

from subsidy.activities.calendar import CalendarActivities
from subsidy.activities.placement import PlacementActivities
from subsidy.activities.procedure import ProcedureActivities
from subsidy.activities.registration import RegistrationActivities
from subsidy.activities.training import TrainingActivities
from subsidy.workflows import ALL_WORKFLOWS


def build_worker(client: Client, task_queue: str, sessions: async_sessionmaker[AsyncSession]) -> Worker:
    return Worker(
        client,
        task_queue=task_queue,
        workflows=ALL_WORKFLOWS,
        activities=[
            *ProcedureActivities(sessions).all(),
            *TrainingActivities(sessions).all(),
            *PlacementActivities(sessions).all(),
            *CalendarActivities(sessions).all(),
            *RegistrationActivities(sessions).all(),
        ],
        max_concurrent_activities=50,
    )
