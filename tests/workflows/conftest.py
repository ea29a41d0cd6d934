"""A worker with the real activities on real PostgreSQL, driven through the time-skipping test server."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from subsidy.db.models import Application, LedgerEntry, Person, ScheduledPayment, Task
from subsidy.policy.versions import version_in_force, version_to_json
from subsidy.policy.workdays import CHINA
from subsidy.programs.rent_subsidy.form import RentSubsidyForm
from subsidy.programs.rent_subsidy.rules import add_months
from subsidy.service.embedded import installed_binary
from subsidy.service.temporal import build_worker
from subsidy.temporal_client.client import DATA_CONVERTER
from subsidy.workflows.contracts import (
    RENT_SUBSIDY_WORKFLOW,
    Actor,
    DecideInput,
    DecideResult,
    EventInput,
    EventResult,
    RentSubsidyInput,
    workflow_id_for,
)
from tests.helpers import rent_form

APPLICANT = Actor("applicant-a", ["applicant"])
DPF_A = Actor("dpf-150203-a", ["county_dpf"], "150203")
DPF_B = Actor("dpf-150203-b", ["county_dpf"], "150203")
DPF_OTHER_COUNTY = Actor("dpf-150204-a", ["county_dpf"], "150204")
CITY_A = Actor("city-a", ["city_dpf"])


@dataclass
class RentHarness:
    env: WorkflowEnvironment
    sessions: async_sessionmaker[AsyncSession]
    task_queue: str

    async def today(self) -> date:
        """The test server's today in China: time skipping moves it far past the real one."""
        return (await self.env.get_current_time()).astimezone(CHINA).date()

    async def months_ago(self, months: int, days: int = 0) -> date:
        return add_months(await self.today(), -months) - timedelta(days=days)

    async def submit(
        self, *, applied_on: date | None = None, policy: dict[str, Any] | None = None, **form_fields: Any
    ) -> tuple[str, WorkflowHandle[Any, str]]:
        form_fields.setdefault("license_date", await self.months_ago(13))
        form = RentSubsidyForm.model_validate(rent_form(**form_fields))
        applied_on = applied_on or await self.today()
        version = version_in_force(applied_on)
        application_id = uuid.uuid4()
        async with self.sessions.begin() as session:
            person_id = await session.scalar(
                insert(Person)
                .values(id=uuid.uuid4(), id_number=form.applicant.id_number, name=form.applicant.name)
                .on_conflict_do_update(index_elements=[Person.id_number], set_={"name": form.applicant.name})
                .returning(Person.id)
            )
            session.add(
                Application(
                    id=application_id,
                    program="rent_subsidy",
                    status="submitted",
                    county=form.applied_to_county,
                    submitted_by=APPLICANT.username,
                    person_id=person_id,
                    workflow_id=workflow_id_for(str(application_id)),
                    form=form.model_dump(mode="json"),
                )
            )
        handle = await self.env.client.start_workflow(
            RENT_SUBSIDY_WORKFLOW,
            RentSubsidyInput(
                application_id=str(application_id),
                program="rent_subsidy",
                submitted_by=APPLICANT.username,
                applied_on=applied_on,
                county=form.applied_to_county,
                person_id=str(person_id),
                facts=form.facts(),
                policy=policy if policy is not None else version_to_json(version) if version else None,
            ),
            id=workflow_id_for(str(application_id)),
            task_queue=self.task_queue,
            result_type=str,
        )
        return str(application_id), handle

    async def open_task(self, application_id: str, step: str = "county_review", within: float = 10) -> Task:
        async def find() -> Task | None:
            async with self.sessions() as session:
                task: Task | None = await session.scalar(
                    select(Task).where(
                        Task.application_id == uuid.UUID(application_id),
                        Task.step == step,
                        Task.status.in_(("open", "claimed")),
                    )
                )
                return task

        return await eventually(find, within)

    async def decide(
        self, handle: WorkflowHandle[Any, str], task_id: Any, actor: Actor, decision: str = "approve", **kwargs: Any
    ) -> DecideResult:
        values = kwargs.pop("values", {"monthly_rent": "1200.00"} if decision == "approve" else {})
        request = DecideInput(task_id=str(task_id), decision=decision, actor=actor, values=values, **kwargs)
        result: DecideResult = await handle.execute_update("decide", request, result_type=DecideResult)
        return result

    async def event(self, handle: WorkflowHandle[Any, str], request: EventInput) -> EventResult:
        result: EventResult = await handle.execute_update("event", request, result_type=EventResult)
        return result

    async def ledger(self, application_id: str) -> list[LedgerEntry]:
        async with self.sessions() as session:
            rows = await session.scalars(
                select(LedgerEntry)
                .where(LedgerEntry.application_id == uuid.UUID(application_id))
                .order_by(LedgerEntry.period, LedgerEntry.funder)
            )
            return list(rows.all())

    async def schedule(self, application_id: str) -> list[ScheduledPayment]:
        async with self.sessions() as session:
            rows = await session.scalars(
                select(ScheduledPayment)
                .where(ScheduledPayment.application_id == uuid.UUID(application_id))
                .order_by(ScheduledPayment.period_start)
            )
            return list(rows.all())

    async def count_tasks(self, application_id: str) -> int:
        async with self.sessions() as session:
            return int(
                await session.scalar(
                    select(func.count()).select_from(Task).where(Task.application_id == uuid.UUID(application_id))
                )
                or 0
            )

    async def application(self, application_id: str) -> Application:
        async with self.sessions() as session:
            found = await session.get(Application, uuid.UUID(application_id))
            assert found is not None
            return found

    async def paid_months(self, application_id: str, expected: int, within: float = 15) -> list[ScheduledPayment]:
        async def reached() -> list[ScheduledPayment] | None:
            paid = [m for m in await self.schedule(application_id) if m.status == "due"]
            return paid if len(paid) >= expected else None

        return await eventually(reached, within)


async def eventually(probe: Any, within: float) -> Any:
    deadline = asyncio.get_running_loop().time() + within
    while True:
        found = await probe()
        if found:
            return found
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not reached within {within}s")
        await asyncio.sleep(0.1)


def total(rows: list[LedgerEntry], funder: str | None = None) -> Decimal:
    return sum((r.amount for r in rows if funder is None or r.funder == funder), Decimal("0.00"))


@pytest.fixture
async def rent(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[RentHarness]:
    """A fresh time-skipping server per test: skipped time is global to a server, and each test starts today."""
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=DATA_CONVERTER, test_server_existing_path=installed_binary("temporal-test-server")
    )
    task_queue = f"test-{uuid.uuid4()}"
    try:
        async with build_worker(env.client, task_queue, sessions):
            yield RentHarness(env, sessions, task_queue)
    finally:
        await env.shutdown()
