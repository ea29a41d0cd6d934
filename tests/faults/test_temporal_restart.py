"""(b) The Temporal dev server is stopped and started again on the same SQLite file (`--db-filename`) while
workflows wait on a review task (and its due-date timer) and on the timer of their next subsidy month, and while one
is paying its months: all of them continue, and the worker and API processes reconnect by themselves. A submission
sent while the server is down is kept and answered 503; sent again with the same Idempotency-Key, it starts; sent
with no key and never again, the worker's starter starts it once the server is back.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowExecutionStatus, WorkflowHandle

from tests.faults.conftest import Service, applicant_of, eventually, token
from tests.helpers import china_today, months_ago, rent_form


async def pending_timers(handle: WorkflowHandle[Any, Any]) -> int:
    """Timers started and neither fired nor cancelled, in the workflow's current run."""
    started: set[int] = set()
    async for event in handle.fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_TIMER_STARTED:
            started.add(event.event_id)
        elif event.event_type == EventType.EVENT_TYPE_TIMER_FIRED:
            started.discard(event.timer_fired_event_attributes.started_event_id)
        elif event.event_type == EventType.EVENT_TYPE_TIMER_CANCELED:
            started.discard(event.timer_canceled_event_attributes.started_event_id)
    return len(started)


@pytest.mark.timeout(110)
async def test_workflows_waiting_on_tasks_and_timers_continue_after_a_temporal_restart(
    service: Service, http: httpx.AsyncClient
) -> None:
    postgres, temporal = service.postgres, service.temporal
    await service.start_api()
    service.start_worker()
    official = await token(http, "dpf-150203-b")
    before = await postgres.counts()
    # Each application is of another person, filed by the account bound to that person.
    applicant_of_application: dict[str, dict[str, str]] = {}

    async def submit(**form: Any) -> str:
        body = rent_form(**form)
        applicant = await applicant_of(service, http, body)
        created = await http.post("/api/v1/applications", json=body, headers=applicant)
        assert created.status_code == 201, created.text
        application_id: str = created.json()["id"]
        applicant_of_application[application_id] = applicant
        return application_id

    async def task_of(application_id: str) -> str | None:
        response = await http.get("/api/v1/tasks", params={"application_id": application_id}, headers=official)
        return response.json()[0]["id"] if response.status_code == 200 and response.json() else None

    async def ledger_rows(application_id: str) -> int:
        response = await http.get(
            "/api/v1/ledger",
            params={"application_id": application_id},
            headers=applicant_of_application[application_id],
        )
        return int(response.headers["X-Total-Count"]) if response.status_code == 200 else -1

    async def approve(application_id: str) -> None:
        task_id = await eventually(lambda: task_of(application_id), 30, "a review task")
        decided = await http.post(
            f"/api/v1/tasks/{task_id}/decision",
            json={"decision": "approve", "values": {"monthly_rent": "1200.00"}},
            headers=official,
        )
        assert decided.status_code == 200, decided.text

    # Waiting on a review task, whose due date is a timer.
    waiting_on_task = await submit(license_date=months_ago(13, days=1))
    await eventually(lambda: task_of(waiting_on_task), 30, "the review task")
    # Active, every month over paid: waiting on the timer of the month now running.
    # (A business qualifies after a year of operation, so twelve months are over and paid at approval.)
    waiting_on_month = await submit(license_date=months_ago(12, days=1))
    await approve(waiting_on_month)
    await eventually(lambda: _is(ledger_rows(waiting_on_month), 24), 30, "twelve months paid")
    # Approved just before the stop: paying fourteen months, one activity after another.
    paying = await submit(license_date=months_ago(14, days=1))
    client = await temporal.client()
    handles = {key: client.get_workflow_handle(f"application-{key}") for key in (waiting_on_task, waiting_on_month)}

    async def each_on_one_timer() -> bool:
        # (The month's workflow continues as new after its twelfth payment; its new run then starts the timer.)
        return [await pending_timers(h) for h in handles.values()] == [1, 1]

    await eventually(each_on_one_timer, 30, "both workflows waiting on a timer")
    await approve(paying)

    await temporal.stop()
    async with httpx.AsyncClient(base_url=service.base_url, timeout=10) as probe:
        down = await probe.get("/healthz")
    assert down.status_code == 503 and down.json()["temporal"] == "down"
    # A submission meanwhile: kept, answered 503, and started when the client sends it again with the same key.
    during, unkeyed_body = rent_form(license_date=months_ago(13, days=1)), rent_form(license_date=months_ago(13))
    keyed = {**await applicant_of(service, http, during), "Idempotency-Key": f"fault-b-{uuid.uuid4()}"}
    applicant = await applicant_of(service, http, unkeyed_body)
    refused = await http.post("/api/v1/applications", json=during, headers=keyed)
    assert refused.status_code == 503, refused.text
    assert "same Idempotency-Key" in refused.json()["detail"]
    unkeyed = await http.post("/api/v1/applications", json=unkeyed_body, headers=applicant)
    assert unkeyed.status_code == 503, unkeyed.text
    assert "starts by itself" in unkeyed.json()["detail"]
    # The applicant finds it in their list (newest first), saved as submitted.
    listed = await http.get("/api/v1/applications", headers=applicant, params={"status": "submitted", "limit": 1})
    saved = listed.json()[0]["id"]
    assert saved not in {waiting_on_task, waiting_on_month, paying}
    await temporal.start()
    await service.healthy()
    resent = await http.post("/api/v1/applications", json=during, headers=keyed)
    assert resent.status_code == 200, resent.text
    await eventually(lambda: task_of(resent.json()["id"]), 30, "the task of the submission made during the outage")
    assert saved != resent.json()["id"]
    await eventually(lambda: task_of(saved), 45, "the task of the unkeyed submission, started by the worker")

    # The payments go on to the last month over, and that workflow then waits on its own timer.
    await eventually(lambda: _is(ledger_rows(paying), 28), 60, "the fourteen months paid after the restart")
    client = await temporal.client()
    handles = {key: client.get_workflow_handle(f"application-{key}") for key in (waiting_on_task, waiting_on_month)}
    for handle in handles.values():
        assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING
        assert await pending_timers(handle) == 1
    # The task is decided and its workflow pays; the month's workflow takes an event and cancels what is planned.
    await approve(waiting_on_task)
    await eventually(lambda: _is(ledger_rows(waiting_on_task), 26), 30, "thirteen months paid")
    closed = await http.post(
        f"/api/v1/applications/{waiting_on_month}/events",
        json={"type": "business_closed", "date": china_today().isoformat()},
        headers=applicant_of_application[waiting_on_month],
    )
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "terminated"
    assert [m["status"] for m in closed.json()["schedule"]].count("due") == 12

    assert await postgres.counts() == {
        "applications": before["applications"] + 5,
        "tasks": before["tasks"] + 5,
        "ledger": before["ledger"] + 26 + 24 + 28,
    }


async def _is(count: Any, wanted: int) -> bool:
    return bool(await count == wanted)
