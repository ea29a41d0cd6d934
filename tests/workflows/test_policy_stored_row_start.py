"""A training class started by the starter from a policy version row stored before the training parameters existed
(the raw JSON as an old database holds it, not brought up to date by migration 0012): the workflow reads the
defaults, keeps the values that are there, pays, and replays (issue 13, part 3)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer

from subsidy.api.procedures import start_workflow_of
from subsidy.db.models import Application, PolicyVersionRow, ScheduledPayment
from subsidy.policy.versions import version_from_json, version_to_json
from subsidy.programs.training_subsidy.form import TrainingSubsidyForm
from subsidy.programs.training_subsidy.workflow import TrainingSubsidyWorkflow
from subsidy.service.embedded import installed_binary
from subsidy.service.temporal import build_worker
from subsidy.temporal_client.client import DATA_CONVERTER
from tests.policy.test_version_defaults import shipped_2025, without
from tests.workflows.test_training_subsidy import (
    DPF_A,
    DPF_B,
    PROVIDER,
    Handle,
    TrainingHarness,
    class_form,
    people,
)


@pytest.fixture
async def training(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[TrainingHarness]:
    """A time-skipping server of its own, with the worker, as tests/workflows/test_training_subsidy.py has."""
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=DATA_CONVERTER, test_server_existing_path=installed_binary("temporal-test-server")
    )
    task_queue = f"test-{uuid.uuid4()}"
    try:
        async with build_worker(env.client, task_queue, sessions):
            yield TrainingHarness(env, sessions, task_queue)
    finally:
        await env.shutdown()


async def _stored_row(harness: TrainingHarness, parameters: dict[str, Any]) -> str:
    """A version row as a database written before the training parameters holds it; pending, so that it is in
    force for nobody else's application while the test runs."""
    code = f"stored-before-training-{uuid.uuid4().hex[:8]}"
    parameters = {**parameters, "code": code}
    async with harness.sessions.begin() as session:
        session.add(
            PolicyVersionRow(
                code=code,
                jurisdiction=parameters["jurisdiction"],
                valid_from=date.fromisoformat(parameters["valid_from"]),
                valid_to=date.fromisoformat(parameters["valid_to"]) if parameters["valid_to"] else None,
                parameters=parameters,
                status="pending",
                loaded_by="admin-a",
                source="an old database",
            )
        )
    async with harness.sessions() as session:
        row = await session.get(PolicyVersionRow, code)
        assert row is not None and row.parameters == parameters  # stored as given: nothing filled it in
    return code


async def _started_from_row(harness: TrainingHarness, code: str, trainees: list[str]) -> tuple[str, Handle]:
    """The class, pinned to the row, started as the starter starts an application waiting for the engine."""
    today = await harness.today()
    form = TrainingSubsidyForm.model_validate(class_form(trainees, start=today - timedelta(days=9)))
    application_id = uuid.uuid4()
    async with harness.sessions.begin() as session:
        application = Application(
            id=application_id,
            program="training_subsidy",
            status="submitted",
            county=form.county,
            submitted_by=PROVIDER.username,
            workflow_id=f"application-{application_id}",
            form=form.model_dump(mode="json"),
            policy_version=code,
        )
        session.add(application)
    async with harness.sessions() as session:
        application = await session.get(Application, application_id)  # type: ignore[assignment]
        assert application is not None
        assert await start_workflow_of(
            harness.env.client, harness.task_queue, application, applied_on=today, session=session
        )
    return str(application_id), harness.env.client.get_workflow_handle(application.workflow_id, result_type=str)


async def _paid(harness: TrainingHarness, application_id: str, handle: Handle) -> list[tuple[Decimal, str]]:
    """Approve the plan, report three trainees at 40 hours and a cost of 6000.00, approve: what was paid."""
    view = await harness.settled(handle)
    assert (view.status, view.enrolled_lines) == ("under_review", [0, 1, 2])
    assert (await harness.decide(handle, await harness.open_task(handle, "plan_review"), DPF_A)).status == "approved"
    assert (await harness.report(handle, [40, 40, 40], "6000.00")).status == "under_review"
    review = await harness.open_task(handle, "completion_review")
    assert (await harness.decide(handle, review, DPF_B)).status == "approved"
    assert await handle.result() == "completed"
    async with harness.sessions() as session:
        months = (
            await session.scalars(
                select(ScheduledPayment).where(ScheduledPayment.application_id == uuid.UUID(application_id))
            )
        ).all()
    return [(m.amount, m.status) for m in months]


async def test_a_class_started_from_a_row_stored_without_training_parameters_runs_on_their_defaults(
    training: TrainingHarness,
) -> None:
    none_stated = without(shipped_2025(), "training")  # stored before program T existed
    some_stated = without(shipped_2025(), "training.min_days", "training.completion_report_deadline_days")
    some_stated["training"]["per_person_cap"] = "1000.00"  # a present value is kept
    codes = [await _stored_row(training, none_stated), await _stored_row(training, some_stated)]
    try:
        first_id, first = await _started_from_row(training, codes[0], people(3))
        # min(6000.00, 1500.00 x 3), the default cap
        assert await _paid(training, first_id, first) == [(Decimal("4500.00"), "due")]
        assert (await training.view(first)).policy_version == codes[0]

        second_id, second = await _started_from_row(training, codes[1], people(3))
        # min(6000.00, 1000.00 x 3), the stated cap; min_days and the report deadline read their defaults
        assert await _paid(training, second_id, second) == [(Decimal("3000.00"), "due")]

        # The history holds the version as stored, and replays on today's code.
        for handle in (first, second):
            started = (await handle.fetch_history()).events[0]
            assert started.workflow_execution_started_event_attributes.workflow_type.name == "TrainingSubsidyWorkflow"
            await Replayer(workflows=[TrainingSubsidyWorkflow], data_converter=DATA_CONVERTER).replay_workflow(
                await handle.fetch_history()
            )
    finally:
        async with training.sessions.begin() as session:
            await session.execute(delete(PolicyVersionRow).where(PolicyVersionRow.code.in_(codes)))


def test_the_rows_lack_what_the_test_says() -> None:
    assert version_from_json(without(shipped_2025(), "training")).training.per_person_cap == Decimal("1500.00")
    assert "training" not in without(shipped_2025(), "training")
    assert "training" in version_to_json(version_from_json(without(shipped_2025(), "training")))
