"""Auditors: the timeline names who decided under which rule, the history downloads and replays, and the
hash-chained audit log shows any change made behind the database's back."""

from __future__ import annotations

import asyncio
import base64
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import asyncpg
import httpx
import pytest
from google.protobuf import json_format
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from temporalio.client import WorkflowHistory

from subsidy.db.audit_chain import append_audit, verify_chain
from subsidy.db.migrate import upgrade
from subsidy.db.session import create_engine, session_factory
from tests.api.conftest import Login
from tests.conftest import Acting
from tests.helpers import months_ago, rent_form


async def approved_application(http: httpx.AsyncClient, login: Login, acting: Acting) -> str:
    body = rent_form(license_date=months_ago(14, days=1))
    applicant, official = await acting(body), await login("dpf-150203-b")
    created = await http.post("/api/v1/applications", json=body, headers=applicant)
    assert created.status_code == 201, created.text
    application_id: str = created.json()["id"]
    for _ in range(100):
        tasks = await http.get("/api/v1/tasks", params={"application_id": application_id}, headers=official)
        if tasks.json():
            break
        await asyncio.sleep(0.1)
    decided = await http.post(
        f"/api/v1/tasks/{tasks.json()[0]['id']}/decision",
        json={"decision": "approve", "values": {"monthly_rent": "1200.00"}},
        headers=official,
    )
    assert decided.status_code == 200, decided.text
    for _ in range(100):
        ledger = await http.get("/api/v1/ledger", params={"application_id": application_id}, headers=applicant)
        if ledger.headers["X-Total-Count"] == "28":
            break
        await asyncio.sleep(0.1)
    return application_id


async def test_the_timeline_names_the_applicant_the_official_the_policy_and_the_payments(
    http: httpx.AsyncClient, login: Login, acting: Acting
) -> None:
    application_id = await approved_application(http, login, acting)
    auditor = await login("auditor-a")
    forbidden = await http.get(
        f"/api/v1/audit/applications/{application_id}/timeline", headers=await login("applicant-a")
    )
    assert forbidden.status_code == 403
    response = await http.get(f"/api/v1/audit/applications/{application_id}/timeline", headers=auditor)
    assert response.status_code == 200, response.text
    entries = response.json()
    kinds = [entry["kind"] for entry in entries]
    assert kinds.index("submitted") < kinds.index("eligibility") < kinds.index("decision") < kinds.index("payment")
    submitted = next(e for e in entries if e["kind"] == "submitted")
    assert submitted["detail"]["applicant"]["name"] == "张三"
    assert "********" in submitted["detail"]["applicant"]["id_number"]
    eligibility = next(e for e in entries if e["kind"] == "eligibility")
    assert eligibility["detail"]["policy_version"] == "baotou-2025"
    assert eligibility["detail"]["clause"].endswith("(九) 2")
    decision = next(e for e in entries if e["kind"] == "decision")
    assert decision["actor"] == "dpf-150203-b" and decision["detail"]["decision"] == "approve"
    payments = [e for e in entries if e["kind"] == "payment"]
    assert len(payments) == 14 and {p["detail"]["amount"] for p in payments} == {"1000.00"}
    assert "workflow_started" in kinds and "update_accepted" in kinds
    assert [e["at"] for e in entries] == sorted(e["at"] for e in entries)


async def test_the_history_downloads_and_replays_deterministically(
    http: httpx.AsyncClient, login: Login, acting: Acting
) -> None:
    application_id = await approved_application(http, login, acting)
    auditor = await login("auditor-a")
    exported = await http.get(f"/api/v1/audit/applications/{application_id}/history", headers=auditor)
    assert exported.status_code == 200
    runs = exported.json()["runs"]
    assert len(runs) == 2  # 14 months paid at approval: the run continued as new after 12 payments
    for run in runs:
        history = WorkflowHistory.from_json(exported.json()["workflow_id"], run["history"])
        assert history.events[0].event_type == 1  # WorkflowExecutionStarted
    replayed = await http.post(f"/api/v1/audit/applications/{application_id}/replay", headers=auditor)
    assert replayed.status_code == 200
    report = replayed.json()
    assert report["deterministic"] is True and report["error"] is None and report["runs"] == 2
    assert report["events"] == sum(len(run["history"]["events"]) for run in runs)


async def test_the_audit_log_refuses_update_delete_and_truncate(database_url: str) -> None:
    engine = create_engine(database_url, pool_size=1)
    try:
        for statement in (
            "UPDATE audit_log SET actor = 'someone-else'",
            "DELETE FROM audit_log",
            "TRUNCATE audit_log",
        ):
            async with engine.connect() as connection:
                with pytest.raises(DBAPIError, match="append-only"):
                    await connection.execute(text(statement))
    finally:
        await engine.dispose()


