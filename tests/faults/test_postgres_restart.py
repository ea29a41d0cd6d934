"""(c) PostgreSQL is stopped and started again on the same folder while activities are running and retrying: no
activity gives up, no row is lost or doubled.

Two activities are caught in flight by table locks the test holds: a payment (its INSERT into the ledger waits)
and the opening of a review task (its INSERT into tasks waits). Stopping the server ends both transactions; every
retry then fails until the server is back, and the worker keeps retrying (the retry policy has no attempt limit).
Both are local activities (`subsidy.workflows.common.db_step`): their attempts show in the worker's log, not in
the server's pending activities.
"""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest
from temporalio.client import WorkflowExecutionStatus

from tests.faults.conftest import Service, applicant_of, eventually, token
from tests.helpers import months_ago, rent_form

MONTHS_OVER = 14


def attempts(worker_log: str, activity_type: str) -> list[str]:
    """The attempt numbers of an activity's failures, from the SDK's "Completing activity as failed" log lines."""
    return re.findall(
        rf"Completing activity as failed \(.*'activity_type': '{activity_type}', 'attempt': (\d+)", worker_log
    )


@pytest.mark.timeout(110)
async def test_activities_outlive_a_postgres_restart_without_losing_or_doubling_a_row(
    service: Service, http: httpx.AsyncClient
) -> None:
    postgres = service.postgres
    await service.start_api()
    service.start_worker()
    paid_body, reviewed_body = rent_form(license_date=months_ago(MONTHS_OVER, days=1)), rent_form()
    applicant, official = await applicant_of(service, http, paid_body), await token(http, "dpf-150203-b")
    other_applicant = await applicant_of(service, http, reviewed_body)
    before = await postgres.counts()

    paid = await http.post("/api/v1/applications", json=paid_body, headers=applicant)
    assert paid.status_code == 201, paid.text
    paid_id = paid.json()["id"]

    async def task_of(application_id: str) -> str | None:
        response = await http.get("/api/v1/tasks", params={"application_id": application_id}, headers=official)
        return response.json()[0]["id"] if response.status_code == 200 and response.json() else None

    task_id = await eventually(lambda: task_of(paid_id), 30, "the first review task")
    blocker = await postgres.connect()
    await blocker.execute("BEGIN")
    await blocker.execute("LOCK TABLE ledger IN SHARE MODE")
    decided = await http.post(
        f"/api/v1/tasks/{task_id}/decision",
        json={"decision": "approve", "values": {"monthly_rent": "1200.00"}},
        headers=official,
    )
    assert decided.status_code == 200, decided.text
    await blocker.execute("LOCK TABLE tasks IN SHARE MODE")
    reviewed = await http.post("/api/v1/applications", json=reviewed_body, headers=other_applicant)
    assert reviewed.status_code == 201, reviewed.text
    reviewed_id = reviewed.json()["id"]

    async def both_waiting() -> bool:
        return (
            await postgres.waiting_on_locks("INSERT INTO ledger") == 1
            and await postgres.waiting_on_locks("INSERT INTO tasks") == 1
        )

    await eventually(both_waiting, 30, "a payment and a task opening waiting on the locks")

    await postgres.stop()  # fast shutdown: every session, the test's own included, is ended
    client = await service.temporal.client()
    handles = [client.get_workflow_handle(f"application-{key}") for key in (paid_id, reviewed_id)]

    async def retried_while_down() -> bool:
        log = service.workers[0].log.read_text(errors="replace")
        return all(
            max(map(int, attempts(log, activity_type)), default=0) >= 3
            for activity_type in ("post_payment", "open_task")
        )

    await eventually(retried_while_down, 45, "both activities failing and retrying while PostgreSQL is down")
    await postgres.start()

    async def ledger_rows() -> int:
        response = await http.get("/api/v1/ledger", params={"application_id": paid_id}, headers=applicant)
        return int(response.headers["X-Total-Count"]) if response.status_code == 200 else -1

    async def recovered() -> bool:
        return await ledger_rows() == 2 * MONTHS_OVER and await task_of(reviewed_id) is not None

    await eventually(recovered, 60, "the payments and the task after the restart")
    await asyncio.sleep(1)  # anything doubled would have shown by now: every activity has finished
    assert await postgres.counts() == {
        "applications": before["applications"] + 2,
        "tasks": before["tasks"] + 2,
        "ledger": before["ledger"] + 2 * MONTHS_OVER,
    }
    for handle in handles:
        description = await handle.describe()
        assert description.status == WorkflowExecutionStatus.RUNNING
    # The review task that waited through the restart can be decided.
    decided = await http.post(
        f"/api/v1/tasks/{await task_of(reviewed_id)}/decision",
        json={"decision": "reject", "reason": "test"},
        headers=official,
    )
    assert decided.status_code == 200, decided.text
