"""Evidence documents of an application: attach (the filer), list and read (whoever may read the application)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Path, Response, UploadFile
from pydantic import BaseModel

from subsidy.api import documents
from subsidy.api.deps import UUID_PATTERN, ApplicationIdPath, CurrentUser, SessionDep
from subsidy.api.errors import documented

router = APIRouter(
    prefix="/api/v1/applications", tags=["documents"], responses=documented(400, 401, 403, 404, 413, 503)
)

DocumentIdPath = Annotated[str, Path(pattern=UUID_PATTERN, max_length=36, description="the document's id")]


class DocumentOut(BaseModel):
    id: str
    application_id: str
    kind: str
    filename: str
    media_type: str
    size: int
    sha256: str
    uploaded_by: str
    uploaded_at: datetime


def _out(found: documents.DocumentInfo) -> DocumentOut:
    return DocumentOut(**found.__dict__)


@router.post("/{application_id}/documents", response_model=DocumentOut, status_code=201, responses=documented(409))
async def attach_document(
    application_id: ApplicationIdPath,
    identity: CurrentUser,
    db: SessionDep,
    kind: Annotated[str, Form(pattern=r"^[a-z_]{1,48}$", description="one of the program's document kinds")],
    file: Annotated[UploadFile, File(description="a PDF, JPEG or PNG of at most 5 MiB")],
) -> DocumentOut:
    content = await file.read(documents.MAX_DOCUMENT_BYTES + 1)
    return _out(await documents.attach(db, identity, application_id, kind, file.filename, content))


@router.get("/{application_id}/documents", response_model=list[DocumentOut])
async def list_documents(application_id: ApplicationIdPath, identity: CurrentUser, db: SessionDep) -> list[DocumentOut]:
    return [_out(found) for found in await documents.visible_documents(db, identity, application_id)]


@router.get(
    "/{application_id}/documents/{document_id}",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}, "image/jpeg": {}, "image/png": {}}}},
)
async def read_document(
    application_id: ApplicationIdPath, document_id: DocumentIdPath, identity: CurrentUser, db: SessionDep
) -> Response:
    return file_response(await documents.read(db, identity, application_id, document_id))


def file_response(found: documents.Document) -> Response:
    """The file as stored, as a download: never rendered by the browser as a page of this origin."""
    return Response(
        found.content,
        media_type=found.media_type,
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(found.filename)}",
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
        },
    )
