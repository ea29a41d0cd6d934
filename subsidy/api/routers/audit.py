"""Auditors only: read everything, change nothing."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from cryptography.exceptions import InvalidTag
from fastapi import APIRouter, Depends
from google.protobuf import json_format
from pydantic import BaseModel
from temporalio.api.common.v1 import Payloads

from subsidy.activities.audit import verify_chain
from subsidy.api import audit
from subsidy.api.deps import ApplicationIdPath, ResourcesDep, SessionDep, require_roles
from subsidy.api.errors import Invalid, documented
from subsidy.api.read_model import get_visible_application
from subsidy.api.security import Identity
from subsidy.service.encryption import KeyringError
from subsidy.service.temporal import DATA_CONVERTER

router = APIRouter(prefix="/api/v1/audit", tags=["audit"], responses=documented(400, 401, 403, 404, 413))
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
async def timeline(
    application_id: ApplicationIdPath, identity: Auditor, db: SessionDep, res: ResourcesDep
) -> list[TimelineOut]:
    application = await get_visible_application(db, application_id, identity)
    runs = await audit.histories(db, res.temporal, application)
    return [TimelineOut(**vars(entry)) for entry in await audit.timeline(db, application, runs)]


@router.get("/applications/{application_id}/history")
async def history(
    application_id: ApplicationIdPath, identity: Auditor, db: SessionDep, res: ResourcesDep
) -> dict[str, Any]:
    """Every run of the workflow in order; each `history` is what `temporal workflow show -o json` writes."""
    application = await get_visible_application(db, application_id, identity)
    return audit.history_document(await audit.histories(db, res.temporal, application))


@router.post("/applications/{application_id}/replay", response_model=ReplayOut)
async def replay(application_id: ApplicationIdPath, identity: Auditor, db: SessionDep, res: ResourcesDep) -> ReplayOut:
    application = await get_visible_application(db, application_id, identity)
    report = await audit.replay(await audit.histories(db, res.temporal, application))
    return ReplayOut(deterministic=report.deterministic, events=report.events, runs=report.runs, error=report.error)


@router.get("/log/verify", response_model=VerifyOut)
async def verify(identity: Auditor, db: SessionDep) -> VerifyOut:
    check = await verify_chain(db)
    return VerifyOut(ok=check.ok, rows=check.rows, first_bad_row=check.first_bad_row)


class CodecBody(BaseModel):
    payloads: list[dict[str, Any]]


@router.post("/codec/decode", response_model=CodecBody)
async def codec_decode(body: CodecBody, identity: Auditor) -> CodecBody:
    """Temporal's codec-server protocol, for auditors only: what the Temporal UI needs to show payloads decrypted."""
    payloads = Payloads()
    try:
        json_format.ParseDict({"payloads": body.payloads}, payloads)
    except json_format.ParseError:
        raise Invalid("payloads", "payloads must be Temporal payloads in proto JSON") from None
    codec = DATA_CONVERTER.payload_codec
    assert codec is not None
    try:
        opened = await codec.decode(list(payloads.payloads))
    except (KeyringError, InvalidTag):
        raise Invalid("payloads", "a payload cannot be opened with the configured keys") from None
    return CodecBody(payloads=[json_format.MessageToDict(payload) for payload in opened])
