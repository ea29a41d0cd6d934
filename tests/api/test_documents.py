"""Evidence documents (issue 14 part 5): accepted by content, kept with their SHA-256 in the audit log, read only by
those who may read the application."""

from __future__ import annotations

import base64
import hashlib
import struct
import zlib

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from subsidy.db.models import AuditRecord
from tests.api.conftest import Login
from tests.conftest import Acting
from tests.helpers import months_ago, new_resident_id, rent_form

# A real (tiny) PDF: header, one empty page, trailer.
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


# A 1x1 white JPEG (baseline, as cameras and scanners write them).
JPEG = base64.b64decode(
    "/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAP//////////////////////////////////////////////////////////////////////////"
    "////////////wgALCAABAAEBAREA/8QAFBABAAAAAAAAAAAAAAAAAAAAAP/aAAgBAQABPxA="
)


def png() -> bytes:
    """A 1x1 white PNG, chunk by chunk."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\xff\xff")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def image(kind: str) -> bytes:
    return png() if kind == "png" else JPEG


async def rent_application(http: httpx.AsyncClient, acting: Acting) -> tuple[str, dict[str, str]]:
    body = rent_form(id_number=new_resident_id(), license_date=months_ago(14))
    headers = await acting(body)
    created = await http.post("/api/v1/applications", json=body, headers=headers)
    assert created.status_code == 201, created.text
    return created.json()["id"], headers


def upload(kind: str, name: str, content: bytes, media_type: str = "application/pdf") -> dict:
    return {"data": {"kind": kind}, "files": {"file": (name, content, media_type)}}


async def test_a_lease_is_kept_as_received_with_its_hash_in_the_audit_log(
    http: httpx.AsyncClient, acting: Acting, login: Login, sessions: async_sessionmaker[AsyncSession]
) -> None:
    application_id, applicant = await rent_application(http, acting)
    url = f"/api/v1/applications/{application_id}/documents"
    attached = await http.post(url, headers=applicant, **upload("lease_contract", "租赁合同.pdf", PDF))
    assert attached.status_code == 201, attached.text
    document = attached.json()
    assert document["media_type"] == "application/pdf" and document["size"] == len(PDF)
    assert document["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert document["filename"] == "租赁合同.pdf" and document["kind"] == "lease_contract"
    for kind in ("png", "jpeg"):
        picture = image(kind)
        named_wrongly = await http.post(url, headers=applicant, **upload("business_licence", "licence.pdf", picture))
        assert named_wrongly.status_code == 201, named_wrongly.text  # the content decides, not the name
        assert named_wrongly.json()["media_type"] == f"image/{kind}"
        assert named_wrongly.json()["filename"] == ("licence.png" if kind == "png" else "licence.jpg")

    listed = await http.get(url, headers=applicant)
    assert [d["kind"] for d in listed.json()] == ["lease_contract", "business_licence", "business_licence"]
    read = await http.get(f"{url}/{document['id']}", headers=applicant)
    assert read.status_code == 200 and read.content == PDF
    assert read.headers["content-type"] == "application/pdf"
    assert read.headers["content-disposition"].startswith("attachment; filename*=UTF-8''")
    assert read.headers["x-content-type-options"] == "nosniff"

    async with sessions() as session:
        record = await session.scalar(
            select(AuditRecord).where(
                AuditRecord.kind == "document_attached", AuditRecord.detail["document"].astext == document["id"]
            )
        )
    assert record is not None and record.detail["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert record.detail["size"] == len(PDF) and record.actor == document["uploaded_by"]

    # The county's officials and the auditor read it; another county's official and another applicant do not
    # learn that it exists.
    for reader in ("dpf-150203-a", "auditor-a", "city-a"):
        assert (await http.get(f"{url}/{document['id']}", headers=await login(reader))).content == PDF
    for stranger in ("dpf-150204-a", "applicant-b"):
        headers = await login(stranger)
        assert (await http.get(f"{url}/{document['id']}", headers=headers)).status_code == 404
        assert (await http.get(url, headers=headers)).status_code == 404
        refused = await http.post(url, headers=headers, **upload("lease_contract", "x.pdf", PDF))
        assert refused.status_code == 404
    # An official reads the file, but attaching is for whoever filed the application.
    official = await http.post(url, headers=await login("dpf-150203-a"), **upload("lease_contract", "x.pdf", PDF))
    assert official.status_code == 403


async def test_what_is_not_a_pdf_jpeg_or_png_is_refused_whatever_its_name(
    http: httpx.AsyncClient, acting: Acting
) -> None:
    application_id, applicant = await rent_application(http, acting)
    url = f"/api/v1/applications/{application_id}/documents"
    cases = {
        "document_type_not_allowed": [
            b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64,  # a Windows program
            b"<html><script>alert(1)</script></html>",
            b"GIF89a" + b"\x00" * 32,
            zlib.compress(PDF),
            b"x%PDF-1.4 not at the start",
        ],
        "document_empty": [b""],
        "document_too_large": [b"%PDF-1.4\n" + b"0" * (5 * 1024 * 1024)],
    }
    for code, contents in cases.items():
        for content in contents:
            refused = await http.post(url, headers=applicant, **upload("lease_contract", "lease.pdf", content))
            assert refused.status_code == 422, (code, refused.text)
            assert refused.json()["detail"][0]["type"] == code
            assert refused.json()["detail"][0]["loc"] == ["body", "file"]
    # Exactly 5 MiB is accepted: the limit is on either side of its value.
    exactly = b"%PDF-1.4\n" + b"0" * (5 * 1024 * 1024 - 9)
    assert (await http.post(url, headers=applicant, **upload("lease_contract", "big.pdf", exactly))).status_code == 201
    unknown = await http.post(url, headers=applicant, **upload("tax_return", "x.pdf", PDF))
    assert unknown.status_code == 422 and unknown.json()["detail"][0]["type"] == "unknown_document_kind"
    assert [d["filename"] for d in (await http.get(url, headers=applicant)).json()] == ["big.pdf"]


async def test_an_application_that_has_ended_takes_no_more_documents(http: httpx.AsyncClient, acting: Acting) -> None:
    application_id, applicant = await rent_application(http, acting)
    withdrawn = await http.post(
        f"/api/v1/applications/{application_id}/events", json={"type": "withdrawn"}, headers=applicant
    )
    assert withdrawn.status_code == 200, withdrawn.text
    url = f"/api/v1/applications/{application_id}/documents"
    refused = await http.post(url, headers=applicant, **upload("lease_contract", "lease.pdf", PDF))
    assert refused.status_code == 409


async def test_the_body_limit_is_6_mib_on_the_upload_paths_and_1_mib_elsewhere() -> None:
    """At the middleware itself: over HTTP a refused 7 MiB body resets the connection before the answer is read."""
    from subsidy.api.limits import BodySizeLimit

    async def app(scope: dict, receive: object, send: object) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})  # type: ignore[operator]
        await send({"type": "http.response.body", "body": b""})  # type: ignore[operator]

    async def status_for(path: str, length: int) -> int:
        sent: list[dict] = []

        async def send(message: dict) -> None:
            sent.append(message)

        async def receive() -> dict:
            return {"type": "http.request", "body": b"", "more_body": False}

        scope = {"type": "http", "path": path, "headers": [(b"content-length", str(length).encode())]}
        await BodySizeLimit(app)(scope, receive, send)  # type: ignore[arg-type]
        return int(sent[0]["status"])

    mib = 1024 * 1024
    documents = "/api/v1/applications/0b7e5c1e-8f1a-4a43-9a55-8d1d4f0f2f4a/documents"
    page = "/documents/0b7e5c1e-8f1a-4a43-9a55-8d1d4f0f2f4a"
    for path in (documents, page):
        assert await status_for(path, 6 * mib) == 200
        assert await status_for(path, 6 * mib + 1) == 413
    for path in ("/api/v1/applications", documents + "/x", "/documents/not-an-id"):
        assert await status_for(path, mib) == 200
        assert await status_for(path, mib + 1) == 413
