"""Sending an event (withdrawn, corrected, a completion report, the end of an employment...) from a page.

Every page that sends one does the same: the read model's transaction ends first (the workflow's own steps write
the application), the event goes to the workflow's `event` update, and a refusal is recorded and handed back for
the page to show in words. What each page then shows is its own.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from subsidy.api import procedures
from subsidy.api.deps import Resources
from subsidy.api.errors import ServiceError
from subsidy.api.refusals import record_refusal
from subsidy.db.models import Application


async def send_from_page(
    request: Request, db: AsyncSession, res: Resources, application: Application, event: Any
) -> ServiceError | None:
    """The workflow's refusal (already recorded), or None once the event is done."""
    await db.commit()
    try:
        await procedures.send_event(res.temporal, application.workflow_id, event)
    except ServiceError as refused:
        await record_refusal(request, refused.status_code)
        return refused
    return None
