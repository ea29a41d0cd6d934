"""AccountRegistrationWorkflow on the time-skipping server with the real activities: verified, rejected, and an
approval refused because another verified account already holds the ID number."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select
from temporalio.client import WorkflowUpdateFailedError

from subsidy.api.bindings import register
from subsidy.api.errors import Conflict
from subsidy.api.procedures import start_workflow_of
from subsidy.api.security import hash_password
from subsidy.db.binding_models import AccountBinding
from subsidy.db.models import Decision, User
from subsidy.programs.account_registration.activities import create_bound_account
from subsidy.programs.account_registration.form import RegistrationIn
from subsidy.workflows.contracts import CONFLICT, FORBIDDEN, INVALID, DecideInput, DecideResult
from tests.helpers import new_resident_id
from tests.workflows.conftest import DPF_A, DPF_B, DPF_OTHER_COUNTY, RentHarness


async def registered(harness: RentHarness, id_number: str | None = None) -> tuple[str, str]:
    """A registration for a person of 150203 and its running workflow: (registration id, user name)."""
    id_number = id_number or new_resident_id()
    body = RegistrationIn.model_validate(
        {
            "username": f"reg-{uuid.uuid4().hex[:12]}",
            "password": "correct horse battery",
            "kind": "person",
            "name": "王五",
            "id_number": id_number,
            "disability_cert_number": id_number + "42",
            "phone": "13800000001",
            "county": "150203",
        }
    )
    async with harness.sessions() as session:
        application = await register(session, body)
        await start_workflow_of(harness.env.client, harness.task_queue, application)
        return str(application.id), body.username


async def decide(harness: RentHarness, registration_id: str, request: DecideInput) -> DecideResult:
    handle = harness.env.client.get_workflow_handle(f"application-{registration_id}")
    result: DecideResult = await handle.execute_update("decide", request, result_type=DecideResult)
    return result


async def binding(harness: RentHarness, username: str) -> tuple[AccountBinding, list[str]]:
    async with harness.sessions() as session:
        found = await session.get(AccountBinding, username)
        roles = await session.scalar(select(User.roles).where(User.username == username))
        assert found is not None and roles is not None
        return found, list(roles)


async def refusal_type(harness: RentHarness, registration_id: str, request: DecideInput) -> str:
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await decide(harness, registration_id, request)
    return str(refused.value.cause.type)  # type: ignore[union-attr]


async def test_a_verified_registration_binds_the_account_and_gives_its_role(rent: RentHarness) -> None:
    registration_id, username = await registered(rent)
    task = await rent.open_task(registration_id, step="registration_check")
    assert (task.role, task.county, task.program) == ("county_dpf", "150203", "account_registration")
    assert "王五" not in task.summary  # no personal data in the inbox summary
    assert (await binding(rent, username))[0].status == "pending"
    assert (
        await refusal_type(rent, registration_id, DecideInput(str(task.id), "approve", DPF_OTHER_COUNTY)) == FORBIDDEN
    )
    assert await refusal_type(rent, registration_id, DecideInput(str(task.id), "return", DPF_A, "x")) == INVALID
    result = await decide(rent, registration_id, DecideInput(str(task.id), "approve", DPF_A))
    assert result.status == "approved"
    handle = rent.env.client.get_workflow_handle(f"application-{registration_id}")
    assert await handle.result() == "approved"
    bound, roles = await binding(rent, username)
    assert (bound.status, bound.decided_by, roles) == ("verified", "dpf-150203-a", ["applicant"])
    assert (await rent.application(registration_id)).status == "approved"


async def test_a_rejected_registration_keeps_the_reason_and_no_role(rent: RentHarness) -> None:
    registration_id, username = await registered(rent)
    task = await rent.open_task(registration_id, step="registration_check")
    assert await refusal_type(rent, registration_id, DecideInput(str(task.id), "reject", DPF_B)) == INVALID  # reason
    await decide(rent, registration_id, DecideInput(str(task.id), "reject", DPF_B, "证件与本人不符"))
    handle = rent.env.client.get_workflow_handle(f"application-{registration_id}")
    assert await handle.result() == "rejected"
    bound, roles = await binding(rent, username)
    assert (bound.status, bound.reason, roles) == ("rejected", "证件与本人不符", [])
    async with rent.sessions() as session:
        decisions = (
            await session.scalars(select(Decision).where(Decision.application_id == uuid.UUID(registration_id)))
        ).all()
    assert [(d.decision, d.decided_by) for d in decisions] == [("reject", "dpf-150203-b")]


async def test_a_second_account_for_a_person_already_bound_cannot_be_verified(rent: RentHarness) -> None:
    """A second pending registration for one number is refused when it is made (409 registration_pending); should
    the person be bound by another path while one is pending (an account bound at once, as the demo ones are), the
    County DPF's approval of the pending one is refused too, and nothing is written."""
    person = new_resident_id()
    pending_id, pending_user = await registered(rent, person)
    with pytest.raises(Conflict) as twice:
        await registered(rent, person)
    assert "registration_pending" in str(twice.value.detail)
    async with rent.sessions.begin() as session:
        other_user = f"other-{uuid.uuid4().hex[:12]}"
        refused = await create_bound_account(
            session,
            username=other_user,
            password_hash=hash_password("demo"),
            kind="person",
            name="王五",
            identifier=person,
            county="150203",
            disability_cert_number=person + "42",
        )
        assert refused == []
    task = await rent.open_task(pending_id, step="registration_check")
    assert await refusal_type(rent, pending_id, DecideInput(str(task.id), "approve", DPF_B)) == CONFLICT
    bound, roles = await binding(rent, pending_user)
    assert (bound.status, roles) == ("pending", [])  # nothing was written
    await decide(rent, pending_id, DecideInput(str(task.id), "reject", DPF_B, "该人员已有账号"))
    handle = rent.env.client.get_workflow_handle(f"application-{pending_id}")
    assert await handle.result() == "rejected"
    assert (await binding(rent, other_user))[0].status == "verified"
    assert (await rent.application(pending_id)).status == "rejected"