async def test_verify_endpoint_reports_an_intact_chain(http: httpx.AsyncClient, login: Login) -> None:
    response = await http.get("/api/v1/audit/log/verify", headers=await login("auditor-a"))
    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is True and body["rows"] > 0 and body["first_bad_row"] is None
    assert (await http.get("/api/v1/audit/log/verify", headers=await login("dpf-150203-a"))).status_code == 403


@pytest.fixture
async def scratch_url(database_url: str) -> AsyncIterator[str]:
    """A database of its own, so tampering with it cannot disturb any other test."""
    socket_dir = parse_qs(urlsplit(database_url).query)["host"][0]
    name = f"tamper_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(user="postgres", host=socket_dir, database="postgres")
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = f"postgresql+asyncpg://postgres@/{name}?host={socket_dir}"
    await asyncio.to_thread(upgrade, url)
    try:
        yield url
    finally:
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await admin.close()


async def _write_chain(url: str, rows: int) -> list[int]:
    engine = create_engine(url, pool_size=1)
    sessions = session_factory(engine)
    for n in range(rows):
        async with sessions.begin() as session:
            await append_audit(
                session, kind="payment", actor="system", at=datetime.now(UTC), detail={"amount": "1000.00", "n": n}
            )
    async with sessions() as session:
        ids = [row[0] for row in (await session.execute(text("SELECT id FROM audit_log ORDER BY id"))).all()]
        assert (await verify_chain(session)).ok
    await engine.dispose()
    return ids


async def _superuser(url: str, *statements: str) -> None:
    """A database superuser who switches the guard off for the session, as an insider would."""
    engine = create_engine(url, pool_size=1)
    async with engine.begin() as connection:
        await connection.execute(text("SET session_replication_role = replica"))
        for statement in statements:
            await connection.execute(text(statement))
    await engine.dispose()


async def _verify(url: str) -> tuple[bool, int | None]:
    engine = create_engine(url, pool_size=1)
    async with session_factory(engine)() as session:
        check = await verify_chain(session)
    await engine.dispose()
    return check.ok, check.first_bad_row


async def test_a_changed_amount_is_found_at_its_row(scratch_url: str) -> None:
    ids = await _write_chain(scratch_url, 5)
    await _superuser(
        scratch_url, f"UPDATE audit_log SET detail = jsonb_set(detail, '{{amount}}', '\"9000.00\"') WHERE id = {ids[2]}"
    )
    assert await _verify(scratch_url) == (False, ids[2])


async def test_a_deleted_row_is_found_at_the_next_one(scratch_url: str) -> None:
    ids = await _write_chain(scratch_url, 5)
    await _superuser(scratch_url, f"DELETE FROM audit_log WHERE id = {ids[1]}")
    assert await _verify(scratch_url) == (False, ids[2])


async def test_reordered_rows_are_found(scratch_url: str) -> None:
    ids = await _write_chain(scratch_url, 5)
    await _superuser(
        scratch_url,
        f"UPDATE audit_log SET id = -1 WHERE id = {ids[1]}",
        f"UPDATE audit_log SET id = {ids[1]} WHERE id = {ids[3]}",
        f"UPDATE audit_log SET id = {ids[3]} WHERE id = -1",
    )
    assert await _verify(scratch_url) == (False, ids[1])


async def test_payloads_are_encrypted_and_only_auditors_can_open_them(
    http: httpx.AsyncClient, login: Login, acting: Acting
) -> None:
    application_id = await approved_application(http, login, acting)
    auditor = await login("auditor-a")
    exported = (await http.get(f"/api/v1/audit/applications/{application_id}/history", headers=auditor)).json()
    history = WorkflowHistory.from_json(exported["workflow_id"], exported["runs"][0]["history"])
    started = history.events[0].workflow_execution_started_event_attributes
    sealed = started.input.payloads[0]
    assert sealed.metadata["encoding"] == b"binary/encrypted"
    assert sealed.metadata["encryption-key-id"] == b"test1"
    assert application_id.encode() not in sealed.data  # not even the surrogate id is readable
    as_json = json_format.MessageToDict(sealed)
    refused = await http.post("/api/v1/audit/codec/decode", json={"payloads": [as_json]}, headers=await login("city-a"))
    assert refused.status_code == 403
    opened = await http.post("/api/v1/audit/codec/decode", json={"payloads": [as_json]}, headers=auditor)
    assert opened.status_code == 200
    clear = opened.json()["payloads"][0]
    assert base64.b64decode(clear["metadata"]["encoding"]) == b"json/plain"
    assert application_id in base64.b64decode(clear["data"]).decode()
