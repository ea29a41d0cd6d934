"""(a) The worker is killed with SIGKILL while a payment activity is running; a new worker takes over and the month is
paid exactly once.

To hit "while the payment is running" every time, the test holds a SHARE lock on the ledger: the activity's INSERT
waits on it inside its transaction, which the test sees in pg_stat_activity before it kills the worker. The lock is
released only after the kill, so the first attempt can never commit. The payment is a local activity run inside the
workflow task: once that task times out (10 s), the new worker replays the workflow and runs the payment again under
the same idempotency key.
"""

from __future__ import annotations

import uuid

import httpx
import pytest
from sqlalchemy import func, select
from temporalio.api.enums.v1 import EventType

from subsidy.db.models import AuditRecord, LedgerEntry, ScheduledPayment
from subsidy.db.session import create_engine, session_factory
from tests.faults.conftest import Service, applicant_of, eventually, token
from tests.helpers import months_ago, rent_form

MONTHS_OVER = 14  # licence 14 months and a day ago: 14 months are paid at approval, two ledger rows each


@pytest.mark.timeout(110)
async def test_a_worker_killed_in_a_payment_is_replaced_and_each_month_is_paid_once(
    service: Service, http: httpx.AsyncClient
) -> None:
    postgres = service.postgres
    before = await postgres.counts()
    await service.start_api()
    first_worker = service.start_worker()
    body = rent_form(license_date=months_ago(MONTHS_OVER, days=1))
    applicant, official = await applicant_of(service, http, body), await token(http, "dpf-150203-b")

    created = await http.post(
        "/api/v1/applications",
        json=body,
        headers={**applicant, "Idempotency-Key": f"fault-a-{uuid.uuid4()}"},
    )
    assert created.status_code == 201, created.text
    application_id = created.json()["id"]

    async def open_task() -> str | None:
        response = await http.get("/api/v1/tasks", params={"application_id": application_id}, headers=official)
        return response.json()[0]["id"] if response.json() else None

    task_id = await eventually(open_task, 30, "the review task")

    blocker = await postgres.connect()
    transaction = blocker.transaction()
    await transaction.start()
    await blocker.execute("LOCK TABLE ledger IN SHARE MODE")
    try:
        decided = await http.post(
            f"/api/v1/tasks/{task_id}/decision",
            json={"decision": "approve", "values": {"monthly_rent": "1200.00"}},
            headers=official,
        )
        assert decided.status_code == 200, decided.text
        # The first month's payment is inside its transaction, waiting on the lock: kill the worker now.
        await eventually(lambda: postgres.waiting_on_locks("INSERT INTO ledger"), 30, "the payment waiting on the lock")
        first_worker.kill()
    finally:
        await transaction.rollback()
        await blocker.close()

    async def ledger_rows() -> int:
        response = await http.get("/api/v1/ledger", params={"application_id": application_id}, headers=applicant)
        return int(response.headers["X-Total-Count"])

    assert await ledger_rows() == 0  # the killed attempt committed nothing
    service.start_worker()

    async def all_paid() -> bool:
        return await ledger_rows() == 2 * MONTHS_OVER

    await eventually(all_paid, 90, "all months paid by the new worker")

    after = await postgres.counts()
    assert after == {
        "applications": before["applications"] + 1,
        "tasks": before["tasks"] + 1,
        "ledger": before["ledger"] + 2 * MONTHS_OVER,
    }
    engine = create_engine(postgres.url, pool_size=1)
    try:
        async with session_factory(engine)() as session:
            key = uuid.UUID(application_id)
            per_period = (
                await session.execute(
                    select(LedgerEntry.period, func.count(), func.sum(LedgerEntry.amount))
                    .where(LedgerEntry.application_id == key)
                    .group_by(LedgerEntry.period)
                )
            ).all()
            paid = await session.scalar(
                select(func.count())
                .select_from(ScheduledPayment)
                .where(ScheduledPayment.application_id == key, ScheduledPayment.status == "due")
            )
            payments_audited = await session.scalar(
                select(func.count())
                .select_from(AuditRecord)
                .where(AuditRecord.application_id == key, AuditRecord.kind == "payment")
            )
    finally:
        await engine.dispose()
    # Each month once: one city row and one county row, 1000.00 in all (the cap), one audit record.
    assert len(per_period) == MONTHS_OVER
    assert {(count, str(total)) for _period, count, total in per_period} == {(2, "1000.00")}
    assert paid == MONTHS_OVER and payments_audited == MONTHS_OVER

    # The histories show the kill: the payments run as local activities (one marker each, recorded when the workflow
    # task that ran them completes), so the killed worker's workflow task timed out, the new worker ran the steps
    # again, and each step has exactly one marker: eligibility, the due date (the calendar), task, decision and the
    # 14 months.
    client = await service.temporal.client()
    events = []
    async for run in client.list_workflows(f"WorkflowId = 'application-{application_id}'"):
        events += (await client.get_workflow_handle(run.id, run_id=run.run_id).fetch_history()).events
    timed_out = [e for e in events if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT]
    local_steps = [
        e
        for e in events
        if e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED
        and e.marker_recorded_event_attributes.marker_name == "core_local_activity"
    ]
    assert timed_out, "the killed worker's workflow task"
    assert len(local_steps) == 4 + MONTHS_OVER
