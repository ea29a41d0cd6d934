"""Keeping histories as long as records must be kept.

Temporal purges closed histories after the namespace retention (the dev server's default is a day), so `subsidy up`
raises the retention to the record-keeping period, and a loop copies every closed history into PostgreSQL.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from google.protobuf.duration_pb2 import Duration
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.api.namespace.v1 import NamespaceConfig
from temporalio.api.workflowservice.v1 import UpdateNamespaceRequest
from temporalio.client import Client

from subsidy.api.audit import archive_closed

log = logging.getLogger(__name__)


async def set_retention(client: Client, namespace: str, days: int) -> None:
    seconds = int(timedelta(days=days).total_seconds())
    await client.workflow_service.update_namespace(
        UpdateNamespaceRequest(
            namespace=namespace,
            config=NamespaceConfig(workflow_execution_retention_ttl=Duration(seconds=seconds)),
        )
    )


async def run_archiver(
    sessions: async_sessionmaker[AsyncSession], client: Client, stop: asyncio.Event, every_seconds: float = 30
) -> None:
    while not stop.is_set():
        try:
            archived = await archive_closed(sessions, client)
            if archived:
                log.info("archived the histories of %d closed application(s)", archived)
        except Exception:  # the next round tries again; an archive is never urgent
            log.exception("archiving closed histories failed")
        try:
            await asyncio.wait_for(stop.wait(), timeout=every_seconds)
        except TimeoutError:
            pass
