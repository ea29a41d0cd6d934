"""Auditors only: read everything, change nothing.

The codec endpoint is what the Temporal UI calls to show payloads decrypted (`temporal server start-dev
--ui-codec-endpoint <base>/api/v1/audit/codec`, as `subsidy up` does). The UI runs on another origin and sends no
token of ours, only the browser's cookies ("Include cross-origin credentials" in its Codec Server settings), so this
one endpoint also accepts the auditor's signed-in page session, from a configured UI origin only
(SUBSIDY_CODEC_CORS_ORIGINS), and `CodecCors` lets those origins, and no other, call it and read its answers.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any

from cryptography.exceptions import InvalidTag
from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordBearer
from google.protobuf import json_format
from pydantic import BaseModel, ConfigDict, Field
from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send
from temporalio.api.common.v1 import Payloads

from subsidy.api import audit
from subsidy.api.deps import (
    ApplicationIdPath,
    ResourcesDep,
    SessionDep,
    current_identity,
    require_roles,
    resources,
)
from subsidy.api.errors import Forbidden, Invalid, NotAuthenticated, documented
from subsidy.api.pages.web import page_identity
from subsidy.api.read_model import get_visible_application
from subsidy.api.refusals import set_actor
from subsidy.api.security import Identity
from subsidy.db.audit_chain import verify_chain
from subsidy.temporal_client.client import DATA_CONVERTER
from subsidy.temporal_client.encryption import KeyringError

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


# Temporal payloads in proto JSON, as the Temporal UI sends them: base64 metadata values and data.
BASE64_PATTERN = r"^[A-Za-z0-9+/_-]*={0,2}$"
Base64Text = Annotated[str, Field(pattern=BASE64_PATTERN, max_length=1_000_000)]


class PayloadJson(BaseModel):
    """One `temporal.api.common.v1.Payload` in proto JSON."""

    model_config = ConfigDict(extra="forbid")

    metadata: dict[Annotated[str, Field(max_length=200)], Base64Text] = Field(default_factory=dict, max_length=50)
    data: Base64Text = ""
    # Proto JSON's name; references to payloads kept in external storage, passed through as they are.
    externalPayloads: list[dict[str, Any]] = Field(default_factory=list, max_length=100)  # noqa: N815


class CodecBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    payloads: Annotated[
        list[PayloadJson],
        Field(
            max_length=1000,
            description="Temporal payloads in proto JSON; to decode, each must have been sealed with a configured key"
            " (422 otherwise)",
        ),
    ]


CODEC_PATH = "/api/v1/audit/codec/"
# What the Temporal UI sends: JSON, the namespace, and a bearer token when "pass access token" is on.
CODEC_REQUEST_HEADERS = ("Content-Type", "X-Namespace", "Authorization")
_bearer = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


async def codec_auditor(request: Request, token: Annotated[str | None, Depends(_bearer)], db: SessionDep) -> Identity:
    """A bearer token as everywhere in the API; without one, from the Temporal UI's origin, the page session.

    A page session counts only for a request that says it comes from a configured UI origin: another site (even
    another port of this host, which is the same site for the cookie) gets 401, whatever cookies its browser sends.
    """
    if token:
        identity = await current_identity(request, token, db)
    else:
        from_ui = request.headers.get("origin") in resources(request).settings.codec_origins()
        found = page_identity(request) if from_ui else None
        if found is None:
            raise NotAuthenticated("not logged in")
        identity = found
        set_actor(request, identity.username)
    if not identity.has("auditor", "admin"):
        raise Forbidden("this needs one of the roles: auditor, admin")
    return identity


class CodecCors:
    """CORS on the codec endpoint alone, for the configured origins alone (the Temporal UI's), with credentials.

    Any other path, and a request from any other origin, goes to the app untouched: no CORS header at all, so a
    browser never lets another site read an answer (a preflight from it gets the app's 405).
    """

    def __init__(self, app: ASGIApp, origins: Sequence[str]) -> None:
        self.app = app
        self.origins = frozenset(origins)
        self.cors = CORSMiddleware(
            app,
            allow_origins=sorted(self.origins),
            allow_methods=["POST"],
            allow_headers=list(CODEC_REQUEST_HEADERS),
            allow_credentials=True,
            max_age=600,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["path"].startswith(CODEC_PATH)
            and Headers(scope=scope).get("origin") in self.origins
        ):
            await self.cors(scope, receive, send)
            return
        await self.app(scope, receive, send)


@router.post("/codec/decode", response_model=CodecBody)
async def codec_decode(body: CodecBody, identity: Annotated[Identity, Depends(codec_auditor)]) -> CodecBody:
    """Temporal's codec-server protocol, for auditors only: what the Temporal UI needs to show payloads decrypted."""
    payloads = Payloads()
    try:
        json_format.ParseDict(body.model_dump(exclude_defaults=True), payloads)
    except json_format.ParseError:
        raise Invalid("payloads", "payloads must be Temporal payloads in proto JSON") from None
    codec = DATA_CONVERTER.payload_codec
    assert codec is not None
    try:
        opened = await codec.decode(list(payloads.payloads))
    except (KeyringError, InvalidTag):
        raise Invalid("payloads", "a payload cannot be opened with the configured keys") from None
    return CodecBody.model_validate({"payloads": [json_format.MessageToDict(payload) for payload in opened]})
