"""Evidence documents: attach a file to an application, list them, read one.

A file is accepted by what it is, never by its name: its first bytes must be those of a PDF, a JPEG or a PNG
(`puremagic`, with the signatures checked once more here), at most `MAX_DOCUMENT_BYTES`, of a kind the program's
declaration lists. It is stored as received with its SHA-256, which also goes into the audit log with who attached
what and when. Only the account that filed the application attaches files, while the application is still open;
whoever may read the application (its people, its county's officials, the city, auditors) may read its files, and
nobody else learns that they exist (404, as for the application itself).
"""

from __future__ import annotations

import hashlib
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import puremagic
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from subsidy.api.errors import Conflict, Forbidden, Invalid, NotFound
from subsidy.api.read_model import get_visible_application
from subsidy.api.security import Identity
from subsidy.db.audit_chain import append_audit
from subsidy.db.document_models import Document
from subsidy.db.models import Application
from subsidy.programs.registry import PROGRAMS, is_terminal

MAX_DOCUMENT_BYTES = 5 * 1024 * 1024
# The signature each allowed type starts with: what the content must show, whatever the name says.
SIGNATURES = {
    "application/pdf": (b"%PDF-",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
}
EXTENSION = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}
DOCUMENT_TYPE_NOT_ALLOWED = "document_type_not_allowed"
DOCUMENT_TOO_LARGE = "document_too_large"
DOCUMENT_EMPTY = "document_empty"
UNKNOWN_DOCUMENT_KIND = "unknown_document_kind"


@dataclass(frozen=True)
class DocumentInfo:
    id: str
    application_id: str
    kind: str
    filename: str
    media_type: str
    size: int
    sha256: str
    uploaded_by: str
    uploaded_at: datetime


def info(document: Document) -> DocumentInfo:
    return DocumentInfo(
        id=str(document.id),
        application_id=str(document.application_id),
        kind=document.kind,
        filename=document.filename,
        media_type=document.media_type,
        size=document.size,
        sha256=document.sha256,
        uploaded_by=document.uploaded_by,
        uploaded_at=document.uploaded_at,
    )


def media_type_of(content: bytes) -> str | None:
    """PDF, JPEG or PNG as the content shows it; None for anything else (whatever its name)."""
    try:
        guessed = puremagic.from_string(content, mime=True)
    except puremagic.PureError:
        return None
    if guessed == "image/jpg":
        guessed = "image/jpeg"
    signatures = SIGNATURES.get(guessed)
    if signatures is None or not content.startswith(signatures):
        return None
    return guessed


def clean_filename(name: str | None, media_type: str) -> str:
    """The name as the uploader's computer had it, for people to recognise, made safe to show and to send back."""
    text = unicodedata.normalize("NFC", (name or "").replace("\\", "/").rsplit("/", 1)[-1])
    text = "".join(ch for ch in text if ch.isprintable() and ch not in '"<>|:*?')
    text = text.strip(" .")[:150] or "document"
    stem = text.rsplit(".", 1)[0] if "." in text else text
    return stem + EXTENSION[media_type]


async def attach(
    session: AsyncSession, identity: Identity, application_id: str, kind: str, filename: str | None, content: bytes
) -> DocumentInfo:
    application = await get_visible_application(session, application_id, identity)
    if application.submitted_by != identity.username:
        raise Forbidden("documents are attached by the account that filed the application")
    program = PROGRAMS[application.program]
    kinds = {document.code for document in program.documents}
    if kind not in kinds:
        allowed = ", ".join(sorted(kinds)) or "none"
        raise Invalid("kind", f"{program.code} takes these documents: {allowed}", code=UNKNOWN_DOCUMENT_KIND)
    if is_terminal(application.program, application.status):
        raise Conflict(f"an application that is {application.status} takes no more documents")
    if not content:
        raise Invalid("file", "the file is empty", code=DOCUMENT_EMPTY)
    if len(content) > MAX_DOCUMENT_BYTES:
        limit = MAX_DOCUMENT_BYTES // (1024 * 1024)
        raise Invalid("file", f"a document is at most {limit} MiB", code=DOCUMENT_TOO_LARGE)
    media_type = media_type_of(content)
    if media_type is None:
        raise Invalid("file", "attach a PDF, JPEG or PNG file (its content decides)", code=DOCUMENT_TYPE_NOT_ALLOWED)
    document = Document(
        id=uuid.uuid4(),
        application_id=application.id,
        kind=kind,
        filename=clean_filename(filename, media_type),
        media_type=media_type,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        content=content,
        uploaded_by=identity.username,
        uploaded_at=datetime.now(UTC),
    )
    session.add(document)
    await append_audit(
        session,
        kind="document_attached",
        actor=identity.username,
        at=document.uploaded_at,
        application_id=application.id,
        detail={
            "document": str(document.id),
            "kind": kind,
            "filename": document.filename,
            "media_type": media_type,
            "size": document.size,
            "sha256": document.sha256,
        },
    )
    await session.commit()
    return info(document)


async def listed(session: AsyncSession, application: Application) -> list[DocumentInfo]:
    rows = await session.scalars(
        select(Document).where(Document.application_id == application.id).order_by(Document.uploaded_at, Document.id)
    )
    return [info(row) for row in rows.all()]


async def visible_documents(session: AsyncSession, identity: Identity, application_id: str) -> list[DocumentInfo]:
    return await listed(session, await get_visible_application(session, application_id, identity))


async def read(session: AsyncSession, identity: Identity, application_id: str, document_id: str) -> Document:
    application = await get_visible_application(session, application_id, identity)
    try:
        key = uuid.UUID(document_id)
    except ValueError:
        raise NotFound("no such document") from None
    found = await session.scalar(select(Document).where(Document.id == key, Document.application_id == application.id))
    if found is None:
        raise NotFound("no such document")
    await session.refresh(found, ["content"])
    return found
