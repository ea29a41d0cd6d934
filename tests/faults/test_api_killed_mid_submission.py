"""(d) The API is killed with SIGKILL in the middle of a submission sent with an `Idempotency-Key`; the client sends
it again to the restarted API and gets one application (one row, one workflow, one task).

Two moments, each held open by the test so that the kill lands there every time:
1. inside the submission's transaction: the test holds the audit log's chain lock, so the submission waits at its
   audit record with the application row written but not committed;
2. after the commit, before the workflow is started: the test pauses the Temporal server (SIGSTOP), so the
   submission waits in its start request with the row committed.
"""

from __future__ import annotations

import asyncio
import signal
import uuid
from typing import Any

import httpx
import pytest

from subsidy.db.audit_chain import _CHAIN_LOCK
from tests.faults.conftest import Service, applicant_of, eventually, token
from tests.helpers import rent_form


async def committed_with_key(service: Service, key: str) -> int:
    connection = await service.postgres.connect()
    try:
        found: int = await connection.fetchval("SELECT count(*) FROM applications WHERE idempotency_key = $1", key)
        return found
    finally:
        await connection.close()


async def one_task(http: httpx.AsyncClient, official: dict[str, str], application_id: str) -> list[str]:
    response = await http.get("/api/v1/tasks", params={"application_id": application_id}, headers=official)
    return [task["id"] for task in response.json()] if response.status_code == 200 else []


@pytest.mark.timeout(110)
async def test_a_submission_cut_off_by_a_killed_api_gives_one_application_on_retry(
    service: Service, http: httpx.AsyncClient
) -> None:
    postgres = service.postgres
    api = await service.start_api()
    service.start_worker()
    official = await token(http, "dpf-150203-b")
    before = await postgres.counts()

    async def submission(key: str) -> tuple[dict[str, Any], dict[str, str]]:
        body = rent_form()
        return body, {**await applicant_of(service, http, body), "Idempotency-Key": key}

    # 1. Killed inside the transaction.
    first_key = f"fault-d-{uuid.uuid4()}"
    first_body, first_headers = await submission(first_key)
    holder = await postgres.connect()
    await holder.execute("SELECT pg_advisory_lock($1)", _CHAIN_LOCK)
    try:
        sent = asyncio.create_task(http.post("/api/v1/applications", json=first_body, headers=first_headers))
        await eventually(
            lambda: postgres.waiting_on_locks("SELECT pg_advisory_xact_lock"), 30, "the submission waiting"
        )
        api.kill()
        with pytest.raises(httpx.TransportError):
            await sent
    finally:
        await holder.execute("SELECT pg_advisory_unlock($1)", _CHAIN_LOCK)
        await holder.close()
    assert await committed_with_key(service, first_key) == 0
    api = await service.start_api()
    retried = await http.post("/api/v1/applications", json=first_body, headers=first_headers)
    assert retried.status_code == 201, retried.text  # nothing had been kept: created now
    first_id = retried.json()["id"]

    # 2. Killed after the commit, while starting the workflow.
    second_key = f"fault-d-{uuid.uuid4()}"
    second_body, second_headers = await submission(second_key)
    server = service.temporal.process()
    server.send_signal(signal.SIGSTOP)
    try:
        sent = asyncio.create_task(http.post("/api/v1/applications", json=second_body, headers=second_headers))
        await eventually(lambda: committed_with_key(service, second_key), 30, "the application row committed")
        await asyncio.sleep(0.5)  # in the start request, which the paused server does not answer
        api.kill()
        with pytest.raises(httpx.TransportError):
            await sent
    finally:
        server.send_signal(signal.SIGCONT)
    await service.start_api()
    again = await http.post("/api/v1/applications", json=second_body, headers=second_headers)
    assert again.status_code == 200, again.text  # the row was kept: the same application, its workflow started
    second_id = again.json()["id"]
    assert (await http.post("/api/v1/applications", json=first_body, headers=first_headers)).json()["id"] == first_id

    for application_id in (first_id, second_id):
        assert len(await eventually(lambda a=application_id: one_task(http, official, a), 30, "a task")) == 1
    await asyncio.sleep(1)  # a second workflow, had one started, would have opened a second task by now
    for application_id in (first_id, second_id):
        assert len(await one_task(http, official, application_id)) == 1
    assert await postgres.counts() == {
        "applications": before["applications"] + 2,
        "tasks": before["tasks"] + 2,
        "ledger": before["ledger"],
    }
    client = await service.temporal.client()
    runs = [run async for run in client.list_workflows(f"WorkflowId = 'application-{second_id}'")]
    assert len(runs) == 1
