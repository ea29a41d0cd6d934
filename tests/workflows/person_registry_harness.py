"""A harness for the programs that hold person registry records at submission (the dispatch referral reward, the
blind massage insurance subsidy): the submission's transaction as the API runs it (the person's row, the program's
`admit`, the application row), then its workflow started with the program's own `workflow_input`, on the
time-skipping test server with the real activities on real PostgreSQL."""

from __future__ import annotations

import random
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from subsidy.api.submission_checks import person_row
from subsidy.db.models import Application, AuditRecord, LedgerEntry, Person, Task
from subsidy.db.person_records import PersonProgramRecord
from subsidy.policy.versions import version_in_force, version_to_json
from subsidy.policy.workdays import CHINA
from subsidy.programs.model import StartContext
from subsidy.programs.registry import PROGRAMS
from subsidy.service.embedded import installed_binary
from subsidy.service.temporal import build_worker
from subsidy.temporal_client.client import DATA_CONVERTER
from subsidy.workflows.contracts import Actor, DecideInput, DecideResult, EventInput, EventResult, workflow_id_for
from tests.helpers import new_resident_id
from tests.workflows.conftest import eventually

Handle = WorkflowHandle[Any, str]


def unique_person(region: str = "150203") -> str:
    """A resident ID unlikely to be anyone's in the test database, even across runs (a random birth date)."""
    born = date(1970, 1, 1) + timedelta(days=random.randrange(0, 365 * 30))
    return new_resident_id(region, born)


@dataclass
class RegistryHarness:
    env: WorkflowEnvironment
    sessions: async_sessionmaker[AsyncSession]
    task_queue: str

    async def today(self) -> date:
        """The test server's today in China: time skipping moves it past the real one."""
        return (await self.env.get_current_time()).astimezone(CHINA).date()

    async def submit(
        self, form_fields: dict[str, Any], submitted_by: Actor, *, applied_on: date | None = None
    ) -> tuple[str, Handle]:
        """As `submit_application` does: raises the ServiceError `admit` raises (409 for a held claim)."""
        program = PROGRAMS[form_fields["program"]]
        form = program.form.model_validate(form_fields)
        applied_on = applied_on or await self.today()
        version = version_in_force(applied_on)
        application_id = uuid.uuid4()
        async with self.sessions.begin() as session:
            person = program.person(form)
            assert person is not None
            person_id, _ = await person_row(session, *person)
            county = program.county(form)
            assert program.admit is not None
            await program.admit(session, form, person_id, submitted_by.username)
            session.add(
                Application(
                    id=application_id,
                    program=program.code,
                    status="submitted",
                    county=county,
                    submitted_by=submitted_by.username,
                    person_id=person_id,
                    workflow_id=workflow_id_for(str(application_id)),
                    form=form.model_dump(mode="json"),
                )
            )
        context = StartContext(
            application_id=str(application_id),
            submitted_by=submitted_by.username,
            applied_on=applied_on,
            county=county,
            person_id=str(person_id),
            policy=version_to_json(version) if version else None,
        )
        handle: Handle = await self.env.client.start_workflow(
            program.workflow,
            program.workflow_input(context, form),
            id=workflow_id_for(str(application_id)),
            task_queue=self.task_queue,
            result_type=str,
        )
        return str(application_id), handle

    async def status(self, application_id: str) -> str:
        async with self.sessions() as session:
            application = await session.get(Application, uuid.UUID(application_id))
            assert application is not None
            return application.status

    async def settled(self, application_id: str, *statuses: str) -> str:
        async def reached() -> str | None:
            status = await self.status(application_id)
            return status if status in statuses else None

        found: str = await eventually(reached, 15)
        return found

    async def application(self, application_id: str) -> Application:
        async with self.sessions() as session:
            found = await session.get(Application, uuid.UUID(application_id))
            assert found is not None
            return found

    async def open_task(self, handle: Handle, step: str, within: float = 15) -> str:
        """The task the workflow itself holds open: deciding it cannot race the task row's creation."""

        async def held() -> str | None:
            view = await handle.query("view")
            task_id = view.get("open_task_id") if isinstance(view, dict) else view.open_task_id
            if task_id is None:
                return None
            async with self.sessions() as session:
                task = await session.get(Task, uuid.UUID(task_id))
            return task_id if task is not None and task.step == step else None

        task_id: str = await eventually(held, within)
        return task_id

    async def task(self, task_id: str) -> Task:
        async with self.sessions() as session:
            found = await session.get(Task, uuid.UUID(task_id))
            assert found is not None
            return found

    async def count_tasks(self, application_id: str) -> int:
        async with self.sessions() as session:
            return int(
                await session.scalar(
                    select(func.count()).select_from(Task).where(Task.application_id == uuid.UUID(application_id))
                )
                or 0
            )

    async def decide(
        self,
        handle: Handle,
        task_id: str,
        actor: Actor,
        decision: str = "approve",
        reason: str | None = None,
        values: dict[str, str] | None = None,
    ) -> DecideResult:
        request = DecideInput(task_id=task_id, decision=decision, actor=actor, reason=reason, values=values or {})
        result: DecideResult = await handle.execute_update("decide", request, result_type=DecideResult)
        return result

    async def event(self, handle: Handle, request: EventInput) -> EventResult:
        result: EventResult = await handle.execute_update("event", request, result_type=EventResult)
        return result

    async def ledger(self, application_id: str) -> list[LedgerEntry]:
        async with self.sessions() as session:
            rows = await session.scalars(
                select(LedgerEntry)
                .where(LedgerEntry.application_id == uuid.UUID(application_id))
                .order_by(LedgerEntry.funder)
            )
            return list(rows.all())

    async def records(self, id_number: str, program: str) -> list[PersonProgramRecord]:
        async with self.sessions() as session:
            rows = await session.scalars(
                select(PersonProgramRecord)
                .join(Person, Person.id == PersonProgramRecord.person_id)
                .where(Person.id_number == id_number, PersonProgramRecord.program == program)
                .order_by(PersonProgramRecord.recorded_at)
            )
            return list(rows.all())

    async def released(self, id_number: str, program: str, count: int) -> None:
        """Wait until `count` of the person's records of `program` are released (a run's last step)."""

        async def done() -> bool:
            return sum(r.status == "released" for r in await self.records(id_number, program)) >= count

        await eventually(done, 15)

    async def audit(self, application_id: str, kind: str) -> list[AuditRecord]:
        async with self.sessions() as session:
            rows = await session.scalars(
                select(AuditRecord)
                .where(AuditRecord.application_id == uuid.UUID(application_id), AuditRecord.kind == kind)
                .order_by(AuditRecord.at)
            )
            return list(rows.all())


@pytest.fixture
async def registry(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[RegistryHarness]:
    """A fresh time-skipping server per test: skipped time is global to a server, and each test starts today."""
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=DATA_CONVERTER, test_server_existing_path=installed_binary("temporal-test-server")
    )
    task_queue = f"test-{uuid.uuid4()}"
    try:
        async with build_worker(env.client, task_queue, sessions):
            yield RegistryHarness(env, sessions, task_queue)
    finally:
        await env.shutdown()
