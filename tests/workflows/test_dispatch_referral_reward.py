"""DispatchReferralWorkflow on the time-skipping test server, with the real activities writing real PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.worker import Replayer

from subsidy.activities.procedure import ProcedureActivities
from subsidy.api.errors import Conflict
from subsidy.programs.dispatch_referral_reward.contracts import ReferralView
from subsidy.programs.dispatch_referral_reward.workflow import DispatchReferralWorkflow
from subsidy.programs.rent_subsidy.rules import add_months
from subsidy.temporal_client.client import DATA_CONVERTER
from subsidy.workflows.contracts import CONFLICT, FORBIDDEN, Actor, EventInput, PaymentInput
from tests.helpers import new_credit_code
from tests.workflows.conftest import total
from tests.workflows.person_registry_harness import Handle, RegistryHarness, registry, unique_person

__all__ = ["registry"]

PROGRAM = "dispatch_referral_reward"
AGENCY_A = Actor("agency-a", ["agency"])
AGENCY_B = Actor("agency-b", ["agency"])
DPF_A = Actor("dpf-150203-a", ["county_dpf"], "150203")
DPF_OTHER_COUNTY = Actor("dpf-150204-a", ["county_dpf"], "150204")


def referral(
    id_number: str,
    *,
    start: date,
    end: date | None = None,
    employer: str | None = None,
    agency: str | None = None,
) -> dict[str, Any]:
    return {
        "program": PROGRAM,
        "agency": {"name": "包头市示例劳务派遣有限公司", "credit_code": agency or new_credit_code()},
        "county": "150203",
        "person": {"name": "赵六", "id_number": id_number, "disability_cert_number": id_number + "43"},
        "employer": {"name": "包头市示例用人单位", "credit_code": employer or new_credit_code()},
        "contract": {"start_date": start.isoformat(), "end_date": (end or add_months(start, 36)).isoformat()},
    }


async def view(handle: Handle) -> ReferralView:
    found: ReferralView = await handle.query("view", result_type=ReferralView)
    return found


def refusal_type(error: WorkflowUpdateFailedError) -> str | None:
    cause = error.cause
    assert isinstance(cause, ApplicationError)
    return cause.type


async def test_the_reward_is_500_paid_once_after_the_year_250_city_250_county(registry: RegistryHarness) -> None:
    today = await registry.today()
    start = add_months(today, -3)
    year_end = add_months(start, 12)
    someone = unique_person()
    application_id, handle = await registry.submit(referral(someone, start=start), AGENCY_A)
    assert await registry.settled(application_id, "active", "rejected") == "active"
    assert (await view(handle)).year_ends_on == year_end
    assert [(r.kind, r.status, r.started_on) for r in await registry.records(someone, PROGRAM)] == [
        ("referred", "claimed", start)
    ]

    # The year runs: a day before it ends, no check is open; at midnight of its last day, the check opens.
    await registry.env.sleep(year_end - today - timedelta(days=1))
    assert await registry.count_tasks(application_id) == 0
    assert await registry.status(application_id) == "active"
    await registry.env.sleep(timedelta(days=2))
    task_id = await registry.open_task(handle, "employment_check")
    task = await registry.task(task_id)
    assert (task.role, task.county) == ("county_dpf", "150203") and "赵六" not in task.summary
    assert await registry.status(application_id) == "under_review"

    with pytest.raises(WorkflowUpdateFailedError) as other_county:
        await registry.decide(handle, task_id, DPF_OTHER_COUNTY)
    assert refusal_type(other_county.value) == FORBIDDEN
    assert (await registry.decide(handle, task_id, DPF_A)).status == "approved"
    assert await handle.result() == "completed"

    period = f"{year_end.year:04d}-{year_end.month:02d}"
    rows = await registry.ledger(application_id)
    assert [(r.funder, r.amount, r.period, r.county, r.program) for r in rows] == [
        ("city", Decimal("250.00"), period, "150203", PROGRAM),
        ("county", Decimal("250.00"), period, "150203", PROGRAM),
    ]
    assert [r.status for r in await registry.records(someone, PROGRAM)] == ["granted"]
    decision = (await registry.audit(application_id, "decision"))[0].detail
    assert decision["values"]["reward"] == "500.00" and decision["values"]["period"] == period

    # A retried payment activity posts nothing more.
    again = await ProcedureActivities(registry.sessions).post_payment(
        PaymentInput(application_id, PROGRAM, "150203", period, Decimal("500.00"), Decimal("250.00"), Decimal("250.00"))
    )
    assert again.rows_posted == 0
    assert total(await registry.ledger(application_id)) == Decimal("500.00")

    history = await handle.fetch_history()
    await Replayer(workflows=[DispatchReferralWorkflow], data_converter=DATA_CONVERTER).replay_workflow(history)


async def test_employment_ended_at_month_7_terminates_it_unpaid_with_the_reason(registry: RegistryHarness) -> None:
    today = await registry.today()
    start = add_months(today, -6)
    someone = unique_person()
    application_id, handle = await registry.submit(referral(someone, start=start), AGENCY_A)
    await registry.settled(application_id, "active")
    await registry.env.sleep(timedelta(days=31))
    ended_on = add_months(start, 7)
    with pytest.raises(WorkflowUpdateFailedError) as other_county:
        await registry.event(handle, EventInput("employment_ended", DPF_OTHER_COUNTY, date=ended_on))
    assert refusal_type(other_county.value) == FORBIDDEN
    result = await registry.event(handle, EventInput("employment_ended", AGENCY_A, date=ended_on))
    assert result.status == "terminated"
    assert await handle.result() == "terminated"
    assert (await view(handle)).ended_because == "employment_shorter_than_one_year"
    detail = (await registry.audit(application_id, "employment_ended"))[0].detail
    assert detail["reason"] == "employment_shorter_than_one_year" and detail["date"] == ended_on.isoformat()
    assert await registry.ledger(application_id) == []
    assert await registry.count_tasks(application_id) == 0
    assert [r.status for r in await registry.records(someone, PROGRAM)] == ["released"]

    # Long after, the year that would have ended pays nothing.
    await registry.env.sleep(timedelta(days=200))
    assert await registry.ledger(application_id) == []

    history = await handle.fetch_history()
    await Replayer(workflows=[DispatchReferralWorkflow], data_converter=DATA_CONVERTER).replay_workflow(history)


async def test_a_county_dpf_official_may_record_the_end_and_not_on_or_after_the_year_end(
    registry: RegistryHarness,
) -> None:
    today = await registry.today()
    start = add_months(today, -2)
    year_end = add_months(start, 12)
    application_id, handle = await registry.submit(referral(unique_person(), start=start), AGENCY_A)
    await registry.settled(application_id, "active")
    with pytest.raises(WorkflowUpdateFailedError) as on_year_end:
        await registry.event(handle, EventInput("employment_ended", DPF_A, date=year_end))
    assert refusal_type(on_year_end.value) == CONFLICT
    result = await registry.event(handle, EventInput("employment_ended", DPF_A, date=year_end - timedelta(days=1)))
    assert result.status == "terminated"


async def test_a_second_agency_is_refused_the_same_employment_until_the_first_is_withdrawn(
    registry: RegistryHarness,
) -> None:
    today = await registry.today()
    start = add_months(today, -4)
    someone, employer = unique_person(), new_credit_code()
    first_id, first = await registry.submit(referral(someone, start=start, employer=employer), AGENCY_A)
    await registry.settled(first_id, "active")
    with pytest.raises(Conflict) as refused:
        await registry.submit(referral(someone, start=start, employer=employer), AGENCY_B)
    assert "referral_already_claimed" in str(refused.value.detail)

    with pytest.raises(WorkflowUpdateFailedError) as not_theirs:
        await registry.event(first, EventInput("withdrawn", AGENCY_B))
    assert refusal_type(not_theirs.value) == FORBIDDEN
    assert (await registry.event(first, EventInput("withdrawn", AGENCY_A))).status == "withdrawn"
    # Not `result()`: awaiting a result lets the test server skip ahead, past the second claim's year.
    await registry.released(someone, PROGRAM, 1)

    second_id, second = await registry.submit(referral(someone, start=start, employer=employer), AGENCY_B)
    assert await registry.settled(second_id, "active", "rejected") == "active"
    assert [r.status for r in await registry.records(someone, PROGRAM)] == ["released", "claimed"]


async def test_the_same_person_with_another_employer_is_another_employment(registry: RegistryHarness) -> None:
    today = await registry.today()
    someone = unique_person()
    first_id, _ = await registry.submit(referral(someone, start=add_months(today, -5)), AGENCY_A)
    second_id, _ = await registry.submit(referral(someone, start=add_months(today, -1)), AGENCY_B)
    assert await registry.settled(first_id, "active") == "active"
    assert await registry.settled(second_id, "active") == "active"
    assert [r.status for r in await registry.records(someone, PROGRAM)] == ["claimed", "claimed"]


async def test_a_contract_begun_over_a_year_ago_opens_the_check_at_once_and_a_rejection_releases_it(
    registry: RegistryHarness,
) -> None:
    today = await registry.today()
    someone = unique_person()
    application_id, handle = await registry.submit(referral(someone, start=add_months(today, -14)), AGENCY_A)
    task_id = await registry.open_task(handle, "employment_check")
    with pytest.raises(WorkflowUpdateFailedError) as after_the_year:
        await registry.event(handle, EventInput("employment_ended", AGENCY_A, date=today))
    assert refusal_type(after_the_year.value) == CONFLICT
    assert (await registry.decide(handle, task_id, DPF_A, "reject", reason="合同已解除")).status == "rejected"
    assert await handle.result() == "rejected"
    assert await registry.ledger(application_id) == []
    assert [r.status for r in await registry.records(someone, PROGRAM)] == ["released"]

    history = await handle.fetch_history()
    await Replayer(workflows=[DispatchReferralWorkflow], data_converter=DATA_CONVERTER).replay_workflow(history)


async def test_a_contract_of_one_year_less_a_day_is_refused_and_of_one_year_is_not(registry: RegistryHarness) -> None:
    today = await registry.today()
    start = add_months(today, -1)
    year = add_months(start, 12)
    short_id, short = await registry.submit(
        referral(unique_person(), start=start, end=year - timedelta(days=2)), AGENCY_A
    )
    assert await short.result() == "rejected"
    assert (await registry.application(short_id)).eligibility["reasons"] == ["contract_shorter_than_one_year"]
    whole_id, _ = await registry.submit(referral(unique_person(), start=start, end=year - timedelta(days=1)), AGENCY_A)
    assert await registry.settled(whole_id, "active", "rejected") == "active"


async def test_a_referral_withdrawn_during_its_year_ends_unpaid(registry: RegistryHarness) -> None:
    someone = unique_person()
    application_id, handle = await registry.submit(
        referral(someone, start=add_months(await registry.today(), -5)), AGENCY_A
    )
    await registry.settled(application_id, "active")
    assert (await registry.event(handle, EventInput("withdrawn", AGENCY_A))).status == "withdrawn"
    assert await handle.result() == "withdrawn"
    assert await registry.ledger(application_id) == []
    assert [r.status for r in await registry.records(someone, PROGRAM)] == ["released"]
