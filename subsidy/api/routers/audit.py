"""Auditors only: read everything, change nothing."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from subsidy.activities.audit import verify_chain
from subsidy.api import audit
from subsidy.api.deps import ResourcesDep, SessionDep, require_roles
from subsidy.api.read_model import get_visible_application
from subsidy.api.security import Identity

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])
Auditor = Annotated[Identity, Depends(require_roles("auditor", "admin"))]


class TimelineOut(BaseModel):
    at: datetime
    kind: str
    actor: str
    detail: dict[str, Any]


class ReplayOut(BaseModel):
    deterministic: bool
    events: int
    runs: int
    error: str | None


class VerifyOut(BaseModel):
    ok: bool
    rows: int
    first_bad_row: int | None


@router.get("/applications/{application_id}/timeline", response_model=list[TimelineOut])
async def timeline(application_id: str, identity: Auditor, db: SessionDep, res: ResourcesDep) -> list[TimelineOut]:
    application = await get_visible_application(db, application_id, identity)
    runs = await audit.histories(db, res.temporal, application)
    return [TimelineOut(**vars(entry)) for entry in await audit.timeline(db, application, runs)]


@router.get("/applications/{application_id}/history")
async def history(application_id: str, identity: Auditor, db: SessionDep, res: ResourcesDep) -> dict[str, Any]:
    """Every run of the workflow in order; each `history` is what `temporal workflow show -o json` writes."""
    application = await get_visible_application(db, application_id, identity)
    return audit.history_document(await audit.histories(db, res.temporal, application))


@router.post("/applications/{application_id}/replay", response_model=ReplayOut)
async def replay(application_id: str, identity: Auditor, db: SessionDep, res: ResourcesDep) -> ReplayOut:
    application = await get_visible_application(db, application_id, identity)
    report = await audit.replay(await audit.histories(db, res.temporal, application))
    return ReplayOut(deterministic=report.deterministic, events=report.events, runs=report.runs, error=report.error)


@router.get("/log/verify", response_model=VerifyOut)
async def verify(identity: Auditor, db: SessionDep) -> VerifyOut:
    check = await verify_chain(db)
    return VerifyOut(ok=check.ok, rows=check.rows, first_bad_row=check.first_bad_row)
